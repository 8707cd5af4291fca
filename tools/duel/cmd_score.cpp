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
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/models/aae.h"
#include "duel/models/model.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {

struct ScoreArgs {
  std::string checkpoint, out, summary, split = "test", dataset, data_path, score, recon_grid;
  std::vector<std::string> sets;
  int64_t anomaly_class = -1, batch = 256, recon_n = 32;
  double score_weight = -1.0;
  int threads = 0;
};


std::string fmt(double v, const char* f = "%.9g") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string class_label(const ImageSet& data, int64_t c) {
  std::string s = std::to_string(c);
  if (c >= 0 && c < int64_t(data.class_names.size()) && data.class_names[size_t(c)] != s)
    s += " (" + data.class_names[size_t(c)] + ")";
  return s;
}

// The config the data is opened with: the checkpoint's, every image of the split, then the user's changes.
Config data_config(const Config& ck_cfg, const ScoreArgs& a) {
  Config cfg = ck_cfg;
  cfg.set("data.limit", int64_t(0));
  cfg.set("data.exclude_class", int64_t(-1));
  if (!a.dataset.empty()) {
    cfg.set_from_string("data.dataset=" + a.dataset);
    cfg.set("data.path", std::string(""));
  }
  if (!a.data_path.empty()) cfg.set("data.path", a.data_path);
  for (const auto& s : a.sets) {
    require(s.rfind("data.", 0) == 0, "duel score --set '" + s + "': only data.* keys can be changed here",
            "the model's keys come from the checkpoint; choose the score with --score");
    cfg.set_from_string(s);
  }
  return cfg;
}

Action add_score(CLI::App& app) {
  auto a = std::make_shared<ScoreArgs>();
  auto* cmd = app.add_subcommand("score", "anomaly scores of every image of a dataset split (aae checkpoints), and the AUROC of one class");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file (runs/<name>/checkpoints/latest.duel)")->required();
  cmd->add_option("--out,-o", a->out, "CSV to write: index,label,score")->required();
  cmd->add_option("--anomaly-class,--labels-positive", a->anomaly_class,
                  "class that counts as the anomaly (positive): report the AUROC of it vs the rest")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--split", a->split, "split to score (default: test)")->check(CLI::IsMember({"train", "test", "all"}));
  cmd->add_option("--dataset", a->dataset, "dataset to score instead of the checkpoint's (fashion-mnist, mnist, cifar10, folder:<path>)");
  cmd->add_option("--data-path", a->data_path, "folder of the dataset files (data.path)");
  cmd->add_option("--set", a->sets, "change a data key: --set data.limit=1000 (repeatable)")->take_all();
  cmd->add_option("--score", a->score, "aae score: recon, latent, disc or combined (default: the checkpoint's model.aae_score)")
      ->check(CLI::IsMember({"recon", "latent", "disc", "combined"}));
  cmd->add_option("--score-weight", a->score_weight, "aae: weight of the latent term in the combined score")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--summary", a->summary, "JSON summary to write (default: --out with .json)");
  cmd->add_option("--recon-grid", a->recon_grid, "PNG of originals above their reconstructions");
  cmd->add_option("--recon-n", a->recon_n, "images in the reconstruction grid")->check(CLI::Range(int64_t(2), int64_t(4096)));
  cmd->add_option("--batch", a->batch, "images scored per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    check_output_file(a->out, "--out", ".csv", "scores.csv");
    if (a->summary.empty()) a->summary = fs::path(a->out).replace_extension(".json").string();
    check_output_file(a->summary, "--summary", ".json", "summary.json");
    if (!a->recon_grid.empty()) check_output_file(a->recon_grid, "--recon-grid", ".png", "samples.png");
    apply_threads(a->threads);

    Checkpoint ck = Checkpoint::read(a->checkpoint);
    const DataShape shape = ck.state().shape;
    Config model_cfg = Config::from_string(ck.config_toml(), ck.path());
    if (!a->score.empty()) model_cfg.set("model.aae_score", a->score);
    if (a->score_weight >= 0) model_cfg.set("model.aae_score_weight", a->score_weight);
    auto model = create_model(model_cfg, shape);
    ck.restore(*model, /*optimizers=*/false);
    auto* aae = dynamic_cast<Aae*>(model.get());
    if (!aae)
      throw Error("checkpoint '" + a->checkpoint + "' holds a " + ck.model_name() + " model, which cannot score images",
                  "duel score needs an aae checkpoint: duel train --config configs/aae28.toml --out runs/aae28");
    const std::string score_name = model_cfg.get_string("model.aae_score");

    Config cfg = data_config(model_cfg, *a);
    ImageSet data = open_dataset(cfg, a->split);
    require(data.images.size(1) == shape.channels && data.images.size(2) == shape.size && data.images.size(3) == shape.size,
            "the data (" + data.description + ") does not match the checkpoint's images (" +
                std::to_string(shape.channels) + "x" + std::to_string(shape.size) + "x" + std::to_string(shape.size) + ")",
            "set data.image_size and data.channels to the checkpoint's (--set data.image_size=" +
                std::to_string(shape.size) + " --set data.channels=" + std::to_string(shape.channels) + ")");
    if (a->anomaly_class >= 0) {
      require(data.has_labels(), "--anomaly-class needs labels, and " + data.description + " has none",
              "score a labelled dataset, or drop --anomaly-class");
      require(a->anomaly_class < data.num_classes,
              "--anomaly-class " + std::to_string(a->anomaly_class) + " is out of range: " + data.description +
                  " has " + std::to_string(data.num_classes) + " classes",
              "use --anomaly-class 0 to " + std::to_string(data.num_classes - 1));
    }

    // Scores, batch by batch.
    const int64_t n = data.size();
    std::vector<torch::Tensor> recon, latent, disc, chosen;
    for (int64_t i = 0; i < n; i += a->batch) {
      auto x = to_unit_range(data.images.slice(0, i, std::min(n, i + a->batch)));  // [B, C, H, W]
      auto parts = aae->score_parts(x);
      recon.push_back(parts.recon);
      latent.push_back(parts.latent);
      disc.push_back(parts.disc);
      chosen.push_back(aae->combine(parts));
    }
    auto to_vec = [](const std::vector<torch::Tensor>& parts) {
      auto t = torch::cat(parts).to(torch::kFloat64).contiguous();
      return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
    };
    const std::vector<double> scores = to_vec(chosen);
    std::vector<int64_t> labels;
    if (data.has_labels()) {
      auto l = data.labels.contiguous();
      labels.assign(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
    }

    std::ostringstream csv;
    csv << "index,label,score\n";
    for (int64_t i = 0; i < n; ++i)
      csv << i << ',' << (labels.empty() ? std::string() : std::to_string(labels[size_t(i)])) << ','
          << fmt(scores[size_t(i)]) << '\n';
    write_file_atomic(a->out, csv.str());

    nlohmann::json js = {{"checkpoint", a->checkpoint}, {"model", ck.model_name()}, {"step", ck.state().step},
                         {"data", data.description}, {"split", a->split}, {"n", n}, {"score", score_name},
                         {"csv", a->out}};
    if (score_name == "combined") js["score_weight"] = model_cfg.get_float("model.aae_score_weight");
    std::printf("scored %lld images of %s with %s step %lld (score: %s)\n", (long long)n, data.description.c_str(),
                ck.model_name().c_str(), (long long)ck.state().step, score_name.c_str());
    if (!labels.empty()) {
      nlohmann::json per_class = nlohmann::json::object();
      for (int64_t c = 0; c < data.num_classes; ++c) {
        double sum = 0;
        int64_t m = 0;
        for (int64_t i = 0; i < n; ++i)
          if (labels[size_t(i)] == c) sum += scores[size_t(i)], ++m;
        if (m > 0) per_class[std::to_string(c)] = {{"name", class_label(data, c)}, {"n", m}, {"mean_score", sum / double(m)}};
      }
      js["per_class"] = per_class;
    }
    if (a->anomaly_class >= 0) {
      std::vector<bool> positive(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) positive[size_t(i)] = labels[size_t(i)] == a->anomaly_class;
      const int64_t n_pos = std::count(positive.begin(), positive.end(), true);
      const double auc = auroc(scores, positive);
      std::printf("AUROC of class %s vs the rest: %.4f (%lld positive, %lld negative images)\n",
                  class_label(data, a->anomaly_class).c_str(), auc, (long long)n_pos, (long long)(n - n_pos));
      js["anomaly_class"] = a->anomaly_class;
      js["anomaly_class_name"] = class_label(data, a->anomaly_class);
      js["auroc"] = auc;
      js["n_positive"] = n_pos;
      js["n_negative"] = n - n_pos;
      const double w = model_cfg.get_float("model.aae_score_weight");
      std::vector<double> r = to_vec(recon), l = to_vec(latent), d = to_vec(disc), c(r.size());
      for (size_t i = 0; i < r.size(); ++i) c[i] = r[i] + w * l[i];
      nlohmann::json by = {{"recon", auroc(r, positive)}, {"latent", auroc(l, positive)}, {"disc", auroc(d, positive)},
                           {"combined", auroc(c, positive)}};
      js["auroc_by_score"] = by;
      std::printf("  by score kind: recon %.4f, latent %.4f, disc %.4f, combined (w=%g) %.4f\n",
                  by["recon"].get<double>(), by["latent"].get<double>(), by["disc"].get<double>(), w,
                  by["combined"].get<double>());
    }
    write_file_atomic(a->summary, js.dump(2) + "\n");
    std::printf("wrote %s and %s\n", a->out.c_str(), a->summary.c_str());

    if (!a->recon_grid.empty()) {
      // Which images: the first recon_n, or up to recon_n/2 of other classes and as many of the anomaly class.
      std::vector<std::vector<int64_t>> groups;
      if (a->anomaly_class >= 0) {
        const int64_t half = a->recon_n / 2;
        groups.resize(2);
        for (int64_t i = 0; i < n; ++i) {
          auto& g = groups[labels[size_t(i)] == a->anomaly_class ? 1 : 0];
          if (int64_t(g.size()) < half) g.push_back(i);
        }
      } else {
        groups.resize(1);
        for (int64_t i = 0; i < std::min(n, a->recon_n); ++i) groups[0].push_back(i);
      }
      const int64_t cols = std::min<int64_t>(16, a->anomaly_class >= 0 ? a->recon_n / 2 : a->recon_n);
      // Row pairs: cols originals, then their reconstructions; a group's short last row is padded with black.
      std::vector<torch::Tensor> rows;
      int64_t m = 0;
      for (const auto& g : groups) {
        if (g.empty()) continue;
        m += int64_t(g.size());
        auto x = to_unit_range(data.images.index_select(0, torch::tensor(g, torch::kInt64)));  // [g, C, H, W]
        auto x_hat = aae->reconstruct(x);                                                     // [g, C, H, W]
        for (int64_t i = 0; i < x.size(0); i += cols) {
          const int64_t e = std::min(x.size(0), i + cols);
          auto orig = x.slice(0, i, e), rec = x_hat.slice(0, i, e);
          if (e - i < cols) {
            auto pad = torch::full({cols - (e - i), x.size(1), x.size(2), x.size(3)}, -1.0f);
            orig = torch::cat({orig, pad});
            rec = torch::cat({rec, pad});
          }
          rows.push_back(orig);
          rows.push_back(rec);
        }
      }
      write_png(a->recon_grid, make_grid(torch::cat(rows), cols));
      std::printf("wrote %lld originals above their reconstructions to %s%s\n", (long long)m, a->recon_grid.c_str(),
                  a->anomaly_class >= 0 ? (" (upper rows: other classes, lower rows: class " +
                                           class_label(data, a->anomaly_class) + ")").c_str()
                                        : "");
    }
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(35, "score", add_score);

}  // namespace duel::cli
