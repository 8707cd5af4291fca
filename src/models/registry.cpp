// The model registry: name -> factory, filled by DUEL_REGISTER_MODEL lines.
#include <mutex>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/suggest.h"
#include "duel/data/dataset.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/models/model_names.h"

namespace duel {

namespace {

// This part's config keys (include/duel/core/config.h).
const bool keys_registered = [] {
  register_string_key("model.name", "dcgan", {}, "registered model name (see `duel train --list-models`)");
  register_int_key("model.latent_dim", 100, 1, 4096, "size of the noise vector z");
  register_string_key("model.init", "normal", {"normal", "default"},
                      "normal: weights N(0, 0.02) as in DCGAN; default: LibTorch's own initialisation");
  return true;
}();

}  // namespace

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

std::vector<torch::Tensor> GanModel::preview(const Batch&) {
  throw Error("model '" + name() + "' previews no batch of images", "fill PreviewInputs::batch only with a preview()");
}

PreviewInputs GanModel::preview_inputs(const ImageSet&, int64_t n, int64_t, torch::Device device) const {
  PreviewInputs p;
  if (const auto* noise = capability<NoiseSampler>(*this)) p.request.noise = noise->make_noise(n, device);
  return p;
}

std::vector<std::pair<std::string, std::string>> registered_models() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [name, e] : models()) out.emplace_back(name, e.summary);
  return out;
}

void check_model_name(const std::string& name) {
  if (models().count(name)) return;
  std::string names;
  std::vector<std::string> all;
  for (auto& [n, e] : models()) names += (names.empty() ? "" : ", ") + n, all.push_back(n);
  throw Error("unknown model '" + name + "' (model.name)",
              did_you_mean(name, all) + "registered models: " + names +
                  "; a model registered by a program of your own (docs/library.md) is known only to that program");
}

std::unique_ptr<GanModel> create_model(const Config& cfg, const DataShape& shape) {
  const std::string name = cfg.get_string("model.name");
  check_model_name(name);
  return models().find(name)->second.factory(cfg, shape);
}

}  // namespace duel
