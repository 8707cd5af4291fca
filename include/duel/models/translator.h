// Translator: the base of the image-to-image models (pix2pix, cyclegan,
// srgan, srresnet). They draw nothing from noise: the trainer previews them
// on a fixed batch of inputs, and `duel translate` / `duel upscale` /
// `duel eval` call translate().
#pragma once
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "duel/models/model.h"

namespace duel {

class Translator : public GanModel {
 public:
  bool translates() const override { return true; }
  // Translators have no noise input: duel sample explains what to use instead.
  torch::Tensor sample(const SampleRequest& request) override;
  // A placeholder the trainer may store (one zero column per image).
  torch::Tensor make_noise(int64_t n, torch::Device device) const override;
  torch::Tensor translate(const torch::Tensor& input, const std::string& direction) override;

 protected:
  // Channels translate() reads in a direction.
  virtual int64_t input_channels(const std::string& direction) const = 0;
  // The generator of a direction on checked input (nets already in eval
  // mode, no gradients): [N, C, h, w] -> [N, C', h * scale(), w * scale()].
  virtual torch::Tensor run_generator(const std::string& direction, const torch::Tensor& input) = 0;
};

}  // namespace duel
