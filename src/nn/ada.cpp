// Adaptive discriminator augmentation; see the header.
#include "duel/nn/ada.h"

#include <torch/nn/functional/vision.h>

#include <cmath>

#include "duel/core/error.h"
#include "duel/core/shard.h"

namespace duel {

namespace F = torch::nn::functional;

namespace {

// One uniform [N] draw in [0, 1) for the global batch, this rank's rows.
torch::Tensor uniform(int64_t n, const torch::TensorOptions& o) {
  return draw_for_batch(n, [&](int64_t m) { return torch::rand({m}, o); });
}
torch::Tensor normal(int64_t n, const torch::TensorOptions& o) {
  return draw_for_batch(n, [&](int64_t m) { return torch::randn({m}, o); });
}
// [N] 1 for the images a transform applies to (probability p each), else 0.
torch::Tensor applied(int64_t n, double p, const torch::TensorOptions& o) {
  return (uniform(n, o) < p).to(torch::kFloat32);
}

}  // namespace

torch::Tensor ada_augment(const torch::Tensor& x, double p) {
  // x [N, C, H, W] -> [N, C, H, W]
  if (p <= 0) return x;
  return ada_color(ada_geometry(x, p), p);
}

torch::Tensor ada_geometry(const torch::Tensor& x, double p) {
  // x [N, C, H, W] -> [N, C, H, W]
  if (p <= 0) return x;
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto fo = x.options().dtype(torch::kFloat32);

  // Geometry: whole-pixel moves, as an affine map of the normalised output
  // coordinates onto the input (grid_sample, nearest, reflected border).
  auto flip = 1.0 - 2.0 * applied(n, p, fo);                                    // [N] +-1
  auto quarter = torch::floor(uniform(n, fo) * 3.0 + 1.0) * applied(n, p, fo);  // [N] 0 or 1..3 quarter turns
  const double sh = std::floor(h * 0.125 + 0.5), sw = std::floor(w * 0.125 + 0.5);
  auto apply_t = applied(n, p, fo);
  auto ty = torch::round((uniform(n, fo) * 2 - 1) * sh) * apply_t;      // [N] pixels
  auto tx = torch::round((uniform(n, fo) * 2 - 1) * sw) * apply_t;
  // cos/sin of a multiple of 90 degrees, exactly.
  auto q = quarter.to(torch::kInt64) % 4;
  auto cos = (q == 0).to(torch::kFloat32) - (q == 2).to(torch::kFloat32);
  auto sin = (q == 1).to(torch::kFloat32) - (q == 3).to(torch::kFloat32);
  // Input coordinate = R * (flip_x * out) + t, all in normalised units.
  auto theta = torch::stack({torch::stack({cos * flip, -sin, 2 * tx / w}, 1),
                             torch::stack({sin * flip, cos, 2 * ty / h}, 1)},
                            1);  // [N, 2, 3]
  auto grid = F::affine_grid(theta.to(x.dtype()), {n, c, h, w}, /*align_corners=*/false);
  return F::grid_sample(x, grid,
                         F::GridSampleFuncOptions().mode(torch::kNearest).padding_mode(torch::kReflection).align_corners(false));
}

torch::Tensor ada_color(const torch::Tensor& x, double p) {
  // x [N, C, H, W] -> [N, C, H, W]
  if (p <= 0) return x;
  const int64_t n = x.size(0), c = x.size(1);
  auto fo = x.options().dtype(torch::kFloat32);
  auto y = x;
  auto view = [&](const torch::Tensor& t) { return t.view({n, 1, 1, 1}).to(x.dtype()); };
  y = y + view(normal(n, fo) * 0.2 * applied(n, p, fo));  // brightness
  auto mean = y.mean({1, 2, 3}, true);
  y = (y - mean) * view(torch::exp(normal(n, fo) * (0.5 * std::log(2.0)) * applied(n, p, fo))) + mean;  // contrast
  if (c == 3) {
    auto grey = y.mean(1, true);
    y = (y - grey) * view(torch::exp(normal(n, fo) * std::log(2.0) * applied(n, p, fo))) + grey;  // saturation
  }
  return y;
}

AdaController::AdaController(double target, double speed_images, int64_t interval, double p0)
    : target_(target), speed_(speed_images), interval_(interval), p_(p0) {
  require(target >= 0 && target < 1, "ADA target " + std::to_string(target) + " is outside [0, 1)",
          "set train.ada_target to about 0.6 (0: p stays at train.ada_p)");
  require(p0 >= 0 && p0 <= 1, "ADA's initial p " + std::to_string(p0) + " is outside [0, 1]", "set train.ada_p in [0, 1]");
  require(speed_images > 0, "ADA speed must be positive", "set train.ada_speed to images for p to move by 1");
}

void AdaController::observe(const torch::Tensor& real_out, int64_t global_batch) {
  auto s = torch::stack({torch::sign(real_out.detach().to(torch::kFloat64)).sum(),
                         torch::scalar_tensor(double(real_out.size(0)), torch::kFloat64)})
               .cpu();
  if (const auto& sum = batch_shard().sum_over_ranks) sum(s);
  sign_sum_ += s[0].item<double>();
  count_ += s[1].item<double>();
  if (++calls_ % interval_ != 0) return;
  rt_ = sign_sum_ / std::max(count_, 1.0);
  const double delta = double(global_batch * interval_) / speed_;
  if (target_ > 0)
    p_ = std::clamp(p_ + (rt_ > target_ ? delta : -delta), 0.0, 1.0);
  sign_sum_ = count_ = 0.0;
}

void AdaController::save(std::map<std::string, torch::Tensor>& out, const std::string& prefix) const {
  out[prefix + ".state"] = torch::tensor({p_, rt_, sign_sum_, count_, double(calls_)}, torch::kFloat64);
  out[prefix + ".p"] = torch::tensor({p_}, torch::kFloat64);  // for readers (duel info); load() uses .state
}

void AdaController::load(const std::map<std::string, torch::Tensor>& in, const std::string& prefix) {
  auto it = in.find(prefix + ".state");
  require(it != in.end() && it->second.numel() == 5, "checkpoint has no ADA state (" + prefix + ".state)",
          "it was written without train.ada_target and train.ada_p; resume with the same settings");
  auto s = it->second.to(torch::kFloat64).contiguous();
  auto a = s.accessor<double, 1>();
  p_ = a[0], rt_ = a[1], sign_sum_ = a[2], count_ = a[3], calls_ = int64_t(a[4]);
}

}  // namespace duel
