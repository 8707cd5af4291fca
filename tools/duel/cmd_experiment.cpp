// `duel experiment augmentation`: whether a cgan's images help a classifier
// trained on a small labelled subset (src/apps/augmentation.cpp).
//
//   duel experiment augmentation --work runs/aug [--per-class 100 --per-class 1000] [--seeds 3]
//        [--synthetic-per-class 1000] [--gan-steps 1000] [--gan-width 32] [--classifier-steps 400]
//        [--dataset fashion-mnist] [--out results.json]
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/augmentation.h"
#include "duel/core/error.h"
#include "duel/io/image.h"

namespace duel::cli {
namespace {

struct ExperimentArgs {
  AugmentationOptions o;
  std::vector<int64_t> per_class;
  std::string out;
  int threads = 0;
};

Action add_experiment(CLI::App& app) {
  auto a = std::make_shared<ExperimentArgs>();
  auto* cmd = app.add_subcommand("experiment", "run a measured experiment (augmentation)");
  cmd->require_subcommand(1);
  auto* aug = cmd->add_subcommand(
      "augmentation", "does adding a cgan's images to a small labelled subset help a classifier? (mean ± std over seeds)");
  aug->add_option("--work", a->o.work_dir, "folder for the subsets and cgan runs")->required();
  aug->add_option("--out,-o", a->out, "results JSON (default: <work>/results.json)");
  aug->add_option("--dataset", a->o.dataset, "labelled dataset: fashion-mnist, mnist, cifar10, folder:<path>");
  aug->add_option("--data-path", a->o.data_path, "folder of the dataset files (default: the dataset's own)");
  aug->add_option("--per-class", a->per_class, "real images per class in a subset (repeatable; default 100 and 1000)")
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  aug->add_option("--seeds", a->o.seeds, "runs (subset draws and seeds) per subset size")
      ->check(CLI::Range(int64_t(1), int64_t(100)));
  aug->add_option("--synthetic-per-class", a->o.synthetic_per_class, "cgan images added per class")
      ->check(CLI::Range(int64_t(1), int64_t(1000000)));
  aug->add_option("--gan-steps", a->o.gan_steps, "cgan generator updates (batch 64)")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)));
  aug->add_option("--gan-width", a->o.gan_width, "cgan net width")->check(CLI::Range(int64_t(4), int64_t(1024)));
  aug->add_option("--classifier-steps", a->o.classifier_steps, "classifier batches of 128, with and without synthetic images")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)));
  aug->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    apply_threads(a->threads);
    if (!a->per_class.empty()) a->o.per_class = a->per_class;
    const std::string out = a->out.empty() ? (std::filesystem::path(a->o.work_dir) / "results.json").string() : a->out;
    if (!a->out.empty()) check_output_file(out, "--out", ".json", "results.json");
    std::filesystem::create_directories(a->o.work_dir);
    auto r = run_augmentation_experiment(a->o, [](const std::string& s) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    });
    write_file_atomic(out, r.json);
    std::printf("\n  %-10s %-6s %-24s %-24s\n", "per class", "runs", "real only", "real + synthetic");
    for (auto& s : r.summary)
      std::printf("  %-10lld %-6lld %.4f ± %.4f          %.4f ± %.4f\n", (long long)s.per_class, (long long)s.runs,
                  s.real_mean, s.real_std, s.augmented_mean, s.augmented_std);
    std::printf("\nwrote %s\n", out.c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(70, "experiment", add_experiment);

}  // namespace duel::cli
