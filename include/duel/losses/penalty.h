// Gradient penalties on the discriminator, computed by double backprop
// (create_graph), so their gradient reaches D's weights.
//
//   gradient_penalty (WGAN-GP, Gulrajani et al. 2017):
//     x^ = a x_real + (1 - a) x_fake, a ~ U(0, 1) per sample
//     GP = E (||grad_x^ D(x^)||_2 - 1)^2
//   r1_penalty (Mescheder et al. 2018):
//     R1 = E ||grad_x D(x_real)||_2^2      (the loss adds gamma/2 * R1)
#pragma once
#include <torch/types.h>

#include <functional>

namespace duel {

using Critic = std::function<torch::Tensor(const torch::Tensor&)>;  // [N, C, H, W] -> [N, 1]

// alpha: [N] mixing weights; undefined draws U(0, 1).
torch::Tensor gradient_penalty(const Critic& critic, const torch::Tensor& real, const torch::Tensor& fake,
                               torch::Tensor alpha = {});
torch::Tensor r1_penalty(const Critic& critic, const torch::Tensor& real);

}  // namespace duel
