// TransposedConv2d: see the header for the algebra.
#include "duel/nn/conv_transpose.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>
#include "duel/core/autocast.h"
#include "duel/nn/onnx_modules.h"
#include "duel/nn/winograd.h"

namespace duel {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Output size of the transposed convolution along one axis.
int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p) { return (in - 1) * s - 2 * p + k; }

class ConvTransposeOneDnn : public torch::autograd::Function<ConvTransposeOneDnn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w, int64_t s,
                               int64_t p) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["s"] = s;
    ctx->saved_data["p"] = p;
    const int64_t k = w.size(2);
    // The convolution's "input" only lends its shape and layout to the input-gradient kernel.
    auto shape = at::empty({x.size(0), w.size(1), out_size(x.size(2), k, s, p), out_size(x.size(3), k, s, p)},
                           x.options().memory_format(x.suggest_memory_format()));
    // x [N, in, H, W] -> y [N, out, H', W'] as the input gradient of conv(y; w): [N, out, H', W'] -> [N, in, H, W]
    return std::get<0>(at::convolution_backward(x, shape, w, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0}, 1,
                                                {true, false, false}));
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& w = saved[1];
    const int64_t s = ctx->saved_data["s"].toInt(), p = ctx->saved_data["p"].toInt();
    auto dy = grads[0].contiguous(x.suggest_memory_format());
    torch::Tensor dx, dw;
    // dy [N, out, H', W'] -> dx [N, in, H, W]
    if (ctx->needs_input_grad(0)) dx = at::convolution(dy, w, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0}, 1);
    // weight gradient of conv(dy; w) with output gradient x: [in, out, k, k]
    if (ctx->needs_input_grad(1))
      dw = std::get<1>(at::convolution_backward(x, dy, w, c10::nullopt, {s, s}, {p, p}, {1, 1}, false, {0, 0}, 1,
                                                {false, true, false}));
    return {dx, dw, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor conv_transpose2d_onednn(const torch::Tensor& x, const torch::Tensor& weight, int64_t stride,
                                      int64_t padding) {
  return ConvTransposeOneDnn::apply(x, weight, stride, padding);
}

TransposedConv2dImpl::TransposedConv2dImpl(const TransposedConv2dOptions& o) : options(o) {
  conv = register_module("conv", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(o.in(), o.out(), o.kernel())
                                                                .stride(o.stride())
                                                                .padding(o.padding())
                                                                .bias(o.bias())));
}

torch::Tensor TransposedConv2dImpl::forward(const torch::Tensor& x) {
  const auto& w = conv->weight;
  const bool cpu = x.device().is_cpu() &&
                   (x.scalar_type() == torch::kFloat32 || (x.scalar_type() == torch::kBFloat16 && AutocastScope::cpu_enabled()));
  if (!options.fast() || !cpu) return conv->forward(x);
  torch::Tensor y;
  const int64_t k = options.kernel();
  if (x.size(2) == 1 && x.size(3) == 1 && options.stride() == 1 && options.padding() == 0) {
    // x [N, in, 1, 1] -> [N, in] @ [in, out*k*k] -> [N, out, k, k]
    y = torch::mm(x.reshape({x.size(0), options.in()}), w.reshape({options.in(), options.out() * k * k}))
            .reshape({x.size(0), options.out(), k, k});
    if (x.suggest_memory_format() == torch::MemoryFormat::ChannelsLast)
      y = y.contiguous(torch::MemoryFormat::ChannelsLast);
  } else if (AutocastScope::cpu_enabled()) {
    if (options.out() < 8) {
      // Narrow outputs (an RGB image): bfloat16 has no fast kernel for them; float32 on LibTorch's path.
      c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
      return conv->forward(x.to(torch::kFloat32));
    }
    // The autograd function calls oneDNN directly, past autocast, so it casts itself.
    y = ConvTransposeOneDnn::apply(x.to(torch::kBFloat16), w.to(torch::kBFloat16), options.stride(), options.padding());
  } else if (options.winograd() && k == 4 && options.stride() == 2 && options.padding() == 1 &&
             x.scalar_type() == torch::kFloat32 && winograd_applies(options.out(), options.in(), x.size(2), x.size(3))) {
    y = winograd_conv_transpose4s2(x, w);  // [N, in, h, w] -> [N, out, 2h, 2w]
  } else if (options.out() >= 8) {
    y = ConvTransposeOneDnn::apply(x, w, options.stride(), options.padding());
  } else {
    return conv->forward(x);
  }
  if (options.bias()) y = y + conv->bias.reshape({1, -1, 1, 1});
  return y;
}

std::string TransposedConv2dImpl::export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const {
  return onnx::export_module(graph, *conv, x, path + ".conv");  // [N, in, H, W] -> [N, out, H', W']
}

}  // namespace duel
