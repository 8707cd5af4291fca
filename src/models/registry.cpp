// The model registry: name -> factory, filled by DUEL_REGISTER_MODEL lines.
#include <mutex>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/models/model.h"

#include <torch/nn/functional/upsampling.h>

namespace duel {
namespace {
struct Entry {
  std::string summary;
  ModelFactory factory;
  ModelDefaults defaults;
};
std::map<std::string, Entry>& models() {
  static std::map<std::string, Entry> m;
  return m;
}
}  // namespace

ModelRegistration::ModelRegistration(const std::string& name, const std::string& summary, ModelFactory factory,
                                     ModelDefaults defaults) {
  models()[name] = Entry{summary, std::move(factory), std::move(defaults)};
}

void apply_model_defaults(Config& cfg) {
  auto it = models().find(cfg.get_string("model.name"));
  if (it == models().end()) return;  // create_model names the problem
  for (const auto& [key, value] : it->second.defaults)
    if (!cfg.was_set(key)) cfg.set(key, value);
}

torch::Tensor GanModel::traverse(const std::string&, int64_t, int64_t, torch::Device) {
  throw Error("model '" + name() + "' has no latent codes to traverse", "--traverse works with infogan checkpoints");
}

torch::Tensor GanModel::anomaly_score(const torch::Tensor&) {
  throw Error("model '" + name() + "' cannot score images for anomalies",
              "train an aae (adversarial autoencoder) and score with its checkpoint");
}

torch::Tensor GanModel::reconstruct(const torch::Tensor&) {
  throw Error("model '" + name() + "' has no encoder to reconstruct images with",
              "reconstruct with an aae (adversarial autoencoder) checkpoint");
}

torch::Tensor GanModel::translate(const torch::Tensor&, const std::string&) {
  throw Error("model '" + name() + "' does not translate images",
              "translate and upscale with a pix2pix, cyclegan or srgan checkpoint");
}

std::vector<torch::Tensor> GanModel::preview(const Batch& fixed) {
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

PreviewInputs GanModel::preview_inputs(const ImageSet&, int64_t n, int64_t, torch::Device device) const {
  PreviewInputs p;
  p.request.noise = make_noise(n, device);
  return p;
}

std::vector<std::pair<std::string, std::string>> registered_models() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [name, e] : models()) out.emplace_back(name, e.summary);
  return out;
}

std::unique_ptr<GanModel> create_model(const Config& cfg, const DataShape& shape) {
  const std::string name = cfg.get_string("model.name");
  auto it = models().find(name);
  if (it == models().end()) {
    std::string names;
    for (auto& [n, e] : models()) names += (names.empty() ? "" : ", ") + n;
    throw Error("unknown model '" + name + "' (model.name)", "registered models: " + names);
  }
  return it->second.factory(cfg, shape);
}

}  // namespace duel
