// The trainer's callback interface: everything that happens around the loop
// on a cadence (TensorBoard, periodic evaluation, the training monitor, the
// collapse probe, and from above the train layer the run report) plugs in
// here instead of being wired into the loop. The trainer owns the order of a
// step: fetch a batch, model.step, check it, then tell the callbacks in the
// order they were given (on_step, on_log_row, on_grid, on_checkpoint); a
// rollback or the end of the run is told the same way. A callback sees the
// run through TrainRun: read access to the model, config, data and state, the
// run's logs, and the few things it may ask of the trainer.
#pragma once
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "duel/train/run_logs.h"

namespace duel {

class Config;
class GanModel;
class RunFolder;
struct DataShape;
struct ImageSet;
struct TrainState;
struct TrainerEvents;

// What the trainer lends its callbacks for the whole run.
struct TrainRun {
  const Config& config;   // the run's resolved config
  GanModel& model;
  const RunFolder& folder;
  const ImageSet& data;
  const DataShape& shape;
  const TrainState& state;  // state.step: the updates done
  torch::Device device;
  bool writer;      // this process writes the run folder (rank 0 of a distributed run)
  TrainLogs& logs;  // events.jsonl (does nothing where !writer)
  const TrainerEvents& events;
  // Writes a checkpoint of the current state at `path` (e.g. checkpoints/best.duel).
  std::function<void(const std::string& path)> save_checkpoint_as;
  // Tells every callback's on_eval about an evaluation's results.
  std::function<void(int64_t step, const std::vector<std::pair<std::string, double>>& values)> publish_eval;

  void info(const std::string& message) const;
  void warn(const std::string& message) const;
  // A warning for the user that also goes into events.jsonl.
  void warning(int64_t step, const std::string& message) const;
};

// A sample grid the trainer wrote.
struct GridEvent {
  int64_t step = 0;
  std::string path;      // samples/step-NNNNNN.png or samples/final.png
  torch::Tensor grid;    // uint8 [C, H, W] as written
  std::string png;       // the file's bytes
  torch::Tensor samples;  // noise models: the grid's images [N, C, H, W] in [-1, 1]; undefined for translators
  bool periodic = false;  // a sample.every grid (not one of the final grids)
};

class TrainCallback {
 public:
  virtual ~TrainCallback() = default;
  // Once, before the first step (the logs hold the start or resume event).
  virtual void on_start(const TrainRun&) {}
  // After every update that passed the divergence check.
  virtual void on_step(const TrainRun&) {}
  // After a row went into metrics.csv and events.jsonl.
  virtual void on_log_row(const TrainRun&, const LogRow&) {}
  // After an evaluation (TrainRun::publish_eval).
  virtual void on_eval(const TrainRun&, int64_t /*step*/, const std::vector<std::pair<std::string, double>>&) {}
  // After a sample grid was written (on the rank that writes the run folder).
  virtual void on_grid(const TrainRun&, const GridEvent&) {}
  // Before a checkpoint is written: make what was logged durable.
  virtual void on_checkpoint(const TrainRun&) {}
  // After the run went back to the checkpoint at state.step.
  virtual void on_rollback(const TrainRun&) {}
  // At the end (also when interrupted), after the finish event.
  virtual void on_finish(const TrainRun&) {}
  // Further metrics.csv columns (",fid,kid") and the cells of a row.
  virtual std::string csv_header() const { return ""; }
  virtual std::string csv_cells() { return ""; }
};

using TrainCallbacks = std::vector<std::shared_ptr<TrainCallback>>;

// The callbacks every run has, in their order: TensorBoard (log.tensorboard),
// the training monitor (monitor.*), evaluation (eval.every) and the collapse
// probe. Made after the logs are open, on every rank (each decides what it
// does on a rank that does not write).
TrainCallbacks standard_callbacks(const TrainRun& run);

}  // namespace duel
