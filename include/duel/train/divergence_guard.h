// The divergence guard (train.nan_rollbacks; docs/reliability.md) and its
// testing aid (debug.inject_nan_step / debug.inject_nan_count).
//
// Every step's loss scalars are checked (on CPU at once; on CUDA, to keep the
// GPU unsynchronised, at each log row, grid, evaluation and checkpoint), and
// the weights before every checkpoint. On a non-finite value the run rolls
// back to its newest good checkpoint (or its first state) with every learning
// rate halved, at most train.nan_rollbacks times; then it stops with exit 2.
// The guard decides and words; the trainer restores the state it points at.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace duel {

class Config;
class GanModel;
class TrainLogs;
struct TrainState;

class DivergenceGuard {
 public:
  explicit DivergenceGuard(const Config& cfg);

  int64_t max_rollbacks() const { return max_rollbacks_; }
  // A new run keeps its first state for a rollback before its first checkpoint.
  bool wants_start_snapshot() const { return max_rollbacks_ > 0; }
  void keep_start_snapshot(std::string bytes) { start_snapshot_ = std::move(bytes); }
  const std::string& start_snapshot() const { return start_snapshot_; }

  // debug.inject_nan_step: multiplies a weight of the first net by NaN just
  // before that step (`step` is the updates done), debug.inject_nan_count times.
  void maybe_inject(GanModel& model, int64_t step);

  // Adds a step's scalars to the pending check (no host sync).
  void observe(const std::vector<std::pair<std::string, torch::Tensor>>& scalars);
  // Whether every scalar since the last call was finite; clears the pending check.
  bool pending_ok();
  void clear_pending() { pending_finite_ = torch::Tensor(); }

  // "name=value" of the first non-finite scalar.
  static std::string first_non_finite(const std::vector<std::pair<std::string, torch::Tensor>>& scalars);
  // Names of the nets holding a non-finite parameter ("" when all are finite).
  static std::string non_finite_nets(GanModel& model);

  // The run diverged after update state.step (`detail` says what was not
  // finite): when the rollbacks are spent, logs a "diverged" event and throws
  // duel::Error with the advice; otherwise returns and the trainer rolls back.
  // `on_disk`: a checkpoint exists to go back to.
  void give_up_if_spent(const TrainState& state, const std::string& detail, bool on_disk, const std::string& run_dir,
                        TrainLogs& logs) const;

 private:
  int64_t max_rollbacks_ = 0;
  int64_t inject_step_ = 0;
  int64_t injections_left_ = 0;
  std::string start_snapshot_;
  torch::Tensor pending_finite_;  // all steps since the last check had finite scalars (0-dim bool)
};

}  // namespace duel
