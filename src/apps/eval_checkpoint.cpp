// Evaluating a checkpoint (`duel eval`): load it and the feature network,
// build the image sets of metrics/evaluate.h, score them, save the features
// as .npy when asked and write the JSON result under <run>/eval/.
//
// Reproducibility: generated noise, the floor's choice of train images, KID
// subsets and SWD directions all derive from EvalOptions::seed, so the same
// checkpoint always scores the same.
//
// The memorisation check reads the training images as the trainer did
// (open_dataset of the checkpoint's config: data.split, data.limit, the
// class filters) and sees them through the same feature network; the
// held-out side is the reference set. A folder has no test split, so its
// reference half is left out of the training side to stay held out.
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
#include "duel/data/class_names.h"
#include "duel/data/dataset.h"
#include "duel/data/points.h"
#include "duel/io/image.h"
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
  if (same_classes && gen.extracted.probs.defined() && real.reference.extracted.probs.defined()) {
    rep.class_balance = class_balance(gen.extracted.probs, real.reference.extracted.probs);
    if (o.floor && real.floor.extracted.probs.defined())
      rep.class_balance_floor = class_balance(real.floor.extracted.probs, real.reference.extracted.probs).total_variation;
    rep.class_names = real.class_names.empty() ? builtin_class_names(rep.dataset) : real.class_names;
    rep.class_names.resize(rep.class_balance->generated.size());
    for (size_t k = 0; k < rep.class_names.size(); ++k)
      if (rep.class_names[k].empty()) rep.class_names[k] = "class " + std::to_string(k);
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
  if (rep.class_balance) {
    j["class_balance"] = {{"classes", rep.class_names},
                          {"generated", rep.class_balance->generated},
                          {"reference", rep.class_balance->reference},
                          {"total_variation", rep.class_balance->total_variation}};
    if (rep.class_balance_floor) j["class_balance"]["floor_total_variation"] = *rep.class_balance_floor;
  }
  j["warnings"] = rep.warnings;
  return j;
}

nlohmann::json memorisation_json(const EvalReport& rep, const MemorisationOptions& mo) {
  if (!rep.memorisation) return {{"skipped", rep.memorisation_note}};
  const Memorisation& m = *rep.memorisation;
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& p : m.closest) pairs.push_back({{"sample", p.sample}, {"train", p.train}, {"distance", p.distance}});
  return {{"share", m.share},
          {"threshold", m.threshold},
          {"quantile", mo.quantile},
          {"held_out_share", m.held_out_share},
          {"median_sample_distance", m.median_sample},
          {"median_held_out_distance", m.median_held_out},
          {"exact_share", m.exact_share},
          {"held_out_exact_share", m.held_out_exact_share},
          {"warn", m.warn},
          {"warn_share", mo.warn_share},
          {"samples", m.samples},
          {"held_out", m.held_out},
          {"train", m.train},
          {"train_set", rep.memorisation_train_description},
          {"held_out_set", rep.memorisation_held_out_description},
          {"closest_png", fs::path(rep.closest_png).filename().string()},
          {"closest_pairs", pairs}};
}

// The training images the model read (the trainer's open_dataset of the
// config); for a folder, less the reference's rows, which must stay held out.
// Rows of a folder read with data.limit and class filters are a prefix of the
// whole folder read with the filters alone (what the reference was drawn from).
ImageSet training_images(const Config& cfg, const RealSets& real) {
  ImageSet train = open_dataset(cfg);
  train.gather = nullptr;
  if (!real.reference_rows.defined()) return train;
  auto keep = torch::ones({train.size()}, torch::kBool);
  const auto rows = real.reference_rows.masked_select(real.reference_rows.lt(train.size()));
  keep.index_fill_(0, rows, false);
  const auto idx = keep.nonzero().squeeze(1);
  train.images = train.images.index_select(0, idx);
  train.description += ", less the " + std::to_string(rows.size(0)) + " reference images";
  return train;
}

// The closest pairs as one PNG: rows of up to 8 samples, each row followed
// by the row of their nearest training images (blank cells pad the last).
// Images smaller than 64 pixels are enlarged by a whole factor (nearest
// neighbour), so that a 28-pixel pair can be told apart in any viewer.
void write_closest_png(const std::string& path, const Memorisation& m, const torch::Tensor& samples,
                       const torch::Tensor& train) {
  const int64_t n = int64_t(m.closest.size());
  if (n == 0) return;
  const int64_t cols = std::min<int64_t>(8, n);
  std::vector<torch::Tensor> cells;
  for (int64_t start = 0; start < n; start += cols) {
    for (int which = 0; which < 2; ++which)
      for (int64_t c = start; c < start + cols; ++c) {
        if (c >= n) {
          cells.push_back(torch::full_like(samples[0], -1.0, torch::kFloat32));
          continue;
        }
        const auto& p = m.closest[size_t(c)];
        cells.push_back(to_unit_range(which == 0 ? samples[p.sample] : train[p.train]));
      }
  }
  write_png(path, make_grid(enlarge_small(torch::stack(cells)), cols));
}

// The memorisation check of gen against the training images, into rep; the
// closest pairs are drawn to png_path.
void check_memorisation(EvalReport& rep, const Config& cfg, const RealSets& real, const FeatureSet& gen,
                        FeatureExtractor& net, const EvalRequest& req, const std::string& png_path,
                        const std::function<void(const std::string&)>& say) {
  const auto t = Clock::now();
  const std::string split = cfg.get_string("data.split");
  if (!real.reference_rows.defined() && split != "train") {
    rep.memorisation_note =
        "skipped: the model trained on the " + split + " split, which holds the test images, so none is held out";
    return;
  }
  const ImageSet train = training_images(cfg, real);
  const Extracted train_features = net.extract(train.images, req.options.batch);
  rep.memorisation = memorisation(gen.extracted.features, real.reference.extracted.features, train_features.features,
                                  req.memorisation_options);
  rep.memorisation_quantile = req.memorisation_options.quantile;
  rep.memorisation_train_description = train.description;
  rep.memorisation_held_out_description = real.reference.description;
  rep.closest_png = png_path;
  write_closest_png(png_path, *rep.memorisation, gen.images, train.images);
  const Memorisation& m = *rep.memorisation;
  if (m.warn) {
    std::ostringstream w;
    w << std::fixed << std::setprecision(1) << "memorisation: " << 100 * m.share
      << "% of the samples are closer to a training image than " << 100 * (1 - req.memorisation_options.quantile)
      << "% of the held-out images are (fresh images give " << 100 * req.memorisation_options.quantile
      << "%): the generator may copy its training data; look at " << png_path;
    rep.warnings.push_back(w.str());
    say("warning: " + rep.warnings.back());
  }
  if (m.threshold == 0) {  // more held-out images than the quantile have a duplicate in the training set
    std::ostringstream w;
    w << std::fixed << std::setprecision(1) << "memorisation: " << 100 * m.held_out_exact_share
      << "% of the held-out images are also training images (same features), so the threshold is 0 and the share "
         "cannot show copying; read the exact copies instead: "
      << 100 * m.exact_share << "% of the samples";
    rep.warnings.push_back(w.str());
    say("warning: " + rep.warnings.back());
  }
  rep.seconds.emplace_back("memorisation", since(t));
}

// Where an evaluation's JSON goes: out_json, else <run>/eval/step-NNNNNN.json.
std::string eval_json_path(const std::string& checkpoint, int64_t step, const std::string& out_json) {
  return !out_json.empty() ? out_json : RunFolder(RunFolder::of_checkpoint(checkpoint)).eval_result(step);
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
  const std::string json_path = eval_json_path(req.checkpoint, rep.step, req.out_json);
  const std::string png_path = (fs::path(json_path).parent_path() /
                                (fs::path(json_path).stem().string() + "-closest.png")).string();
  if (req.memorisation) {
    std::error_code ec;
    if (!fs::path(png_path).parent_path().empty()) fs::create_directories(fs::path(png_path).parent_path(), ec);
    check_memorisation(rep, cfg, real, gen, *net, req, png_path, say);
  } else {
    rep.memorisation_note = "left out (--no-memorisation)";
  }
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
  j["memorisation"] = memorisation_json(rep, req.memorisation_options);
  std::tie(rep.json, rep.json_path) = write_eval_json(j, rep.seconds, req.checkpoint, rep.step, json_path);
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
  const std::string path = eval_json_path(checkpoint, step, out_json);
  auto parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  require(parent.empty() || fs::is_directory(parent), "cannot create the folder of '" + path + "'",
          "pass --out with a writable path");
  write_file_atomic(path, json);
  return {json, path};
}

}  // namespace duel
