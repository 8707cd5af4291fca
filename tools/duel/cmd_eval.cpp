// `duel eval`: score a checkpoint's generator against the real data and print
// every figure beside its real-vs-real floor; image-to-image checkpoints are
// scored by their translations instead (src/apps/translation_eval.cpp).
//
//   duel eval --checkpoint runs/x/checkpoints/latest.duel [--n 10000] [--features NET]
//             [--save-features DIR] [--out FILE.json]
//
// The library does the work (src/metrics/evaluate.cpp) and writes
// <run>/eval/step-NNNNNN.json; this file only parses options and renders the
// table. docs/metrics.md defines each figure.
#include <cstdio>
#include <string>

#include "commands.h"
#include "duel/apps/eval_checkpoint.h"
#include "duel/apps/translation_eval.h"
#include "duel/core/error.h"

namespace duel::cli {
namespace {

struct EvalArgs {
  EvalRequest req;
  int threads = 0;
  bool no_floor = false;
  std::string split = "test";
  bool n_set = false;
};

std::string num(double v, int prec = 4) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}
std::string pm(const MeanStd& m, int prec, double scale = 1.0) {
  return num(m.mean * scale, prec) + " ± " + num(m.std * scale, prec);
}

// Pads s to `width` terminal columns: UTF-8 continuation bytes (of the ±) take none.
std::string pad(const std::string& s, size_t width) {
  size_t cols = 0;
  for (unsigned char c : s) cols += (c & 0xC0) != 0x80;
  return cols >= width ? s : s + std::string(width - cols, ' ');
}

void row(const std::string& name, const std::string& gen, const std::string& floor, const std::string& note = "") {
  std::printf("  %-18s %s %s %s\n", name.c_str(), pad(gen, 22).c_str(), pad(floor, 22).c_str(), note.c_str());
}

void print_table(const EvalReport& r) {
  const MetricValues &g = r.generated, &f = r.floor;
  const bool fl = r.has_floor;
  auto fv = [&](auto get) -> std::string { return fl ? get() : std::string("-"); };
  std::printf("\n%s step %lld: %s\n", r.model.c_str(), (long long)r.step, r.generated_description.c_str());
  std::printf("reference: %s\n", r.reference_description.c_str());
  if (fl) std::printf("floor:     %s vs the reference\n", r.floor_description.c_str());
  std::printf("features:  %s (%s, hash %s, %lld-d", r.features.path.c_str(), r.features.kind.c_str(),
              r.features.hash.c_str(), (long long)r.features.feature_dim);
  if (r.features.accuracy >= 0) std::printf(", test accuracy %.4f", r.features.accuracy);
  std::printf(")\n\n");
  row("metric", "generated", "real floor", "");
  row("FID", num(g.fid, 3), fv([&] { return num(f.fid, 3); }), "lower is better");
  row("KID x 1000", pm(g.kid, 3, 1000.0), fv([&] { return pm(f.kid, 3, 1000.0); }), "lower is better");
  if (g.inception)
    row("Inception Score", pm(*g.inception, 3), fl && f.inception ? pm(*f.inception, 3) : "-",
        "higher is better (real: the reference images)");
  if (g.manifold) {
    row("precision", num(g.manifold->precision), fv([&] { return num(f.manifold->precision); }), "k=3, higher is better");
    row("recall", num(g.manifold->recall), fv([&] { return num(f.manifold->recall); }), "k=3, higher is better");
    row("density", num(g.manifold->density), fv([&] { return num(f.manifold->density); }), "~1 for real data");
    row("coverage", num(g.manifold->coverage), fv([&] { return num(f.manifold->coverage); }), "higher is better");
  }
  if (g.swd_pixels) row("SWD pixels", num(*g.swd_pixels), fv([&] { return num(*f.swd_pixels); }), "lower is better");
  if (g.swd_features)
    row("SWD features", num(*g.swd_features), fv([&] { return num(*f.swd_features); }), "lower is better");
  if (g.class_accuracy || (fl && f.class_accuracy))
    row("class accuracy", g.class_accuracy ? num(*g.class_accuracy) : "- (unconditional)",
        fl && f.class_accuracy ? num(*f.class_accuracy) : "-", "requested class recognised");
  std::printf("\n");
  std::printf("time:");
  for (size_t i = 0; i < r.seconds.size(); ++i)
    std::printf("%s %s %.1f s", i ? "," : "", r.seconds[i].first.c_str(), r.seconds[i].second);
  std::printf("\n");
  std::printf("wrote %s\n", r.json_path.c_str());
}

void print_translation(const TranslationReport& r) {
  std::printf("\n%s step %lld: translated %lld images of %s\n", r.model.c_str(), (long long)r.step,
              (long long)r.images, r.data.c_str());
  if (r.output) {
    std::printf("\n  %-12s %-10s %-10s %s\n", "", "L1", "PSNR dB", "SSIM");
    auto line = [](const char* name, const PairedScores& s) {
      std::printf("  %-12s %-10.4f %-10.2f %.4f\n", name, s.l1, s.psnr, s.ssim);
    };
    line("output", *r.output);
    if (r.baseline) line(r.baseline_name.c_str(), *r.baseline);
    std::printf("  (against the target; L1 in [0, 1] pixel units; outputs scored as 8-bit images)\n");
  }
  if (r.acc_ab) {
    std::printf("\n  classifier (%s, hash %s) recognises:\n", r.features->path.c_str(), r.features->hash.c_str());
    std::printf("    G_AB(A) as %-12s %.4f   (untranslated A: %.4f)\n", r.class_b.c_str(), *r.acc_ab, *r.base_acc_ab);
    std::printf("    G_BA(B) as %-12s %.4f   (untranslated B: %.4f)\n", r.class_a.c_str(), *r.acc_ba, *r.base_acc_ba);
  }
  if (r.cycle_a) std::printf("\n  cycle L1: A -> B -> A %.4f, B -> A -> B %.4f\n", *r.cycle_a, *r.cycle_b);
  std::printf("\ntime:");
  for (size_t i = 0; i < r.seconds.size(); ++i)
    std::printf("%s %s %.1f s", i ? "," : "", r.seconds[i].first.c_str(), r.seconds[i].second);
  std::printf("\nwrote %s\n", r.json_path.c_str());
}

Action add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto& o = a->req.options;
  auto* cmd = app.add_subcommand("eval", "score a checkpoint: FID, KID, IS, precision/recall, SWD, with the real floor");
  cmd->add_option("--checkpoint,-k", a->req.checkpoint, "checkpoint file (runs/<name>/checkpoints/latest.duel)")
      ->required();
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
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--split", a->split, "image-to-image models: the split to translate and score")
      ->check(CLI::IsMember({"train", "test", "all"}));
  return [a]() -> int {
    apply_threads(a->threads);
    a->req.checkpoint = checkpoint_arg(a->req.checkpoint);
    auto say = [](const std::string& s) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    };
    if (checkpoint_translates(a->req.checkpoint)) {
      TranslationEvalRequest t;
      t.checkpoint = a->req.checkpoint;
      t.features = a->req.features;
      t.out_json = a->req.out_json;
      t.split = a->split;
      t.n = a->n_set ? a->req.options.n : 0;
      print_translation(evaluate_translation(t, say));
      return 0;
    }
    a->req.options.floor = !a->no_floor;
    EvalReport r = evaluate_checkpoint(a->req, [](const std::string& s) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    });
    print_table(r);
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(30, "eval", add_eval);

}  // namespace duel::cli
