// The trainer's settings (include/duel/train/options.h): the keys only the
// trainer reads, registered here, and the one place the trainer reads its keys.
#include "duel/train/options.h"

namespace duel {

namespace {

// This part's config keys (include/duel/core/config.h).
const bool keys_registered = [] {
  register_int_key("run.seed", 1, 0, 9.0e15, "seed for weights, noise, shuffling and label noise");
  register_string_key("run.device", "cpu", {"cpu", "cuda"}, "where to train: cpu or cuda (needs a CUDA build)");
  register_int_key("train.steps", 0, 0, 1.0e12, "generator updates to run (0: use train.epochs)");
  register_int_key("train.epochs", 3, 0, 1.0e6, "passes over the data when train.steps is 0");
  register_int_key("train.batch_size", 64, 1, 65536, "images per batch");
  register_int_key("train.log_every", 50, 1, 1.0e9, "steps between metrics.csv rows");
  register_int_key("train.sample_every", 500, 0, 1.0e9, "steps between sample grids (0: only the final one)");
  register_int_key("train.checkpoint_every", 1000, 0, 1.0e9, "steps between checkpoints (0: only the final one)");
  register_int_key("train.keep_checkpoints", 3, 1, 1000, "numbered checkpoints kept besides latest");
  register_string_key("perf.amp", "none", {"none", "bf16"},
                      "mixed precision: none or bf16 autocast (CUDA; and CPU, where oneDNN's bf16 kernels need AVX-512 BF16 or AMX to be fast)");
  register_bool_key("perf.channels_last", false, "keep images and conv weights in channels-last (NHWC) memory layout");
  register_int_key("sample.grid", 64, 1, 1024, "images in each sample grid (drawn from fixed noise)");
  return true;
}();

}  // namespace

TrainOptions TrainOptions::read(const Config& cfg) {
  TrainOptions o;
  o.seed = uint64_t(cfg.get_int("run.seed"));
  o.device = cfg.get_string("run.device");
  o.steps = cfg.get_int("train.steps");
  o.epochs = cfg.get_int("train.epochs");
  o.batch_size = cfg.get_int("train.batch_size");
  o.global_batch = cfg.get_bool("dist.global_batch");
  o.sync_bn = cfg.get_bool("dist.sync_bn");
  o.skip_average = cfg.get_string("debug.dist_skip_average");
  o.log_every = cfg.get_int("train.log_every");
  o.sample_every = cfg.get_int("train.sample_every");
  o.checkpoint_every = cfg.get_int("train.checkpoint_every");
  o.keep_checkpoints = cfg.get_int("train.keep_checkpoints");
  o.eval_every = cfg.get_int("eval.every");
  o.grid = cfg.get_int("sample.grid");
  o.amp_bf16 = cfg.get_string("perf.amp") == "bf16";
  o.channels_last = cfg.get_bool("perf.channels_last");
  o.drop_last = cfg.get_bool("data.drop_last");
  o.flip = cfg.get_bool("data.flip");
  o.crop = cfg.get_int("data.crop");
  o.prefetch = cfg.get_int("data.prefetch");
  return o;
}

}  // namespace duel
