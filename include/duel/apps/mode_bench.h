// The mode-coverage benchmark (`duel experiment modes`, docs/modes.md): how
// many modes of a known distribution a GAN captures, with and without the
// remedies for mode collapse, several seeds each, beside published figures.
//
// Protocols (PacGAN, Lin et al. 2018, after VEEGAN and the unrolled GAN):
//   ring8, grid25   the 2-D mixtures of data/points.h with PacGAN's nets
//                   (mlp, model.mlp_arch = pacgan, 400 units, z of 2), batch
//                   100, Adam(1e-4, beta1 0.8); 2500 samples scored by
//                   count_modes (metrics/modes.h): modes captured, share of
//                   high-quality samples, reverse KL.
//   stacked-mnist   three MNIST digits per image (1000 modes, 128000 images),
//                   dcgan at 28 px with z of 100, batch 64, Adam(2e-4, beta1 0.5);
//                   26000 samples, each channel classified by the MNIST
//                   feature network: modes covered and reverse KL.
// Variants are remedies joined by '+': gan (none), pac<m> (model.pack = m),
// mbd (minibatch discrimination), mbstd (minibatch stddev), fm (feature
// matching, weight 1). Each protocol also scores real data the same way
// (variant "data"): the floor of each figure.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "duel/metrics/modes.h"

namespace duel {

struct ModeBenchOptions {
  std::vector<std::string> protocols = {"ring8", "grid25"};
  std::vector<std::string> variants = {"gan", "pac2"};
  int64_t seeds = 3;
  int64_t steps = 0;        // generator updates per run; 0: the protocol's default
  int64_t samples = 0;      // samples scored per run; 0: 2500 (2-D) or 26000 (stacked-mnist)
  int64_t min_count = 1;    // counted samples that make a mode captured
  std::vector<std::string> overrides;  // key=value applied to every run after the protocol's settings
  std::string features;     // stacked-mnist: digit classifier (default: the mnist feature network)
  std::string data_path;    // stacked-mnist: MNIST folder (default: mnist's own)
  std::string work_dir;     // runs go to <work>/<protocol>/<variant>/seed-<s>
};

struct ModeBenchRun {
  std::string protocol, variant;
  int64_t seed = 0, steps = 0;
  ModeCoverage coverage;
  double seconds = 0;
  bool reused = false;      // a finished run of the same steps was found and only scored
  std::string run_dir, plot;  // plot: the scatter PNG (2-D protocols)
};

struct ModeBenchSummary {
  std::string protocol, variant;
  int64_t runs = 0, all_modes_runs = 0;  // runs that captured every mode
  double captured_mean = 0, captured_std = 0, high_quality_mean = 0, high_quality_std = 0;
  double kl_mean = 0, kl_std = 0;
};

struct ModeBenchResult {
  std::vector<ModeBenchRun> runs;          // including one "data" row per protocol
  std::vector<ModeBenchSummary> summary;
  std::string json;
};

// The config settings a variant names, as key=value assignments; throws
// duel::Error naming the unknown part ("use gan, pac<m>, mbd, mbstd, fm joined by +").
std::vector<std::string> variant_settings(const std::string& variant);

ModeBenchResult run_mode_benchmark(const ModeBenchOptions& options,
                                   const std::function<void(const std::string&)>& info = {});

}  // namespace duel
