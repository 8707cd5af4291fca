// Editing with latents from files (`duel sample --latent`,
// `--interpolate-between`): decode the .npy latents `duel project` writes
// (or any of the model's latent shape) and edit them:
//   decode            each latent as an image (conditional models: --class)
//   class change      conditional models: each latent decoded with every class
//   style mixing      w+ latents: styles [0, k) from the latent, [k, L) from a
//                     seed's mapped latent, for k = L down to 0
//   interpolation     between two latents (z: spherical, w+: linear)
// All go through LatentProjection (models/capabilities.h), the same
// rendering the projection optimised.
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

#include "duel/models/interpolation.h"
#include "duel/models/model.h"

namespace duel {

// The latents of .npy files, stacked [N, latent_shape...]. A file holds one
// latent (latent_shape) or a batch of them ([k, latent_shape...]).
// Throws duel::Error naming the file when its shape is not the model's.
torch::Tensor read_latent_files(GanModel& model, const std::vector<std::string>& paths);

// Images of latents [N, ...] (labels int64 [N] for conditional models),
// [N, C, H, W] in [-1, 1], no gradients.
torch::Tensor decode_latents(GanModel& model, const torch::Tensor& latents, const torch::Tensor& labels);

// Row r: latent r decoded with classes 0 .. classes-1 (conditional models). uint8 grid.
torch::Tensor class_change_grid(GanModel& model, const torch::Tensor& latents, int64_t classes);

// Row r: latent r mixed with the w of noise seed `seed`: column j takes
// styles [0, L - j) from the latent and the rest from the seed (first column:
// the latent alone; last: the seed alone). w+ latents only. uint8 grid.
torch::Tensor latent_style_mixing_grid(GanModel& model, const torch::Tensor& latents, uint64_t seed);

// `steps` points from latent a to latent b ([1, ...] each, or [rows, ...]).
Interpolation interpolate_latents(GanModel& model, const torch::Tensor& a, const torch::Tensor& b, int64_t steps,
                                  const torch::Tensor& labels);

// `duel sample --latent FILE... | --interpolate-between A B`: what to draw.
struct LatentSampleJob {
  std::vector<std::string> latents;  // decode these (class change / style mixing as asked)
  std::vector<std::string> between;  // two files: interpolate from the first to the second
  int64_t cls = -1;                  // conditional models: the class (-1 with --latent: every class, a row each)
  int64_t mix_seed = -1;             // w+ latents: a style-mixing grid with this seed's latent
  int64_t steps = 10;                // interpolation points
};
struct LatentSampleResult {
  torch::Tensor grid;                 // uint8 [C, H, W]
  std::vector<torch::Tensor> frames;  // interpolation: GIF frames
  std::string what;                   // "2 latents with every class", ...
};
// Requires exactly one of latents / between (two files); mix_seed only for
// w+ latents; cls below the model's classes. Throws duel::Error otherwise.
LatentSampleResult sample_latents(GanModel& model, const DataShape& shape, const LatentSampleJob& job);

}  // namespace duel
