// Nets of the image-to-image models: the U-Net generator and PatchGAN
// discriminator of pix2pix (Isola et al. 2017), the ResNet-block generator
// of CycleGAN (Zhu et al. 2017), the SRResNet generator and discriminator of
// SRGAN (Ledig et al. 2017), pixel shuffle and the history pool of fakes.
// Every net is fully convolutional, so it translates images of any size its
// strides allow (size_multiple()).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <string>

#include "duel/io/onnx.h"

namespace duel {

// [N, C*r*r, H, W] -> [N, C, H*r, W*r]: output pixel (c, h*r + i, w*r + j)
// is input channel c*r*r + i*r + j at (h, w).
torch::Tensor pixel_shuffle(const torch::Tensor& x, int64_t r);

// --- pix2pix ----------------------------------------------------------------

struct UnetOptions {
  UnetOptions(int64_t in_channels, int64_t out_channels) : in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, width) = 64;     // channels after the first down step (x2 per step, at most x8)
  TORCH_ARG(int64_t, depth) = 5;      // stride-2 down steps (and as many up steps)
  TORCH_ARG(double, dropout) = 0.5;   // in the three up steps after the innermost
};

// Down steps the U-Net takes on a size x size image: `requested` when it
// divides the size (throws duel::Error naming the size otherwise), or with
// requested = 0 as many halvings as the size allows, at most 8.
int64_t unet_depth(int64_t size, int64_t requested);

class UnetGeneratorImpl : public torch::nn::Module, public onnx::Exportable {
 public:
  explicit UnetGeneratorImpl(const UnetOptions& options);
  // x [N, in, S, S] -> [N, out, S, S] in [-1, 1]; S a multiple of 2^depth
  torch::Tensor forward(const torch::Tensor& x);
  // ONNX: forward() on the value x (skips become Concat nodes).
  std::string export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const override;
  UnetOptions options;
  torch::nn::ModuleList down{nullptr}, up{nullptr};
};
TORCH_MODULE(UnetGenerator);

struct PatchOptions {
  explicit PatchOptions(int64_t in_channels) : in_channels_(in_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, width) = 64;
  TORCH_ARG(int64_t, layers) = 3;               // stride-2 convolutions
  TORCH_ARG(std::string, norm) = "batch";       // batch | instance
};

// Stride-2 layers a PatchGAN can have on size x size images (the map must
// keep 3 px before its two stride-1 layers): `requested` if it fits, with 0
// the most up to 3; throws duel::Error naming the size when none fits.
int64_t patch_layers(int64_t size, int64_t requested);

// PatchGAN: a map of real/fake logits, each judging one overlapping patch
// (70 x 70 px with 3 layers).
class PatchDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit PatchDiscriminatorImpl(const PatchOptions& options);
  // x [N, in, S, S] -> logits [N, 1, S / 2^layers - 2, S / 2^layers - 2]
  torch::Tensor forward(const torch::Tensor& x);
  PatchOptions options;
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(PatchDiscriminator);

// --- CycleGAN ---------------------------------------------------------------

struct ResnetGenOptions {
  ResnetGenOptions(int64_t in_channels, int64_t out_channels) : in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, width) = 64;
  TORCH_ARG(int64_t, blocks) = 9;  // residual blocks at 1/4 resolution
};

// Reflection-padded 7x7 conv, two stride-2 convs, residual blocks, two
// stride-2 transposed convs, 7x7 conv to the output; instance norm, ReLU.
class ResnetGeneratorImpl : public torch::nn::Module, public onnx::Exportable {
 public:
  explicit ResnetGeneratorImpl(const ResnetGenOptions& options);
  // x [N, in, H, W] -> [N, out, H, W] in [-1, 1]; H, W multiples of 4
  torch::Tensor forward(const torch::Tensor& x);
  // ONNX: forward() on the value x.
  std::string export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const override;
  ResnetGenOptions options;
  torch::nn::Sequential head{nullptr}, tail{nullptr};
  torch::nn::ModuleList blocks{nullptr};
};
TORCH_MODULE(ResnetGenerator);

// The history of generated images a CycleGAN discriminator trains on
// (Shrivastava et al. 2017): until `capacity` images are held, each query
// image is stored and returned; then each is, with probability 1/2, swapped
// for a uniformly chosen stored image (which is returned and replaced by
// it), else returned as is. Random draws use LibTorch's global generator, so
// a checkpointed run replays them.
class ImagePool {
 public:
  explicit ImagePool(int64_t capacity) : capacity_(capacity) {}
  // images [N, C, H, W] (detached) -> [N, C, H, W]
  torch::Tensor query(const torch::Tensor& images);
  int64_t size() const { return images_.defined() ? images_.size(0) : 0; }
  void save(std::map<std::string, torch::Tensor>& out, const std::string& prefix) const;
  void load(const std::map<std::string, torch::Tensor>& in, const std::string& prefix);

 private:
  int64_t capacity_;
  torch::Tensor images_;  // [count, C, H, W]
};

// --- SRGAN ------------------------------------------------------------------

struct SrResnetOptions {
  explicit SrResnetOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, scale) = 4;   // 2 or 4 (x2 pixel-shuffle stages)
  TORCH_ARG(int64_t, width) = 64;
  TORCH_ARG(int64_t, blocks) = 16;
};

// 9x9 conv + PReLU, residual blocks (conv-BN-PReLU-conv-BN), conv-BN plus a
// skip from the head, log2(scale) stages of conv -> pixel shuffle x2 ->
// PReLU, 9x9 conv to the image, tanh.
class SrResnetImpl : public torch::nn::Module, public onnx::Exportable {
 public:
  explicit SrResnetImpl(const SrResnetOptions& options);
  // x [N, C, h, w] -> [N, C, h*scale, w*scale] in [-1, 1]
  torch::Tensor forward(const torch::Tensor& x);
  // ONNX: forward() on the value x (pixel shuffle: DepthToSpace, CRD).
  std::string export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const override;
  SrResnetOptions options;
  torch::nn::Sequential head{nullptr}, mid{nullptr}, tail{nullptr};
  torch::nn::ModuleList blocks{nullptr}, ups{nullptr};
};
TORCH_MODULE(SrResnet);

struct SrDiscOptions {
  explicit SrDiscOptions(int64_t channels) : channels_(channels) {}
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, width) = 64;
  TORCH_ARG(int64_t, stages) = 4;  // (conv, stride-2 conv) pairs, width doubling per stage
};

// SRGAN's discriminator: 3x3 conv stages with BN and LeakyReLU(0.2), global
// average pooling, a 1x1 "dense" layer of 16 x width and the logit.
class SrDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit SrDiscriminatorImpl(const SrDiscOptions& options);
  // x [N, C, H, W] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& x);
  SrDiscOptions options;
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(SrDiscriminator);

}  // namespace duel
