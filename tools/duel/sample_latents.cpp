// `duel sample --latent FILE... | --interpolate-between A B [--mix-seed S]`:
// the editing options of `duel sample` (apps/latent_editing.h), declared on
// the sample command by add_latent_sampling.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/latent_editing.h"
#include "duel/apps/model_loading.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/error.h"
#include "duel/io/gif.h"
#include "duel/io/image.h"

namespace fs = std::filesystem;

namespace duel::cli {

LatentSampling add_latent_sampling(CLI::App& sample) {
  auto job = std::make_shared<LatentSampleJob>();
  sample.add_option("--latent", job->latents, "decode latents from .npy files of duel project (cgan: with every class "
                                              "unless --class; stylegan: --mix-seed mixes styles)");
  sample.add_option("--interpolate-between", job->between, "walk from one projected latent to another: A.npy B.npy")
      ->expected(2);
  sample.add_option("--mix-seed", job->mix_seed, "with --latent (stylegan): mix the latents' styles with this seed's")
      ->check(CLI::NonNegativeNumber);
  return [job](const LatentSamplingContext& c) -> std::optional<int> {
    if (job->latents.empty() && job->between.empty()) {
      require(job->mix_seed < 0, "--mix-seed needs --latent", "pass --latent NAME.npy --mix-seed S");
      return std::nullopt;
    }
    require(!c.out.empty(), "--latent and --interpolate-between draw a grid", "pass --out grid.png");
    job->cls = c.cls;
    job->steps = c.steps;
    Checkpoint ck = Checkpoint::read(c.checkpoint);
    Config cfg;
    auto model = load_model(ck, cfg);
    LatentSampleResult r = sample_latents(*model, ck.state().shape, *job);
    write_png(c.out, r.grid);
    std::string gif;
    if (!r.frames.empty()) {
      gif = c.gif.empty() ? fs::path(c.out).replace_extension(".gif").string() : c.gif;
      write_gif(gif, r.frames, 12);
    }
    std::printf("wrote %s from %s (step %lld) to %s%s\n", r.what.c_str(), ck.model_name().c_str(),
                (long long)ck.state().step, c.out.c_str(), gif.empty() ? "" : (" and " + gif).c_str());
    return 0;
  };
}

}  // namespace duel::cli
