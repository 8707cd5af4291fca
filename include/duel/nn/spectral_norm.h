// Spectral normalisation (Miyato et al. 2018) for Conv2d and Linear layers.
//
// The wrapped layer keeps its own `weight` parameter W (what the optimizer
// updates); forward() uses W / sigma(W), where sigma is the top singular value
// of W reshaped to [out, in*k*k], estimated by power iteration with
// persistent vectors u [out] and v [in*k*k]. In training mode each forward
// runs `iterations` power-iteration steps (no gradient) before using u, v;
// in eval mode u, v stay as they are. u and v are buffers, so checkpoints
// hold them and a resumed run continues the same estimate.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace duel {

class SpectralNormImpl : public torch::nn::Module {
 public:
  explicit SpectralNormImpl(torch::nn::Conv2d conv, int64_t iterations = 1, double eps = 1e-12);
  explicit SpectralNormImpl(torch::nn::Linear linear, int64_t iterations = 1, double eps = 1e-12);
  // Conv2d: x [N, Cin, H, W] -> [N, Cout, H', W'];  Linear: x [N, in] -> [N, out]
  torch::Tensor forward(const torch::Tensor& x);
  // The normalised weight W / sigma, shaped like W (runs no power iteration).
  torch::Tensor normalized_weight();
  // The current estimate of sigma(W) from u and v.
  torch::Tensor sigma();

 private:
  void init_vectors();
  torch::Tensor weight_matrix() const;  // [out, rest]
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::Linear linear_{nullptr};
  torch::Tensor u_, v_;
  int64_t iterations_;
  double eps_;
};
TORCH_MODULE(SpectralNorm);

// A Conv2d, spectrally normalised when `sn`; usable in a Sequential either way.
// `winograd`: a 4x4 stride-2 padding-1 convolution without spectral norm runs
// on the Winograd route (nn/winograd.h) for float32 CPU inputs it applies to.
torch::nn::AnyModule make_conv2d(const torch::nn::Conv2dOptions& options, bool sn, bool winograd = false);
// Whether make_conv2d(options, sn, winograd) takes the Winograd route for a float32 CPU input of
// h x w pixels (outside bfloat16 autocast).
bool conv2d_takes_winograd(const torch::nn::Conv2dOptions& options, bool sn, bool winograd, int64_t h, int64_t w);
torch::nn::AnyModule make_linear(const torch::nn::LinearOptions& options, bool sn);

}  // namespace duel
