// Evaluating a checkpoint (`duel eval`): load it and the feature network,
// build the image sets of metrics/evaluate.h, score them, save the features
// as .npy when asked and write the JSON result under <run>/eval/.
//
// Reproducibility: generated noise, the floor's choice of train images, KID
// subsets and SWD directions all derive from EvalOptions::seed, so the same
// checkpoint always scores the same.
#include "duel/apps/eval_checkpoint.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <tuple>

#include "duel/apps/model_loading.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/dataset.h"
#include "duel/data/points.h"
#include "duel/io/npy.h"
#include "duel/models/model.h"
#include "duel/train/run_folder.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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

// Scores gen and the floor against the reference into rep (class accuracy
// only when the net's classes are the data's).
void score_sets(EvalReport& rep, RealSets& real, FeatureSet& gen, const EvalOptions& o, bool conditional,
                const std::function<void(const std::string&)>& say) {
  const auto t = Clock::now();
  const bool same_classes = rep.features.dataset == rep.dataset && rep.features.num_classes > 0;
  if (!same_classes) {
    if (conditional) {
      rep.warnings.push_back("class accuracy skipped: the feature network was not trained on " + rep.dataset +
                             "'s classes");
      say("warning: " + rep.warnings.back());
    }
    gen.labels = real.reference.labels = real.floor.labels = torch::Tensor();
  }
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
}

// The result file's common part: data, feature network, sets, settings, figures.
nlohmann::json report_json(const EvalReport& rep, const EvalOptions& o) {
  nlohmann::json j;
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
  return j;
}

// The reference and floor sets of cfg's data, timed into rep.
RealSets timed_real_sets(EvalReport& rep, const Config& cfg, FeatureExtractor& net, const EvalOptions& o,
                         const std::function<void(const std::string&)>& say) {
  const auto t = Clock::now();
  RealSets real = load_real_sets(cfg, net, o, o.floor);
  rep.seconds.emplace_back("real_features", since(t));
  say("real: " + real.reference.description + (o.floor ? "; floor: " + real.floor.description : ""));
  return real;
}

// The feature network a request names, or the dataset's; warns in rep when it was trained on other data.
std::unique_ptr<FeatureExtractor> open_features(EvalReport& rep, const std::string& features,
                                                const std::function<void(const std::string&)>& say) {
  const std::string path = features.empty() ? find_feature_net(rep.dataset) : features;
  auto net = load_feature_extractor(path);
  rep.features = net->identity();
  if (!rep.features.dataset.empty() && rep.features.dataset != rep.dataset)
    rep.warnings.push_back("the feature network was trained on " + rep.features.dataset + ", the model on " +
                           rep.dataset + ": its features may not separate this data well");
  for (auto& w : rep.warnings) say("warning: " + w);
  say("feature network: " + path + " (" + rep.features.kind + ", hash " + rep.features.hash + ")");
  return net;
}

}  // namespace

EvalReport evaluate_checkpoint(const EvalRequest& req, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  const EvalOptions& o = req.options;
  check_eval_options(o);
  const auto t0 = Clock::now();
  EvalReport rep;

  auto t = Clock::now();
  Checkpoint ck = Checkpoint::read(req.checkpoint);
  Config cfg;
  auto model = load_model(ck, cfg);
  rep.step = ck.state().step;
  rep.model = ck.model_name();
  rep.checkpoint = req.checkpoint;
  rep.dataset = cfg.get_string("data.dataset");
  require(!is_point_dataset(rep.dataset),
          "checkpoint '" + req.checkpoint + "' draws 2-D points (data.dataset = " + rep.dataset +
              "): FID and the other image metrics need images",
          "score its mode coverage with `duel experiment modes --protocol " + rep.dataset +
              "` (docs/modes.md), and look at its samples/final.png");
  std::unique_ptr<FeatureExtractor> owned_net = req.extractor ? nullptr : open_features(rep, req.features, say);
  FeatureExtractor* net = req.extractor ? req.extractor : owned_net.get();
  if (req.extractor) rep.features = net->identity();
  rep.seconds.emplace_back("load", since(t));

  RealSets real = timed_real_sets(rep, cfg, *net, o, say);

  t = Clock::now();
  FeatureSet gen = generate_set(*model, ck.state().shape, *net, o);
  rep.seconds.emplace_back("generate_and_features", since(t));
  say("generated " + std::to_string(o.n) + " images");

  score_sets(rep, real, gen, o, model->needs_labels(), say);
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

  nlohmann::json j = report_json(rep, o);
  j["step"] = rep.step;
  j["model"] = rep.model;
  j["checkpoint"] = rep.checkpoint;
  std::tie(rep.json, rep.json_path) = write_eval_json(j, rep.seconds, req.checkpoint, rep.step, req.out_json);
  return rep;
}

EvalReport evaluate_images(const ImagesEvalRequest& req, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  const auto t0 = Clock::now();
  EvalOptions o = req.options;
  Config cfg;
  cfg.set("data.dataset", req.real_dir.empty() ? req.dataset : "folder:" + req.real_dir);
  cfg.set("data.path", req.data_path);
  const ImageSet mine = open_single_dataset([&] {
    Config c;
    c.set("data.dataset", "folder:" + req.images_dir);
    return c;
  }(), "all");
  if (o.n == 0) o.n = mine.size();
  require(mine.size() >= o.n, "'" + req.images_dir + "' holds " + std::to_string(mine.size()) + " images, fewer than --n " +
                                  std::to_string(o.n), "use --n " + std::to_string(mine.size()) + " or less");
  check_eval_options(o);
  EvalReport rep;
  rep.dataset = cfg.get_string("data.dataset");
  rep.model = "images";
  rep.checkpoint = req.images_dir;
  auto t = Clock::now();
  auto net = open_features(rep, req.features, say);
  rep.seconds.emplace_back("load", since(t));
  RealSets real = timed_real_sets(rep, cfg, *net, o, say);
  t = Clock::now();
  // The folder's images as the real ones are: same size and channels.
  const auto& ref = real.reference.images;
  auto images = resize_images(mine.images.slice(0, 0, o.n), ref.size(2), ref.size(1));
  FeatureSet gen = make_set(images, {}, *net, o, "images of " + req.images_dir + " (first " + std::to_string(o.n) + ")");
  rep.seconds.emplace_back("generate_and_features", since(t));
  score_sets(rep, real, gen, o, false, say);
  rep.seconds.emplace_back("total", since(t0));
  nlohmann::json j = report_json(rep, o);
  j["images"] = req.images_dir;
  if (!req.out_json.empty()) std::tie(rep.json, rep.json_path) = write_eval_json(j, rep.seconds, "", 0, req.out_json);
  return rep;
}

std::pair<std::string, std::string> write_eval_json(nlohmann::json& j,
                                                    const std::vector<std::pair<std::string, double>>& seconds,
                                                    const std::string& checkpoint, int64_t step,
                                                    const std::string& out_json) {
  nlohmann::json secs = nlohmann::json::object();
  for (auto& [k, v] : seconds) secs[k] = v;
  j["seconds"] = secs;
  std::string json = j.dump(2) + "\n";
  const std::string path = !out_json.empty()
                               ? out_json
                               : RunFolder(RunFolder::of_checkpoint(checkpoint)).eval_result(step);
  auto parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  require(parent.empty() || fs::is_directory(parent), "cannot create the folder of '" + path + "'",
          "pass --out with a writable path");
  write_file_atomic(path, json);
  return {json, path};
}

}  // namespace duel
