// Translator: the base of the image-to-image models (pix2pix, cyclegan,
// srgan, srresnet). They draw nothing from noise: the trainer previews them
// on a fixed batch of inputs, and `duel translate` / `duel upscale` /
// `duel eval` call translate().
#pragma once
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "duel/io/onnx.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace duel {

// Translators have no noise input (no NoiseSampler): `duel sample` explains
// what to use instead (NoiseSampler::missing).
class Translator : public GanModel, public ImageTranslator, public onnx::GeneratorExport {
 public:
  // Previewed on the first min(n, 8) images of the data, centre-cropped to the
  // training size; request.noise is a placeholder the checkpoint stores (one
  // zero column per image).
  PreviewInputs preview_inputs(const ImageSet& data, int64_t n, int64_t size, torch::Device device) const override;
  // input | AtoB output | target (inputs of another size are resized with nearest).
  std::vector<torch::Tensor> preview(const Batch& fixed) override;
  torch::Tensor translate(const torch::Tensor& input, const std::string& direction) override;
  // ONNX: input [N, C, H, W] -> image [N, C', H*scale, W*scale] in `direction`
  // (H, W dynamic, multiples of size_multiple()).
  onnx::Metadata export_generator(onnx::Graph& graph, const std::string& direction) override;

 protected:
  // Channels translate() reads in a direction.
  virtual int64_t input_channels(const std::string& direction) const = 0;
  // The generator of a direction on checked input (nets already in eval
  // mode, no gradients): [N, C, h, w] -> [N, C', h * scale(), w * scale()].
  virtual torch::Tensor run_generator(const std::string& direction, const torch::Tensor& input) = 0;
  // ONNX counterpart of run_generator on the value x; returns the output's
  // value name. The default throws duel::Error (no export).
  virtual std::string export_run_generator(onnx::Graph& graph, const std::string& direction, const std::string& x);

 private:
  // Throws duel::Error unless directions() holds `direction`.
  void check_direction(const std::string& direction) const;
};

}  // namespace duel
