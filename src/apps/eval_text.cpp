// The results of `duel eval` as text (include/duel/apps/eval_text.h): the
// metric table with the real floor beside each figure, and the scores of an
// image-to-image evaluation.
#include "duel/apps/eval_text.h"

#include <cstdarg>
#include <cstdio>

namespace duel {
namespace {

std::string format(const char* fmt, ...) {
  va_list args, again;
  va_start(args, fmt);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string out(size_t(n > 0 ? n : 0) + 1, '\0');
  std::vsnprintf(out.data(), out.size(), fmt, again);
  va_end(again);
  out.pop_back();
  return out;
}

std::string times_text(const std::vector<std::pair<std::string, double>>& seconds, const std::string& json_path) {
  std::string out = "time:";
  for (size_t i = 0; i < seconds.size(); ++i)
    out += format("%s %s %.1f s", i ? "," : "", seconds[i].first.c_str(), seconds[i].second);
  // Scoring an image folder writes a JSON only with --out.
  return out + (json_path.empty() ? std::string("\n") : "\nwrote " + json_path + "\n");
}

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

std::string row(const std::string& name, const std::string& gen, const std::string& floor,
                const std::string& note = "") {
  return format("  %-18s %s %s %s\n", name.c_str(), pad(gen, 22).c_str(), pad(floor, 22).c_str(), note.c_str());
}

// The memorisation check and the class balance, below the metric table.
std::string inspection_text(const EvalReport& r) {
  std::string out;
  if (r.memorisation) {
    const Memorisation& m = *r.memorisation;
    out += format("\nmemorisation (nearest of %lld training images in feature space, against %lld held-out images):\n",
                  (long long)m.train, (long long)m.held_out);
    out += format("  samples closer to a training image than %.0f%% of held-out images: %.4f (fresh images: %.4f)%s\n",
                  100 * (1 - r.memorisation_quantile), m.share, m.held_out_share,
                  m.warn ? "  HIGH: the generator may copy its training data" : "");
    out += format("  median distance to the nearest training image: samples %.4g, held-out %.4g (threshold %.4g)\n",
                  m.median_sample, m.median_held_out, m.threshold);
    out += format("  exact copies (distance 0): samples %.4f, held-out %.4f\n", m.exact_share, m.held_out_exact_share);
    if (!r.closest_png.empty()) out += format("  closest pairs (sample above its training image): %s\n", r.closest_png.c_str());
  } else if (!r.memorisation_note.empty()) {
    out += format("\nmemorisation: %s\n", r.memorisation_note.c_str());
  }
  if (r.class_balance) {
    const ClassBalance& b = *r.class_balance;
    out += "\nclass balance (share of images the feature network assigns to each class):\n";
    out += format("  %-18s %-10s %s\n", "class", "generated", "reference");
    for (size_t k = 0; k < b.generated.size(); ++k)
      out += format("  %-18s %-10.4f %.4f\n", r.class_names.at(k).c_str(), b.generated[k], b.reference[k]);
    out += format("  total variation    %.4f", b.total_variation);
    out += r.class_balance_floor ? format(" (real floor %.4f)\n", *r.class_balance_floor) : std::string("\n");
  }
  return out;
}

}  // namespace

std::string eval_table_text(const EvalReport& r) {
  std::string out;
  const MetricValues &g = r.generated, &f = r.floor;
  const bool fl = r.has_floor;
  auto fv = [&](auto get) -> std::string { return fl ? get() : std::string("-"); };
  if (r.model == "images")  // duel eval --images: no model, no step
    out += format("\nscored: %s\n", r.generated_description.c_str());
  else
    out += format("\n%s step %lld: %s\n", r.model.c_str(), (long long)r.step, r.generated_description.c_str());
  out += format("reference: %s\n", r.reference_description.c_str());
  if (fl) out += format("floor:     %s vs the reference\n", r.floor_description.c_str());
  out += format("features:  %s (%s, hash %s, %lld-d", r.features.path.c_str(), r.features.kind.c_str(),
                r.features.hash.c_str(), (long long)r.features.feature_dim);
  if (r.features.accuracy >= 0) out += format(", test accuracy %.4f", r.features.accuracy);
  out += format(")\n\n");
  out += row("metric", "generated", "real floor");
  out += row("FID", num(g.fid, 3), fv([&] { return num(f.fid, 3); }), "lower is better");
  out += row("KID x 1000", pm(g.kid, 3, 1000.0), fv([&] { return pm(f.kid, 3, 1000.0); }), "lower is better");
  if (g.inception)
    out += row("Inception Score", pm(*g.inception, 3), fl && f.inception ? pm(*f.inception, 3) : "-",
               "higher is better (real: the reference images)");
  if (g.manifold) {
    out += row("precision", num(g.manifold->precision), fv([&] { return num(f.manifold->precision); }),
               "k=3, higher is better");
    out += row("recall", num(g.manifold->recall), fv([&] { return num(f.manifold->recall); }), "k=3, higher is better");
    out += row("density", num(g.manifold->density), fv([&] { return num(f.manifold->density); }), "~1 for real data");
    out +=
        row("coverage", num(g.manifold->coverage), fv([&] { return num(f.manifold->coverage); }), "higher is better");
  }
  if (g.swd_pixels)
    out += row("SWD pixels", num(*g.swd_pixels), fv([&] { return num(*f.swd_pixels); }), "lower is better");
  if (g.swd_features)
    out += row("SWD features", num(*g.swd_features), fv([&] { return num(*f.swd_features); }), "lower is better");
  if (g.class_accuracy || (fl && f.class_accuracy))
    out += row("class accuracy", g.class_accuracy ? num(*g.class_accuracy) : "- (unconditional)",
               fl && f.class_accuracy ? num(*f.class_accuracy) : "-", "requested class recognised");
  return out + inspection_text(r) + "\n" + times_text(r.seconds, r.json_path);
}

std::string translation_text(const TranslationReport& r) {
  std::string out;
  out += format("\n%s step %lld: translated %lld images of %s\n", r.model.c_str(), (long long)r.step,
                (long long)r.images, r.data.c_str());
  if (r.output) {
    out += format("\n  %-12s %-10s %-10s %s\n", "", "L1", "PSNR dB", "SSIM");
    auto line = [&out](const char* name, const PairedScores& s) {
      out += format("  %-12s %-10.4f %-10.2f %.4f\n", name, s.l1, s.psnr, s.ssim);
    };
    line("output", *r.output);
    if (r.baseline) line(r.baseline_name.c_str(), *r.baseline);
    out += format("  (against the target; L1 in [0, 1] pixel units; outputs scored as 8-bit images)\n");
    if (r.feature_distance)
      out += format("  feature distance to the target (mean squared, per dimension; %s, hash %s): output %.4f, %s %.4f\n",
                    r.features->path.c_str(), r.features->hash.c_str(), *r.feature_distance, r.baseline_name.c_str(),
                    *r.baseline_feature_distance);
  }
  if (r.acc_ab) {
    out += format("\n  classifier (%s, hash %s%s%s) recognises:\n", r.features->path.c_str(), r.features->hash.c_str(),
                  r.domain_method.empty() ? "" : "; ", r.domain_method.c_str());
    out += format("    G_AB(A) as %-12s %.4f   (untranslated A: %.4f)\n", r.class_b.c_str(), *r.acc_ab, *r.base_acc_ab);
    out += format("    G_BA(B) as %-12s %.4f   (untranslated B: %.4f)\n", r.class_a.c_str(), *r.acc_ba, *r.base_acc_ba);
  }
  if (r.cycle_a) out += format("\n  cycle L1: A -> B -> A %.4f, B -> A -> B %.4f\n", *r.cycle_a, *r.cycle_b);
  return out + "\n" + times_text(r.seconds, r.json_path);
}

}  // namespace duel
