// Adversarial losses on logits; see the header for the formulas.
#include "duel/losses/adversarial.h"

#include "duel/core/shard.h"
#include "duel/core/error.h"

#include <stdexcept>

namespace duel {

namespace F = torch::nn::functional;

GanLoss parse_loss(const std::string& name) {
  for (GanLoss l : {GanLoss::Minimax, GanLoss::NonSaturating, GanLoss::Wasserstein, GanLoss::Hinge,
                    GanLoss::LeastSquares})
    if (name == loss_name(l)) return l;
  throw Error("unknown loss '" + name + "' (train.loss)",
              "train.loss is minimax, nonsaturating, wasserstein, hinge or least-squares");
}

const char* loss_name(GanLoss loss) {
  switch (loss) {
    case GanLoss::Minimax: return "minimax";
    case GanLoss::NonSaturating: return "nonsaturating";
    case GanLoss::Wasserstein: return "wasserstein";
    case GanLoss::Hinge: return "hinge";
    case GanLoss::LeastSquares: return "least-squares";
  }
  return "?";
}

bool loss_uses_logits(GanLoss loss) { return loss == GanLoss::Minimax || loss == GanLoss::NonSaturating; }

torch::Tensor bce_with_logits(const torch::Tensor& logits, const torch::Tensor& targets) {
  // t*softplus(-l) + (1-t)*softplus(l) == -(t log s(l) + (1-t) log(1-s(l)))
  auto l = logits.reshape({-1});
  auto t = targets.reshape({-1}).to(l.dtype());
  return (t * F::softplus(-l) + (1 - t) * F::softplus(l)).mean();
}

torch::Tensor discriminator_loss(GanLoss loss, const torch::Tensor& real_out, const torch::Tensor& real_t,
                                 const torch::Tensor& fake_out) {
  auto r = real_out.reshape({-1}), f = fake_out.reshape({-1});
  switch (loss) {
    case GanLoss::Minimax:
    case GanLoss::NonSaturating: return bce_with_logits(r, real_t) + F::softplus(f).mean();
    case GanLoss::Wasserstein: return f.mean() - r.mean();
    case GanLoss::Hinge: return torch::relu(1 - r).mean() + torch::relu(1 + f).mean();
    case GanLoss::LeastSquares:
      return 0.5 * ((r - real_t.reshape({-1}).to(r.dtype())).square().mean() + f.square().mean());
  }
  throw std::logic_error("duel: unhandled loss");
}

torch::Tensor generator_loss(GanLoss loss, const torch::Tensor& fake_out) {
  auto f = fake_out.reshape({-1});
  switch (loss) {
    case GanLoss::Minimax: return -F::softplus(f).mean();
    case GanLoss::NonSaturating: return F::softplus(-f).mean();
    case GanLoss::Wasserstein:
    case GanLoss::Hinge: return -f.mean();
    case GanLoss::LeastSquares: return 0.5 * (f - 1).square().mean();
  }
  throw std::logic_error("duel: unhandled loss");
}

torch::Tensor real_targets(int64_t n, double smoothing, bool uniform, double flip, const torch::TensorOptions& opts) {
  torch::Tensor t;
  // Per-image draws go through draw_for_batch, so a distributed run slices them like its data.
  if (smoothing > 0 && uniform)
    t = draw_for_batch(n, [&](int64_t m) { return torch::empty({m}, opts).uniform_(1.0 - smoothing, 1.0); });
  else t = torch::full({n}, 1.0 - smoothing, opts);
  if (flip > 0) {
    auto flipped = draw_for_batch(n, [&](int64_t m) { return torch::rand({m}, opts); }) < flip;
    t = torch::where(flipped, 1 - t, t);
  }
  return t;
}

}  // namespace duel
