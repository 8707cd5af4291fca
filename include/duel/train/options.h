// TrainOptions: the trainer's own settings (seed, device, length, cadence,
// batch and loader, memory format, mixed precision, distributed switches),
// read once from a run's Config. The keys only the trainer reads are
// registered in train/options.cpp; the loader's data.* keys in
// data/loader.cpp, eval.every in train/training_eval.cpp and dist.* in
// train/distributed.cpp, beside their other readers.
#pragma once
#include <cstdint>
#include <string>

#include "duel/core/config.h"

namespace duel {

struct TrainOptions {
  uint64_t seed = 1;
  std::string device = "cpu";  // run.device
  int64_t steps = 0, epochs = 0;  // train.steps, else train.epochs passes over the data
  int64_t batch_size = 64;        // per rank, or the global batch when global_batch
  bool global_batch = false;      // dist.global_batch
  bool sync_bn = false;           // dist.sync_bn
  std::string skip_average;       // debug.dist_skip_average
  int64_t log_every = 50, sample_every = 0, checkpoint_every = 0, keep_checkpoints = 3, eval_every = 0;
  int64_t grid = 64;  // sample.grid
  bool amp_bf16 = false, channels_last = false;
  // The loader's data.* keys.
  bool drop_last = true, flip = false;
  int64_t crop = 0, prefetch = -1;

  static TrainOptions read(const Config& cfg);
};

}  // namespace duel
