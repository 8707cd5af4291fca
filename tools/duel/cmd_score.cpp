// `duel score`: per-image anomaly scores of a dataset split from a
// checkpoint whose model can score (the aae), and the AUROC of separating one
// class from the rest by score.
//
//   duel score --checkpoint runs/aae28/checkpoints/latest.duel --out scores.csv
//              [--anomaly-class 0] [--split test] [--dataset NAME] [--data-path DIR] [--set data.KEY=VALUE]
//              [--score recon|latent|disc|combined] [--score-weight W] [--summary FILE.json]
//              [--recon-grid recon.png] [--recon-n 32]
//
// The data is the checkpoint's own dataset (its data.* keys) and the test
// split, with data.limit and data.exclude_class reset so that every image,
// the held-out class included, is scored; --dataset, --data-path and --set
// data.* change that. Outputs:
//   --out          CSV: index,label,score (index within the split; label empty when the data has none)
//   --summary      JSON (default: --out with .json): settings, score statistics per class and,
//                  with --anomaly-class, the AUROC (aae: of every score kind too)
//   --recon-grid   originals above their reconstructions (rows in pairs); with --anomaly-class
//                  the upper pair holds other classes and the lower pair the anomaly class
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/anomaly.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/io/image.h"
#include "duel/checkpoint/checkpoint.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {

struct ScoreArgs {
  AnomalyRequest req;
  std::string out, summary, recon_grid;
  int64_t recon_n = 32;
  int threads = 0;
};

Action add_score(CLI::App& app) {
  auto a = std::make_shared<ScoreArgs>();
  auto* cmd = app.add_subcommand("score", "anomaly scores of every image of a dataset split (aae checkpoints), and the AUROC of one class");
  cmd->add_option("--checkpoint,-k", a->req.checkpoint, "checkpoint file, or a run folder for its newest good checkpoint (runs/<name>)")->required();
  cmd->add_option("--out,-o", a->out, "CSV to write: index,label,score")->required();
  cmd->add_option("--anomaly-class,--labels-positive", a->req.anomaly_class,
                  "class that counts as the anomaly (positive): report the AUROC of it vs the rest")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--split", a->req.split, "split to score (default: test)")->check(CLI::IsMember({"train", "test", "all"}));
  cmd->add_option("--dataset", a->req.dataset, "dataset to score instead of the checkpoint's (fashion-mnist, mnist, cifar10, folder:<path>)");
  cmd->add_option("--data-path", a->req.data_path, "folder of the dataset files (data.path)");
  cmd->add_option("--set", a->req.sets, "change a data key: --set data.limit=1000 (repeatable)")->take_all();
  cmd->add_option("--score", a->req.score, "aae score: recon, latent, disc or combined (default: the checkpoint's model.aae_score)")
      ->check(CLI::IsMember({"recon", "latent", "disc", "combined"}));
  cmd->add_option("--score-weight", a->req.score_weight, "aae: weight of the latent term in the combined score")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--summary", a->summary, "JSON summary to write (default: --out with .json)");
  cmd->add_option("--recon-grid", a->recon_grid, "PNG of originals above their reconstructions");
  cmd->add_option("--recon-n", a->recon_n, "images in the reconstruction grid")->check(CLI::Range(int64_t(2), int64_t(4096)));
  cmd->add_option("--batch", a->req.batch, "images scored per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    a->req.checkpoint = checkpoint_arg(a->req.checkpoint);
    const AnomalyRequest& req = a->req;
    check_output_file(a->out, "--out", ".csv", "scores.csv");
    if (a->summary.empty()) a->summary = fs::path(a->out).replace_extension(".json").string();
    check_output_file(a->summary, "--summary", ".json", "summary.json");
    if (!a->recon_grid.empty()) check_output_file(a->recon_grid, "--recon-grid", ".png", "samples.png");
    apply_threads(a->threads);

    Checkpoint ck = Checkpoint::read(req.checkpoint);
    AnomalyScoring s = open_anomaly_scoring(ck, req);
    score_images(s, req.batch);
    write_file_atomic(a->out, scores_csv(s));
    std::printf("scored %lld images of %s with %s step %lld (score: %s)\n", (long long)s.data.size(),
                s.data.description.c_str(), s.model_name.c_str(), (long long)s.step, s.score_name.c_str());
    const AnomalySummary sum = summarise_scores(s, req, a->out);
    if (req.anomaly_class >= 0) {
      std::printf("AUROC of class %s vs the rest: %.4f (%lld positive, %lld negative images)\n",
                  anomaly_class_label(s.data, req.anomaly_class).c_str(), sum.auroc, (long long)sum.n_positive,
                  (long long)sum.n_negative);
      std::string kinds;
      for (const auto& [name, auc] : sum.auroc_by_kind) {
        char b[96];
        if (name == "combined") std::snprintf(b, sizeof b, "%s (w=%g) %.4f", name.c_str(), sum.score_weight, auc);
        else std::snprintf(b, sizeof b, "%s %.4f", name.c_str(), auc);
        kinds += (kinds.empty() ? "" : ", ") + std::string(b);
      }
      if (!kinds.empty()) std::printf("  by score kind: %s\n", kinds.c_str());
      const int64_t held_out = s.model_config.get_int("data.exclude_class");
      if (req.dataset.empty() && held_out != req.anomaly_class) {  // the model saw this class in training
        std::fprintf(stderr, "warning: class %lld was in the training data (%s), so its AUROC is no anomaly test\n",
                     (long long)req.anomaly_class,
                     held_out < 0 ? "the run held out no class" : ("data.exclude_class=" + std::to_string(held_out)).c_str());
        std::fprintf(stderr, "hint: %s\n", held_out < 0 ? "train with --set data.exclude_class=K and score class K"
                                                        : ("score the held-out class: --anomaly-class " + std::to_string(held_out)).c_str());
      }
    }
    write_file_atomic(a->summary, sum.json);
    std::printf("wrote %s and %s\n", a->out.c_str(), a->summary.c_str());

    if (!a->recon_grid.empty()) {
      const ReconstructionGrid g = reconstruction_grid(s, req.anomaly_class, a->recon_n);
      write_png(a->recon_grid, g.grid);
      std::printf("wrote %lld originals above their reconstructions to %s%s\n", (long long)g.images,
                  a->recon_grid.c_str(),
                  req.anomaly_class >= 0 ? (" (upper rows: other classes, lower rows: class " +
                                            anomaly_class_label(s.data, req.anomaly_class) + ")").c_str()
                                         : "");
    }
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(35, "score", add_score);

}  // namespace duel::cli
