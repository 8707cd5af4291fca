// Synchronised batch norm; see the header.
#include "duel/nn/sync_batch_norm.h"

#include <torch/autograd.h>

#include "duel/core/shard.h"

namespace duel {
namespace {

// x [N, C, H, W] -> x_hat [N, C, H, W], normalised with the global batch's
// mean and biased variance. Saves x_hat and 1/std for the backward:
//   dx = (g - sum(g)/M - x_hat * sum(g * x_hat)/M) / std
// with both sums over all ranks' images (M of them per channel), which is
// the gradient of the sum of all ranks' losses. The trainer's gradient
// averaging then divides by W, as for every other gradient.
struct GlobalNormalize : torch::autograd::Function<GlobalNormalize> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double eps,
                               torch::Tensor stats_out) {
    const auto& sum = batch_shard().sum_over_ranks;
    const int64_t c = x.size(1);
    auto xd = x.to(torch::kFloat64);
    auto local = torch::cat({xd.sum({0, 2, 3}), xd.square().sum({0, 2, 3}),
                             torch::full({1}, double(x.numel() / c), xd.options())});  // [2C + 1]
    sum(local);
    const double m = local[2 * c].item<double>();
    auto mean = local.slice(0, 0, c) / m;                                               // [C]
    auto var = (local.slice(0, c, 2 * c) / m - mean.square()).clamp_min(0);           // [C], biased
    auto invstd = (var + eps).rsqrt();
    auto x_hat = ((xd - mean.view({1, c, 1, 1})) * invstd.view({1, c, 1, 1})).to(x.scalar_type());
    ctx->save_for_backward({x_hat, invstd.to(x.scalar_type())});
    ctx->saved_data["m"] = m;
    stats_out.copy_(torch::stack({mean, var * (m / std::max(m - 1.0, 1.0))}).to(stats_out.dtype()));  // [2, C]
    return x_hat;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    auto saved = ctx->get_saved_variables();
    const auto& x_hat = saved[0];
    const auto& invstd = saved[1];
    const double m = ctx->saved_data["m"].toDouble();
    const int64_t c = x_hat.size(1);
    auto g = grad[0];
    auto sums = torch::cat({g.sum({0, 2, 3}), (g * x_hat).sum({0, 2, 3})}).to(torch::kFloat64);  // [2C]
    batch_shard().sum_over_ranks(sums);
    auto mean_g = (sums.slice(0, 0, c) / m).to(g.scalar_type()).view({1, c, 1, 1});
    auto mean_gx = (sums.slice(0, c, 2 * c) / m).to(g.scalar_type()).view({1, c, 1, 1});
    auto dx = (g - mean_g - x_hat * mean_gx) * invstd.view({1, c, 1, 1});
    return {dx, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

SyncBatchNorm2dImpl::SyncBatchNorm2dImpl(const torch::nn::BatchNormOptions& o) : options(o) { reset(); }

void SyncBatchNorm2dImpl::reset() {
  const int64_t c = options.num_features();
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({c}));
    bias = register_parameter("bias", torch::zeros({c}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", torch::zeros({c}));
    running_var = register_buffer("running_var", torch::ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kInt64));
  }
}

void SyncBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "duel::SyncBatchNorm2d(" << options.num_features() << ", eps=" << options.eps()
         << ", affine=" << std::boolalpha << options.affine() << ")";
}

torch::Tensor SyncBatchNorm2dImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4, "SyncBatchNorm2d: expected a 4-D input, got ", x.dim(), "-D");
  const int64_t c = x.size(1);
  if (!is_training() || !batch_shard().sync_bn || !batch_shard().sum_over_ranks) {  // what LibTorch's BatchNorm2d computes
    double f = options.momentum().value_or(0.0);
    if (is_training() && options.track_running_stats()) {
      num_batches_tracked += 1;
      if (!options.momentum().has_value()) f = 1.0 / num_batches_tracked.item<double>();
    }
    return torch::batch_norm(x, weight, bias, running_mean, running_var,
                             is_training() || !options.track_running_stats(), f, options.eps(), /*cudnn_enabled=*/true);
  }
  auto stats = torch::empty({2, c}, x.options().dtype(torch::kFloat32));  // [mean; unbiased var]
  auto x_hat = GlobalNormalize::apply(x, options.eps(), stats);
  if (options.track_running_stats() && running_mean.defined()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked += 1;
    const double f = options.momentum().has_value() ? *options.momentum()
                                                    : 1.0 / num_batches_tracked.item<double>();
    running_mean.mul_(1 - f).add_(stats[0].to(running_mean.dtype()), f);
    running_var.mul_(1 - f).add_(stats[1].to(running_var.dtype()), f);
  }
  if (!options.affine()) return x_hat;
  return x_hat * weight.view({1, c, 1, 1}) + bias.view({1, c, 1, 1});  // [N, C, H, W]
}

}  // namespace duel
