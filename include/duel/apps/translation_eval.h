// `duel eval` for image-to-image models (pix2pix, cyclegan, srgan, srresnet).
//
// The model translates the held-out split of its own data (the checkpoint's
// data.* settings with data.split = test, centre-cropped to the training
// size). Outputs are quantised to 8 bits, as saved images are, then:
//   - with a target for every input (paired data, or super-resolution where
//     the target is the image the input was shrunk from): mean L1 (in
//     [0, 1] pixel units), PSNR and SSIM (image_quality.h) against the target,
//     beside the same figures for a baseline: bicubic upsampling for
//     super-resolution, the input itself (identity) otherwise;
//   - for two class domains of a labelled dataset (data.pair = classes) and
//     a feature network trained on that dataset: how often its classifier
//     takes G_AB(A) for class B and G_BA(B) for class A, beside the same for
//     the untranslated images;
//   - for two-way models: the cycle reconstruction error |G_BA(G_AB(a)) - a|
//     and |G_AB(G_BA(b)) - b| (L1, [0, 1] units).
// The report is written as JSON to <run>/eval/step-NNNNNN.json.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "duel/nn/feature_net.h"

namespace duel {

struct TranslationEvalRequest {
  std::string checkpoint;
  std::string features;  // classifier for domain accuracy (empty: features/<dataset>.duelfeat when it exists)
  std::string out_json;  // empty: <run>/eval/step-NNNNNN.json
  std::string split = "test";
  int64_t n = 0;         // images to translate (0: the whole split)
  int64_t batch = 128;
};

struct PairedScores {
  double l1 = 0, psnr = 0, ssim = 0;  // means over images
};

struct TranslationReport {
  int64_t step = 0, images = 0;
  std::string model, checkpoint, data, json_path, json;
  std::optional<PairedScores> output, baseline;
  std::string baseline_name;  // "bicubic" or "identity"
  // Domain translation, as recognised by the classifier.
  std::optional<double> acc_ab, acc_ba, base_acc_ab, base_acc_ba;
  std::string class_a, class_b;
  std::string domain_method;  // empty: the network's classifier; else how domains were told apart (k-NN)
  std::optional<FeatureIdentity> features;
  std::optional<double> cycle_a, cycle_b;
  // Paired models with a feature network for the data (features/<dataset>.duelfeat or --features):
  // mean squared distance per feature dimension between output and target, and baseline and target.
  std::optional<double> feature_distance, baseline_feature_distance;
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, double>> seconds;
};

// Whether the checkpoint holds an image-to-image model.
bool checkpoint_translates(const std::string& checkpoint);

TranslationReport evaluate_translation(const TranslationEvalRequest& req,
                                       const std::function<void(const std::string&)>& info = {});

}  // namespace duel
