// Gradient penalties; see the header.
#include "duel/losses/penalty.h"

#include <torch/autograd.h>

#include "duel/core/shard.h"

namespace duel {
namespace {

// Per-sample squared gradient norms of critic at x: [N].
torch::Tensor grad_norm_sq(const Critic& critic, const torch::Tensor& x) {
  auto out = critic(x);  // [N, 1]
  auto grads = torch::autograd::grad({out.sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  return grads.reshape({grads.size(0), -1}).square().sum(1);
}

}  // namespace

torch::Tensor gradient_penalty(const Critic& critic, const torch::Tensor& real, const torch::Tensor& fake,
                               torch::Tensor alpha) {
  const int64_t n = real.size(0);
  if (!alpha.defined()) alpha = draw_for_batch(n, [&](int64_t m) { return torch::rand({m}, real.options()); });
  std::vector<int64_t> shape(size_t(real.dim()), 1);
  shape[0] = n;
  auto a = alpha.reshape(shape).to(real.dtype());
  auto x = (a * real.detach() + (1 - a) * fake.detach()).requires_grad_(true);  // [N, C, H, W]
  // sqrt with a tiny floor: the gradient of sqrt at 0 is infinite.
  auto norm = (grad_norm_sq(critic, x) + 1e-12).sqrt();
  return (norm - 1).square().mean();
}

torch::Tensor r1_penalty(const Critic& critic, const torch::Tensor& real) {
  auto x = real.detach().requires_grad_(true);
  return grad_norm_sq(critic, x).mean();
}

}  // namespace duel
