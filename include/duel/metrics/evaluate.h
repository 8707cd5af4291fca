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
// Results record the feature network's identity (kind, hash, dataset,
// accuracy), since numbers from different networks must never be compared.
// `duel eval` (apps/eval_checkpoint.h) writes them to <run>/eval/step-NNNNNN.json;
// the trainer uses the same sets for eval.every (train/training_eval.h).
#pragma once
#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duel/metrics/metrics.h"
#include "duel/nn/feature_net.h"

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

// uint8 images (and labels, or undefined) seen through the net.
FeatureSet make_set(torch::Tensor images, torch::Tensor labels, FeatureExtractor& net, const EvalOptions& options,
                    std::string description);

// Every metric of `other` against `reference` (same feature network).
MetricValues compare_sets(const FeatureSet& reference, const FeatureSet& other, const EvalOptions& options);

// The reference and floor sets of the dataset a config names (data.limit ignored).
struct RealSets {
  FeatureSet reference, floor;
  // Folders (no test split): the folder's rows that the reference holds,
  // int64 [n], so that checks which need images the model never saw (the
  // memorisation check) can leave them out of the training set; undefined
  // for datasets with a test split.
  torch::Tensor reference_rows;
  std::vector<std::string> class_names;  // the data's, when it names its classes
};
RealSets load_real_sets(const Config& cfg, FeatureExtractor& net, const EvalOptions& options, bool with_floor);

// Refuses options no evaluation can use (n too small for k, splits, KID subsets...).
void check_eval_options(const EvalOptions& options);

// n generated images (labels arange(n) % classes for conditional models),
// drawn with `seed`; the global RNG state is restored afterwards.
FeatureSet generate_set(GanModel& model, const DataShape& shape, FeatureExtractor& net, const EvalOptions& options,
                        torch::Device device = torch::kCPU);

}  // namespace duel
