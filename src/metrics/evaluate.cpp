// The three image sets of evaluate.h (reference, generated, floor), their
// features and every metric between them. Evaluating a checkpoint
// (src/apps/eval_checkpoint.cpp) and the trainer's periodic evaluation
// (src/train/training_eval.cpp) are built on these.
//
// Reproducibility: generated noise, the floor's choice of train images, KID
// subsets and SWD directions all derive from EvalOptions::seed through
// private generators or a saved-and-restored global RNG state, so evaluating
// never changes what training does next, and the same checkpoint always
// scores the same.
#include "duel/metrics/evaluate.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace duel {
namespace {

torch::Tensor flat_pixels(const torch::Tensor& u8) { return to_unit_range(u8).reshape({u8.size(0), -1}); }

}  // namespace

FeatureSet make_set(torch::Tensor images, torch::Tensor labels, FeatureExtractor& net, const EvalOptions& o,
                    std::string description) {
  FeatureSet s;
  s.images = std::move(images);
  s.labels = std::move(labels);
  s.extracted = net.extract(s.images, o.batch);
  s.description = std::move(description);
  return s;
}

void check_eval_options(const EvalOptions& o) {
  const int64_t need = std::max<int64_t>({4, o.k + 1, o.full ? o.is_splits : 1});
  require(o.n >= need,
          "evaluation needs at least " + std::to_string(need) + " samples per set, got n=" + std::to_string(o.n),
          "use a larger --n (FID and KID are only stable with thousands of samples; 10000 is the standard)");
  require(o.batch >= 1, "evaluation batch must be >= 1", "use --batch 500");
  require(o.k >= 1, "k must be >= 1", "precision/recall use k = 3");
  require(o.is_splits >= 1, "Inception Score splits must be >= 1", "use 10 splits");
  require(o.kid.subsets >= 1 && o.kid.subset_size >= 2, "KID needs subsets >= 1 of size >= 2",
          "use 100 subsets of 1000");
  require(o.swd_projections >= 1, "SWD needs at least one projection", "use 256 projections");
}

MetricValues compare_sets(const FeatureSet& ref, const FeatureSet& other, const EvalOptions& o) {
  const auto& a = ref.extracted.features;
  const auto& b = other.extracted.features;
  MetricValues v;
  v.fid = fid(a, b);
  KidOptions ko = o.kid;
  ko.seed = o.seed;
  v.kid = kid(a, b, ko);
  if (!o.full) return v;
  if (other.extracted.probs.defined()) v.inception = inception_score(other.extracted.probs, o.is_splits);
  v.manifold = precision_recall(a, b, o.k);
  SwdOptions so;
  so.projections = o.swd_projections;
  so.seed = o.seed;
  require(ref.images.sizes().slice(1) == other.images.sizes().slice(1),
          "the generated images (" + std::to_string(other.images.size(1)) + "x" + std::to_string(other.images.size(2)) +
              "x" + std::to_string(other.images.size(3)) + ") and the real ones differ in shape",
          "evaluate a checkpoint trained on this dataset at its own image size");
  v.swd_pixels = sliced_wasserstein(flat_pixels(ref.images), flat_pixels(other.images), so);
  v.swd_features = sliced_wasserstein(a, b, so);
  if (other.labels.defined() && other.extracted.probs.defined())
    v.class_accuracy = class_accuracy(other.extracted.probs, other.labels);
  return v;
}

RealSets load_real_sets(const Config& cfg_in, FeatureExtractor& net, const EvalOptions& o, bool with_floor) {
  check_eval_options(o);
  Config cfg = cfg_in;
  cfg.set("data.limit", int64_t(0));
  const std::string name = cfg.get_string("data.dataset");
  auto gen = at::detail::createCPUGenerator(o.seed + 1);
  RealSets r;
  auto pick = [](const ImageSet& s, const torch::Tensor& idx) {
    return std::make_pair(s.images.index_select(0, idx), s.has_labels() ? s.labels.index_select(0, idx) : torch::Tensor());
  };
  if (name.rfind("folder:", 0) == 0) {
    // no held-out split: two disjoint random parts of the folder
    ImageSet all = open_dataset(cfg, "all");
    const int64_t need = with_floor ? 2 * o.n : o.n;
    require(all.size() >= need,
            "the folder holds " + std::to_string(all.size()) + " images; evaluating n=" + std::to_string(o.n) +
                (with_floor ? " with its floor needs " : " needs ") + std::to_string(need),
            "use --n " + std::to_string(with_floor ? all.size() / 2 : all.size()) + " or less");
    auto perm = torch::randperm(all.size(), gen, torch::kInt64);
    r.reference_rows = perm.slice(0, 0, o.n);
    r.class_names = all.class_names;
    auto [ri, rl] = pick(all, r.reference_rows);
    r.reference = make_set(ri, rl, net, o, name + " (random " + std::to_string(o.n) + ")");
    if (with_floor) {
      auto [fi, fl] = pick(all, perm.slice(0, o.n, 2 * o.n));
      r.floor = make_set(fi, fl, net, o, name + " (another random " + std::to_string(o.n) + ")");
    }
    return r;
  }
  ImageSet test = open_dataset(cfg, "test");
  require(test.size() >= o.n,
          "the test split of " + name + " holds " + std::to_string(test.size()) + " images, fewer than n=" +
              std::to_string(o.n),
          "use --n " + std::to_string(test.size()) + " or less");
  r.class_names = test.class_names;
  r.reference = make_set(test.images.slice(0, 0, o.n), test.has_labels() ? test.labels.slice(0, 0, o.n) : torch::Tensor(),
                         net, o, name + " test (first " + std::to_string(o.n) + ")");
  if (with_floor) {
    ImageSet train = open_dataset(cfg, "train");
    require(train.size() >= o.n,
            "the train split of " + name + " holds " + std::to_string(train.size()) + " images, fewer than n=" +
                std::to_string(o.n) + " (needed for the real-vs-real floor)",
            "use --n " + std::to_string(train.size()) + " or less, or --no-floor");
    auto [fi, fl] = pick(train, torch::randperm(train.size(), gen, torch::kInt64).slice(0, 0, o.n));
    r.floor = make_set(fi, fl, net, o, name + " train (random " + std::to_string(o.n) + ", seed " +
                                           std::to_string(o.seed) + ")");
  }
  return r;
}

FeatureSet generate_set(GanModel& model, const DataShape& shape, FeatureExtractor& net, const EvalOptions& o,
                        torch::Device device) {
  check_eval_options(o);
  const bool conditional = model.needs_labels();
  require(!conditional || shape.num_classes > 0, "model '" + model.name() + "' needs labels but knows no classes",
          "the checkpoint's data shape lacks num_classes");
  auto& noise = require_capability<NoiseSampler>(model);
  std::vector<torch::Tensor> parts, labels;
  {
    RngRestore restore;
    torch::manual_seed(o.seed);
    for (int64_t i = 0; i < o.n; i += o.batch) {
      const int64_t m = std::min(o.batch, o.n - i);
      SampleRequest req{noise.make_noise(m, torch::kCPU).to(device), {}};
      if (conditional) {
        labels.push_back(torch::arange(i, i + m, torch::kInt64).remainder(shape.num_classes));
        req.labels = labels.back().to(device);
      }
      parts.push_back(quantise(noise.sample(req)));
    }
  }
  return make_set(torch::cat(parts), conditional ? torch::cat(labels) : torch::Tensor(), net, o,
                  "generated by " + model.name() + " (seed " + std::to_string(o.seed) + ")");
}

}  // namespace duel
