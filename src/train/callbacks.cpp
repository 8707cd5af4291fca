// The callbacks every run has (include/duel/train/callback.h): TensorBoard
// (log.tensorboard), periodic evaluation (eval.every), the training monitor
// (monitor.*: loss-pattern and sample-diversity warnings) and the collapse
// probe. Each is a small class that owns its state and its cadence, so the
// trainer's loop never names them.
#include "duel/train/callback.h"

#include <sstream>

#include "duel/core/config.h"
#include "duel/data/dataset.h"
#include "duel/io/tensorboard.h"
#include "duel/train/training_eval.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/train/collapse.h"
#include "duel/train/monitor.h"
#include "duel/train/run_folder.h"
#include "duel/train/trainer.h"

namespace duel {

namespace {

// This part's config keys (include/duel/core/config.h).
const bool keys_registered = [] {
  register_bool_key("monitor.warnings", true, "warn when the losses show collapse or divergence");
  register_int_key("monitor.window", 100, 5, 100000, "steps the collapse/divergence checks average over");
  return true;
}();

}  // namespace

void TrainRun::info(const std::string& message) const {
  if (events.info) events.info(message);
}
void TrainRun::warn(const std::string& message) const {
  if (events.warning) events.warning(message);
}
void TrainRun::warning(int64_t step, const std::string& message) const {
  warn(message);
  logs.event({{"event", "warning"}, {"step", step}, {"message", message}});
}

namespace {

// log.tensorboard (src/io/tensorboard.cpp): a new event file per start or
// resume with the logged rows, evaluations and sample grids.
class TensorBoardCallback : public TrainCallback {
 public:
  explicit TensorBoardCallback(const TrainRun& run) {
    if (!run.config.get_bool("log.tensorboard") || !run.writer) return;
    tb_ = std::make_unique<TensorBoardWriter>(run.folder.root(), run.state.step);
    run.info("tensorboard: " + tb_->path());
  }
  void on_log_row(const TrainRun&, const LogRow& row) override {
    if (!tb_) return;
    for (auto& [k, v] : row.scalars) tb_->scalar(k, row.step, v);
    tb_->scalar("img_per_s", row.step, row.img_per_s);
    tb_->push();
  }
  void on_eval(const TrainRun&, int64_t step, const std::vector<std::pair<std::string, double>>& values) override {
    if (!tb_) return;
    for (auto& [k, v] : values) tb_->scalar("eval/" + k, step, v);
    tb_->push();
  }
  void on_grid(const TrainRun&, const GridEvent& g) override {
    if (!tb_ || image_step_ == g.step) return;  // final.png repeats the last step's grid: log it once
    image_step_ = g.step;
    tb_->image("samples", g.step, g.png, g.grid.size(1), g.grid.size(2), g.grid.size(0));
    tb_->push();
  }
  void on_checkpoint(const TrainRun&) override {
    if (tb_) tb_->flush();
  }
  void on_rollback(const TrainRun& run) override {
    if (tb_) tb_->restart(run.state.step);  // TensorBoard drops what it read past this step
    image_step_ = -1;
  }

 private:
  std::unique_ptr<TensorBoardWriter> tb_;
  int64_t image_step_ = -1;
};

// eval.every (src/metrics/evaluate.cpp): FID/KID into events.jsonl and the
// next metrics.csv row, checkpoints/best.duel by FID. The global RNG is left untouched.
class EvaluationCallback : public TrainCallback {
 public:
  explicit EvaluationCallback(const TrainRun& run) {
    if (run.writer) evaluator_ = TrainingEvaluator::create(run.config, run.shape, run.folder.root());
  }
  void on_step(const TrainRun& run) override {
    const int64_t step = run.state.step;
    if (!evaluator_ || !evaluator_->due(step)) return;
    auto point = evaluator_->run(run.model, step, run.device);
    nlohmann::json j{{"event", "eval"}, {"step", step}};
    for (auto& [k, v] : point.values) j[k] = v;
    run.logs.event(j);
    run.publish_eval(step, point.values);
    run.info(point.summary);
    if (point.best) run.save_checkpoint_as(run.folder.best());
  }
  std::string csv_header() const override { return evaluator_ ? evaluator_->csv_header() : ""; }
  std::string csv_cells() override { return evaluator_ ? evaluator_->csv_cells() : ""; }

 private:
  std::unique_ptr<TrainingEvaluator> evaluator_;
};

// monitor.*: warnings from the logged losses and from the diversity of the
// noise grids against the data's.
class MonitorCallback : public TrainCallback {
 public:
  explicit MonitorCallback(const TrainRun& run)
      : window_(run.config.get_int("monitor.window")),
        monitor_(window_),
        warnings_on_(run.config.get_bool("monitor.warnings")),
        real_diversity_(mean_pairwise_distance(to_unit_range(run.data.images.slice(0, 0, 256)))) {
    for (const char* key : {"optim.g_lr", "optim.d_lr"}) {  // Adam's rates: 1e-4..5e-4 is usual
      const double lr = run.config.get_float(key);
      if (lr > 0.01 || (lr > 0 && lr < 1e-6)) {
        std::ostringstream o;
        o << key << "=" << lr << " is far outside Adam's usual range (1e-6 to 0.01): training will likely "
          << (lr > 0.01 ? "diverge" : "stand still") << "\nhint: GANs usually train with 1e-4 to 5e-4 (default 0.0002)";
        run.warn(o.str());
      }
    }
  }
  void on_log_row(const TrainRun& run, const LogRow& row) override {
    if (!warnings_on_) return;
    LoggedRow r;
    r.step = row.step;
    for (auto& [k, v] : row.scalars) r.values[k] = v;
    for (auto& w : monitor_.observe(r)) run.warning(row.step, w);
  }
  void on_grid(const TrainRun& run, const GridEvent& g) override {
    if (!warnings_on_ || !g.samples.defined() || g.samples.size(0) < 2) return;
    const double ratio = mean_pairwise_distance(g.samples.to(torch::kCPU)) / real_diversity_;
    if (auto w = monitor_.observe_diversity(g.step, ratio)) run.warning(g.step, *w);
  }
  void on_rollback(const TrainRun&) override { monitor_ = TrainingMonitor(window_); }

 private:
  int64_t window_;
  TrainingMonitor monitor_;
  bool warnings_on_;
  double real_diversity_;
};

// Mode-collapse signal of the noise grids through the dataset's feature
// network (src/train/collapse.cpp).
class CollapseProbeCallback : public TrainCallback {
 public:
  explicit CollapseProbeCallback(const TrainRun& run) {
    std::string no_probe;
    if (!capability<ImageTranslator>(run.model) && run.writer)
      probe_ = CollapseProbe::create(run.config, run.data, &no_probe);
    if (probe_) run.info("collapse probe: " + probe_->network());
  }
  void on_grid(const TrainRun& run, const GridEvent& g) override {
    if (!probe_ || !g.samples.defined() || g.samples.size(0) < 2 || probed_step_ == g.step) return;
    probed_step_ = g.step;  // final.png repeats the last step's grid
    auto r = probe_->observe(g.samples, g.step);
    run.logs.event({{"event", "collapse_probe"}, {"step", g.step}, {"feature_diversity", r.feature_diversity},
                    {"class_entropy", r.class_entropy}, {"top_class", r.top_class}, {"top_fraction", r.top_fraction},
                    {"histogram", r.histogram}});
    if (r.warning) run.warning(g.step, *r.warning);
  }

 private:
  std::unique_ptr<CollapseProbe> probe_;
  int64_t probed_step_ = -1;
};

}  // namespace

TrainCallbacks standard_callbacks(const TrainRun& run) {
  TrainCallbacks out;
  out.push_back(std::make_shared<TensorBoardCallback>(run));
  out.push_back(std::make_shared<MonitorCallback>(run));
  out.push_back(std::make_shared<EvaluationCallback>(run));
  out.push_back(std::make_shared<CollapseProbeCallback>(run));
  return out;
}

}  // namespace duel
