// progan: progressive growing of GANs (Karras et al. 2018).
//
// Training starts at a small resolution (7 px for 28 px data, else 4 px) and
// doubles it phase by phase up to the data's size. Every new resolution is
// faded in: for alpha going 0 -> 1 over model.phase_images images, G's output
// is lerp(upsample(toRGB_old(h_old)), toRGB_new(block(h_old)), alpha) and D
// mirrors it with fromRGB blocks on a downsampled input; the real images are
// blended between the two resolutions the same way. Each resolution then
// trains stable for another model.phase_images images; the last one until
// the run ends. Layers use the equalised learning rate, G normalises every
// pixel's features (pixel norm), and D sees the minibatch standard deviation.
//
// The schedule is a function of the images shown, which the checkpoint keeps
// (with the resolution and alpha it implies), so a resume mid-fade continues
// the same fade. sample() always returns images at the data's size: a lower
// phase's images are enlarged with nearest-neighbour upsampling.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include "duel/nn/equalized.h"

namespace duel {

struct ProganOptions {
  ProganOptions(int64_t latent_dim, int64_t channels, int64_t size)
      : latent_dim_(latent_dim), channels_(channels), size_(size) {}
  TORCH_ARG(int64_t, latent_dim);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, size);
  TORCH_ARG(int64_t, width) = 64;       // channels at the full resolution, doubled per halving
  TORCH_ARG(int64_t, max_width) = 256;  // cap on the doubled widths
};

// The resolutions of the growth schedule for a data size: {7, 14, 28} for 28
// and {4, 8, ..., size} for powers of two 16-256. Throws duel::Error otherwise.
std::vector<int64_t> progressive_resolutions(int64_t size);
// Channels at resolution index i of `levels` (the last at `width`).
int64_t progressive_width(int64_t width, int64_t max_width, int64_t levels, int64_t i);

// Where a run is in its schedule.
struct GrowthPhase {
  int64_t level = 0;   // index into progressive_resolutions()
  double alpha = 1.0;  // fade-in of `level` (1: stable)
};
// The phase after `images` images with `phase_images` per fade and per stable
// stretch, over `levels` resolutions.
GrowthPhase growth_phase(int64_t images, int64_t phase_images, int64_t levels);

class ProganGeneratorImpl : public torch::nn::Module {
 public:
  explicit ProganGeneratorImpl(const ProganOptions& options);
  // z [N, latent] -> [N, C, r, r] at r = resolution of phase.level (linear output, ~[-1, 1])
  torch::Tensor forward(const torch::Tensor& z, const GrowthPhase& phase);
  ProganOptions options;
  std::vector<int64_t> resolutions;

 private:
  EqualLinear input{nullptr};
  EqualConv2d input_conv{nullptr};
  std::vector<std::pair<EqualConv2d, EqualConv2d>> blocks;  // level i >= 1: up -> conv -> conv
  std::vector<EqualConv2d> to_rgb;                          // one per level
};
TORCH_MODULE(ProganGenerator);

class ProganDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit ProganDiscriminatorImpl(const ProganOptions& options);
  // x [N, C, H, H], H a multiple of the phase's resolution r (it is
  // average-pooled to r) -> raw outputs [N, 1]
  torch::Tensor forward(const torch::Tensor& x, const GrowthPhase& phase);
  ProganOptions options;
  std::vector<int64_t> resolutions;

 private:
  std::vector<EqualConv2d> from_rgb;                        // one per level
  std::vector<std::pair<EqualConv2d, EqualConv2d>> blocks;  // level i >= 1: conv -> conv -> down
  CriticEpilogue epilogue{nullptr};
};
TORCH_MODULE(ProganDiscriminator);

}  // namespace duel
