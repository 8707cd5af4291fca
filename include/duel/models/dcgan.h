// DCGAN nets (Radford et al. 2015): transposed convolutions + BatchNorm +
// ReLU with a tanh output in G; strided convolutions + BatchNorm +
// LeakyReLU(0.2) in D (no BatchNorm on D's first layer), no biases.
// Sizes: 28 (4 -> 7 -> 14 -> 28, the MNIST family) and powers of two from 16
// to 256 (4 -> 8 -> ... -> size). At 28 px with width 64 these are exactly
// the nets of the reference benchmark.
#pragma once
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>

#include "duel/io/onnx.h"
#include "duel/nn/minibatch.h"

namespace duel {

struct DcganOptions {
  DcganOptions(int64_t latent_dim, int64_t channels, int64_t size)
      : latent_dim_(latent_dim), channels_(channels), size_(size) {}
  TORCH_ARG(int64_t, latent_dim);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, size);
  TORCH_ARG(int64_t, width) = 64;   // channels of the widest-resolution layer
  TORCH_ARG(int64_t, extra_in) = 0; // extra input channels/features (conditioning)
  TORCH_ARG(bool, fast_convt) = true; // transposed convolutions on oneDNN (see nn/conv_transpose.h)
  TORCH_ARG(bool, winograd) = false;  // 4x4 stride-2 layers on the Winograd route in float32 on CPU (nn/winograd.h)
  TORCH_ARG(bool, spectral_norm) = false; // D: spectrally normalised convolutions (nn/spectral_norm.h)
  TORCH_ARG(std::string, norm) = "batch"; // D: batch, layer (GroupNorm(1, c)) or none
  TORCH_ARG(double, dropout) = 0.0;        // D: dropout probability after each activation (0: none)
  TORCH_ARG(MinibatchOptions, minibatch) = {};  // D: a minibatch layer between trunk and head (nn/minibatch.h)
};

// Number of stride-2 stages for a supported size; throws duel::Error otherwise.
int64_t dcgan_stages(int64_t size);

class DcganGeneratorImpl : public torch::nn::Module, public onnx::Exportable {
 public:
  explicit DcganGeneratorImpl(const DcganOptions& options);
  // z [N, latent (+extra)] -> [N, C, size, size] in [-1, 1]
  torch::Tensor forward(const torch::Tensor& z);
  // ONNX: forward() on the value z.
  std::string export_onnx(onnx::Graph& graph, const std::string& z, const std::string& path) const override;
  DcganOptions options;

 private:
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(DcganGenerator);

class DcganDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit DcganDiscriminatorImpl(const DcganOptions& options);
  // x [N, C (+extra), size, size] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& x);
  // x [N, C (+extra), size, size] -> trunk features [N, feature_channels(), k, k] (k = 3 at 28 px, else 4)
  torch::Tensor features(const torch::Tensor& x);
  // trunk features -> (minibatch layer) -> logits [N, 1]
  torch::Tensor head(const torch::Tensor& h);
  int64_t feature_channels() const { return feature_channels_; }
  DcganOptions options;

 private:
  torch::nn::Sequential trunk{nullptr};
  torch::nn::AnyModule out;
  MinibatchLayer minibatch{nullptr};  // null without one
  int64_t feature_channels_ = 0;
  bool winograd_trunk_ = false;  // some trunk layer takes the Winograd route (then the trunk runs channels-last)
};
TORCH_MODULE(DcganDiscriminator);

class Config;
class GanModel;
struct DataShape;
// DCGAN nets built from the config's model.* keys (widths, spectral norm,
// D normalisation) inside the TwoPlayerGan step, reporting `name`; the
// wgan and wgan-gp models are this with their own defaults and checks.
std::unique_ptr<GanModel> make_dcgan_model(const Config& cfg, const DataShape& shape, const std::string& name);

}  // namespace duel
