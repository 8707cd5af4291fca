// Adversarial losses on logits; see the header for the formulas.
#include "duel/losses/adversarial.h"

#include "duel/core/error.h"

namespace duel {

namespace F = torch::nn::functional;

GeneratorObjective parse_objective(const std::string& name) {
  if (name == "minimax") return GeneratorObjective::Minimax;
  if (name == "nonsaturating") return GeneratorObjective::NonSaturating;
  throw Error("unknown generator objective '" + name + "'", "train.loss is minimax or nonsaturating");
}

torch::Tensor bce_with_logits(const torch::Tensor& logits, const torch::Tensor& targets) {
  // t*softplus(-l) + (1-t)*softplus(l) == -(t log s(l) + (1-t) log(1-s(l)))
  auto l = logits.reshape({-1});
  auto t = targets.reshape({-1}).to(l.dtype());
  return (t * F::softplus(-l) + (1 - t) * F::softplus(l)).mean();
}

torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& real_t,
                                 const torch::Tensor& fake_logits) {
  return bce_with_logits(real_logits, real_t) + F::softplus(fake_logits.reshape({-1})).mean();
}

torch::Tensor generator_loss(const torch::Tensor& fake_logits, GeneratorObjective objective) {
  auto l = fake_logits.reshape({-1});
  if (objective == GeneratorObjective::Minimax) return -F::softplus(l).mean();
  return F::softplus(-l).mean();
}

torch::Tensor real_targets(int64_t n, double smoothing, bool uniform, double flip, const torch::TensorOptions& opts) {
  torch::Tensor t;
  if (smoothing > 0 && uniform) t = torch::empty({n}, opts).uniform_(1.0 - smoothing, 1.0);
  else t = torch::full({n}, 1.0 - smoothing, opts);
  if (flip > 0) {
    auto flipped = torch::rand({n}, opts) < flip;
    t = torch::where(flipped, 1 - t, t);
  }
  return t;
}

}  // namespace duel
