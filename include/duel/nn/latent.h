// Latent-space helpers.
#pragma once
#include <torch/types.h>

namespace duel {

// Spherical interpolation between latent vectors a, b [L] at t in [0, 1]:
//   sin((1-t) w)/sin w * a + sin(t w)/sin w * b,  w = angle(a, b)
// (linear for (anti)parallel vectors). Keeps the norm of Gaussian noise
// typical along the path, where a straight line would pass near the origin.
torch::Tensor slerp(const torch::Tensor& a, const torch::Tensor& b, double t);

}  // namespace duel
