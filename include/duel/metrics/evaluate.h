// Evaluation of a generator: images -> features -> every metric of
// metrics.h, always next to its floor.
//
// Three image sets take part, each of n images:
//   reference  the dataset's held-out test split (the first n images);
//   generated  n samples of the generator (seeded, so reruns agree), quantised
//              to uint8 exactly as a saved PNG would be;
//   floor      n images of the train split (a seeded random choice).
// Every metric compares generated with reference; the floor is the same
// metric between floor and reference: what a perfect generator, one that
// draws fresh real images, would score with this n and this feature network.
// (A folder dataset has no test split: reference and floor are then two
// disjoint random halves of it.)
//
// The result records the feature network's identity (kind, hash, dataset,
// accuracy), since numbers from different networks must never be compared.
// `duel eval` writes it to <run>/eval/step-NNNNNN.json; the trainer uses the
// same code for eval.every (FID and KID only) and keeps checkpoints/best.duel.
#pragma once
#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duel/metrics/feature_net.h"
#include "duel/metrics/metrics.h"

namespace duel {

class Config;
class GanModel;
struct DataShape;

struct EvalOptions {
  int64_t n = 10000;       // images per set
  int64_t batch = 500;     // images per forward pass (generator and feature net)
  KidOptions kid;          // 100 subsets of 1000
  int64_t is_splits = 10;  // Inception Score splits
  int64_t k = 3;           // neighbours for precision/recall/density/coverage
  int64_t swd_projections = 256;
  uint64_t seed = 0;       // generated noise, floor choice, KID subsets, SWD directions
  bool full = true;        // false: FID and KID only (periodic evaluation while training)
  bool floor = true;       // also compute the real-vs-real floor
};

// One image set seen through the feature network.
struct FeatureSet {
  torch::Tensor images;     // uint8 [n, C, H, W]
  Extracted extracted;      // features [n, D], probs [n, K] (if the net has a head)
  torch::Tensor labels;     // int64 [n]: true labels (real) or requested labels (conditional generators)
  std::string description;  // "fashion-mnist test (first 10000)", "generated (seed 0)", ...
};

struct MetricValues {
  double fid = 0;
  MeanStd kid;
  std::optional<MeanStd> inception;          // of this set alone (needs class probabilities)
  std::optional<ManifoldMetrics> manifold;   // precision, recall, density, coverage
  std::optional<double> swd_pixels, swd_features;
  std::optional<double> class_accuracy;      // conditional generators (and real data: the net's accuracy)
};

// Every metric of `other` against `reference` (same feature network).
MetricValues compare_sets(const FeatureSet& reference, const FeatureSet& other, const EvalOptions& options);

// The reference and floor sets of the dataset a config names (data.limit ignored).
struct RealSets {
  FeatureSet reference, floor;
};
RealSets load_real_sets(const Config& cfg, FeatureExtractor& net, const EvalOptions& options, bool with_floor);

// n generated images (labels arange(n) % classes for conditional models),
// drawn with `seed`; the global RNG state is restored afterwards.
FeatureSet generate_set(GanModel& model, const DataShape& shape, FeatureExtractor& net, const EvalOptions& options,
                        torch::Device device = torch::kCPU);

// --- duel eval --------------------------------------------------------------

struct EvalRequest {
  std::string checkpoint;
  std::string features;           // empty: find_feature_net(dataset)
  std::string save_features_dir;  // empty: none
  std::string out_json;           // empty: <run>/eval/step-NNNNNN.json
  EvalOptions options;
  // Tests: a feature network to use instead of loading `features` (not owned;
  // tests/unit/test_eval_pipeline.cpp feeds the pipeline a known feature map).
  FeatureExtractor* extractor = nullptr;
};

struct EvalReport {
  int64_t step = 0;
  std::string model, checkpoint, json_path, dataset;
  FeatureIdentity features;
  MetricValues generated, floor;
  bool has_floor = false;
  std::string reference_description, floor_description, generated_description;
  std::vector<std::pair<std::string, double>> seconds;  // phase -> wall seconds ("total" last)
  std::vector<std::string> warnings;
  std::string json;  // what was written to json_path
};

// Loads the checkpoint and the feature network, evaluates, writes the JSON
// (and the .npy files when asked). `info` receives progress lines.
EvalReport evaluate_checkpoint(const EvalRequest& request, const std::function<void(const std::string&)>& info = {});

// The run folder of a checkpoint: the parent of its checkpoints/ folder, else its own folder.
std::string run_dir_of_checkpoint(const std::string& checkpoint_path);
// "step-NNNNNN.json": the name of a step's file under <run>/eval/.
std::string step_file(int64_t step);
// Writes an evaluation's JSON atomically to out_json, or when that is empty
// to <run>/eval/step-NNNNNN.json; returns the path.
std::string write_eval_json(const std::string& checkpoint, int64_t step, const std::string& out_json,
                            const std::string& json);

// --- periodic evaluation while training (eval.every) ---------------------------

// Generated images [-1, 1] -> uint8 [N, C, H, W], rounded as a saved PNG is.
torch::Tensor quantise(const torch::Tensor& images);

class TrainingEvaluator {
 public:
  // nullptr when eval.every is 0. Loads the feature network (eval.features or
  // the default location) and the reference features once; throws
  // duel::Error before training starts when they are unusable. The best FID
  // so far is read back from run_dir/events.jsonl, so a resumed run keeps
  // its best.duel unless it beats it.
  static std::unique_ptr<TrainingEvaluator> create(const Config& cfg, const DataShape& shape,
                                                   const std::string& run_dir);

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
