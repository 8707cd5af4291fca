// The data-augmentation experiment (include/duel/apps/augmentation.h): trains
// a classifier on a small labelled set with and without a conditional
// generator's images and compares their test accuracies.
#include "duel/apps/augmentation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "duel/apps/feature_training.h"
#include "duel/apps/model_loading.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/dataset_writer.h"
#include "duel/io/image.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/nn/feature_net.h"
#include "duel/train/trainer.h"

namespace duel {
namespace fs = std::filesystem;
namespace {

// n images of every class, drawn without replacement with `seed`.
ImageSet balanced_subset(const ImageSet& data, int64_t n, int64_t seed) {
  auto gen = at::detail::createCPUGenerator(uint64_t(seed) * 7919 + 17);
  std::vector<torch::Tensor> picks;
  for (int64_t c = 0; c < data.num_classes; ++c) {
    auto idx = data.labels.eq(c).nonzero().reshape({-1});
    require(idx.numel() >= n,
            "class " + std::to_string(c) + " of " + data.description + " has " + std::to_string(idx.numel()) +
                " images, fewer than the " + std::to_string(n) + " per class asked for",
            "lower --per-class");
    picks.push_back(idx.index_select(0, torch::randperm(idx.numel(), gen).slice(0, 0, n)));
  }
  auto idx = torch::cat(picks);
  ImageSet s;
  s.images = data.images.index_select(0, idx).contiguous();
  s.labels = data.labels.index_select(0, idx).contiguous();
  s.num_classes = data.num_classes;
  s.class_names = data.class_names;
  s.description = std::to_string(n) + " per class of " + data.description;
  return s;
}

double accuracy(FeatureNet& net, const ImageSet& test) {
  torch::NoGradGuard no_grad;
  net->eval();
  int64_t right = 0;
  for (int64_t i = 0; i < test.size(); i += 500) {
    auto x = to_unit_range(test.images.slice(0, i, i + 500));
    right += net->forward(x).argmax(1).eq(test.labels.slice(0, i, i + 500)).sum().item<int64_t>();
  }
  return double(right) / double(test.size());
}

// Trains a cgan on `subset` in run_dir and returns `per_class` of its images of every class.
ImageSet cgan_images(const ImageSet& subset, const AugmentationOptions& o, int64_t seed, const fs::path& dir,
                     const std::function<void(const std::string&)>& say) {
  const fs::path data_dir = dir / "subset", run_dir = dir / "cgan";
  const bool gray = subset.images.size(1) == 1;
  write_labelled_set(subset, data_dir.string(), gray ? "idx" : "folder", /*replace=*/true);
  Config cfg;
  cfg.set("data.dataset", gray ? std::string("mnist") : "folder:" + data_dir.string());
  if (gray) cfg.set("data.path", data_dir.string());
  cfg.set("data.split", std::string("train"));
  cfg.set("model.name", std::string("cgan"));
  cfg.set("model.g_width", o.gan_width);
  cfg.set("model.d_width", o.gan_width);
  cfg.set("train.steps", o.gan_steps);
  cfg.set("train.batch_size", std::min<int64_t>(64, subset.size()));
  cfg.set("train.log_every", int64_t(100));
  cfg.set("train.sample_every", int64_t(0));
  cfg.set("train.checkpoint_every", int64_t(0));
  cfg.set("run.seed", seed);
  TrainRequest req;
  req.config = cfg;
  req.run_dir = run_dir.string();
  req.force = true;
  TrainerEvents ev;
  ev.info = [&](const std::string& s) { say("  cgan: " + s); };
  ev.warning = [&](const std::string& s) { say("  cgan warning: " + s); };
  TrainSummary sum = train(req, ev);
  Checkpoint ck = Checkpoint::read(sum.checkpoint);
  auto model = model_from_checkpoint(ck, checkpoint_config(ck));
  torch::manual_seed(uint64_t(seed));
  // One forward pass per class (batch = per_class), as the experiment always drew.
  return draw_labelled_set(*model, subset.num_classes, o.synthetic_per_class, o.synthetic_per_class);
}

std::pair<double, double> mean_std(const std::vector<double>& v) {
  double m = 0, q = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  for (double x : v) q += (x - m) * (x - m);
  return {m, v.size() > 1 ? std::sqrt(q / double(v.size() - 1)) : 0.0};
}

}  // namespace

ImageSet draw_labelled_set(GanModel& model, int64_t classes, int64_t per_class, int64_t batch) {
  require(model.needs_labels() && classes > 0,
          "model '" + model.name() + "' is not conditional: its images have no labels to write",
          "train a conditional model (model.name = cgan) and augment with its checkpoint");
  auto& noise = require_capability<NoiseSampler>(model);
  std::vector<torch::Tensor> images, labels;
  for (int64_t c = 0; c < classes; ++c)
    for (int64_t i = 0; i < per_class; i += batch) {
      const int64_t n = std::min(batch, per_class - i);
      auto y = torch::full({n}, c, torch::kInt64);
      images.push_back(quantise(noise.sample({noise.make_noise(n, torch::kCPU), y})));  // uint8 [n, C, H, W]
      labels.push_back(y);
    }
  ImageSet set;
  set.images = torch::cat(images);
  set.labels = torch::cat(labels);
  set.num_classes = classes;
  return set;
}

AugmentationResult run_augmentation_experiment(const AugmentationOptions& o,
                                               const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  require(!o.per_class.empty() && o.seeds >= 1 && o.synthetic_per_class >= 1 && o.gan_steps >= 1 &&
              o.classifier_steps >= 1 && o.gan_width >= 4,
          "the augmentation experiment needs subset sizes, seeds, synthetic images, GAN and classifier steps",
          "see duel experiment augmentation --help");
  require(!o.work_dir.empty(), "the augmentation experiment needs a work folder", "pass --work DIR");
  Config cfg;
  cfg.set("data.dataset", o.dataset);
  cfg.set("data.path", o.data_path);
  ImageSet train_set = open_dataset(cfg, "train"), test_set = open_dataset(cfg, "test");
  require(train_set.has_labels() && test_set.has_labels() && train_set.num_classes >= 2,
          "dataset '" + o.dataset + "' has no class labels", "use a labelled dataset (fashion-mnist, mnist, cifar10)");
  say("train: " + train_set.description + "; test: " + test_set.description);

  FeatureTrainOptions fo;
  fo.batch_size = 128;
  fo.steps = o.classifier_steps;
  fo.augment = true;
  AugmentationResult r;
  nlohmann::json runs = nlohmann::json::array();
  for (int64_t n : o.per_class) {
    std::vector<double> real, augmented;
    for (int64_t s = 1; s <= o.seeds; ++s) {
      const auto t0 = std::chrono::steady_clock::now();
      ImageSet subset = balanced_subset(train_set, n, s);
      fo.seed = uint64_t(s);
      fo.batch_size = std::min<int64_t>(128, subset.size());  // the same batches with and without synthetic images
      FeatureNet base = fit_classifier(subset, fo);
      const double acc_real = accuracy(base, test_set);
      say("n=" + std::to_string(n) + " seed " + std::to_string(s) + ": real only " + std::to_string(acc_real));
      const fs::path dir = fs::path(o.work_dir) / ("n" + std::to_string(n) + "-seed" + std::to_string(s));
      fs::create_directories(dir);
      ImageSet synth = cgan_images(subset, o, s, dir, say);
      ImageSet mixed = subset;
      mixed.images = torch::cat({subset.images, synth.images});
      mixed.labels = torch::cat({subset.labels, synth.labels});
      FeatureNet aug = fit_classifier(mixed, fo);
      const double acc_aug = accuracy(aug, test_set);
      AugmentationRun run{n, s, acc_real, acc_aug,
                          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
      say("n=" + std::to_string(n) + " seed " + std::to_string(s) + ": real + synthetic " + std::to_string(acc_aug) +
          " (" + std::to_string(int(run.seconds)) + " s)");
      r.runs.push_back(run);
      runs.push_back({{"per_class", n}, {"seed", s}, {"accuracy_real", acc_real}, {"accuracy_augmented", acc_aug},
                      {"seconds", run.seconds}});
      real.push_back(acc_real);
      augmented.push_back(acc_aug);
    }
    AugmentationSummary sm;
    sm.per_class = n;
    sm.runs = int64_t(real.size());
    std::tie(sm.real_mean, sm.real_std) = mean_std(real);
    std::tie(sm.augmented_mean, sm.augmented_std) = mean_std(augmented);
    r.summary.push_back(sm);
  }
  nlohmann::json summary = nlohmann::json::array();
  for (auto& sm : r.summary)
    summary.push_back({{"per_class", sm.per_class}, {"runs", sm.runs}, {"real_mean", sm.real_mean},
                       {"real_std", sm.real_std}, {"augmented_mean", sm.augmented_mean},
                       {"augmented_std", sm.augmented_std}});
  nlohmann::json j{{"experiment", "augmentation"},
                   {"dataset", train_set.description},
                   {"test", test_set.description},
                   {"options",
                    {{"per_class", o.per_class}, {"seeds", o.seeds}, {"synthetic_per_class", o.synthetic_per_class},
                     {"gan_steps", o.gan_steps}, {"gan_width", o.gan_width},
                     {"classifier_steps", o.classifier_steps}, {"classifier_batch", "min(128, real subset size)"}}},
                   {"runs", runs},
                   {"summary", summary}};
  r.json = j.dump(2) + "\n";
  return r;
}

}  // namespace duel
