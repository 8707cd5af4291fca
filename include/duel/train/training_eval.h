// The trainer's periodic evaluation (eval.every): FID and KID while
// training, the best FID so far (checkpoints/best.duel) and the metrics.csv
// columns. Built on the image sets of metrics/evaluate.h.
#pragma once
#include <torch/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duel/metrics/evaluate.h"

namespace duel {

// --- periodic evaluation while training (eval.every) ---------------------------

class TrainingEvaluator {
 public:
  // nullptr when eval.every is 0. Loads the feature network (eval.features or
  // the default location) and the reference features once; throws
  // duel::Error before training starts when they are unusable. The best FID
  // so far is read back from run_dir/events.jsonl, so a resumed run keeps
  // its best.duel unless it beats it.
  static std::unique_ptr<TrainingEvaluator> create(const Config& cfg, const DataShape& shape,
                                                   const std::string& run_dir);

  // The feature network eval.every looks through: eval.features, or the
  // dataset's default one (find_feature_net); duel::Error when it does not
  // exist, so a run can refuse before its folder is made.
  static std::string feature_network(const Config& cfg);

  bool due(int64_t step) const { return every_ > 0 && step % every_ == 0; }
  struct Point {
    double fid = 0;
    MeanStd kid;
    bool best = false;  // lowest FID so far
    double seconds = 0;
    std::vector<std::pair<std::string, double>> values;  // fid, kid, kid_std, eval_s
    std::string summary;                                  // one line for the log
  };
  // Samples eval.n images (fixed seed, global RNG untouched) and scores them.
  Point run(GanModel& model, int64_t step, torch::Device device);

  // metrics.csv columns ",fid,kid" and the cells of one row: the values of an
  // evaluation run since the previous row, else empty cells.
  std::string csv_header() const { return ",fid,kid"; }
  std::string csv_cells();

 private:
  TrainingEvaluator() = default;
  int64_t every_ = 0;
  EvalOptions options_;
  std::unique_ptr<FeatureExtractor> net_;
  FeatureSet reference_;
  std::shared_ptr<DataShape> shape_;
  double best_fid_ = 0;
  bool has_best_ = false;
  std::optional<Point> pending_;
};

}  // namespace duel
