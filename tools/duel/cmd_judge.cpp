// `duel judge`: a trained discriminator's score of each image, and the AUROC
// of telling real from generated images (apps/judge.h).
#include <cstdio>

#include "commands.h"
#include "duel/apps/judge.h"
#include "duel/core/error.h"

namespace duel::cli {
namespace {

Action add_judge(CLI::App& app) {
  auto r = std::make_shared<JudgeRequest>();
  auto threads = std::make_shared<int>(0);
  auto* cmd = app.add_subcommand("judge", "score images with a trained discriminator; AUROC of real against fake");
  cmd->add_option("--checkpoint,-k", r->checkpoint, "checkpoint file, or a run folder for its newest good checkpoint")
      ->required();
  cmd->add_option("--in", r->in, "folder (or image) to score");
  cmd->add_option("--real", r->real_dir, "folder of real images (with --fake: the AUROC)");
  cmd->add_option("--fake", r->fake_dir, "folder of generated images");
  cmd->add_option("--real-test", r->real_test, "instead of --real: the first N test images of the model's dataset")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)));
  cmd->add_option("--fake-samples", r->fake_samples, "instead of --fake: N samples of the checkpoint's own generator")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)));
  cmd->add_option("--seed", r->seed, "seed of --fake-samples");
  cmd->add_option("--class", r->cls, "conditional models: judge every image as this class (default: its most real class)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--domain", r->domain, "cyclegan: judge A or B images, with D_A or D_B");
  cmd->add_option("--out,-o", r->out_csv, "CSV of every score (set, index, file, class, score)");
  cmd->add_option("--batch", r->batch, "images per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--threads", *threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [r, threads]() -> int {
    if (!r->out_csv.empty()) check_output_file(r->out_csv, "--out", ".csv", "scores.csv");
    apply_threads(*threads);
    r->checkpoint = checkpoint_arg(r->checkpoint);
    JudgeReport rep = judge_images(*r, [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); });
    std::printf("discriminator of %s (step %lld); higher = more real\n", rep.model.c_str(), (long long)rep.step);
    for (const auto& s : rep.sets) {
      auto d = s.scores;
      std::printf("%-5s %6lld images  mean %.4f  median %.4f  min %.4f  max %.4f  (%s)\n", s.name.c_str(),
                  (long long)d.size(0), d.mean().item<double>(), d.median().item<double>(), d.min().item<double>(),
                  d.max().item<double>(), s.source.c_str());
    }
    if (rep.auroc >= 0) std::printf("AUROC real vs fake: %.4f (0.5: cannot tell them apart)\n", rep.auroc);
    if (!rep.csv_path.empty()) std::printf("wrote %s\n", rep.csv_path.c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(36, "judge", add_judge);

}  // namespace duel::cli
