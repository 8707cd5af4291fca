// Reconstruction terms of the unpaired translation models (CycleGAN).
#pragma once
#include <torch/types.h>

#include <functional>

namespace duel {

using ImageMap = std::function<torch::Tensor(const torch::Tensor&)>;

struct CycleTerms {
  torch::Tensor fake_b;  // g_ab(a)
  torch::Tensor fake_a;  // g_ba(b)
  torch::Tensor loss;    // mean |g_ba(fake_b) - a| + mean |g_ab(fake_a) - b|
};

// Both translations and the cycle-consistency loss of bringing them back;
// the loss is zero exactly when each generator inverts the other on the batch.
CycleTerms cycle_consistency(const ImageMap& g_ab, const ImageMap& g_ba, const torch::Tensor& a, const torch::Tensor& b);

// Identity: mean |g_ba(a) - a| + mean |g_ab(b) - b| (each generator leaves
// images already of its output domain alone).
torch::Tensor identity_loss(const ImageMap& g_ab, const ImageMap& g_ba, const torch::Tensor& a, const torch::Tensor& b);

}  // namespace duel
