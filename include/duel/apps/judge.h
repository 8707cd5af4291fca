// The discriminator as a judge (`duel judge`): a trained discriminator's
// score for each image, and how well it tells real images from generated
// ones (the AUROC of its scores, metrics/auroc.h). Scores are D's raw
// outputs (logits for BCE-trained models, critic values for WGAN): higher
// means "more real" to this discriminator; only their order is compared.
//
// Image sets come from folders (any PNG/JPEG/BMP, brought to the model's size
// and channels), from the dataset's test split (--real-test N) or from the
// checkpoint's own generator (--fake-samples N, seeded). cyclegan judges the
// images of one domain (--domain A or B) with that domain's discriminator;
// srgan judges full-size images. Conditional models
// judge an image with its class: --class K for every image, else the class
// that D finds most real (reported per image).
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

namespace duel {

class GanModel;

struct JudgeRequest {
  std::string checkpoint;
  std::string in;                   // a folder (or one image) to score
  std::string real_dir, fake_dir;   // --real / --fake folders
  int64_t real_test = 0;            // > 0: the first N test images as the real set
  int64_t fake_samples = 0;         // > 0: N samples of the checkpoint's generator as the fake set
  uint64_t seed = 0;                // of the generated samples
  int64_t cls = -1;
  std::string domain;               // models with a discriminator per domain (cyclegan: A or B)
  std::string out_csv;              // empty: none
  int64_t batch = 256;
};

struct JudgeReport {
  std::string model;
  int64_t step = 0;
  struct Set {
    std::string name, source;       // "in" / "real" / "fake", where the images came from
    std::vector<std::string> files; // one per image ("" for generated / dataset images: their index names them)
    torch::Tensor scores;           // double [N]
    torch::Tensor classes;          // int64 [N]: the class judged with (conditional models)
  };
  std::vector<Set> sets;
  double auroc = -1;                // real against fake, when both were given
  std::string csv_path;
};

// Throws duel::Error (exit 2) for a missing folder, a folder without images,
// a model without ImageJudge, --real without --fake, or --in with them.
JudgeReport judge_images(const JudgeRequest& request, const std::function<void(const std::string&)>& info = {});

// D's scores of uint8 images [N, C, H, W] through `model`'s ImageJudge;
// conditional models (num_classes classes): `cls` >= 0 for every image, else
// the most real class (written to classes). Batches of `batch`.
// `domain`: ImageJudge::judge's.
torch::Tensor judge_scores(GanModel& model, int64_t num_classes, const torch::Tensor& images, int64_t cls, int64_t batch,
                           torch::Tensor* classes, const std::string& domain = "");

}  // namespace duel
