// The trainer's periodic evaluation (eval.every): FID and KID of eval.n
// generated images against the reference features loaded once, the best
// FID so far (read back from events.jsonl on resume) and the metrics.csv
// cells. The metric math is metrics/evaluate.h; this is its training cadence.
#include "duel/train/training_eval.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/models/model.h"
#include "duel/train/run_folder.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"eval.every", ConfigType::Int, int64_t(0),
                "steps between FID/KID evaluations while training (0: none); keeps checkpoints/best.duel", 0, 1.0e9,
                {}});
  register_key({"eval.n", ConfigType::Int, int64_t(2000), "generated and real images per evaluation while training",
                4, 1.0e7, {}});
  register_key({"eval.features", ConfigType::String, std::string(""),
                "feature network for eval.every (empty: features/<dataset>.duelfeat)", {}, {}, {}});
  return true;
}();

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

std::string TrainingEvaluator::feature_network(const Config& cfg) {
  const std::string given = cfg.get_string("eval.features");
  if (given.empty()) return find_feature_net(cfg.get_string("data.dataset"));
  std::error_code ec;
  // A missing file is refused here, before the run folder is made, with the loader's message and hint.
  if (!std::filesystem::is_regular_file(given, ec)) load_feature_extractor(given);
  return given;
}

std::unique_ptr<TrainingEvaluator> TrainingEvaluator::create(const Config& cfg, const DataShape& shape,
                                                             const std::string& run_dir) {
  const int64_t every = cfg.get_int("eval.every");
  if (every <= 0) return nullptr;
  RngRestore restore;  // building the feature net draws initial weights: training must not see that
  std::unique_ptr<TrainingEvaluator> e(new TrainingEvaluator());
  e->every_ = every;
  e->options_.n = cfg.get_int("eval.n");
  e->options_.full = false;
  e->options_.floor = false;
  e->shape_ = std::make_shared<DataShape>(shape);
  e->net_ = load_feature_extractor(feature_network(cfg));
  e->reference_ = load_real_sets(cfg, *e->net_, e->options_, false).reference;
  // best FID so far, from the eval events a resumed run kept
  std::ifstream events(RunFolder(run_dir).events());
  std::string line;
  while (std::getline(events, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("event", "") == "eval" && j.contains("fid")) {
        const double f = j["fid"].get<double>();
        if (!e->has_best_ || f < e->best_fid_) e->best_fid_ = f, e->has_best_ = true;
      }
    } catch (...) {
    }
  }
  return e;
}

TrainingEvaluator::Point TrainingEvaluator::run(GanModel& model, int64_t step, torch::Device device) {
  const auto t0 = Clock::now();
  FeatureSet gen = generate_set(model, *shape_, *net_, options_, device);
  MetricValues v = compare_sets(reference_, gen, options_);
  Point p;
  p.fid = v.fid;
  p.kid = v.kid;
  p.best = !has_best_ || v.fid < best_fid_;
  if (p.best) best_fid_ = v.fid, has_best_ = true;
  p.seconds = since(t0);
  p.values = {{"fid", v.fid}, {"kid", v.kid.mean}, {"kid_std", v.kid.std}, {"eval_s", p.seconds}};
  char line[256];
  std::snprintf(line, sizeof line, "eval at step %lld: FID %.3f, KID %.5f +- %.5f (n=%lld, %.1f s)%s",
                (long long)step, v.fid, v.kid.mean, v.kid.std, (long long)options_.n, p.seconds,
                p.best ? " - new best, checkpoints/best.duel" : "");
  p.summary = line;
  pending_ = p;
  return p;
}

std::string TrainingEvaluator::csv_cells() {
  if (!pending_) return ",,";
  std::ostringstream o;
  o << std::setprecision(6) << "," << pending_->fid << "," << pending_->kid.mean;
  pending_.reset();
  return o.str();
}

}  // namespace duel
