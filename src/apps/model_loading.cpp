// Model from a checkpoint (include/duel/apps/model_loading.h): config from
// the checkpoint's embedded config.toml, the model it names for the saved data
// shape, then the saved nets restored without optimizer state; and which
// checkpoint file a command's argument (a file or a run folder) stands for.
#include "duel/apps/model_loading.h"

#include <filesystem>

#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/models/model_files.h"
#include "duel/train/run_folder.h"
#include "duel/train/trainer.h"

namespace duel {

Config checkpoint_config(const Checkpoint& ck) { return Config::from_string(ck.config_toml(), ck.path()); }

std::unique_ptr<GanModel> model_from_checkpoint(const Checkpoint& ck, const Config& cfg) {
  ScopedModelFiles files(ck.model_files());  // the scripted model's networks, as trained
  auto model = create_model(cfg, ck.state().shape);
  ck.restore(*model, /*optimizers=*/false);
  return model;
}

std::unique_ptr<GanModel> load_model(const Checkpoint& ck, Config& cfg) {
  cfg = checkpoint_config(ck);
  return model_from_checkpoint(ck, cfg);
}

CheckpointChoice resolve_checkpoint(const std::string& arg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  CheckpointChoice c;
  require(fs::exists(arg, ec), "cannot open checkpoint '" + arg + "': it does not exist",
          "pass a .duel file or the run folder of a duel train (runs/<name>)");
  if (!fs::is_directory(arg, ec)) {
    c.path = arg;
    return c;
  }
  c.run_dir = RunFolder::named_by(arg);  // runs/<name>/checkpoints/ stands for its run folder
  require(fs::is_directory(RunFolder(c.run_dir).checkpoints_dir(), ec),
          "'" + arg + "' is a folder but not a run folder (no checkpoints/ in it)",
          "pass a .duel file or the --out folder of a duel train (runs/<name>)");
  // A reader takes latest.duel when it is the newest: the trainer replaces it
  // atomically and never deletes it, while it deletes old numbered
  // checkpoints, so one chosen here could be gone when the command opens it.
  // A numbered checkpoint newer than latest.duel (a kill between writing it
  // and publishing it) is taken as a resume would.
  const RunFolder run(c.run_dir);
  if (fs::exists(run.latest(), ec)) {
    try {
      const int64_t step = Checkpoint::read(run.latest()).state().step;
      const auto numbered = run.numbered_checkpoints();
      if (numbered.empty() || RunFolder::numbered_step(numbered.back()) <= step) {
        c.path = run.latest();
        return c;
      }
    } catch (const Error&) {
      // unusable: the search below names it among the skipped ones
    }
  }
  c.path = find_resume_checkpoint(c.run_dir, &c.skipped);
  return c;
}

TestImages first_test_images(const Config& cfg, const DataShape& shape, int64_t n, const std::string& flag) {
  Config c = cfg;
  c.set("data.limit", int64_t(0));
  ImageSet test = open_dataset(c, "test");
  require(test.size() >= n,
          flag + " " + std::to_string(n) + " asks for more than the " + std::to_string(test.size()) +
              " test images of " + cfg.get_string("data.dataset"),
          "use " + flag + " " + std::to_string(test.size()) + " or less");
  TestImages t;
  t.images = resize_images(test.images.slice(0, 0, n), shape.size, shape.channels);
  if (test.has_labels()) {
    t.labels = test.labels.slice(0, 0, n);
    t.classes = std::max<int64_t>(test.num_classes, t.labels.max().item<int64_t>() + 1);
  }
  return t;
}

}  // namespace duel
