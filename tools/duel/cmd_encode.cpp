// `duel encode`: an encoder's codes of images (.npy) and their 2-D scatter
// plot coloured by class (apps/encode.h).
#include <cstdio>

#include "commands.h"
#include "duel/apps/encode.h"
#include "duel/core/error.h"

namespace duel::cli {
namespace {

Action add_encode(CLI::App& app) {
  auto r = std::make_shared<EncodeRequest>();
  auto threads = std::make_shared<int>(0);
  auto* cmd = app.add_subcommand("encode", "codes of images from a model's encoder (aae), with a 2-D scatter plot");
  cmd->add_option("--checkpoint,-k", r->checkpoint, "checkpoint file, or a run folder for its newest good checkpoint")
      ->required();
  cmd->add_option("--in", r->in, "folder of images (class subfolders colour the plot) or one image");
  cmd->add_option("--from-test", r->from_test, "instead of --in: the first N test images of the model's dataset")
      ->check(CLI::Range(int64_t(1), int64_t(10000000)));
  cmd->add_option("--out,-o", r->out, "codes as .npy [N, code_dim]")->required();
  cmd->add_option("--scatter", r->scatter, "2-D scatter PNG of the codes (principal components beyond 2 dimensions)");
  cmd->add_option("--batch", r->batch, "images per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--threads", *threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [r, threads]() -> int {
    if (!r->scatter.empty()) check_output_file(r->scatter, "--scatter", ".png", "codes.png");
    check_output_file(r->out, "--out", ".npy", "codes.npy");
    apply_threads(*threads);
    r->checkpoint = checkpoint_arg(r->checkpoint);
    EncodeReport rep = encode_images(*r);
    std::printf("encoded %lld image(s) with %s (step %lld) into %lld-dimensional codes: %s\n", (long long)rep.n,
                rep.model.c_str(), (long long)rep.step, (long long)rep.code_dim, r->out.c_str());
    if (!rep.labels_path.empty())
      std::printf("their classes (%lld): %s\n", (long long)rep.classes, rep.labels_path.c_str());
    if (!r->scatter.empty()) {
      std::printf("scatter plot of %s", rep.plotted.c_str());
      if (rep.code_dim > 2) std::printf(" (%.1f %% of the variance)", 100.0 * rep.explained);
      std::printf(": %s\n", r->scatter.c_str());
      if (rep.classes > 0)
        std::printf("colours: class 0 blue, 1 orange, 2 green, 3 red, 4 purple, 5 brown, 6 pink, 7 grey, 8 olive, "
                    "9 cyan%s\n", rep.classes > 10 ? " (repeating from class 10)" : "");
    }
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(37, "encode", add_encode);

}  // namespace duel::cli
