// Adversarial losses on the discriminator's raw outputs (logits, or critic
// values for the Wasserstein and hinge losses), selected by train.loss.
// BCE-based losses use softplus and never take log(sigmoid): stable for
// outputs of any size. With r = D(x), f = D(G(z)), t the real targets:
//
//   loss           D loss                                 G loss
//   minimax        BCE(r, t) + BCE(f, 0)                  -mean softplus(f)  (= mean log(1 - s(f)))
//   nonsaturating  BCE(r, t) + BCE(f, 0)                  mean softplus(-f)  (= -mean log s(f))
//   wasserstein    mean f - mean r                        -mean f
//   hinge          mean relu(1 - r) + mean relu(1 + f)    -mean f
//   least-squares  (mean (r - t)^2 + mean f^2) / 2        mean (f - 1)^2 / 2
//
// Label smoothing and flipping act through t, so they apply to the BCE and
// least-squares losses; the Wasserstein and hinge losses ignore t.
#pragma once
#include <torch/types.h>

#include <string>

namespace duel {

enum class GanLoss { Minimax, NonSaturating, Wasserstein, Hinge, LeastSquares };
// Throws duel::Error for an unknown name.
GanLoss parse_loss(const std::string& name);
const char* loss_name(GanLoss loss);
// Whether D's output is a probability logit (sigmoid makes sense of it).
bool loss_uses_logits(GanLoss loss);

// Mean binary cross-entropy of logits [N,1] or [N] against targets in [0,1].
torch::Tensor bce_with_logits(const torch::Tensor& logits, const torch::Tensor& targets);
// Discriminator loss; real_targets [N] (used by the BCE and least-squares losses).
torch::Tensor discriminator_loss(GanLoss loss, const torch::Tensor& real_out, const torch::Tensor& real_targets,
                                 const torch::Tensor& fake_out);
torch::Tensor generator_loss(GanLoss loss, const torch::Tensor& fake_out);

// Real targets for a batch of n: one-sided smoothing (uniform U(1-s, 1) or
// fixed 1-s) then, with probability flip, a target t becomes 1 - t.
torch::Tensor real_targets(int64_t n, double smoothing, bool uniform, double flip, const torch::TensorOptions& opts);

}  // namespace duel
