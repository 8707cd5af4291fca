// Model from a checkpoint (include/duel/apps/model_loading.h): config from
// the checkpoint's embedded config.toml, the model it names for the saved data
// shape, then the saved nets restored without optimizer state.
#include "duel/apps/model_loading.h"

namespace duel {

Config checkpoint_config(const Checkpoint& ck) { return Config::from_string(ck.config_toml(), ck.path()); }

std::unique_ptr<GanModel> model_from_checkpoint(const Checkpoint& ck, const Config& cfg) {
  auto model = create_model(cfg, ck.state().shape);
  ck.restore(*model, /*optimizers=*/false);
  return model;
}

std::unique_ptr<GanModel> load_model(const Checkpoint& ck, Config& cfg) {
  cfg = checkpoint_config(ck);
  return model_from_checkpoint(ck, cfg);
}

}  // namespace duel
