// The shared part of the image-to-image models (include/duel/models/translator.h):
// the ImageTranslator capability, the fixed preview batch and the
// input | output | target preview columns.
#include "duel/models/translator.h"

#include <algorithm>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"

#include <torch/nn/functional/upsampling.h>

namespace duel {
namespace {
// Keys of the PatchGAN discriminators pix2pix and cyclegan share.
const bool keys_registered = [] {
  register_key({"model.patch_layers", ConfigType::Int, int64_t(0),
                "pix2pix/cyclegan: stride-2 layers of the PatchGAN discriminator (0: up to 3, as the size allows)", 0,
                8, {}});
  register_key({"model.patch_norm", ConfigType::String, std::string("batch"),
                "pix2pix/cyclegan: normalisation in the PatchGAN discriminator", {}, {}, {"batch", "instance"}});
  return true;
}();
}  // namespace

PreviewInputs Translator::preview_inputs(const ImageSet& data, int64_t n, int64_t size, torch::Device device) const {
  PreviewInputs p;
  p.request.noise = torch::zeros({n, 1}, torch::TensorOptions().device(device));  // unused, kept in checkpoints
  const int64_t k = std::min<int64_t>(n, 8);
  auto crop = [&](const torch::Tensor& x) {
    return to_unit_range(centre_crop(x.slice(0, 0, k), size).contiguous()).to(device);
  };
  p.batch.images = crop(data.images);
  if (data.targets.defined()) p.batch.targets = crop(data.targets);
  if (data.labels.defined()) p.batch.labels = data.labels.slice(0, 0, k).to(device);
  return p;
}

std::vector<torch::Tensor> Translator::preview(const Batch& fixed) {
  auto [input, target] = io_of(fixed);
  auto output = translate(input, "AtoB");  // [N, C', H, W]
  std::vector<torch::Tensor> cols;
  auto fit = [&](torch::Tensor x) {  // same side and channels as the output
    if (x.size(2) != output.size(2) || x.size(3) != output.size(3))
      x = torch::nn::functional::interpolate(
          x, torch::nn::functional::InterpolateFuncOptions()
                 .size(std::vector<int64_t>{output.size(2), output.size(3)})
                 .mode(torch::kNearest));
    if (x.size(1) != output.size(1)) x = x.size(1) == 1 ? x.expand({-1, output.size(1), -1, -1}) : x.mean(1, true);
    return x;
  };
  cols.push_back(fit(input.to(output.device())));
  cols.push_back(output);
  if (target.defined()) cols.push_back(fit(target.to(output.device())));
  return cols;
}

void Translator::check_direction(const std::string& direction) const {
  const auto dirs = directions();
  if (std::find(dirs.begin(), dirs.end(), direction) == dirs.end()) {
    std::string list;
    for (const auto& d : dirs) list += (list.empty() ? "" : ", ") + d;
    throw Error("model '" + name() + "' does not translate " + direction + "; it translates " + list,
                "pass --direction " + dirs.front());
  }
}

onnx::Metadata Translator::export_generator(onnx::Graph& graph, const std::string& direction) {
  check_direction(direction);
  const int64_t c = input_channels(direction), m = size_multiple(), s = scale();
  // Output channels: those of one small translation (cheap, and always what translate() gives);
  // 32 px or more, so reflection padding at the innermost resolution has room.
  const int64_t probe = m * std::max<int64_t>(1, (32 + m - 1) / m);
  const int64_t c_out = translate(torch::zeros({1, c, probe, probe}), direction).size(1);
  const std::string side = "H and W multiples of " + std::to_string(m);
  auto x = graph.input("input", onnx::kFloat, {"N", c, "H", "W"}, "images to translate, in [-1, 1]; " + side);
  std::string out;
  {
    torch::NoGradGuard no_grad;
    out = export_run_generator(graph, direction, x);
  }
  const onnx::Dim h = s == 1 ? onnx::Dim("H") : onnx::Dim("outH"), w = s == 1 ? onnx::Dim("W") : onnx::Dim("outW");
  graph.output(out, "image", onnx::kFloat, {"N", c_out, h, w},
               "translated images in [-1, 1]" +
                   (s == 1 ? std::string() : ", outH = " + std::to_string(s) + " H, outW = " + std::to_string(s) + " W"));
  return {{"direction", direction}, {"size_multiple", std::to_string(m)}, {"scale", std::to_string(s)}};
}

std::string Translator::export_run_generator(onnx::Graph& graph, const std::string& direction, const std::string&) {
  graph.unsupported("the " + direction + " generator of model '" + name() + "'", "G");
}

torch::Tensor Translator::translate(const torch::Tensor& input, const std::string& direction) {
  check_direction(direction);
  const int64_t c = input_channels(direction), m = size_multiple();
  require(input.dim() == 4 && input.size(1) == c,
          "model '" + name() + "' translates " + std::to_string(c) + "-channel images " + direction + ", got " +
              (input.dim() == 4 ? std::to_string(input.size(1)) + "-channel ones" : "a tensor that is not [N, C, H, W]"),
          "convert the images to " + std::string(c == 1 ? "grayscale" : "RGB"));
  require(input.size(2) % m == 0 && input.size(3) % m == 0,
          "model '" + name() + "' needs image sides that are multiples of " + std::to_string(m) + ", got " +
              std::to_string(input.size(3)) + "x" + std::to_string(input.size(2)),
          "resize the images (duel translate --size S)");
  torch::NoGradGuard no_grad;
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>> modes;
  for (auto& [n, net] : nets()) {
    modes.emplace_back(net, net->is_training());
    net->eval();
  }
  auto out = run_generator(direction, input);
  for (auto& [net, was] : modes)
    if (was) net->train();
  return out;
}

}  // namespace duel
