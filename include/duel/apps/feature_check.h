// Validating a feature network (`duel features check`): does FID through it
// behave as a distance between image distributions should on this data?
//
//   floor      FID and KID between the test split (reference) and n train
//              images: what real data scores, near zero for a good network;
//   corruptions the same n train images made worse at four strengths each:
//              Gaussian noise, Gaussian blur, patch shuffling (k of the 16
//              cells of a 4x4 grid permuted), and dropping clusters (k of
//              10 k-means clusters of the features removed and their images
//              replaced by draws from the rest: lost modes). FID should grow
//              with every strength; each row says whether it does;
//   k-NN       where the data has labels, the accuracy of a 5-NN classifier
//              on the features (train -> test).
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "duel/nn/feature_net.h"

namespace duel {

struct FeatureCheckOptions {
  std::string features;        // .duelfeat or TorchScript file
  std::string dataset, data_path;
  int64_t image_size = 0, channels = 0, only_class = -1;  // as data.image_size, data.channels, data.only_class
  int64_t n = 2000;            // train images compared (and at most as many test images)
  uint64_t seed = 1;
};

struct CorruptionRow {
  std::string name;                 // noise, blur, shuffle, drop-clusters
  std::vector<std::string> strengths;
  std::vector<double> fid, kid;
  bool monotone = false;            // fid strictly increasing from the floor through every strength
};

struct FeatureCheckResult {
  FeatureIdentity identity;
  std::string reference, compared;  // descriptions of the two sets
  int64_t reference_n = 0, compared_n = 0;
  double floor_fid = 0, floor_kid = 0;
  std::vector<CorruptionRow> rows;
  double knn_accuracy = -1;         // -1: no labels
};

// Gaussian blur of float images [N, C, H, W] with std `sigma` pixels (reflect padding).
torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma);
// Permutes k of the 16 cells of a 4x4 grid of every image (a cycle, so each moves); H, W divisible by 4.
torch::Tensor shuffle_patches(const torch::Tensor& x, int64_t k, at::Generator& gen);
// Cluster of every row of features [N, D] by k-means (k-means++ seeding, 30 Lloyd iterations).
torch::Tensor kmeans(const torch::Tensor& features, int64_t k, at::Generator& gen);

FeatureCheckResult check_feature_net(const FeatureCheckOptions& options,
                                     const std::function<void(const std::string&)>& info = {});
// The result as a Markdown table (one row per corruption) with the floor and k-NN line.
std::string feature_check_markdown(const FeatureCheckResult& result);

}  // namespace duel
