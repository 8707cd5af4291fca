// Projection (`duel project`): the latent of a trained generator whose image
// matches a target, found by optimisation. The loss of each image is
//
//   |G(l) - x|^2 / (C H W)  +  feature_weight |f(G(l)) - f(x)|^2 / D  +  latent_weight penalty(l)
//
// with f the dataset's feature network (no downloaded VGG) and penalty the
// model's LatentProjection::latent_penalty (z stays near the prior's shell).
// Every target is optimised from `starts` random latents at once (Adam, the
// rate ramped up over the first 5 % of steps and down by a cosine to 0) and
// keeps the start of lowest final loss. The latent space is the model's:
// z (conditional models: z with the class), or w+ for stylegan, whose noise
// inputs stay at the constant maps `duel sample` draws with, so the latent is
// the only free variable and needs no noise regularisation.
//
// The projected latents are what `duel sample --latent / --interpolate-between`
// decodes again (editing: a class change for cgan, style mixing for stylegan).
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "duel/models/model.h"
#include "duel/nn/feature_net.h"

namespace duel {

struct ProjectionOptions {
  int64_t steps = 300;
  int64_t starts = 4;
  double lr = 0.05;              // Adam's peak rate on the latent
  double feature_weight = 1.0;   // 0: pixels only
  double latent_weight = 0.01;
  int64_t batch = 32;            // targets optimised together (times starts latents)
  uint64_t seed = 0;             // random starts
};

// Refuses options outside their ranges, naming the flag.
void check_projection_options(const ProjectionOptions& options);

struct Projection {
  torch::Tensor latents;           // float [N, latent_shape...]: the best start of each target
  torch::Tensor labels;            // int64 [N]: the classes used (conditional models), else undefined
  torch::Tensor images;            // float [N, C, H, W] in [-1, 1]: G(latents)
  torch::Tensor psnr;              // double [N] dB, reconstruction against target (quantised as saved)
  torch::Tensor feature_distance;  // double [N]: |f(G(l)) - f(x)| / sqrt(D)
  torch::Tensor recognised;        // int64 [N]: the feature net's class of the reconstruction (or undefined)
};

// Requires: model has LatentProjection (else its missing() error); targets
//   uint8 [N, C, H, W] at the model's size and channels; labels int64 [N] for
//   conditional models (see projection_labels), else undefined; `features`
//   may be null (pixels only; then feature_distance is undefined).
// Ensures: one Projection row per target, in order. `progress` receives
//   (targets done, total) after each batch.
Projection project_images(GanModel& model, const torch::Tensor& targets, const torch::Tensor& labels,
                          FeatureExtractor* features, const ProjectionOptions& options,
                          const std::function<void(int64_t, int64_t)>& progress = {});

// The classes a conditional model projects with: `cls` for all when >= 0,
// else what the feature network (trained on the model's dataset, with the
// model's classes) says each target is. Throws duel::Error asking for
// --class when neither is available. Undefined for unconditional models.
torch::Tensor projection_labels(GanModel& model, const DataShape& shape, const torch::Tensor& targets, int64_t cls,
                                FeatureExtractor* features, const std::string& model_dataset);

// Per-image distance of features a [N, D] to b [N, D]: |a - b| / sqrt(D).
torch::Tensor feature_distance(const torch::Tensor& a, const torch::Tensor& b);

// For each target, the training image nearest in feature space and its
// distances (the comparison that tells reconstruction from memorisation).
struct NearestTrain {
  torch::Tensor index;             // int64 [N] into the training set
  torch::Tensor psnr;              // double [N]
  torch::Tensor feature_distance;  // double [N]
};
// targets, train: uint8 [*, C, H, W] of one size; features of both through `net`.
NearestTrain nearest_training_images(FeatureExtractor& net, const torch::Tensor& targets, const torch::Tensor& train);

// `duel project` as a whole: targets from files or the test split, the
// projection, and the output folder.
struct ProjectRequest {
  std::string checkpoint;
  std::string in;          // an image file or a folder of them (empty: from_test)
  int64_t from_test = 0;   // > 0: the first N images of the dataset's test split (with their labels)
  std::string out;         // output folder (created)
  std::string features;    // empty: the dataset's feature network when one is found
  int64_t cls = -1;        // conditional models: project with this class
  bool compare_train = false;  // also find each target's nearest training image
  ProjectionOptions options;
};
// Per target, under `out`: NAME.npy (the latent, without the batch
// dimension) and NAME.png (target | reconstruction); then latents.npy (all,
// [N, ...]), labels.npy (conditional models), projection.csv (one row per
// target) and pairs.png (up to 32 rows of target | reconstruction | nearest
// training image with compare_train).
struct ProjectReport {
  std::string model, latent_space, feature_path;
  int64_t step = 0, n = 0;
  double mean_psnr = 0, mean_feature_distance = -1;
  double right_class_share = -1;       // with true labels and a classifying feature net
  double nearest_psnr = 0, nearest_feature_distance = -1;
  double closer_than_nearest_share = -1;  // reconstructions closer (features) than the nearest training image
  std::vector<std::string> written;
};
ProjectReport run_projection(const ProjectRequest& request, const std::function<void(const std::string&)>& info = {});

}  // namespace duel
