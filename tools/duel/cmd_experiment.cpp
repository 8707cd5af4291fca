// `duel experiment augmentation`: whether a cgan's images help a classifier
// trained on a small labelled subset (src/apps/augmentation.cpp).
//
//   duel experiment augmentation --work runs/aug [--per-class 100 --per-class 1000] [--seeds 3]
//        [--synthetic-per-class 1000] [--gan-steps 1000] [--gan-width 32] [--classifier-steps 400]
//        [--dataset fashion-mnist] [--out results.json]
//   duel experiment text2img --checkpoint F [--n 500] [--n-attribute 200] [--features FILE] [--out results.json]
//        (src/apps/text2img_eval.cpp)
//   duel experiment modes --work DIR [--quick] ... (cmd_experiment_modes.cpp, src/apps/mode_bench.cpp)
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "duel/apps/augmentation.h"
#include "duel/apps/text2img_eval.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/text.h"
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
  auto* cmd = app.add_subcommand("experiment", "run a measured experiment (augmentation, text2img, modes)");
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
  auto t = std::make_shared<Text2ImgEvalOptions>();
  auto t_out = std::make_shared<std::string>();
  auto* t2i = cmd->add_subcommand("text2img",
                                  "does a text2img checkpoint draw the prompted class and attributes? (held-out phrasings)");
  t2i->add_option("--checkpoint,-k", t->checkpoint, "text2img checkpoint trained on Fashion-MNIST captions")->required();
  t2i->add_option("--out,-o", *t_out, "results JSON")->required();
  t2i->add_option("--n", t->n, "images per class for recognition and FID")->check(CLI::Range(int64_t(2), int64_t(100000)));
  t2i->add_option("--n-attribute", t->n_attribute, "images per attribute word and class")
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  t2i->add_option("--features", t->features, "feature network (default: features/fashion-mnist.duelfeat)");
  t2i->add_option("--data-path", t->data_path, "folder of the Fashion-MNIST IDX files (default: the checkpoint's)");
  t2i->add_option("--seed", t->seed, "seed of the prompts and noise");
  t2i->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  CLI::App* modes = nullptr;
  Action modes_action = add_experiment_modes(*cmd, modes);
  return [a, t, t_out, t2i, modes, modes_action]() -> int {
    if (modes->parsed()) return modes_action();
    apply_threads(a->threads);
    if (t2i->parsed()) {
      check_output_file(*t_out, "--out", ".json", "results.json");
      t->checkpoint = checkpoint_arg(t->checkpoint);
      auto r = run_text2img_eval(*t, [](const std::string& s) {
        std::printf("%s\n", s.c_str());
        std::fflush(stdout);
      });
      write_file_atomic(*t_out, r.json);
      std::printf("\n  %-12s %-22s %-22s %-18s %-8s %-8s\n", "class", "recognised (held-out)", "recognised (train)",
                  "real test images", "FID", "floor");
      double real_mean = 0;
      for (auto& c : r.classes) {
        std::printf("  %-12s %-22.3f %-22.3f %-18.3f %-8.2f %-8.2f\n", c.noun.c_str(), c.recognised_heldout,
                    c.recognised_train, c.recognised_real, c.fid, c.fid_floor);
        real_mean += c.recognised_real / double(r.classes.size());
      }
      std::printf("  %-12s %-22.3f %-22.3f %-18.3f\n\n", "mean", r.recognised_heldout, r.recognised_train, real_mean);
      std::printf("  %-12s %-10s %-30s %-18s\n", "class", "attribute", "generated: word a / word b", "real: a / b");
      for (auto& at : r.attributes)
        std::printf("  %-12s %-10s %-9s %6.3f / %-9s %6.3f  %6.3f / %6.3f\n", fashion_nouns()[size_t(at.cls)].c_str(),
                    at.attribute.c_str(), at.word_a.c_str(), at.generated_a, at.word_b.c_str(), at.generated_b,
                    at.real_a, at.real_b);
      std::printf("\n  %-10s %-18s %-30s %-22s %-14s\n", "attribute", "words (a / b)", "classes where samples follow",
                  "mean gap a-b: samples", "real");
      const auto parsed = nlohmann::json::parse(r.json);
      for (auto& row : parsed.at("attribute_summary"))
        std::printf("  %-10s %-18s %-30s %-22.3f %-14.3f\n", row["attribute"].get<std::string>().c_str(),
                    (row["word_a"].get<std::string>() + " / " + row["word_b"].get<std::string>()).c_str(),
                    (std::to_string(row["classes_following_the_prompt"].get<int64_t>()) + " of " +
                     std::to_string(row["classes"].get<int64_t>()))
                        .c_str(),
                    row["mean_gap_generated"].get<double>(), row["mean_gap_real"].get<double>());
      std::printf("\nwrote %s\n", t_out->c_str());
      return 0;
    }
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
