// Adversarial losses on logits (never sigmoid then log): numerically stable
// for logits of any size through softplus.
//
//   D loss (both G objectives): BCE(D(x), t_real) + BCE(D(G(z)), 0)
//   minimax G loss:        mean log(1 - sigmoid(l)) = -mean softplus(l)
//   nonsaturating G loss:  -mean log sigmoid(l)      =  mean softplus(-l)
#pragma once
#include <torch/types.h>

#include <string>

namespace duel {

enum class GeneratorObjective { Minimax, NonSaturating };
GeneratorObjective parse_objective(const std::string& name);

// Mean binary cross-entropy of logits [N,1] or [N] against targets in [0,1].
torch::Tensor bce_with_logits(const torch::Tensor& logits, const torch::Tensor& targets);
// Discriminator loss with per-sample real targets; fakes have target 0.
torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& real_targets,
                                 const torch::Tensor& fake_logits);
torch::Tensor generator_loss(const torch::Tensor& fake_logits, GeneratorObjective objective);

// Real targets for a batch of n: one-sided smoothing (uniform U(1-s, 1) or
// fixed 1-s) then, with probability flip, a target t becomes 1 - t.
torch::Tensor real_targets(int64_t n, double smoothing, bool uniform, double flip, const torch::TensorOptions& opts);

}  // namespace duel
