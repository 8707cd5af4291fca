// `duel project`: find the latents of a generator whose images match given
// images (apps/projection.h), for reconstruction and editing of real images.
#include <cstdio>

#include "commands.h"
#include "duel/apps/projection.h"
#include "duel/core/error.h"

namespace duel::cli {
namespace {

Action add_project(CLI::App& app) {
  auto r = std::make_shared<ProjectRequest>();
  auto threads = std::make_shared<int>(0);
  auto* cmd = app.add_subcommand("project", "project images into a generator's latent space (inversion)");
  cmd->add_option("--checkpoint,-k", r->checkpoint, "checkpoint file, or a run folder for its newest good checkpoint")
      ->required();
  cmd->add_option("--in", r->in, "an image file or a folder of images to project");
  cmd->add_option("--from-test", r->from_test, "instead of --in: the first N images of the dataset's test split")
      ->check(CLI::Range(int64_t(1), int64_t(1000000)));
  cmd->add_option("--out,-o", r->out, "folder for reconstructions, latents (.npy) and projection.csv")->required();
  cmd->add_option("--features", r->features, "feature network of the perceptual term (default: the dataset's)");
  cmd->add_option("--class", r->cls, "conditional models: project with this class (default: the feature net's guess)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--steps", r->options.steps, "optimisation steps (default 300)");
  cmd->add_option("--starts", r->options.starts, "random starts per image; the best is kept (default 4)");
  cmd->add_option("--lr", r->options.lr, "Adam's peak learning rate on the latent (default 0.05)");
  cmd->add_option("--feature-weight", r->options.feature_weight, "weight of the feature-space term (0: pixels only)");
  cmd->add_option("--latent-weight", r->options.latent_weight, "weight of the prior penalty on z (default 0.01)");
  cmd->add_option("--batch", r->options.batch, "images optimised together (default 32)");
  cmd->add_option("--seed", r->options.seed, "seed of the random starts");
  cmd->add_flag("--compare-train", r->compare_train,
                "also find each image's nearest training image (in features) and compare the distances");
  cmd->add_option("--threads", *threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [r, threads]() -> int {
    apply_threads(*threads);
    check_projection_options(r->options);
    r->checkpoint = checkpoint_arg(r->checkpoint);
    ProjectReport rep = run_projection(*r, [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); });
    std::printf("projected %lld image(s) into %s of %s (step %lld)\n", (long long)rep.n, rep.latent_space.c_str(),
                rep.model.c_str(), (long long)rep.step);
    std::printf("reconstruction: PSNR %.2f dB", rep.mean_psnr);
    if (rep.mean_feature_distance >= 0) std::printf(", feature distance %.4f", rep.mean_feature_distance);
    std::printf("\n");
    if (rep.right_class_share >= 0)
      std::printf("recognised as the right class: %.1f %%\n", 100.0 * rep.right_class_share);
    if (rep.closer_than_nearest_share >= 0)
      std::printf("nearest training image: PSNR %.2f dB, feature distance %.4f; reconstruction closer in features "
                  "for %.1f %%\n",
                  rep.nearest_psnr, rep.nearest_feature_distance, 100.0 * rep.closer_than_nearest_share);
    std::printf("wrote %s (latents, reconstructions, projection.csv, pairs.png)\n", r->out.c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(22, "project", add_project);

}  // namespace duel::cli
