// `duel captions fashion-mnist`: writes derived captions for Fashion-MNIST
// (src/data/text.cpp) as a captions file for text-to-image training.
//
//   duel captions fashion-mnist --out captions.tsv [--split train] [--per-image 5]
//        [--phrasings train|heldout] [--seed 1] [--data-path DIR] [--limit N]
//
// Each caption names the image's class and 0 to 3 of four measured attributes
// (dark/light, wide/narrow, long/short, plain/patterned, each against its
// class's median in the split). They are derived from pixels and labels, not
// written by people.
#include <cstdio>

#include "commands.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/dataset.h"
#include "duel/data/text.h"
#include "duel/io/image.h"

namespace duel::cli {
namespace {

struct CaptionsArgs {
  std::string dataset, out, split = "train", phrasings = "train", data_path;
  int64_t per_image = 5, seed = 1, limit = 0;
};

Action add_captions(CLI::App& app) {
  auto a = std::make_shared<CaptionsArgs>();
  auto* cmd = app.add_subcommand("captions", "write derived captions (image_id<TAB>caption) for Fashion-MNIST");
  cmd->add_option("dataset", a->dataset, "dataset to caption (fashion-mnist)")->required();
  cmd->add_option("--out,-o", a->out, "captions file to write (.tsv)")->required();
  cmd->add_option("--split", a->split, "train, test or all (ids are image indices in the split)");
  cmd->add_option("--per-image", a->per_image, "captions per image")->check(CLI::Range(int64_t(1), int64_t(100)));
  cmd->add_option("--phrasings", a->phrasings, "train (training templates) or heldout (templates kept for testing)");
  cmd->add_option("--seed", a->seed, "seed of the phrasing and attribute choices")->check(CLI::NonNegativeNumber);
  cmd->add_option("--data-path", a->data_path, "folder of the IDX files (default: Debian's dataset-fashion-mnist)");
  cmd->add_option("--limit", a->limit, "caption only the first N images (0: all)")->check(CLI::NonNegativeNumber);
  return [a]() -> int {
    require(a->dataset == "fashion-mnist",
            "derived captions exist for fashion-mnist only, not '" + a->dataset + "'",
            "write your own captions file (image_id<TAB>caption per line, docs/applications.md)");
    require(a->split == "train" || a->split == "test" || a->split == "all",
            "--split '" + a->split + "' is not a split", "use train, test or all");
    require(a->phrasings == "train" || a->phrasings == "heldout",
            "--phrasings '" + a->phrasings + "' is not a phrasing set", "use train or heldout");
    check_output_file(a->out, "--out", ".tsv", "captions.tsv");
    Config cfg;
    cfg.set("data.dataset", a->dataset);
    cfg.set("data.path", a->data_path);
    cfg.set("data.limit", a->limit);
    ImageSet set = open_dataset(cfg, a->split);
    const std::string tsv = fashion_captions_tsv(set.images, set.labels, a->per_image,
                                                 a->phrasings == "train" ? Phrasings::Train : Phrasings::HeldOut,
                                                 uint64_t(a->seed));
    write_file_atomic(a->out, tsv);
    std::printf("wrote %lld captions of %lld images (%s phrasings, seed %lld) to %s\n",
                (long long)(set.size() * a->per_image), (long long)set.size(), a->phrasings.c_str(),
                (long long)a->seed, a->out.c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(75, "captions", add_captions);

}  // namespace duel::cli
