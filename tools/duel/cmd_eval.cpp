// `duel eval`: score a checkpoint's generator against the real data and print
// every figure beside its real-vs-real floor; image-to-image checkpoints are
// scored by their translations instead (src/apps/translation_eval.cpp).
//
//   duel eval --checkpoint runs/x/checkpoints/latest.duel [--n 10000] [--features NET]
//             [--save-features DIR] [--out FILE.json] [--no-memorisation]
//   duel eval --images DIR [--dataset NAME | --real DIR] [--n N] [--features NET] [--out FILE.json]
//
// The library does the work (src/apps/eval_checkpoint.cpp), writes
// <run>/eval/step-NNNNNN.json (with the memorisation check's closest pairs in
// step-NNNNNN-closest.png, docs/inspect.md) and lays out the table (src/apps/eval_text.cpp);
// this file parses options and prints. docs/metrics.md defines each figure.
#include <cstdio>
#include <string>

#include "commands.h"
#include "duel/apps/eval_checkpoint.h"
#include "duel/apps/eval_text.h"
#include "duel/apps/translation_eval.h"
#include "duel/core/error.h"

namespace duel::cli {
namespace {

struct EvalArgs {
  EvalRequest req;
  ImagesEvalRequest images;
  int threads = 0;
  bool no_floor = false, no_memorisation = false;
  std::string split = "test";
  bool n_set = false;
};

Action add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto& o = a->req.options;
  auto* cmd = app.add_subcommand("eval", "score a checkpoint: FID, KID, IS, precision/recall, SWD, with the real floor");
  auto* k = cmd->add_option("--checkpoint,-k", a->req.checkpoint,
                            "checkpoint file, or a run folder for its newest good checkpoint (runs/<name>)");
  auto* images = cmd->add_option("--images", a->images.images_dir,
                                 "instead of a checkpoint: score this folder of images (made by any tool)");
  k->excludes(images);
  cmd->add_option("--dataset", a->images.dataset, "with --images: the real data to score against")->needs(images);
  cmd->add_option("--data-path", a->images.data_path, "with --images: folder holding --dataset's files")->needs(images);
  cmd->add_option("--real", a->images.real_dir, "with --images: a folder of real images to score against instead")
      ->needs(images);
  cmd->add_option("--n", o.n, "generated images, and real images per real set (image-to-image models: images to translate, default all)")
      ->check(CLI::Range(int64_t(10), int64_t(10000000)))  // the metrics need at least 10 samples
      ->each([a](const std::string&) { a->n_set = true; });
  cmd->add_option("--features", a->req.features,
                  "feature network: a .duelfeat from `duel features train` or a TorchScript module "
                  "(default: features/<dataset>.duelfeat)");
  cmd->add_option("--save-features", a->req.save_features_dir, "folder to write the feature matrices to (.npy)");
  cmd->add_option("--out,-o", a->req.out_json, "JSON file to write (default: <run>/eval/step-NNNNNN.json)");
  cmd->add_option("--batch", o.batch, "images per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--seed", o.seed, "seed for noise, the floor's images, KID subsets and SWD directions");
  cmd->add_option("--kid-subsets", o.kid.subsets, "KID subsets")->check(CLI::Range(int64_t(1), int64_t(100000)));
  cmd->add_option("--kid-subset-size", o.kid.subset_size, "KID subset size")
      ->check(CLI::Range(int64_t(2), int64_t(1000000)));
  cmd->add_option("--is-splits", o.is_splits, "Inception Score splits")->check(CLI::Range(int64_t(1), int64_t(1000)));
  cmd->add_option("--k", o.k, "neighbours for precision/recall/density/coverage")
      ->check(CLI::Range(int64_t(1), int64_t(1000)));
  cmd->add_option("--swd-projections", o.swd_projections, "random directions for sliced Wasserstein")
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  cmd->add_flag("--no-floor", a->no_floor, "skip the real-vs-real floor (faster)");
  cmd->add_flag("--no-memorisation", a->no_memorisation,
                "skip the memorisation check (the training images' features and the closest-pairs PNG)")
      ->excludes(images);
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--split", a->split, "image-to-image models: the split to translate and score")
      ->check(CLI::IsMember({"train", "test", "all"}));
  return [a]() -> int {
    apply_threads(a->threads);
    auto say = [](const std::string& s) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    };
    require(!a->req.checkpoint.empty() || !a->images.images_dir.empty(), "duel eval needs --checkpoint or --images",
            "e.g. duel eval -k runs/<name>, or duel eval --images DIR --dataset fashion-mnist");
    a->req.options.floor = !a->no_floor;
    a->req.memorisation = !a->no_memorisation;
    if (!a->images.images_dir.empty()) {
      a->images.features = a->req.features;
      a->images.out_json = a->req.out_json;
      a->images.options = a->req.options;
      if (!a->n_set) a->images.options.n = 0;
      std::printf("%s", eval_table_text(evaluate_images(a->images, say)).c_str());
      return 0;
    }
    a->req.checkpoint = checkpoint_arg(a->req.checkpoint);
    if (checkpoint_translates(a->req.checkpoint)) {
      TranslationEvalRequest t;
      t.checkpoint = a->req.checkpoint;
      t.features = a->req.features;
      t.out_json = a->req.out_json;
      t.split = a->split;
      t.n = a->n_set ? a->req.options.n : 0;
      std::printf("%s", translation_text(evaluate_translation(t, say)).c_str());
      return 0;
    }
    std::printf("%s", eval_table_text(evaluate_checkpoint(a->req, say)).c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(30, "eval", add_eval);

}  // namespace duel::cli
