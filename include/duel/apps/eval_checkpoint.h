// Evaluating a checkpoint (`duel eval`): the request, the report, and the
// run folder's eval/ files. Loads the checkpoint and the feature network,
// compares the three image sets of metrics/evaluate.h and writes
// <run>/eval/step-NNNNNN.json (and the features as .npy when asked).
//
// Beside the figures it looks inside the generator (docs/inspect.md): the
// memorisation check (metrics/memorisation.h) against the training images
// the model saw, with the closest (sample, training image) pairs drawn to
// <run>/eval/step-NNNNNN-closest.png; and, when the feature network
// classifies the data's own classes, the class balance of the samples
// against the reference images (metrics/class_balance.h).
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duel/metrics/class_balance.h"
#include "duel/metrics/evaluate.h"
#include "duel/metrics/memorisation.h"

namespace duel {

struct EvalRequest {
  std::string checkpoint;
  std::string features;           // empty: find_feature_net(dataset)
  std::string save_features_dir;  // empty: none
  std::string out_json;           // empty: <run>/eval/step-NNNNNN.json
  EvalOptions options;
  // The memorisation check: nearest training image of every sample and of
  // every reference image (the training split as the model read it:
  // data.split, data.limit and the class filters applied).
  bool memorisation = true;
  MemorisationOptions memorisation_options;
  // Tests: a feature network to use instead of loading `features` (not owned;
  // tests/unit/test_eval_pipeline.cpp feeds the pipeline a known feature map).
  FeatureExtractor* extractor = nullptr;
};

struct EvalReport {
  int64_t step = 0;
  std::string model, checkpoint, json_path, dataset;
  FeatureIdentity features;
  MetricValues generated, floor;
  bool has_floor = false;
  std::string reference_description, floor_description, generated_description;
  std::vector<std::pair<std::string, double>> seconds;  // phase -> wall seconds ("total" last)
  std::vector<std::string> warnings;
  std::string json;  // what was written to json_path
  // The memorisation check (absent when skipped: memorisation_note says why).
  std::optional<Memorisation> memorisation;
  double memorisation_quantile = 0.01;  // the options it ran with
  std::string memorisation_train_description, memorisation_held_out_description, memorisation_note;
  std::string closest_png;  // the closest pairs: rows of samples, each with its nearest training image below it
  // Class balance, when the feature network classifies the data's classes;
  // class_balance_floor: the same distance between the floor and the reference.
  std::optional<ClassBalance> class_balance;
  std::optional<double> class_balance_floor;
  std::vector<std::string> class_names;  // one per class (numbers when the data name none)
};

// Loads the checkpoint and the feature network, evaluates, writes the JSON
// (and the .npy files when asked). `info` receives progress lines.
EvalReport evaluate_checkpoint(const EvalRequest& request, const std::function<void(const std::string&)>& info = {});

// `duel eval --images DIR`: a folder of images made by any tool, scored
// exactly as a checkpoint's samples are, against a dataset (its test split,
// floor from its train split) or against another folder (`real_dir`: two
// disjoint random parts of it). The folder's images are brought to the real
// images' size and channels; with options.n 0, all of them are scored (and as
// many real ones). The JSON is written only when out_json is given.
struct ImagesEvalRequest {
  std::string images_dir;
  std::string dataset = "fashion-mnist", data_path;  // the real data, unless real_dir
  std::string real_dir;
  std::string features;                               // empty: find_feature_net(dataset)
  std::string out_json;
  EvalOptions options;  // n 0: every image of images_dir
};
EvalReport evaluate_images(const ImagesEvalRequest& request, const std::function<void(const std::string&)>& info = {});

// An evaluation's result file: `j` with its phases' wall seconds added,
// written atomically to out_json, or when that is empty to
// <run>/eval/step-NNNNNN.json. Returns {the JSON text, the path}.
std::pair<std::string, std::string> write_eval_json(nlohmann::json& j,
                                                    const std::vector<std::pair<std::string, double>>& seconds,
                                                    const std::string& checkpoint, int64_t step,
                                                    const std::string& out_json);

}  // namespace duel
