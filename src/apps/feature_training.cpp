// Training duel's feature network (`duel features train`): fit the compact
// classifier of nn/feature_net.h on a dataset's train split (Adam with cosine
// decay, optional flips and shifts), scale its features, measure its test
// accuracy and save it as a .duelfeat. It is a pipeline over data and nn, so
// it lives in apps; loading and using a feature network needs none of it.
#include "duel/apps/feature_training.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "duel/apps/contrastive.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"

namespace fs = std::filesystem;

namespace duel {

FeatureSchedule feature_schedule(const ImageSet& train, const FeatureTrainOptions& o) {
  LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.seed = o.seed;
  FeatureSchedule s;
  s.loader = std::make_unique<Loader>(train, lo);
  s.total = o.steps > 0 ? o.steps : o.epochs * s.loader->batches_per_epoch();
  require(s.total > 0, "feature training has no steps", "set --epochs or --steps");
  s.gen = at::detail::createCPUGenerator(o.seed + 7);
  return s;
}

void FeatureSchedule::set_lr(torch::optim::Optimizer& opt, const FeatureTrainOptions& o, int64_t step) const {
  const double lr = o.lr * 0.5 * (1.0 + std::cos(M_PI * double(step) / double(total)));
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

FeatureNet fit_classifier(const ImageSet& train, const FeatureTrainOptions& o,
                          const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  require(train.has_labels() && train.num_classes >= 2 && train.size() >= 2,
          "a classifier needs labelled images of at least two classes", "use a labelled dataset");
  require(o.batch_size >= 2, "classifier batch must be >= 2", "use --batch 128");
  torch::manual_seed(o.seed);
  FeatureNet net(FeatureNetOptions(train.images.size(1), train.images.size(2), train.num_classes));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.lr));
  FeatureSchedule sched = feature_schedule(train, o);
  Loader& loader = *sched.loader;
  const int64_t total = sched.total;
  auto& gen = sched.gen;

  const auto t0 = std::chrono::steady_clock::now();
  net->train();
  double loss_sum = 0, correct = 0, seen = 0;
  for (int64_t step = 0; step < total; ++step) {
    Batch b = loader.next();
    auto x = b.images;  // [B, C, S, S] in [-1, 1]
    if (o.augment) {
      // per-image horizontal flip; one +-2 px shift per batch (zero-padded -> background -1)
      auto flip = torch::rand({x.size(0), 1, 1, 1}, gen) < 0.5;
      x = torch::where(flip, x.flip({3}), x);
      auto shift = torch::randint(-2, 3, {2}, gen, torch::kInt64);
      const int64_t dy = shift[0].item<int64_t>(), dx = shift[1].item<int64_t>();
      if (dy != 0 || dx != 0) {
        auto padded = torch::constant_pad_nd(x, {2, 2, 2, 2}, -1.0);
        x = padded.slice(2, 2 + dy, 2 + dy + x.size(2)).slice(3, 2 + dx, 2 + dx + x.size(3)).contiguous();
      }
    }
    sched.set_lr(opt, o, step);
    auto logits = net->forward(x);
    auto loss = torch::nn::functional::cross_entropy(logits, b.labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    loss_sum += loss.item<double>() * double(x.size(0));
    correct += logits.argmax(1).eq(b.labels).sum().item<double>();
    seen += double(x.size(0));
    const bool epoch_end = (step + 1) % loader.batches_per_epoch() == 0;
    if (epoch_end || step + 1 == total || (step + 1) % 100 == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char line[200];
      std::snprintf(line, sizeof line, "step %lld/%lld epoch %lld loss %.4f train acc %.4f | %.0f s",
                    (long long)(step + 1), (long long)total, (long long)b.epoch, loss_sum / seen, correct / seen, s);
      say(line);
      loss_sum = correct = seen = 0;
    }
  }
  net->eval();
  return net;
}

FeatureTrainResult train_feature_net(const FeatureTrainOptions& o, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  require(!o.out.empty(), "duel features train needs --out", "for example --out " + default_feature_path(o.dataset));
  require(o.batch_size >= 2, "feature training batch must be >= 2", "use --batch 128");
  {
    std::error_code ec;
    require(o.force || !fs::exists(o.out, ec),
            "feature network '" + o.out + "' already exists; every FID measured through it depends on it",
            "write the new one elsewhere with --out (then pass it to duel eval --features), or replace it with --force");
  }
  {
    auto parent = fs::path(o.out).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    require(parent.empty() || fs::is_directory(parent), "cannot create the folder of --out '" + o.out + "'",
            "check the path and its permissions");
  }
  require(o.method == "classifier" || o.method == "contrastive", "unknown feature training method '" + o.method + "'",
          "use classifier (needs labels) or contrastive (any images)");
  const bool supervised = o.method == "classifier";
  Config cfg;
  cfg.set("data.dataset", o.dataset);
  cfg.set("data.path", o.data_path);
  cfg.set("data.limit", o.limit);
  cfg.set("data.image_size", o.image_size);
  cfg.set("data.channels", o.channels);
  ImageSet train = open_dataset(cfg, "train");
  cfg.set("data.limit", int64_t(0));
  ImageSet test = open_dataset(cfg, "test");
  require(!supervised || (train.has_labels() && test.has_labels() && train.num_classes >= 2),
          "dataset '" + o.dataset + "' has no class labels; a classifier feature network needs them",
          "use --method contrastive (self-supervised, any images), or a labelled dataset");
  require(train.images.size(2) == train.images.size(3), "feature networks need square images", "set data.image_size");
  say("train: " + train.description);
  say("test:  " + test.description);

  const auto t0 = std::chrono::steady_clock::now();
  FeatureNet net = supervised ? fit_classifier(train, o, info) : fit_contrastive(train, o, info);
  const int64_t total = o.steps > 0 ? o.steps : o.epochs * (train.size() / o.batch_size);  // as the loader counts (drop_last)
  {
    // Scale the features so their mean square per dimension is 1 on (up to 10,000) train
    // images: the regime KID's kernel (x.y/d + 1)^3 was designed for with Inception features.
    torch::NoGradGuard no_grad;
    double sum = 0, count = 0;
    for (int64_t i = 0; i < std::min<int64_t>(train.size(), 10000); i += 500) {
      auto f = net->features(to_unit_range(train.images.slice(0, i, std::min<int64_t>(i + 500, 10000))));
      sum += f.pow(2).sum().item<double>();
      count += double(f.numel());
    }
    const double ms = count > 0 ? sum / count : 0;
    if (ms > 0) net->feature_scale.fill_(1.0 / std::sqrt(ms));
  }
  FeatureIdentity id;
  id.kind = "duelfeat";
  id.path = o.out;
  id.dataset = o.dataset;
  id.hash = weights_hash(*net);
  id.feature_dim = net->options.feature_dim();
  id.num_classes = net->options.num_classes();
  id.input_channels = net->options.channels();
  id.input_size = net->options.size();
  auto measure = make_feature_extractor(net, id);
  FeatureTrainResult r;
  if (supervised) {
    r.test_accuracy = classifier_accuracy(*measure, test.images, test.labels);
  } else if (train.has_labels() && test.has_labels()) {  // how well the features separate classes they never saw
    r.test_accuracy = knn_accuracy(measure->extract(train.images).features, train.labels,
                                   measure->extract(test.images).features, test.labels, 5);
  } else {
    r.test_accuracy = -1;
  }
  r.test_images = test.size();
  id.accuracy = r.test_accuracy;
  save_feature_net(net, id, o.out);
  r.identity = id;
  r.steps = total;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace duel
