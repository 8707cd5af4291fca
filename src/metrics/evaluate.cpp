// Evaluation pipeline: the three image sets of evaluate.h, their features,
// every metric with its floor, the JSON result and the periodic evaluation
// the trainer runs for eval.every.
//
// Reproducibility: generated noise, the floor's choice of train images, KID
// subsets and SWD directions all derive from EvalOptions::seed through
// private generators or a saved-and-restored global RNG state, so evaluating
// never changes what training does next, and the same checkpoint always
// scores the same.
#include "duel/metrics/evaluate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/metrics/npy.h"
#include "duel/models/model.h"
#include "duel/train/checkpoint.h"
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

torch::Tensor flat_pixels(const torch::Tensor& u8) { return to_unit_range(u8).reshape({u8.size(0), -1}); }

void check_options(const EvalOptions& o) {
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

nlohmann::json values_json(const MetricValues& v) {
  nlohmann::json j;
  j["fid"] = v.fid;
  j["kid"] = {{"mean", v.kid.mean}, {"std", v.kid.std}};
  if (v.inception) j["inception_score"] = {{"mean", v.inception->mean}, {"std", v.inception->std}};
  if (v.manifold) {
    j["precision"] = v.manifold->precision;
    j["recall"] = v.manifold->recall;
    j["density"] = v.manifold->density;
    j["coverage"] = v.manifold->coverage;
  }
  if (v.swd_pixels) j["swd_pixels"] = *v.swd_pixels;
  if (v.swd_features) j["swd_features"] = *v.swd_features;
  if (v.class_accuracy) j["class_accuracy"] = *v.class_accuracy;
  return j;
}

nlohmann::json identity_json(const FeatureIdentity& id) {
  return {{"kind", id.kind},
          {"path", id.path},
          {"hash", id.hash},
          {"dataset", id.dataset},
          {"accuracy", id.accuracy},
          {"feature_dim", id.feature_dim},
          {"num_classes", id.num_classes},
          {"input_channels", id.input_channels},
          {"input_size", id.input_size}};
}

FeatureSet make_set(torch::Tensor images, torch::Tensor labels, FeatureExtractor& net, const EvalOptions& o,
                    std::string description) {
  FeatureSet s;
  s.images = std::move(images);
  s.labels = std::move(labels);
  s.extracted = net.extract(s.images, o.batch);
  s.description = std::move(description);
  return s;
}

}  // namespace

torch::Tensor quantise(const torch::Tensor& images) {
  // [-1, 1] float -> uint8, as write_image rounds it
  return images.detach().to(torch::kCPU, torch::kFloat32).add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8);
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
  check_options(o);
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
    auto [ri, rl] = pick(all, perm.slice(0, 0, o.n));
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
  check_options(o);
  const bool conditional = model.needs_labels();
  require(!conditional || shape.num_classes > 0, "model '" + model.name() + "' needs labels but knows no classes",
          "the checkpoint's data shape lacks num_classes");
  std::vector<torch::Tensor> parts, labels;
  {
    RngRestore restore;
    torch::manual_seed(o.seed);
    for (int64_t i = 0; i < o.n; i += o.batch) {
      const int64_t m = std::min(o.batch, o.n - i);
      SampleRequest req{model.make_noise(m, torch::kCPU).to(device), {}};
      if (conditional) {
        labels.push_back(torch::arange(i, i + m, torch::kInt64).remainder(shape.num_classes));
        req.labels = labels.back().to(device);
      }
      parts.push_back(quantise(model.sample(req)));
    }
  }
  return make_set(torch::cat(parts), conditional ? torch::cat(labels) : torch::Tensor(), net, o,
                  "generated by " + model.name() + " (seed " + std::to_string(o.seed) + ")");
}

EvalReport evaluate_checkpoint(const EvalRequest& req, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  const EvalOptions& o = req.options;
  check_options(o);
  const auto t0 = Clock::now();
  EvalReport rep;

  auto t = Clock::now();
  Checkpoint ck = Checkpoint::read(req.checkpoint);
  Config cfg = Config::from_string(ck.config_toml(), ck.path());
  auto model = create_model(cfg, ck.state().shape);
  ck.restore(*model, /*optimizers=*/false);
  rep.step = ck.state().step;
  rep.model = ck.model_name();
  rep.checkpoint = req.checkpoint;
  rep.dataset = cfg.get_string("data.dataset");
  const std::string feature_path =
      req.extractor ? req.extractor->identity().path
                    : (req.features.empty() ? find_feature_net(rep.dataset) : req.features);
  std::unique_ptr<FeatureExtractor> owned_net = req.extractor ? nullptr : load_feature_extractor(feature_path);
  FeatureExtractor* net = req.extractor ? req.extractor : owned_net.get();
  rep.features = net->identity();
  if (!rep.features.dataset.empty() && rep.features.dataset != rep.dataset)
    rep.warnings.push_back("the feature network was trained on " + rep.features.dataset + ", the model on " +
                           rep.dataset + ": its features may not separate this data well");
  for (auto& w : rep.warnings) say("warning: " + w);
  say("feature network: " + feature_path + " (" + rep.features.kind + ", hash " + rep.features.hash + ")");
  rep.seconds.emplace_back("load", since(t));

  t = Clock::now();
  RealSets real = load_real_sets(cfg, *net, o, o.floor);
  rep.seconds.emplace_back("real_features", since(t));
  say("real: " + real.reference.description + (o.floor ? "; floor: " + real.floor.description : ""));

  t = Clock::now();
  FeatureSet gen = generate_set(*model, ck.state().shape, *net, o);
  rep.seconds.emplace_back("generate_and_features", since(t));
  say("generated " + std::to_string(o.n) + " images");

  // Class accuracy only means something when the net's classes are the data's.
  const bool same_classes = rep.features.dataset == rep.dataset && rep.features.num_classes > 0;
  if (!same_classes) {
    if (model->needs_labels()) {
      rep.warnings.push_back("class accuracy skipped: the feature network was not trained on " + rep.dataset +
                             "'s classes");
      say("warning: " + rep.warnings.back());
    }
    gen.labels = real.reference.labels = real.floor.labels = torch::Tensor();
  }

  t = Clock::now();
  rep.generated = compare_sets(real.reference, gen, o);
  if (o.floor) {
    rep.floor = compare_sets(real.reference, real.floor, o);
    rep.has_floor = true;
    // The real-data counterparts of set-alone figures come from the held-out reference.
    if (real.reference.extracted.probs.defined())
      rep.floor.inception = inception_score(real.reference.extracted.probs, o.is_splits);
    rep.floor.class_accuracy.reset();
    if (real.reference.labels.defined() && real.reference.extracted.probs.defined())
      rep.floor.class_accuracy = class_accuracy(real.reference.extracted.probs, real.reference.labels);
  }
  rep.seconds.emplace_back("metrics", since(t));
  rep.reference_description = real.reference.description;
  rep.floor_description = o.floor ? real.floor.description : "";
  rep.generated_description = gen.description;

  if (!req.save_features_dir.empty()) {
    t = Clock::now();
    fs::create_directories(req.save_features_dir);
    auto put = [&](const std::string& name, const torch::Tensor& x) {
      if (x.defined()) write_npy((fs::path(req.save_features_dir) / name).string(), x);
    };
    put("real_features.npy", real.reference.extracted.features);
    put("real_probs.npy", real.reference.extracted.probs);
    put("generated_features.npy", gen.extracted.features);
    put("generated_probs.npy", gen.extracted.probs);
    if (o.floor) {
      put("floor_features.npy", real.floor.extracted.features);
      put("floor_probs.npy", real.floor.extracted.probs);
    }
    rep.seconds.emplace_back("save_features", since(t));
    say("wrote features to " + req.save_features_dir);
  }
  rep.seconds.emplace_back("total", since(t0));

  nlohmann::json j;
  j["step"] = rep.step;
  j["model"] = rep.model;
  j["checkpoint"] = rep.checkpoint;
  j["dataset"] = rep.dataset;
  j["n"] = o.n;
  j["feature_hash"] = rep.features.hash;
  j["feature_network"] = identity_json(rep.features);
  j["sets"] = {{"reference", rep.reference_description}, {"generated", rep.generated_description}};
  if (o.floor) j["sets"]["floor"] = rep.floor_description;
  j["settings"] = {{"kid_subsets", o.kid.subsets}, {"kid_subset_size", std::min(o.kid.subset_size, o.n)},
                   {"kid_kernel", "(x.y/d + 1)^3"}, {"is_splits", o.is_splits}, {"k", o.k},
                   {"swd_projections", o.swd_projections}, {"seed", o.seed}};
  j["metrics"] = values_json(rep.generated);
  if (o.floor) j["floor"] = values_json(rep.floor);
  j["warnings"] = rep.warnings;
  nlohmann::json secs = nlohmann::json::object();
  for (auto& [k, v] : rep.seconds) secs[k] = v;
  j["seconds"] = secs;
  rep.json = j.dump(2) + "\n";
  rep.json_path = write_eval_json(req.checkpoint, rep.step, req.out_json, rep.json);
  return rep;
}

std::string write_eval_json(const std::string& checkpoint, int64_t step, const std::string& out_json,
                            const std::string& json) {
  const std::string path = !out_json.empty()
                               ? out_json
                               : RunFolder(RunFolder::of_checkpoint(checkpoint)).eval_result(step);
  auto parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  require(parent.empty() || fs::is_directory(parent), "cannot create the folder of '" + path + "'",
          "pass --out with a writable path");
  write_file_atomic(path, json);
  return path;
}

// --- TrainingEvaluator ----------------------------------------------------------

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
  const std::string path = cfg.get_string("eval.features").empty()
                               ? find_feature_net(cfg.get_string("data.dataset"))
                               : cfg.get_string("eval.features");
  e->net_ = load_feature_extractor(path);
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
