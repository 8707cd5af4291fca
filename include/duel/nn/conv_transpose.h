// TransposedConv2d: a transposed convolution that runs on the fast oneDNN
// convolution kernels on CPU.
//
// LibTorch 1.13 computes ConvTranspose2d on CPU with an im2col + GEMM path
// (slow_conv_transpose2d), several times slower than its oneDNN convolution
// kernels. A transposed convolution is the adjoint of a convolution C with
// the same weight, so:
//   forward   y  = C^T(x)            = convolution_backward(x)'s input gradient
//   backward  dx = C(dy)             = convolution(dy, W)
//             dW = convolution_backward(grad_output=x, input=dy)'s weight gradient
// all three of which oneDNN runs. A 1x1 input with stride 1 and no padding
// (the first layer of a DCGAN generator) is a plain matrix product.
// Narrow outputs (fewer than 8 channels) stay on LibTorch's own path, which
// is faster there. With `winograd` (and `fast`), a 4x4 stride-2 padding-1
// layer in float32 runs on the Winograd route (nn/winograd.h), which needs
// fewer multiplications, where that applies. The module holds a torch::nn::ConvTranspose2d, so its
// parameters, initialisation and checkpoints are LibTorch's.
#pragma once
#include <torch/nn/modules/conv.h>

#include "duel/io/onnx.h"

namespace duel {

struct TransposedConv2dOptions {
  TransposedConv2dOptions(int64_t in, int64_t out, int64_t kernel) : in_(in), out_(out), kernel_(kernel) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(int64_t, kernel);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, padding) = 0;
  TORCH_ARG(bool, bias) = false;
  TORCH_ARG(bool, fast) = true;  // false: always LibTorch's ConvTranspose2d
  TORCH_ARG(bool, winograd) = false;  // 4x4 stride 2 padding 1 in float32: Winograd (nn/winograd.h) where it applies
};

class TransposedConv2dImpl : public torch::nn::Module, public onnx::Exportable {
 public:
  explicit TransposedConv2dImpl(const TransposedConv2dOptions& options);
  // x [N, in, H, W] -> [N, out, (H-1)*stride - 2*padding + kernel, ...]
  torch::Tensor forward(const torch::Tensor& x);
  // ONNX: the held ConvTranspose2d (both routes compute the same function).
  std::string export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const override;
  TransposedConv2dOptions options;
  torch::nn::ConvTranspose2d conv{nullptr};
};
TORCH_MODULE(TransposedConv2d);

// The oneDNN route alone (exposed for tests): weight [in, out, k, k].
torch::Tensor conv_transpose2d_onednn(const torch::Tensor& x, const torch::Tensor& weight, int64_t stride,
                                      int64_t padding);

}  // namespace duel
