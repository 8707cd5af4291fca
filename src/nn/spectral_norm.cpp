// SpectralNorm: see the header.
#include "duel/nn/spectral_norm.h"

#include "duel/core/autocast.h"
#include "duel/nn/winograd.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/modules/container/any.h>

namespace duel {

namespace F = torch::nn::functional;

SpectralNormImpl::SpectralNormImpl(torch::nn::Conv2d conv, int64_t iterations, double eps)
    : conv_(register_module("module", conv)), iterations_(iterations), eps_(eps) {
  init_vectors();
}

SpectralNormImpl::SpectralNormImpl(torch::nn::Linear linear, int64_t iterations, double eps)
    : linear_(register_module("module", linear)), iterations_(iterations), eps_(eps) {
  init_vectors();
}

torch::Tensor SpectralNormImpl::weight_matrix() const {
  const auto& w = conv_ ? conv_->weight : linear_->weight;
  return w.reshape({w.size(0), -1});
}

void SpectralNormImpl::init_vectors() {
  torch::NoGradGuard no_grad;
  auto m = weight_matrix();
  u_ = register_buffer("u", F::normalize(torch::randn({m.size(0)}, m.options()), F::NormalizeFuncOptions().dim(0).eps(eps_)));
  v_ = register_buffer("v", F::normalize(torch::randn({m.size(1)}, m.options()), F::NormalizeFuncOptions().dim(0).eps(eps_)));
}

torch::Tensor SpectralNormImpl::sigma() {
  auto m = weight_matrix();  // [out, rest]
  // u^T W v with gradient through W only (u, v are constants of the iteration).
  // Copies: the next training forward updates u and v in place, which must not
  // touch what this forward's backward needs.
  return torch::dot(u_.clone(), torch::mv(m, v_.clone()));
}

torch::Tensor SpectralNormImpl::normalized_weight() {
  const auto& w = conv_ ? conv_->weight : linear_->weight;
  return w / sigma();
}

torch::Tensor SpectralNormImpl::forward(const torch::Tensor& x) {
  if (is_training()) {
    torch::NoGradGuard no_grad;
    auto m = weight_matrix().detach();
    const auto opts = F::NormalizeFuncOptions().dim(0).eps(eps_);
    for (int64_t i = 0; i < iterations_; ++i) {
      // In place, so the registered buffers (and the checkpoint) hold the new vectors.
      v_.copy_(F::normalize(torch::mv(m.t(), u_), opts));
      u_.copy_(F::normalize(torch::mv(m, v_), opts));
    }
  }
  auto w = normalized_weight();
  if (conv_) {
    const auto& o = conv_->options;
    auto conv_opts =
        F::Conv2dFuncOptions().stride(o.stride()).dilation(o.dilation()).groups(o.groups()).padding(o.padding());
    if (conv_->bias.defined()) conv_opts.bias(conv_->bias);
    return F::conv2d(x, w, conv_opts);  // [N, Cout, H', W']
  }
  return F::linear(x, w, linear_->bias);  // [N, out]
}

namespace {

// conv2d_takes_winograd for a Conv2d's options (Conv2dOptions, or a module's ConvNdOptions<2>).
template <typename Options>
bool takes_winograd(const Options& o, bool sn, bool winograd, int64_t h, int64_t w) {
  const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  const auto all = [](const torch::ExpandingArray<2>& a, int64_t v) { return (*a)[0] == v && (*a)[1] == v; };
  const bool shape = pad && all(*pad, 1) && all(o.kernel_size(), 4) && all(o.stride(), 2) && all(o.dilation(), 1) &&
                     o.groups() == 1 && c10::get_if<torch::enumtype::kZeros>(&o.padding_mode());
  return winograd && !sn && shape && h % 2 == 0 && w % 2 == 0 &&
         winograd_applies(o.in_channels(), o.out_channels(), h / 2, w / 2);
}

// A convolution that stays in float32 under CPU bfloat16 autocast when its input
// is narrow (an RGB image): oneDNN has no fast bfloat16 kernel for so few
// channels, and its input gradient would fall back to a slow path. With
// `winograd`, a 4x4 stride-2 convolution in float32 runs on nn/winograd.h
// where that applies. Its parameters are a Conv2d's, under the same names.
class NarrowSafeConv2dImpl : public torch::nn::Conv2dImpl {
 public:
  NarrowSafeConv2dImpl(const torch::nn::Conv2dOptions& o, bool winograd) : torch::nn::Conv2dImpl(o), winograd_(winograd) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && !AutocastScope::cpu_enabled() &&
        takes_winograd(options, false, winograd_, x.size(2), x.size(3))) {
      auto y = winograd_conv4s2(x, weight);  // [N, in, H, W] -> [N, out, H/2, W/2], channels-last
      return options.bias() ? y + bias.reshape({1, -1, 1, 1}) : y;
    }
    if (options.in_channels() >= 8 || !AutocastScope::cpu_enabled()) return torch::nn::Conv2dImpl::forward(x);
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
    return torch::nn::Conv2dImpl::forward(x.to(torch::kFloat32));
  }

 private:
  bool winograd_;
};
TORCH_MODULE(NarrowSafeConv2d);

}  // namespace

bool conv2d_takes_winograd(const torch::nn::Conv2dOptions& options, bool sn, bool winograd, int64_t h, int64_t w) {
  return takes_winograd(options, sn, winograd, h, w);
}

torch::nn::AnyModule make_conv2d(const torch::nn::Conv2dOptions& options, bool sn, bool winograd) {
  if (sn) return torch::nn::AnyModule(SpectralNorm(torch::nn::Conv2d(options)));
  return torch::nn::AnyModule(NarrowSafeConv2d(options, winograd));
}

torch::nn::AnyModule make_linear(const torch::nn::LinearOptions& options, bool sn) {
  if (sn) return torch::nn::AnyModule(SpectralNorm(torch::nn::Linear(options)));
  return torch::nn::AnyModule(torch::nn::Linear(options));
}

}  // namespace duel
