// `duel experiment modes`: the mode-coverage benchmark (src/apps/mode_bench.cpp, docs/modes.md).
//
//   duel experiment modes --work runs/modes [--protocol ring8 --protocol grid25 --protocol stacked-mnist]
//        [--variant gan --variant pac2 ...] [--seeds 3] [--steps N] [--samples N] [--min-count 1]
//        [--set key=value ...] [--features FILE] [--data-path DIR] [--out results.json] [--quick]
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/mode_bench.h"
#include "duel/core/files.h"

namespace duel::cli {
namespace {

struct ModesArgs {
  ModeBenchOptions o;
  std::vector<std::string> protocols, variants;
  std::string out;
  bool quick = false;
  int threads = 0;
};

void print_table(const ModeBenchResult& r) {
  std::printf("\n  %-14s %-16s %-5s %-16s %-10s %-16s %-16s\n", "protocol", "variant", "runs", "modes captured",
              "all modes", "high quality %", "reverse KL");
  for (auto& s : r.summary)
    std::printf("  %-14s %-16s %-5lld %6.1f ± %-6.1f  %2lld of %-4lld %6.1f ± %-6.1f  %6.3f ± %-6.3f\n",
                s.protocol.c_str(), s.variant.c_str(), (long long)s.runs, s.captured_mean, s.captured_std,
                (long long)s.all_modes_runs, (long long)s.runs, 100 * s.high_quality_mean, 100 * s.high_quality_std,
                s.kl_mean, s.kl_std);
}

}  // namespace

Action add_experiment_modes(CLI::App& experiment, CLI::App*& modes) {
  auto a = std::make_shared<ModesArgs>();
  modes = experiment.add_subcommand(
      "modes", "how many modes of a known mixture a GAN captures, per remedy (mean ± std over seeds; docs/modes.md)");
  modes->add_option("--work", a->o.work_dir, "folder for the runs (<work>/<protocol>/<variant>/seed-<s>)")->required();
  modes->add_option("--out,-o", a->out, "results JSON (default: <work>/results.json)");
  modes->add_option("--protocol", a->protocols, "ring8, grid25 or stacked-mnist (repeatable; default ring8 and grid25)");
  modes->add_option("--variant", a->variants,
                    "gan, pac<m>, mbd, mbstd, fm, joined by + (repeatable; default gan and pac2)");
  modes->add_option("--seeds", a->o.seeds, "runs per protocol and variant")->check(CLI::Range(int64_t(1), int64_t(100)));
  modes->add_option("--steps", a->o.steps, "generator updates per run (0: 10000 for 2-D, 5000 for stacked-mnist)")
      ->check(CLI::Range(int64_t(0), int64_t(100000000)));
  modes->add_option("--samples", a->o.samples, "samples scored per run (0: 2500 for 2-D, 26000 for stacked-mnist)")
      ->check(CLI::Range(int64_t(0), int64_t(10000000)));
  modes->add_option("--min-count", a->o.min_count, "high-quality samples that make a mode captured")
      ->check(CLI::Range(int64_t(1), int64_t(1000000)));
  modes->add_option("--set", a->o.overrides, "key=value for every run, after the protocol's settings (repeatable)");
  modes->add_option("--features", a->o.features, "stacked-mnist: the digit classifier (default: the mnist feature network)");
  modes->add_option("--data-path", a->o.data_path, "stacked-mnist: folder of the MNIST IDX files (default: mnist's own)");
  modes->add_flag("--quick", a->quick, "a smoke run: ring8, gan and pac2, one seed of 200 steps, 500 samples");
  modes->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    apply_threads(a->threads);
    if (a->quick) {
      a->o.protocols = {"ring8"};
      a->o.variants = {"gan", "pac2"};
      a->o.seeds = 1;
      if (a->o.steps == 0) a->o.steps = 200;
      if (a->o.samples == 0) a->o.samples = 500;
    }
    if (!a->protocols.empty()) a->o.protocols = a->protocols;
    if (!a->variants.empty()) a->o.variants = a->variants;
    const std::string out = a->out.empty() ? (std::filesystem::path(a->o.work_dir) / "results.json").string() : a->out;
    if (!a->out.empty()) check_output_file(out, "--out", ".json", "results.json");
    std::filesystem::create_directories(a->o.work_dir);
    auto r = run_mode_benchmark(a->o, [](const std::string& s) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    });
    write_file_atomic(out, r.json);
    print_table(r);
    std::printf("\nwrote %s\n", out.c_str());
    return 0;
  };
}

}  // namespace duel::cli
