// The run's two logs: metrics.csv (one row per logged step) and events.jsonl
// (the same rows plus every run event: start, warnings, evaluations,
// checkpoints, rollbacks, finish). Every write goes through a checked file
// descriptor, so a full disk stops the run with a clear message, and sync()
// makes the rows durable before a checkpoint that covers them is written. A
// resume or a rollback cuts both logs back to the checkpoint's step. On a rank
// that does not write the run folder (distributed ranks > 0) the logs hold no
// file and every call does nothing.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace duel {

class RunFolder;

// One logged row: the means of the interval since the previous row.
struct LogRow {
  int64_t step = 0, epoch = 0;
  std::vector<std::pair<std::string, double>> scalars;  // in the model's order (the CSV columns)
  double img_per_s = 0, elapsed_s = 0;
  std::optional<double> comm_share;  // distributed runs: share of the interval spent in collectives
};

class TrainLogs {
 public:
  // Opens (creating) the run's logs; with `cut_to_step` (a resume) first drops
  // the rows after that step. `enabled` false: a rank that writes nothing.
  TrainLogs(const RunFolder& run, bool enabled, std::optional<int64_t> cut_to_step);
  ~TrainLogs();
  TrainLogs(const TrainLogs&) = delete;
  TrainLogs& operator=(const TrainLogs&) = delete;

  // Appends one event line to events.jsonl.
  void event(const nlohmann::json& j);
  // Appends a row to metrics.csv (its header first, when the file is new) and
  // to events.jsonl. extra_header/extra_cells: further columns (",fid,kid").
  void row(const LogRow& row, const std::string& extra_header, const std::string& extra_cells);
  // Drops the rows after `step` (a rollback) and appends to what is left.
  void cut_to(int64_t step);
  // Makes everything written so far durable.
  void sync();

 private:
  class Appender;
  std::string csv_path_, events_path_;
  std::unique_ptr<Appender> csv_, events_;
  bool csv_needs_header_ = false;
};

}  // namespace duel
