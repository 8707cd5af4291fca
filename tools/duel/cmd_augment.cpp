// `duel augment`: a labelled synthetic dataset from a conditional generator.
//
//   duel augment --checkpoint runs/cgan28/checkpoints/latest.duel --per-class 1000 --out synth/
//                [--format folder|idx] [--seed 0] [--force]
//
// Draws --per-class images of every class (noise from --seed) and writes them
// as an image folder with one subfolder per class, or as IDX files
// (src/data/dataset_writer.cpp). The dataset appears complete or not at all.
#include <cstdio>

#include "commands.h"
#include "duel/apps/augmentation.h"
#include "duel/apps/model_loading.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/dataset_writer.h"

namespace duel::cli {
namespace {

struct AugmentArgs {
  std::string checkpoint, out, format = "folder";
  int64_t per_class = 0, seed = 0, batch = 256;
  bool force = false;
  int threads = 0;
};

// The class names of the data the model learned, when that data can be read; else none.
std::vector<std::string> class_names_of(const Config& cfg) {
  try {
    return open_dataset(cfg, "test").class_names;
  } catch (const Error&) {
    return {};
  }
}

Action add_augment(CLI::App& app) {
  auto a = std::make_shared<AugmentArgs>();
  auto* cmd = app.add_subcommand("augment", "write a labelled synthetic dataset from a conditional generator (cgan)");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint of a conditional model")->required();
  cmd->add_option("--per-class", a->per_class, "images to draw of every class")
      ->required()
      ->check(CLI::Range(int64_t(1), int64_t(1000000)));
  cmd->add_option("--out,-o", a->out, "folder to create")->required();
  cmd->add_option("--format", a->format, "folder (PNG per image, one subfolder per class) or idx (grayscale)")
      ->check(CLI::IsMember({"folder", "idx"}));
  cmd->add_option("--seed", a->seed, "noise seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", a->batch, "images per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_flag("--force", a->force, "replace an existing --out folder (once the new one is complete)");
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    apply_threads(a->threads);
    check_dataset_target(a->out, a->force);  // before drawing thousands of images
    a->checkpoint = checkpoint_arg(a->checkpoint);
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_model(ck, cfg);
    const int64_t classes = ck.state().shape.num_classes;
    torch::manual_seed(uint64_t(a->seed));
    ImageSet set = draw_labelled_set(*model, classes, a->per_class, a->batch);
    set.class_names = class_names_of(cfg);
    write_labelled_set(set, a->out, a->format, a->force);
    std::printf("wrote %lld images (%lld per class, %lld classes, %s) to %s\n", (long long)set.size(),
                (long long)a->per_class, (long long)classes, a->format.c_str(), a->out.c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(55, "augment", add_augment);

}  // namespace duel::cli
