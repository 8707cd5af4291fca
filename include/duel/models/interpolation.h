// Latent interpolation of a noise-to-image generator: rows of images along
// spherical paths between pairs of noise vectors (nn/latent.h's slerp), as a
// grid and as the frames of an animation. Shared by `duel sample
// --interpolate` and the run report.
#pragma once
#include <torch/types.h>

#include <vector>

namespace duel {

class GanModel;

struct Interpolation {
  torch::Tensor images;               // [rows*steps, C, H, W] in [-1, 1], row r holds path r, row-major
  torch::Tensor grid;                 // uint8 [C, H', W']: one path per row, `steps` columns
  std::vector<torch::Tensor> frames;  // uint8 [C, h, w] each: every path's point t side by side, there and back
};

// Requires start and end [rows, ...] of the model's noise shape (rows >= 1),
// steps >= 2, labels undefined or int64 [rows] (a conditional model's class
// of each path), text undefined or int64 [rows, L] (a text-to-image model's
// caption tokens of each path), truncation the psi of a style-based model
// (1: none). The model samples in eval mode without
// gradients; the global RNG is not used.
Interpolation interpolate(GanModel& model, const torch::Tensor& start, const torch::Tensor& end, int64_t steps,
                          const torch::Tensor& labels = {}, const torch::Tensor& text = {}, double truncation = 1.0);

// The grid and animation frames of `rows` paths of `steps` images each:
// images [rows*steps, C, H, W] in [-1, 1], row-major (path r, point t).
Interpolation assemble_interpolation(torch::Tensor images, int64_t rows, int64_t steps);

}  // namespace duel
