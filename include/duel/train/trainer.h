// The generic trainer: owns the cadence of a run (data, steps, logging,
// sample grids, checkpoints) for any registered model. The run folder's
// layout is RunFolder's (run_folder.h); what happens around the loop on a
// cadence (TensorBoard, evaluation, monitoring, the collapse probe, and from
// above the train layer the report) plugs in through TrainCallback
// (callback.h). The trainer never prints: it reports through TrainerEvents.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "duel/core/config.h"
#include "duel/train/callback.h"
#include "duel/train/distributed.h"

namespace duel {

struct ProgressReport {
  int64_t step = 0, total_steps = 0, epoch = 0;
  double img_per_s = 0, elapsed_s = 0, eta_s = 0;
  std::vector<std::pair<std::string, double>> scalars;  // latest logged means
};

struct TrainerEvents {
  std::function<void(const ProgressReport&)> progress;  // after every step
  std::function<void(const std::string&)> info;
  std::function<void(const std::string&)> warning;
};

struct TrainRequest {
  Config config;                       // resolved config of a new run
  std::vector<std::string> overrides;  // --set lines, applied on top of the checkpoint's config on resume
  std::string run_dir;
  bool resume = false;
  bool force = false;
  // Data-parallel training (docs/distributed.md): this process's rank and the
  // rendezvous; a single process when dist.world_size is 1.
  DistOptions dist;
  bool dist_store_is_external = false;  // the --nproc launcher hosts the store
  // Callbacks beyond the standard ones (callback.h), told after them in this
  // order: what lives above the train layer, such as the run report (apps/train_report.h).
  TrainCallbacks callbacks;
};

struct TrainSummary {
  int64_t start_step = 0, steps_done = 0, total_steps = 0;
  double seconds = 0, img_per_s = 0;
  bool interrupted = false;
  std::string run_dir, final_grid, checkpoint;
  std::map<std::string, double> last;  // last logged means
  int64_t rank = 0, world_size = 1;
  double comm_seconds = 0;  // time in collectives (distributed runs)
};

// Set by a signal handler: the trainer finishes its step, checkpoints and returns.
std::atomic<bool>& stop_requested();

TrainSummary train(TrainRequest request, const TrainerEvents& events);

// Where a run's newest loadable checkpoint is (latest.duel, else the newest
// good step-N.duel); throws duel::Error when there is none.
std::string find_resume_checkpoint(const std::string& run_dir, std::vector<std::string>* skipped = nullptr);

}  // namespace duel
