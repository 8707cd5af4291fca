// `duel sample`: images from a checkpoint's generator.
//
//   default          a grid PNG (--out) or one PNG per image (--each DIR);
//                    conditional models draw one class per grid row, or
//                    only --class K
//   --interpolate    spherical interpolation between pairs of noise vectors:
//                    a grid (one pair per row, --steps columns) and an
//                    animated GIF (--gif, default: --out with .gif) that
//                    walks every row along its path and back
//   --traverse CODE  a latent-code traversal (InfoGAN): each row holds the
//                    other inputs fixed while CODE sweeps its range
//   --prompt TEXT    text-to-image models (text2img): images of TEXT; with
//                    --prompt-to TEXT2 a grid of --rows noise vectors (rows)
//                    walking the sentence embedding from TEXT to TEXT2 in
//                    --steps columns
//   --truncation P   style-based models (stylegan): truncation psi; a comma
//                    list (1,0.7,0.5,0) draws a sweep, one column per psi
//                    over --rows fixed latents
//   --mix A,B        style-based models: the style-mixing grid. Row sources
//                    are --rows latents of seed A, column sources --steps
//                    latents of seed B; cell (i, j) takes style layers
//                    [0, --crossover) from row i and the rest from column j.
//   --latent F.npy   latents of `duel project` decoded (cgan: with every
//                    class; stylegan --mix-seed S: mixed with a seed), and
//   --interpolate-between A.npy B.npy   a walk between two (sample_latents.cpp)
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/model_loading.h"
#include "duel/apps/sampling.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/gif.h"
#include "duel/io/image.h"
#include "duel/checkpoint/checkpoint.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {

struct SampleArgs : SampleJob {  // out, each, gif, traverse, prompt(_to), truncation, mix, n, crossover, interpolate
  std::string checkpoint;
  int64_t nrow = 0, seed = 0, batch = 256, cls = -1, rows = 8, steps = 10;
  bool live = false;
  int threads = 0;
};

Action add_sample(CLI::App& app) {
  auto a = std::make_shared<SampleArgs>();
  auto* cmd = app.add_subcommand("sample", "draw images from a checkpoint's generator");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file, or a run folder for its newest good checkpoint (runs/<name>)")->required();
  cmd->add_option("--n", a->n, "number of images (one --out grid holds at most 4096; --each has no such limit)")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)));
  cmd->add_option("--out,-o", a->out, "grid PNG to write");
  cmd->add_option("--each", a->each, "folder to write one PNG per image into");
  cmd->add_option("--nrow", a->nrow, "images per grid row (default: square)")->check(CLI::Range(int64_t(0), int64_t(10000)));
  cmd->add_option("--seed", a->seed, "noise seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", a->batch, "images generated per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--class", a->cls, "conditional models: draw only this class")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--interpolate", a->interpolate, "spherical interpolation between noise pairs: grid + animated GIF");
  cmd->add_option("--gif", a->gif, "GIF of the interpolation (default: --out with .gif)");
  cmd->add_option("--traverse", a->traverse, "latent code to sweep (infogan: c1, c2, ...)");
  cmd->add_option("--truncation", a->truncation,
                  "style-based models: truncation psi in [0, 1] (0.7 is common); a comma list draws a sweep, one column per psi");
  cmd->add_option("--mix", a->mix, "style-based models: style-mixing grid of seeds A,B (rows from A, columns from B)");
  cmd->add_option("--crossover", a->crossover,
                  "with --mix: first style layer taken from the column's latent (default: half of them)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rows", a->rows, "--interpolate/--traverse/--mix/sweeps: rows (pairs of noise / fixed inputs)")
      ->check(CLI::Range(int64_t(1), int64_t(1000)));
  cmd->add_option("--steps", a->steps, "--interpolate/--traverse/--mix: columns (points along each row)")
      ->check(CLI::Range(int64_t(2), int64_t(1000)));
  cmd->add_option("--prompt", a->prompt, "text-to-image models: what to draw, e.g. \"a dark long pullover\"");
  cmd->add_option("--prompt-to", a->prompt_to,
                  "with --prompt: interpolate the sentence embedding from --prompt to this (grid of --rows x --steps)");
  cmd->add_flag("--live", a->live,
               "draw with G's live weights instead of their moving average (runs with train.ema > 0)");
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  auto latents = add_latent_sampling(*cmd);
  return [a, latents]() -> int {
    check_sample_job(*a);
    if (!a->out.empty()) check_output_file(a->out, "--out", ".png", "samples.png");
    if (!a->gif.empty()) check_output_file(a->gif, "--gif", ".gif", "path.gif");
    SampleOptions o;
    o.truncation = parse_truncation(a->truncation);
    const auto& psis = o.truncation;
    const bool sweep = psis.size() > 1, mixing = !a->mix.empty(), text_walk = !a->prompt_to.empty();
    apply_threads(a->threads);
    a->checkpoint = checkpoint_arg(a->checkpoint);
    if (auto rc = latents({a->checkpoint, a->out, a->gif, a->cls, a->steps})) return *rc;
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_model(ck, cfg);
    torch::manual_seed(uint64_t(a->seed));
    o.cls = a->cls, o.mix = a->mix, o.crossover = a->crossover, o.prompt = a->prompt, o.prompt_to = a->prompt_to;
    o.live = a->live;
    const Sampler s = make_sampler(*model, ck.state().shape, ck.model_name(), o);
    const char* name = ck.model_name().c_str();
    const auto step = (long long)ck.state().step, rows = (long long)a->rows, steps = (long long)a->steps;

    if (!a->traverse.empty()) {
      int64_t cols = 0;
      write_png(a->out, traversal_grid(s, a->traverse, a->rows, a->steps, cols));
      std::printf("wrote the traversal of %s (%lld rows x %lld steps) from %s (step %lld) to %s\n", a->traverse.c_str(),
                  rows, (long long)cols, name, step, a->out.c_str());
    } else if (sweep) {
      write_png(a->out, truncation_sweep_grid(s, psis, a->rows));
      std::printf("wrote a truncation sweep (%lld rows x %lld psi: %s) from %s (step %lld) to %s\n", rows,
                  (long long)psis.size(), a->truncation.c_str(), name, step, a->out.c_str());
    } else if (mixing) {
      write_png(a->out, style_mixing_grid(s, a->rows, a->steps));
      std::printf("wrote a style-mixing grid (%lld rows from seed %lld x %lld columns from seed %lld, styles %lld..%lld "
                  "from the columns) from %s (step %lld) to %s\n",
                  rows, (long long)s.seed_a, steps, (long long)s.seed_b, (long long)s.crossover,
                  (long long)s.style_layers - 1, name, step, a->out.c_str());
    } else if (text_walk) {
      write_png(a->out, text_walk_grid(s, a->rows, a->steps));
      std::printf("wrote %lld rows x %lld steps from \"%s\" to \"%s\" (%s, step %lld) to %s\n", rows, steps,
                  a->prompt.c_str(), a->prompt_to.c_str(), name, step, a->out.c_str());
    } else if (a->interpolate) {
      Interpolation path = interpolation_of(s, a->rows, a->steps);
      write_png(a->out, path.grid);
      const std::string gif = a->gif.empty() ? fs::path(a->out).replace_extension(".gif").string() : a->gif;
      write_gif(gif, path.frames, 12);
      std::printf("wrote %lld interpolations x %lld steps from %s (step %lld) to %s and %s\n", rows, steps, name, step,
                  a->out.c_str(), gif.c_str());
    } else {
      const int64_t per_row = a->nrow > 0 ? a->nrow : int64_t(std::ceil(std::sqrt(double(a->n))));
      auto grid = draw_samples(s, a->n, per_row, a->batch, a->each, !a->out.empty());
      if (!a->out.empty()) write_png(a->out, grid);
      std::printf("wrote %lld sample%s from %s (step %lld) to %s\n", (long long)a->n, a->n == 1 ? "" : "s", name, step,
                  (!a->out.empty() ? a->out : a->each).c_str());
    }
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(20, "sample", add_sample);

}  // namespace duel::cli
