// Layers of the progressive and style-based GANs (Karras et al. 2018, 2019).
//
//   EqualLinear / EqualConv2d   equalised learning rate: weights are stored as
//                               N(0, 1) / lr_mul and scaled at run time by
//                               lr_mul / sqrt(fan_in) (He's constant), so Adam's
//                               per-parameter step moves every layer at the
//                               same relative speed. lr_mul < 1 slows a layer
//                               down (StyleGAN's mapping network uses 0.01).
//   pixel_norm                  each pixel's feature vector scaled to unit
//                               mean square (ProGAN's G, StyleGAN's z).
//   minibatch_stddev            appends one feature map: the standard
//                               deviation of the features across groups of
//                               images, so D can see a lack of variety.
//
// These modules hold their own parameters (not torch::nn::Linear/Conv2d), so
// init_weights() leaves their N(0, 1) initialisation alone.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace duel {

struct EqualLinearOptions {
  EqualLinearOptions(int64_t in, int64_t out) : in_(in), out_(out) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(double, lr_mul) = 1.0;     // learning-rate multiplier of this layer
  TORCH_ARG(double, bias_init) = 0.0;  // initial bias (StyleGAN's style affines start at 1)
  TORCH_ARG(double, gain) = 1.0;       // extra factor on the runtime weight scale
};

class EqualLinearImpl : public torch::nn::Module {
 public:
  explicit EqualLinearImpl(const EqualLinearOptions& options);
  // x [N, in] -> [N, out]
  torch::Tensor forward(const torch::Tensor& x);
  // The weight as used: stored weight x scale [out, in].
  torch::Tensor effective_weight() const { return weight * scale_; }
  EqualLinearOptions options;
  torch::Tensor weight, bias;

 private:
  double scale_;
};
TORCH_MODULE(EqualLinear);

struct EqualConv2dOptions {
  EqualConv2dOptions(int64_t in, int64_t out, int64_t kernel) : in_(in), out_(out), kernel_(kernel) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(int64_t, kernel);
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(double, gain) = 1.0;
};

class EqualConv2dImpl : public torch::nn::Module {
 public:
  explicit EqualConv2dImpl(const EqualConv2dOptions& options);
  // x [N, in, H, W] -> [N, out, H, W] (stride 1, "same" padding)
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor effective_weight() const { return weight * scale_; }
  EqualConv2dOptions options;
  torch::Tensor weight, bias;  // bias undefined when options.bias() is false

 private:
  double scale_;
};
TORCH_MODULE(EqualConv2d);

// The last block of the ProGAN and StyleGAN discriminators at the base
// resolution s: minibatch stddev -> 3x3 conv -> dense -> dense to one output.
class CriticEpilogueImpl : public torch::nn::Module {
 public:
  CriticEpilogueImpl(int64_t channels, int64_t side, int64_t group = 4);
  // h [N, channels, side, side] -> raw outputs [N, 1]
  torch::Tensor forward(const torch::Tensor& h);

 private:
  int64_t group_;
  EqualConv2d conv{nullptr};
  EqualLinear dense{nullptr}, out{nullptr};
};
TORCH_MODULE(CriticEpilogue);

// Leaky ReLU (slope 0.2) times sqrt(2), which keeps unit-variance signals at
// unit variance with equalised-learning-rate weights.
torch::Tensor lrelu_gain(const torch::Tensor& x);

// x [N, C, ...] -> x / sqrt(mean over C of x^2 + eps)
torch::Tensor pixel_norm(const torch::Tensor& x, double eps = 1e-8);

// x [N, C, H, W] -> [N, C + 1, H, W]. Images are split into groups of
// `group` (the largest divisor of N not above it); the extra channel of an
// image is the mean over C, H, W of the per-position standard deviation
// across its group.
torch::Tensor minibatch_stddev(const torch::Tensor& x, int64_t group = 4);

// Nearest-neighbour upsampling by an integer factor: [N, C, H, W] -> [N, C, fH, fW].
torch::Tensor upsample_nearest(const torch::Tensor& x, int64_t factor);
// Average pooling by an integer factor: [N, C, H, W] -> [N, C, H/f, W/f].
torch::Tensor downsample_avg(const torch::Tensor& x, int64_t factor);

}  // namespace duel
