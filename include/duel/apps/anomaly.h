// Anomaly scoring (`duel score`): every image of a dataset split scored by a
// checkpoint whose model can score (an AnomalyScorer, the aae),
// the scores as CSV, a JSON summary with per-class means and, for one class
// taken as the anomaly, the AUROC of the chosen score and of every kind the
// model computes; and a grid of originals above their reconstructions. The
// pipeline works through the model's anomaly hooks only, never a concrete
// model type, so another model that scores plugs in without touching it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "duel/core/config.h"
#include "duel/data/dataset.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"

namespace duel {

struct AnomalyRequest {
  std::string checkpoint;               // its path, as given (named in errors and the summary)
  std::string split = "test";           // train, test or all
  std::string dataset, data_path;       // instead of the checkpoint's data.dataset / data.path
  std::vector<std::string> sets;        // data.KEY=VALUE changes
  std::string score;                    // model.aae_score to use (empty: the checkpoint's)
  double score_weight = -1.0;           // model.aae_score_weight (< 0: the checkpoint's)
  int64_t anomaly_class = -1;           // >= 0: the class counted as the anomaly
  int64_t batch = 256;                  // images scored per forward pass
};

// The model and data of one scoring run, and (after score_images) the scores.
struct AnomalyScoring {
  std::unique_ptr<GanModel> model;
  Config model_config;     // the checkpoint's config with the request's score keys
  std::string model_name;  // the checkpoint's model name
  int64_t step = 0;        // the checkpoint's step
  std::string score_name;  // the chosen score kind (model.aae_score)
  ImageSet data;           // the split, every image (data.limit and data.exclude_class reset)
  std::vector<double> scores;                                   // [N] the chosen score
  std::vector<std::pair<std::string, std::vector<double>>> kinds;  // every kind, [N] each
  std::vector<int64_t> labels;                                  // [N], empty without labels
};

// Loads the model and opens the data.
// Requires: ck read from request.checkpoint; its model scores anomalies; only
//   data.* keys in request.sets; data of the checkpoint's channels and size;
//   with anomaly_class >= 0, labelled data with more classes than it.
// Ensures: model restored, data opened (the checkpoint's data.* keys, every
//   image of the split, then the request's changes); scores still empty.
// Throws duel::Error with the messages of `duel score` otherwise.
AnomalyScoring open_anomaly_scoring(const Checkpoint& ck, const AnomalyRequest& request);

// Scores every image in batches of `batch` (fills scores, kinds, labels).
void score_images(AnomalyScoring& s, int64_t batch);

// "index,label,score" rows, one per image (label empty when the data has none).
std::string scores_csv(const AnomalyScoring& s);

// "3" or "3 (Dress)": class c with its name when the data names it otherwise.
std::string anomaly_class_label(const ImageSet& data, int64_t c);

struct AnomalySummary {
  std::string json;  // the summary file's text
  // With an anomaly class:
  double auroc = 0;
  int64_t n_positive = 0, n_negative = 0;
  std::vector<std::pair<std::string, double>> auroc_by_kind;  // in the model's order
  double score_weight = 0;                                    // model.aae_score_weight
};

// The summary of scored images: settings, score statistics per class and,
// with anomaly_class >= 0, the AUROC (of every kind too). `csv_path` is
// recorded in it. Requires score_images first; throws duel::Error from
// auroc() when the split lacks positives or negatives.
AnomalySummary summarise_scores(const AnomalyScoring& s, const AnomalyRequest& request, const std::string& csv_path);

struct ReconstructionGrid {
  torch::Tensor grid;  // uint8 [C, H, W]
  int64_t images = 0;  // originals shown
};

// Originals above their reconstructions (model.reconstruct), in row pairs of
// min(16, columns) images: the first `n` images, or with anomaly_class >= 0
// up to n/2 of other classes (upper rows) and n/2 of the anomaly class
// (lower rows); a group's short last row is padded with black.
// Requires: n >= 2; the model reconstructs (else duel::Error).
ReconstructionGrid reconstruction_grid(const AnomalyScoring& s, int64_t anomaly_class, int64_t n);

}  // namespace duel
