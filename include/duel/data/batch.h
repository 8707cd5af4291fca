// What the loader hands a model: one Batch of images (+ labels, paired
// targets, captions), and the loader's position (epoch, batch) that
// checkpoints save. Kept apart from the threaded loader so the model
// interface and the checkpoint format include only these two plain structs.
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace duel {

struct Batch {
  torch::Tensor images;  // float [N, C, H, W] in [-1, 1]
  torch::Tensor labels;  // int64 [N], undefined when the data has none
  int64_t epoch = 0;     // epoch this batch belongs to
  // Image-to-image data (data.pair): float [N, C', H, W] in [-1, 1], the B
  // image paired with each A image (paired data) or a B image drawn
  // independently (unpaired); undefined otherwise.
  torch::Tensor targets;
  // Captioned data (data.captions): int64 [N, L] token ids of one caption per
  // image, drawn uniformly from that image's captions; undefined otherwise.
  torch::Tensor text{};
};

struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;  // batches of this epoch already handed out
};

}  // namespace duel
