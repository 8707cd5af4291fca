// Anomaly scoring (include/duel/apps/anomaly.h): opens the checkpoint's data
// with every image of the split, scores it through AnomalyScorer::anomaly_scores,
// summarises the scores (per class; AUROC of one class vs the rest) and draws
// reconstructions through AnomalyScorer::reconstruct.
#include "duel/apps/anomaly.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "duel/apps/model_loading.h"
#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/metrics/auroc.h"
#include "duel/models/capabilities.h"

namespace duel {
namespace {

std::string fmt(double v, const char* f = "%.9g") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// The config the data is opened with: the checkpoint's, every image of the split, then the user's changes.
Config data_config(const Config& ck_cfg, const AnomalyRequest& a) {
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

std::vector<double> to_vec(const std::vector<torch::Tensor>& parts) {
  auto t = torch::cat(parts).to(torch::kFloat64).contiguous();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

}  // namespace

std::string anomaly_class_label(const ImageSet& data, int64_t c) {
  std::string s = std::to_string(c);
  if (c >= 0 && c < int64_t(data.class_names.size()) && data.class_names[size_t(c)] != s)
    s += " (" + data.class_names[size_t(c)] + ")";
  return s;
}

AnomalyScoring open_anomaly_scoring(const Checkpoint& ck, const AnomalyRequest& a) {
  AnomalyScoring s;
  const DataShape shape = ck.state().shape;
  s.model_name = ck.model_name();
  s.step = ck.state().step;
  s.model_config = checkpoint_config(ck);
  if (!a.score.empty()) s.model_config.set("model.aae_score", a.score);
  if (a.score_weight >= 0) s.model_config.set("model.aae_score_weight", a.score_weight);
  s.model = model_from_checkpoint(ck, s.model_config);
  if (!capability<AnomalyScorer>(*s.model))
    throw Error("checkpoint '" + a.checkpoint + "' holds a " + ck.model_name() + " model, which cannot score images",
                "duel score needs an aae checkpoint: duel train --config configs/aae28.toml --out runs/aae28");
  s.score_name = s.model_config.get_string("model.aae_score");

  Config cfg = data_config(s.model_config, a);
  s.data = open_dataset(cfg, a.split);
  const ImageSet& data = s.data;
  require(data.images.size(1) == shape.channels && data.images.size(2) == shape.size && data.images.size(3) == shape.size,
          "the data (" + data.description + ") does not match the checkpoint's images (" +
              std::to_string(shape.channels) + "x" + std::to_string(shape.size) + "x" + std::to_string(shape.size) + ")",
          "set data.image_size and data.channels to the checkpoint's (--set data.image_size=" +
              std::to_string(shape.size) + " --set data.channels=" + std::to_string(shape.channels) + ")");
  if (a.anomaly_class >= 0) {
    require(data.has_labels(), "--anomaly-class needs labels, and " + data.description + " has none",
            "score a labelled dataset, or drop --anomaly-class");
    require(a.anomaly_class < data.num_classes,
            "--anomaly-class " + std::to_string(a.anomaly_class) + " is out of range: " + data.description + " has " +
                std::to_string(data.num_classes) + " classes",
            "use --anomaly-class 0 to " + std::to_string(data.num_classes - 1));
  }
  return s;
}

void score_images(AnomalyScoring& s, int64_t batch) {
  const int64_t n = s.data.size();
  std::vector<torch::Tensor> chosen;
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> kinds;
  for (int64_t i = 0; i < n; i += batch) {
    auto x = to_unit_range(s.data.images.slice(0, i, std::min(n, i + batch)));  // [B, C, H, W]
    auto scored = require_capability<AnomalyScorer>(*s.model).anomaly_scores(x);
    chosen.push_back(scored.score);
    if (kinds.empty())
      for (const auto& [name, t] : scored.kinds) kinds.push_back({name, {}});
    for (size_t k = 0; k < kinds.size(); ++k) kinds[k].second.push_back(scored.kinds[k].second);
  }
  s.scores = to_vec(chosen);
  s.kinds.clear();
  for (const auto& [name, parts] : kinds) s.kinds.push_back({name, to_vec(parts)});
  s.labels.clear();
  if (s.data.has_labels()) {
    auto l = s.data.labels.contiguous();
    s.labels.assign(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
  }
}

std::string scores_csv(const AnomalyScoring& s) {
  std::ostringstream csv;
  csv << "index,label,score\n";
  for (size_t i = 0; i < s.scores.size(); ++i)
    csv << i << ',' << (s.labels.empty() ? std::string() : std::to_string(s.labels[i])) << ',' << fmt(s.scores[i])
        << '\n';
  return csv.str();
}

AnomalySummary summarise_scores(const AnomalyScoring& s, const AnomalyRequest& a, const std::string& csv_path) {
  AnomalySummary out;
  const int64_t n = int64_t(s.scores.size());
  const auto& data = s.data;
  out.score_weight = s.model_config.get_float("model.aae_score_weight");
  nlohmann::json js = {{"checkpoint", a.checkpoint}, {"model", s.model_name}, {"step", s.step},
                       {"data", data.description}, {"split", a.split}, {"n", n}, {"score", s.score_name},
                       {"csv", csv_path}};
  if (s.score_name == "combined") js["score_weight"] = out.score_weight;
  if (!s.labels.empty()) {
    nlohmann::json per_class = nlohmann::json::object();
    for (int64_t c = 0; c < data.num_classes; ++c) {
      double sum = 0;
      int64_t m = 0;
      for (int64_t i = 0; i < n; ++i)
        if (s.labels[size_t(i)] == c) sum += s.scores[size_t(i)], ++m;
      if (m > 0)
        per_class[std::to_string(c)] = {{"name", anomaly_class_label(data, c)}, {"n", m}, {"mean_score", sum / double(m)}};
    }
    js["per_class"] = per_class;
  }
  if (a.anomaly_class >= 0) {
    std::vector<bool> positive(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) positive[size_t(i)] = s.labels[size_t(i)] == a.anomaly_class;
    out.n_positive = std::count(positive.begin(), positive.end(), true);
    out.n_negative = n - out.n_positive;
    out.auroc = auroc(s.scores, positive);
    js["anomaly_class"] = a.anomaly_class;
    js["anomaly_class_name"] = anomaly_class_label(data, a.anomaly_class);
    js["auroc"] = out.auroc;
    js["n_positive"] = out.n_positive;
    js["n_negative"] = out.n_negative;
    if (!s.kinds.empty()) {
      nlohmann::json by = nlohmann::json::object();
      for (const auto& [name, values] : s.kinds) {
        out.auroc_by_kind.push_back({name, auroc(values, positive)});
        by[name] = out.auroc_by_kind.back().second;
      }
      js["auroc_by_score"] = by;
    }
  }
  out.json = js.dump(2) + "\n";
  return out;
}

ReconstructionGrid reconstruction_grid(const AnomalyScoring& s, int64_t anomaly_class, int64_t recon_n) {
  const int64_t n = s.data.size();
  // Which images: the first recon_n, or up to recon_n/2 of other classes and as many of the anomaly class.
  std::vector<std::vector<int64_t>> groups;
  if (anomaly_class >= 0) {
    const int64_t half = recon_n / 2;
    groups.resize(2);
    for (int64_t i = 0; i < n; ++i) {
      auto& g = groups[s.labels[size_t(i)] == anomaly_class ? 1 : 0];
      if (int64_t(g.size()) < half) g.push_back(i);
    }
  } else {
    groups.resize(1);
    for (int64_t i = 0; i < std::min(n, recon_n); ++i) groups[0].push_back(i);
  }
  const int64_t cols = std::min<int64_t>(16, anomaly_class >= 0 ? recon_n / 2 : recon_n);
  // Row pairs: cols originals, then their reconstructions; a group's short last row is padded with black.
  std::vector<torch::Tensor> rows;
  ReconstructionGrid out;
  for (const auto& g : groups) {
    if (g.empty()) continue;
    out.images += int64_t(g.size());
    auto x = to_unit_range(s.data.images.index_select(0, torch::tensor(g, torch::kInt64)));  // [g, C, H, W]
    auto x_hat = require_capability<AnomalyScorer>(*s.model).reconstruct(x);                  // [g, C, H, W]
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
  out.grid = make_grid(torch::cat(rows), cols);
  return out;
}

}  // namespace duel
