// Equalised-learning-rate layers and the ProGAN/StyleGAN helpers; see the header.
#include "duel/nn/equalized.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>

#include <cmath>

#include "duel/core/error.h"

namespace duel {

namespace F = torch::nn::functional;

EqualLinearImpl::EqualLinearImpl(const EqualLinearOptions& o) : options(o) {
  require(o.in() > 0 && o.out() > 0 && o.lr_mul() > 0, "EqualLinear needs positive sizes and lr_mul",
          "check the model's width settings");
  weight = register_parameter("weight", torch::randn({o.out(), o.in()}) / o.lr_mul());
  bias = register_parameter("bias", torch::full({o.out()}, o.bias_init() / o.lr_mul()));
  scale_ = o.gain() * o.lr_mul() / std::sqrt(double(o.in()));
}

torch::Tensor EqualLinearImpl::forward(const torch::Tensor& x) {
  // x [N, in] -> [N, out]
  return F::linear(x, weight * scale_, bias * options.lr_mul());
}

EqualConv2dImpl::EqualConv2dImpl(const EqualConv2dOptions& o) : options(o) {
  require(o.in() > 0 && o.out() > 0 && o.kernel() % 2 == 1, "EqualConv2d needs positive sizes and an odd kernel",
          "check the model's width settings");
  weight = register_parameter("weight", torch::randn({o.out(), o.in(), o.kernel(), o.kernel()}));
  if (o.bias()) bias = register_parameter("bias", torch::zeros({o.out()}));
  scale_ = o.gain() / std::sqrt(double(o.in() * o.kernel() * o.kernel()));
}

torch::Tensor EqualConv2dImpl::forward(const torch::Tensor& x) {
  // x [N, in, H, W] -> [N, out, H, W]
  return F::conv2d(x, weight * scale_, F::Conv2dFuncOptions().bias(bias).padding(options.kernel() / 2));
}

CriticEpilogueImpl::CriticEpilogueImpl(int64_t channels, int64_t side, int64_t group) : group_(group) {
  conv = register_module("conv", EqualConv2d(EqualConv2dOptions(channels + 1, channels, 3)));
  dense = register_module("dense", EqualLinear(EqualLinearOptions(channels * side * side, channels)));
  out = register_module("out", EqualLinear(EqualLinearOptions(channels, 1)));
}

torch::Tensor CriticEpilogueImpl::forward(const torch::Tensor& h) {
  // h [N, c, s, s] -> [N, c + 1, s, s] -> [N, c, s, s] -> [N, c*s*s] -> [N, c] -> [N, 1]
  auto y = lrelu_gain(conv(minibatch_stddev(h, group_)));
  y = lrelu_gain(dense(y.flatten(1)));
  return out(y);
}

torch::Tensor lrelu_gain(const torch::Tensor& x) {
  return torch::leaky_relu(x, 0.2) * std::sqrt(2.0);
}

torch::Tensor pixel_norm(const torch::Tensor& x, double eps) {
  // x [N, C, ...] -> same shape, unit mean square over C
  return x * torch::rsqrt(x.pow(2).mean(1, /*keepdim=*/true) + eps);
}

torch::Tensor minibatch_stddev(const torch::Tensor& x, int64_t group) {
  // x [N, C, H, W] -> [N, C + 1, H, W]
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  int64_t g = std::min(group, n);
  while (n % g != 0) --g;
  auto y = x.reshape({g, n / g, c, h, w});                       // [G, M, C, H, W]; image i is in group i % M
  y = (y - y.mean(0, true)).pow(2).mean(0);                       // [M, C, H, W] variance over the group
  y = torch::sqrt(y + 1e-8).mean({1, 2, 3}).reshape({n / g, 1, 1, 1});  // [M, 1, 1, 1]
  y = y.repeat({g, 1, h, w});                                     // [N, 1, H, W]
  return torch::cat({x, y}, 1);
}

torch::Tensor upsample_nearest(const torch::Tensor& x, int64_t factor) {
  // [N, C, H, W] -> [N, C, fH, fW]
  if (factor == 1) return x;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{x.size(2) * factor, x.size(3) * factor})
                               .mode(torch::kNearest));
}

torch::Tensor downsample_avg(const torch::Tensor& x, int64_t factor) {
  // [N, C, H, W] -> [N, C, H/f, W/f]
  if (factor == 1) return x;
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(factor));
}

}  // namespace duel
