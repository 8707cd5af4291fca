// PSNR, SSIM and the bicubic / area resampling helpers of image_quality.h.
//
// SSIM follows scikit-image's structural_similarity with gaussian_weights=True
// and use_sample_covariance=False (the setting that reproduces Wang et al.
// 2004). scikit-image filters the whole image with a reflect-padded Gaussian
// and then discards a border of (win - 1) / 2 pixels; here the Gaussian is
// applied as a separable 'valid' convolution, which yields exactly the kept
// part of that map without computing the border. Per channel and position:
//
//   mu_a = G*a, mu_b = G*b
//   var_a = G*(a a) - mu_a^2, var_b = G*(b b) - mu_b^2, cov = G*(a b) - mu_a mu_b
//   S = (2 mu_a mu_b + C1)(2 cov + C2) / ((mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2))
//
// with C1 = (0.01 R)^2, C2 = (0.03 R)^2, and the image's value the mean of S
// over positions and channels. All of it runs in double, so SSIM(x, x) is 1
// to the last bit and the constant-image case matches its closed form.
#include "duel/metrics/image_quality.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "duel/core/error.h"

namespace duel {
namespace {

std::string shape_string(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_images(const torch::Tensor& x, const char* fn, const char* name) {
  require(x.defined() && x.dim() == 4, std::string(fn) + ": " + name + " must be images [N, C, H, W], got " +
                                           (x.defined() ? shape_string(x) : std::string("an undefined tensor")),
          "pass a batch of images, e.g. x.unsqueeze(0) for a single [C, H, W] image");
  require(x.is_floating_point(), std::string(fn) + ": " + name + " must be a floating-point tensor",
          "convert uint8 images with x.to(torch::kFloat32).div(127.5).sub(1) (range 2)");
  require(x.numel() > 0, std::string(fn) + ": " + name + " is empty (" + shape_string(x) + ")", "pass at least one pixel");
}

void check_pair(const torch::Tensor& a, const torch::Tensor& b, double data_range, const char* fn) {
  check_images(a, fn, "a");
  check_images(b, fn, "b");
  require(a.sizes() == b.sizes(),
          std::string(fn) + ": the images differ in shape: " + shape_string(a) + " vs " + shape_string(b),
          "compare an output with the target of the same size");
  require(std::isfinite(data_range) && data_range > 0,
          std::string(fn) + ": data_range must be a positive number, got " + std::to_string(data_range),
          "2 for images in [-1, 1], 1 for [0, 1], 255 for uint8 values");
  require(torch::isfinite(a).all().item<bool>() && torch::isfinite(b).all().item<bool>(),
          std::string(fn) + ": the images hold NaN or infinite values", "check the model's output");
}

// Normalised 1-D Gaussian of `size` taps (odd), sigma 1.5, double: [size].
torch::Tensor gaussian_taps(int64_t size, double sigma, const torch::Device& device) {
  auto x = torch::arange(size, torch::TensorOptions(torch::kFloat64)) - double((size - 1) / 2);
  auto g = torch::exp(-0.5 * x * x / (sigma * sigma));
  return (g / g.sum()).to(device);
}

}  // namespace

torch::Tensor psnr(const torch::Tensor& a, const torch::Tensor& b, double data_range) {
  check_pair(a, b, data_range, "psnr");
  auto diff = a.to(torch::kFloat64) - b.to(torch::kFloat64);
  auto mse = diff.pow(2).flatten(1).mean(1);  // [N]
  auto db = 10.0 * torch::log10(data_range * data_range / mse);  // mse 0 -> +inf
  return db.clamp_max(kPsnrCapDb);
}

int64_t ssim_window_size(int64_t h, int64_t w) {
  require(h >= 1 && w >= 1, "ssim: images must be at least 1x1 pixels", "");
  const int64_t side = std::min<int64_t>({11, h, w});
  return side % 2 == 1 ? side : side - 1;
}

torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b, double data_range) {
  check_pair(a, b, data_range, "ssim");
  const int64_t n = a.size(0), c = a.size(1), h = a.size(2), w = a.size(3);
  const int64_t win = ssim_window_size(h, w);
  const double c1 = std::pow(0.01 * data_range, 2), c2 = std::pow(0.03 * data_range, 2);

  // Channels become batch entries so one single-channel separable filter serves all.
  auto x = a.to(torch::kFloat64).reshape({n * c, 1, h, w});
  auto y = b.to(torch::kFloat64).reshape({n * c, 1, h, w});
  auto taps = gaussian_taps(win, 1.5, x.device());
  auto kv = taps.view({1, 1, win, 1}), kh = taps.view({1, 1, 1, win});
  // Five maps at once: [5*N*C, 1, H, W] -> [5*N*C, 1, H-win+1, W-win+1].
  auto stacked = torch::cat({x, y, x * x, y * y, x * y});
  namespace F = torch::nn::functional;
  auto filtered = F::conv2d(F::conv2d(stacked, kv), kh);
  auto parts = filtered.chunk(5, 0);
  const auto &mu_x = parts[0], &mu_y = parts[1];
  auto var_x = parts[2] - mu_x * mu_x;
  auto var_y = parts[3] - mu_y * mu_y;
  auto cov = parts[4] - mu_x * mu_y;
  auto map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2));
  // Every channel's map has the same size, so the mean over channels of the
  // per-channel means is the mean over [C, H', W].
  return map.reshape({n, -1}).mean(1);
}

torch::Tensor upscale_bicubic(const torch::Tensor& x, int64_t factor) {
  check_images(x, "upscale_bicubic", "x");
  require(factor >= 1, "upscale_bicubic: factor must be >= 1, got " + std::to_string(factor), "use 2 or 4");
  if (factor == 1) return x.clamp(-1, 1);
  namespace F = torch::nn::functional;
  auto up = F::interpolate(x, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{x.size(2) * factor, x.size(3) * factor})
                                  .mode(torch::kBicubic)
                                  .align_corners(false));
  return up.clamp(-1, 1);
}

torch::Tensor downscale_area(const torch::Tensor& x, int64_t factor) {
  check_images(x, "downscale_area", "x");
  require(factor >= 1, "downscale_area: factor must be >= 1, got " + std::to_string(factor), "use 2 or 4");
  require(x.size(2) % factor == 0 && x.size(3) % factor == 0,
          "downscale_area: the image sides " + std::to_string(x.size(3)) + "x" + std::to_string(x.size(2)) +
              " are not multiples of the factor " + std::to_string(factor),
          "crop or resize the images to a multiple of the factor first");
  if (factor == 1) return x;
  namespace F = torch::nn::functional;
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(factor).stride(factor));
}

}  // namespace duel
