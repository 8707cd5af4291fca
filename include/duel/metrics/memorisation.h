// Memorisation: does the generator copy its training images?
//
// A generator that reproduces training images can score a perfect FID, so
// the figures of metrics.h cannot tell copying from learning. This check can:
// it measures, in feature space (Euclidean), how close each generated sample
// is to its nearest training image, and reads that against how close fresh
// real images (the held-out test split, which the model never saw) come to
// the training set. Fresh images set the scale:
//
//   threshold  the 1% quantile of the held-out images' nearest-train
//              distances: only 1 in 100 fresh real images comes this close
//              to a training image;
//   share      the share of generated samples closer to a training image
//              than that threshold. A generator that draws fresh images from
//              the data's distribution gives about 0.01 (by construction);
//              one that copies gives more, up to 1.0 when every sample is a
//              training image.
//
// `warn` is set when the share reaches MemorisationOptions::warn_share
// (default 0.05: five times what fresh real images give). With n held-out
// images the 1% quantile rests on n/100 of them, so small sets give a noisy
// threshold; evaluate with thousands (docs/inspect.md).
//
// Pure functions of feature matrices, like metrics.h: no network, no files.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace duel {

// For each row of `queries` [N, D], its nearest row of `pool` [M, D]
// (Euclidean): distance double [N] and index int64 [N] into pool. The search
// runs in float over chunks of queries (about `chunk_elements` distances at
// a time, so 10000 x 60000 fits in memory); the winner's distance is then
// recomputed exactly in double, so a query equal to a pool row is at 0.
// Requires N >= 1, M >= 1, the same D, finite values.
struct Nearest {
  torch::Tensor distance;  // double [N]
  torch::Tensor index;     // int64 [N]
};
Nearest nearest_neighbours(const torch::Tensor& queries, const torch::Tensor& pool,
                           int64_t chunk_elements = int64_t(1) << 25);

struct MemorisationOptions {
  double quantile = 0.01;    // of the held-out distances: the threshold
  double warn_share = 0.05;  // warn when the samples' share reaches this
  int64_t pairs = 16;        // closest (sample, train) pairs to keep
};

struct ClosestPair {
  int64_t sample = 0, train = 0;  // row of the samples, row of the training set
  double distance = 0;
};

struct Memorisation {
  double threshold = 0;        // options.quantile quantile of held-out nearest-train distances
  double share = 0;            // samples with nearest-train distance < threshold / samples
  double held_out_share = 0;   // the same for the held-out images (about options.quantile)
  double median_sample = 0;    // median nearest-train distance of the samples
  double median_held_out = 0;  // ... and of the held-out images
  // Shares at distance 0 (features identical to a training image's): exact
  // copies among the samples, duplicates across the splits among the
  // held-out images. When more than `quantile` of the held-out images are
  // duplicates, the threshold is 0 and `share` cannot rise: read these instead.
  double exact_share = 0, held_out_exact_share = 0;
  int64_t samples = 0, held_out = 0, train = 0;
  bool warn = false;                 // share >= options.warn_share
  std::vector<ClosestPair> closest;  // the options.pairs closest pairs, closest first (one per sample)
};

// samples [N, D], held_out [H, D], train [M, D] features of one network.
// Requires N, H, M >= 1, the same D; 0 < quantile < 1; warn_share in (0, 1]; pairs >= 0.
Memorisation memorisation(const torch::Tensor& samples, const torch::Tensor& held_out, const torch::Tensor& train,
                          const MemorisationOptions& options = {});

}  // namespace duel
