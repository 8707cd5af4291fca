// `duel features train|info`: the feature network every metric looks through.
//
//   duel features train --dataset fashion-mnist [--out runs/features/fashion-mnist.duelfeat] [--force]
//   duel features info features/fashion-mnist.duelfeat
//
// train fits duel's compact classifier (src/apps/feature_training.cpp) on the
// train split, or with --method contrastive learns features without labels
// (src/apps/contrastive.cpp), reports its test accuracy (5-NN for
// contrastive, where the data has labels) and writes it with its identity;
// info prints that identity (or a TorchScript extractor's) after checking it.
#include <cstdio>

#include "commands.h"
#include "duel/apps/feature_check.h"
#include "duel/apps/feature_training.h"
#include "duel/core/files.h"
#include "duel/core/error.h"
#include "duel/nn/feature_net.h"

namespace duel::cli {
namespace {

struct FeaturesArgs {
  FeatureTrainOptions train;
  FeatureCheckOptions check;
  std::string check_out;
  std::string info_path;
  int threads = 0;
};

void print_identity(const FeatureIdentity& id) {
  std::printf("feature network: %s\n", id.path.c_str());
  std::printf("kind:            %s\n", id.kind.c_str());
  std::printf("hash:            %s\n", id.hash.c_str());
  std::printf("dataset:         %s\n", id.dataset.empty() ? "(unknown)" : id.dataset.c_str());
  const char* what = id.num_classes == 0 && id.kind == "duelfeat" ? "5-NN accuracy:  " : "test accuracy:  ";
  if (id.accuracy >= 0) std::printf("%s %.4f\n", what, id.accuracy);
  else std::printf("%s (unknown%s)\n", what, id.num_classes == 0 ? ": self-supervised on data without labels" : "");
  std::printf("input:           %lldx%lldx%lld\n", (long long)id.input_channels, (long long)id.input_size,
              (long long)id.input_size);
  std::printf("features:        %lld\n", (long long)id.feature_dim);
  std::printf("classes:         %lld\n", (long long)id.num_classes);
}

Action add_features(CLI::App& app) {
  auto a = std::make_shared<FeaturesArgs>();
  auto* cmd = app.add_subcommand("features", "train or inspect the feature network used by `duel eval`");
  cmd->require_subcommand(1);
  auto* train = cmd->add_subcommand("train", "train the feature classifier on a dataset and save it with its identity");
  train->add_option("--dataset,-d", a->train.dataset, "fashion-mnist, mnist, cifar10 or folder:<path>");
  train->add_option("--data-path", a->train.data_path, "folder holding the dataset files (default: its usual place)");
  train->add_option("--out,-o", a->train.out, "file to write (default: runs/features/<dataset>.duelfeat)");
  train->add_flag("--force", a->train.force, "overwrite an existing --out file");
  train->add_option("--epochs", a->train.epochs, "passes over the train split")->check(CLI::Range(int64_t(1), int64_t(1000)));
  train->add_option("--steps", a->train.steps, "stop after this many batches (0: --epochs; for quick tests)")
      ->check(CLI::Range(int64_t(0), int64_t(100000000)));
  train->add_option("--batch", a->train.batch_size, "images per batch")->check(CLI::Range(int64_t(2), int64_t(65536)));
  train->add_option("--lr", a->train.lr, "Adam learning rate (cosine-decayed to 0)")->check(CLI::Range(1e-7, 1.0));
  train->add_option("--limit", a->train.limit, "train on the first N images only (0: all)")
      ->check(CLI::Range(int64_t(0), int64_t(1000000000)));
  train->add_option("--seed", a->train.seed, "seed for weights, shuffling and augmentation");
  train->add_flag("--augment", a->train.augment, "random horizontal flips and +-2 px shifts (for longer runs)");
  train->add_option("--method", a->train.method, "classifier (needs labels) or contrastive (self-supervised, any images)")
      ->check(CLI::IsMember({"classifier", "contrastive"}));
  train->add_option("--temperature", a->train.temperature, "contrastive: NT-Xent temperature")->check(CLI::Range(0.01, 10.0));
  train->add_option("--size", a->train.image_size, "resize the images to N x N first (0: as stored)")->check(CLI::Range(int64_t(0), int64_t(256)));
  train->add_option("--channels", a->train.channels, "1 or 3 (0: as stored)")->check(CLI::Range(int64_t(0), int64_t(3)));
  train->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  auto* info = cmd->add_subcommand("info", "print a feature network's identity (dataset, accuracy, hash)");
  info->add_option("path", a->info_path, ".duelfeat or TorchScript file")->required();

  auto* check = cmd->add_subcommand("check", "validate a feature network on a dataset: floor, FID under four corruptions, k-NN accuracy");
  check->add_option("features", a->check.features, ".duelfeat or TorchScript file")->required();
  check->add_option("--dataset,-d", a->check.dataset, "the data it will score (as data.dataset)")->required();
  check->add_option("--data-path", a->check.data_path, "folder holding the dataset files (default: its usual place)");
  check->add_option("--n", a->check.n, "train images compared (and at most as many test images)")->check(CLI::Range(int64_t(20), int64_t(100000)));
  check->add_option("--size", a->check.image_size, "resize the images to N x N (0: as stored)")->check(CLI::Range(int64_t(0), int64_t(256)));
  check->add_option("--channels", a->check.channels, "1 or 3 (0: as stored)")->check(CLI::Range(int64_t(0), int64_t(3)));
  check->add_option("--only-class", a->check.only_class, "only the images of this class (as data.only_class)");
  check->add_option("--seed", a->check.seed, "seed for the image choice, the noise and the shuffles");
  check->add_option("--markdown", a->check_out, "also write the table to this .md file");
  check->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));

  return [a, train, info, check]() -> int {
    if (info->parsed()) {
      print_identity(load_feature_extractor(a->info_path)->identity());
      return 0;
    }
    if (check->parsed()) {
      if (!a->check_out.empty()) check_output_file(a->check_out, "--markdown", ".md", "check.md");
      apply_threads(a->threads);
      const auto r = check_feature_net(a->check, [](const std::string& s) { std::printf("%s\n", s.c_str()); std::fflush(stdout); });
      const std::string md = feature_check_markdown(r);
      std::printf("\n%s", md.c_str());
      if (!a->check_out.empty()) write_file_atomic(a->check_out, md);
      bool all = true;
      for (const auto& row : r.rows) all = all && row.monotone;
      std::printf("%s\n", all ? "FID grows with every corruption's strength" : "FID does NOT grow with every corruption (rows marked no)");
      return 0;
    }
    apply_threads(a->threads);
    FeatureTrainOptions o = a->train;
    if (o.out.empty()) o.out = default_feature_output(o.dataset);
    auto r = train_feature_net(o, [](const std::string& s) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    });
    if (r.test_accuracy >= 0)
      std::printf("%s %.4f on %lld images\n", o.method == "classifier" ? "test accuracy:  " : "5-NN accuracy:  ",
                  r.test_accuracy, (long long)r.test_images);
    std::printf("trained in:      %.1f s (%lld steps)\n", r.seconds, (long long)r.steps);
    print_identity(r.identity);
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(40, "features", add_features);

}  // namespace duel::cli
