// Model from a checkpoint: the one place that turns a checkpoint file into a
// ready model (its config, the model the config names, the saved nets). Every
// inference pipeline (sample, score, translate, export, info, augment, the
// report's interpolation) used to repeat Config -> create_model -> restore;
// it lives here once so that none of them needs the trainer or the CLI.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "duel/core/config.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"

namespace duel {

// The config the checkpoint was trained with.
// Ensures: every key the checkpoint's config.toml set, with its file as the source.
Config checkpoint_config(const Checkpoint& ck);

// A checkpoint's model with its nets loaded (no optimizer state).
// Requires: ck read with Checkpoint::read; `cfg` is checkpoint_config(ck),
//   possibly with inference-only keys changed (duel score's model.aae_score).
// Ensures: a model of ck.state().shape whose nets hold the checkpoint's weights.
// Throws duel::Error when the config names an unknown model or the nets do
// not match (the messages of create_model and Checkpoint::restore).
std::unique_ptr<GanModel> model_from_checkpoint(const Checkpoint& ck, const Config& cfg);

// Both at once: `cfg` receives checkpoint_config(ck).
std::unique_ptr<GanModel> load_model(const Checkpoint& ck, Config& cfg);

// What a command's checkpoint argument names. Every command that takes a
// checkpoint also takes a run folder (runs/<name>, or its checkpoints/
// folder), which stands for the run's newest loadable checkpoint.
struct CheckpointChoice {
  std::string path;                  // the checkpoint file to read
  std::string run_dir;               // the run folder it was chosen from; empty when `arg` named a file
  std::vector<std::string> skipped;  // newer checkpoints of that run that could not be read, and why
};
// Throws duel::Error when `arg` does not exist, or is a folder that is not a
// run folder or holds no loadable checkpoint.
CheckpointChoice resolve_checkpoint(const std::string& arg);

// The first `n` images of the test split of the dataset `cfg` names (its
// data.limit ignored), at the model's size and channels: the held-out images
// that project, judge and encode take with --from-test / --real-test.
struct TestImages {
  torch::Tensor images;  // float [n, C, H, W] in [-1, 1]
  torch::Tensor labels;  // int64 [n]; undefined when the dataset has no labels
  int64_t classes = 0;   // the dataset's class count (at least max label + 1); 0 without labels
};
// Requires: n > 0. Throws duel::Error naming `flag` when the split holds fewer
// than n images, and the dataset's own errors when it cannot be opened.
TestImages first_test_images(const Config& cfg, const DataShape& shape, int64_t n, const std::string& flag);

}  // namespace duel
