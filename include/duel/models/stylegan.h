// stylegan: a style-based generator (Karras et al. 2019, 2020) at the scale
// of duel's datasets.
//
//   mapping     z -> pixel norm -> model.mapping_layers dense layers (lr x 0.01)
//               -> w; a running mean of w (w_avg) is kept for truncation
//   synthesis   a learned constant at the base resolution (7 px for 28 px data,
//               else 4 px), then per resolution two modulated 3x3 convolutions
//               (the first upsamples x2), each followed by a per-pixel noise
//               input with a learned strength, a bias and leaky ReLU; toRGB
//               outputs are summed across resolutions (skip architecture).
//               Every layer reads its own w from ws [N, num_ws, w_dim], so
//               styles can be mixed per layer.
//   modulated   y = conv(x * s, W) * d with s = affine(w) (bias 1) and the
//   conv        demodulation d_o = 1 / sqrt(sum_{i,k} (W_oik s_i)^2 + eps), which
//               is the grouped per-sample convolution of StyleGAN2 written as one
//               ordinary batched convolution.
//   D           residual: fromRGB, then per resolution two 3x3 convolutions and
//               a 2x average pool, plus a pooled 1x1 skip, summed / sqrt(2); the
//               minibatch-stddev epilogue at the base resolution.
//
// Training uses TwoPlayerGan's step with the StyleGAN defaults: non-saturating
// loss, lazy R1 (train.r1_every = 16), an EMA of G, Adam(0.002, 0, 0.99),
// and style mixing regularisation (model.style_mixing: the probability that a
// batch switches to a second latent from a random layer on). Adaptive
// discriminator augmentation is train.ada_target (0.6 in the presets).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "duel/nn/equalized.h"

namespace duel {

struct ModulatedConv2dOptions {
  ModulatedConv2dOptions(int64_t in, int64_t out, int64_t kernel, int64_t w_dim)
      : in_(in), out_(out), kernel_(kernel), w_dim_(w_dim) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(int64_t, kernel);
  TORCH_ARG(int64_t, w_dim);
  TORCH_ARG(bool, demodulate) = true;
  TORCH_ARG(bool, upsample) = false;  // bilinear x2 before the convolution
};

class ModulatedConv2dImpl : public torch::nn::Module {
 public:
  explicit ModulatedConv2dImpl(const ModulatedConv2dOptions& options);
  // x [N, in, H, W], w [N, w_dim] -> [N, out, H', W'] (H' = 2H when upsampling)
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& w);
  ModulatedConv2dOptions options;
  EqualLinear affine{nullptr};  // w -> styles s [N, in]
  torch::Tensor weight;         // [out, in, k, k], N(0, 1), scaled by 1/sqrt(in k^2)

 private:
  double scale_;
};
TORCH_MODULE(ModulatedConv2d);

struct StyleganOptions {
  StyleganOptions(int64_t latent_dim, int64_t channels, int64_t size)
      : latent_dim_(latent_dim), channels_(channels), size_(size) {}
  TORCH_ARG(int64_t, latent_dim);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, size);
  TORCH_ARG(int64_t, w_dim) = 128;
  TORCH_ARG(int64_t, mapping_layers) = 4;
  TORCH_ARG(int64_t, width) = 64;       // channels at the full resolution, doubled per halving
  TORCH_ARG(int64_t, max_width) = 256;
  TORCH_ARG(double, w_avg_beta) = 0.995;  // running mean of w
};

// How the per-pixel noise inputs are drawn.
enum class NoiseMode { Random, Const, None };

class StyleGeneratorImpl : public torch::nn::Module {
 public:
  explicit StyleGeneratorImpl(const StyleganOptions& options);
  // z [N, latent] -> w [N, w_dim]; in training mode also updates w_avg
  torch::Tensor map(const torch::Tensor& z);
  // ws [N, num_ws(), w_dim] -> images [N, C, size, size] (linear output, ~[-1, 1])
  torch::Tensor synthesize(const torch::Tensor& ws, NoiseMode noise);
  // w [N, w_dim] -> w_avg + psi (w - w_avg)
  torch::Tensor truncate(const torch::Tensor& w, double psi) const;
  int64_t num_ws() const { return num_ws_; }
  StyleganOptions options;
  torch::Tensor w_avg;  // buffer [w_dim]

 private:
  int64_t num_ws_;
  std::vector<EqualLinear> mapping;
  torch::Tensor constant;                  // [1, c0, s0, s0]
  std::vector<ModulatedConv2d> convs;      // conv j reads ws[:, j]
  std::vector<torch::Tensor> noise_strength, biases, noise_const;  // per conv
  std::vector<ModulatedConv2d> to_rgb;     // level i reads ws[:, 2i + 1]
  std::vector<torch::Tensor> rgb_bias;
};
TORCH_MODULE(StyleGenerator);

class StyleDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit StyleDiscriminatorImpl(const StyleganOptions& options);
  // x [N, C, size, size] -> raw outputs [N, 1]
  torch::Tensor forward(const torch::Tensor& x);
  StyleganOptions options;

 private:
  EqualConv2d from_rgb{nullptr};
  std::vector<EqualConv2d> conv_a, conv_b, skip;  // one per downsampling block
  CriticEpilogue epilogue{nullptr};
};
TORCH_MODULE(StyleDiscriminator);

}  // namespace duel
