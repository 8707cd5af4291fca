// `duel train`'s flags as a TrainRequest (include/duel/apps/train_command.h).
#include "duel/apps/train_command.h"

#include <filesystem>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/model_names.h"

namespace duel {

TrainRequest make_train_request(const TrainCommand& c) {
  TrainRequest req;
  if (!c.resume.empty()) {
    require(c.config.empty(), "--resume takes its config from the checkpoint; do not pass --config",
            "change keys of a resumed run with --set (e.g. --set train.steps=5000)");
    require(c.out.empty() || c.out == c.resume, "--resume and --out name different folders",
            "a resumed run continues in its own folder; drop --out");
    require(c.features.empty(), "--features cannot change a resumed run's feature network",
            "start a new run with --features");
    req.resume = true;
    req.run_dir = c.resume;
    req.overrides = c.sets;
    if (!c.device.empty()) req.overrides.push_back("run.device=" + c.device);
    return req;
  }
  require(!c.out.empty(), "duel train needs --out (the run folder)", "for example --out runs/dcgan");
  require(c.config.empty() || !std::filesystem::is_directory(c.config),
          "--config '" + c.config + "' is a folder, not a config file",
          "pass one TOML file of it, for example --config configs/dcgan28.toml");
  if (!c.config.empty()) req.config = Config::from_file(c.config);
  for (auto& s : c.sets) req.config.set_from_string(s);
  if (!c.device.empty()) req.config.set("run.device", c.device);
  check_model_name(req.config.get_string("model.name"));  // before any data is read
  if (!c.features.empty()) req.config.set("model.sr_features", c.features);
  req.run_dir = c.out;
  req.force = c.force;
  return req;
}

double dist_timeout(const TrainRequest& req) {
  Config given = req.config;
  for (auto& o : req.overrides) given.set_from_string(o);
  return given.get_float("dist.timeout_s");
}

}  // namespace duel
