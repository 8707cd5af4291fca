// `duel eval` for image-to-image models (include/duel/apps/translation_eval.h):
// translates the held-out split, scores the outputs against the targets
// (PSNR/SSIM), and for unpaired models measures cycle error and domain accuracy.
#include "duel/apps/translation_eval.h"
#include "duel/apps/contrastive.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <tuple>

#include "duel/apps/eval_checkpoint.h"
#include "duel/apps/model_loading.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/model_files.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/metrics/image_quality.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace duel {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// uint8 -> [-1, 1] and back through 8 bits, so scores are those of saved images.
torch::Tensor as_saved(const torch::Tensor& x) { return to_unit_range(quantise(x)); }

// Running sums of per-image scores.
struct PairedSums {
  double l1 = 0, psnr = 0, ssim = 0;
  int64_t n = 0;
  void add(const torch::Tensor& out, const torch::Tensor& target) {
    l1 += (out - target).abs().mean({1, 2, 3}).div(2.0).sum().item<double>();  // [0, 1] pixel units
    psnr += duel::psnr(out, target, 2.0).sum().item<double>();
    ssim += duel::ssim(out, target, 2.0).sum().item<double>();
    n += out.size(0);
  }
  PairedScores mean() const { return {l1 / double(n), psnr / double(n), ssim / double(n)}; }
};

nlohmann::json scores_json(const PairedScores& s) { return {{"l1", s.l1}, {"psnr_db", s.psnr}, {"ssim", s.ssim}}; }

// The classifier that says which domain a translation landed in, when the
// domains are two classes of a labelled dataset; null (with a warning in the
// report) when there is none for the dataset or it lacks a class.
std::unique_ptr<FeatureExtractor> domain_classifier(const Config& cfg, const ImageSet& data,
                                                    const TranslationEvalRequest& req, TranslationReport& rep,
                                                    int64_t& class_a, int64_t& class_b) {
  std::unique_ptr<FeatureExtractor> net;
  class_a = cfg.get_int("data.class_a");
  class_b = cfg.get_int("data.class_b");
  const std::string dataset = cfg.get_string("data.dataset");
  if (!req.features.empty()) net = load_feature_extractor(req.features);
  else if (dataset.rfind("folder:", 0) != 0) {
    try {
      net = load_feature_extractor(find_feature_net(dataset));
    } catch (const Error& e) {
      rep.warnings.push_back(std::string("no classifier for domain accuracy: ") + e.what());
    }
  }
  if (net && net->identity().num_classes == 0) {
    // A network without a classifier (self-supervised): the domain is what the
    // 5 nearest real train images of the two domains in its feature space say.
  } else if (net && net->identity().num_classes <= std::max(class_a, class_b)) {
    rep.warnings.push_back("the feature network has no class " + std::to_string(std::max(class_a, class_b)) +
                           "; domain accuracy skipped");
    net.reset();
  }
  if (net) rep.features = net->identity();
  auto class_text = [&](int64_t c) {
    return c < int64_t(data.class_names.size()) ? data.class_names[size_t(c)] : "class " + std::to_string(c);
  };
  rep.class_a = class_text(class_a);
  rep.class_b = class_text(class_b);
  return net;
}

// The feature network for paired models (srgan, pix2pix): outputs' distance to
// their targets in its space. Null (with a warning) when the data has none.
std::unique_ptr<FeatureExtractor> distance_network(const Config& cfg, const TranslationEvalRequest& req, TranslationReport& rep) {
  std::unique_ptr<FeatureExtractor> net;
  try {
    const std::string dataset = cfg.get_string("data.dataset");
    if (!req.features.empty()) net = load_feature_extractor(req.features);
    else if (dataset.rfind("folder:", 0) != 0) net = load_feature_extractor(find_feature_net(dataset));
    if (net) rep.features = net->identity();
  } catch (const Error& e) {
    rep.warnings.push_back(std::string("no feature network for the feature distance: ") + e.what());
    net.reset();
  }
  return net;
}

nlohmann::json translation_json(const TranslationReport& rep) {
  nlohmann::json j{{"checkpoint", rep.checkpoint}, {"model", rep.model}, {"step", rep.step},
                   {"data", rep.data}, {"images", rep.images}, {"warnings", rep.warnings},
                   {"quantised", "outputs are scored as 8-bit images"}};
  if (rep.output) j["output"] = scores_json(*rep.output);
  if (rep.baseline) j["baseline"] = scores_json(*rep.baseline), j["baseline_name"] = rep.baseline_name;
  if (rep.cycle_a) j["cycle_l1"] = {{"A", *rep.cycle_a}, {"B", *rep.cycle_b}};
  if (rep.feature_distance) {
    j["feature_distance"] = {{"output", *rep.feature_distance}, {"baseline", *rep.baseline_feature_distance}};
    j["features"] = {{"path", rep.features->path}, {"hash", rep.features->hash}};
  }
  if (rep.acc_ab) {
    j["domain_accuracy"] = {{"AtoB_recognised_as_B", *rep.acc_ab}, {"BtoA_recognised_as_A", *rep.acc_ba},
                            {"untranslated_A_as_B", *rep.base_acc_ab}, {"untranslated_B_as_A", *rep.base_acc_ba},
                            {"class_a", rep.class_a}, {"class_b", rep.class_b},
                            {"method", rep.domain_method.empty() ? "the feature network's classifier" : rep.domain_method}};
    j["features"] = {{"path", rep.features->path}, {"hash", rep.features->hash}, {"accuracy", rep.features->accuracy}};
  }
  return j;
}

}  // namespace

bool checkpoint_translates(const std::string& checkpoint) {
  Checkpoint ck = Checkpoint::read(checkpoint);
  ScopedModelFiles files(ck.model_files());
  return capability<ImageTranslator>(*create_model(checkpoint_config(ck), ck.state().shape)) != nullptr;
}

TranslationReport evaluate_translation(const TranslationEvalRequest& req,
                                       const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  require(req.n >= 0 && req.batch >= 1, "--n must be >= 0 and --batch >= 1", "use --n 0 for the whole split");
  const auto t0 = Clock::now();
  TranslationReport rep;
  auto t = Clock::now();
  Checkpoint ck = Checkpoint::read(req.checkpoint);
  Config cfg;
  auto model = load_model(ck, cfg);
  const DataShape shape = ck.state().shape;
  auto* translator = capability<ImageTranslator>(*model);
  require(translator != nullptr, "model '" + model->name() + "' does not translate images",
          "this evaluation is for pix2pix, cyclegan, srgan and srresnet checkpoints");
  ImageTranslator& tr = *translator;
  rep.step = ck.state().step;
  rep.model = ck.model_name();
  rep.checkpoint = req.checkpoint;

  ImageSet data = open_dataset(cfg, req.split);
  const int64_t n = req.n > 0 ? std::min(req.n, data.size()) : data.size();
  require(n > 0, "the " + req.split + " split of " + data.description + " has no images", "check the data settings");
  rep.images = n;
  rep.data = data.description + " (first " + std::to_string(n) + ")";
  rep.seconds.emplace_back("load", since(t));
  say("data: " + rep.data);

  const bool two_way = tr.directions().size() == 2;
  const bool has_targets = data.targets.defined();
  const bool paired = tr.scale() > 1 || (has_targets && data.paired);
  rep.baseline_name = tr.scale() > 1 ? "bicubic" : "identity";

  // The classifier for class domains (cyclegan on data.pair = classes).
  int64_t class_a = -1, class_b = -1;
  std::unique_ptr<FeatureExtractor> net;
  if (two_way && cfg.get_string("data.pair") == "classes") net = domain_classifier(cfg, data, req, rep, class_a, class_b);
  std::unique_ptr<FeatureExtractor> fnet;
  if (paired && !two_way) fnet = distance_network(cfg, req, rep);
  for (auto& w : rep.warnings) say("warning: " + w);
  double fd_out = 0, fd_base = 0;
  int64_t fd_n = 0;

  t = Clock::now();
  PairedSums out_sums, base_sums;
  double cyc_a = 0, cyc_b = 0;
  int64_t hits_ab = 0, hits_ba = 0, base_ab = 0, base_ba = 0, nb = 0;
  torch::Tensor knn_f, knn_y;  // a network without classifier: the train split's two domains, labelled
  if (net && net->identity().num_classes == 0) {
    const ImageSet train = open_dataset(cfg, "train");
    const auto fa = net->extract(centre_crop(train.images, shape.size), req.batch).features;
    const auto fb = net->extract(centre_crop(train.targets, shape.size), req.batch).features;
    knn_f = torch::cat({fa, fb});
    knn_y = torch::cat({torch::full({fa.size(0)}, class_a, torch::kInt64), torch::full({fb.size(0)}, class_b, torch::kInt64)});
    rep.domain_method = "5-NN over the features of the train split's " + std::to_string(fa.size(0)) + " + " +
                        std::to_string(fb.size(0)) + " real images";
  }
  auto predicted = [&](const torch::Tensor& x) {  // [N, C, H, W] in [-1, 1] -> classes [N]
    const Extracted e = net->extract(quantise(x), req.batch);
    return knn_f.defined() ? knn_predict(knn_f, knn_y, e.features, 5) : e.probs.argmax(1);
  };
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < n; i += req.batch) {
    const int64_t j = std::min(n, i + req.batch);
    Batch b;
    b.images = to_unit_range(centre_crop(data.images.slice(0, i, j), shape.size));
    if (has_targets) {
      // Unpaired domains may differ in size: B wraps around when it has fewer images.
      auto idx = torch::arange(i, j, torch::kInt64).remainder(data.targets.size(0));
      b.targets = to_unit_range(centre_crop(data.targets.index_select(0, idx), shape.size));
    }
    auto [input, target] = tr.io_of(b);
    auto out = as_saved(tr.translate(input, "AtoB"));  // [N, C', H, W]
    if (paired && target.defined()) {
      out_sums.add(out, target);
      auto base = tr.scale() > 1 ? upscale_bicubic(input, tr.scale()) : input;
      if (base.sizes() == target.sizes()) base_sums.add(as_saved(base), target);
      if (fnet && out.sizes() == target.sizes() && base.sizes() == target.sizes() &&
          target.size(1) == fnet->identity().input_channels && target.size(2) == fnet->identity().input_size) {
        const auto ft = fnet->extract(quantise(target), req.batch).features;
        fd_out += (fnet->extract(quantise(out), req.batch).features - ft).pow(2).mean(1).sum().item<double>();
        fd_base += (fnet->extract(quantise(base), req.batch).features - ft).pow(2).mean(1).sum().item<double>();
        fd_n += target.size(0);
      }
    }
    if (two_way && has_targets) {
      auto back = as_saved(tr.translate(b.targets, "BtoA"));  // G_BA(b)
      cyc_a += (as_saved(tr.translate(out, "BtoA")) - b.images).abs().mean({1, 2, 3}).div(2).sum().item<double>();
      cyc_b += (as_saved(tr.translate(back, "AtoB")) - b.targets).abs().mean({1, 2, 3}).div(2).sum().item<double>();
      nb += b.images.size(0);
      if (net) {
        hits_ab += predicted(out).eq(class_b).sum().item<int64_t>();
        hits_ba += predicted(back).eq(class_a).sum().item<int64_t>();
        base_ab += predicted(b.images).eq(class_b).sum().item<int64_t>();
        base_ba += predicted(b.targets).eq(class_a).sum().item<int64_t>();
      }
    }
  }
  rep.seconds.emplace_back("translate_and_score", since(t));
  if (out_sums.n > 0) rep.output = out_sums.mean();
  if (fd_n > 0) rep.feature_distance = fd_out / double(fd_n), rep.baseline_feature_distance = fd_base / double(fd_n);
  if (base_sums.n > 0) rep.baseline = base_sums.mean();
  if (nb > 0) {
    rep.cycle_a = cyc_a / double(nb);
    rep.cycle_b = cyc_b / double(nb);
    if (net) {
      rep.acc_ab = double(hits_ab) / double(nb);
      rep.acc_ba = double(hits_ba) / double(nb);
      rep.base_acc_ab = double(base_ab) / double(nb);
      rep.base_acc_ba = double(base_ba) / double(nb);
    }
  }
  rep.seconds.emplace_back("total", since(t0));

  nlohmann::json j = translation_json(rep);
  std::tie(rep.json, rep.json_path) = write_eval_json(j, rep.seconds, req.checkpoint, rep.step, req.out_json);
  return rep;
}

}  // namespace duel
