// CollapseProbe: a mode-collapse signal for the training log, read from the
// fixed-noise sample grid through the dataset's feature network (the one
// `duel eval` uses; see docs/metrics.md).
//
//   feature_diversity  mean pairwise feature distance of the samples divided
//                      by that of as many real images (1: as varied as the
//                      data; collapse drives it towards 0)
//   class_entropy      entropy of the classifier's class histogram of the
//                      samples divided by that of the real images' (1: the
//                      classes are as evenly covered as in the data)
//   top_class / top_fraction   the most frequent predicted class and its share
//
// A warning fires when feature_diversity < monitor.collapse_diversity or
// class_entropy < monitor.collapse_entropy. Without a feature network for the
// dataset (or with monitor.collapse_probe = false) there is no probe and the
// pixel-space diversity check of the monitor remains.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace duel {

class Config;
struct ImageSet;
class FeatureExtractor;

class CollapseProbe {
 public:
  // nullptr (and *why set) when off or when no usable feature network exists.
  static std::unique_ptr<CollapseProbe> create(const Config& cfg, const ImageSet& data, std::string* why);
  ~CollapseProbe();

  struct Reading {
    double feature_diversity = 0;
    double class_entropy = -1;  // -1: the network has no classifier
    int64_t top_class = -1;
    double top_fraction = 0;
    std::vector<double> histogram;  // class shares of the samples
    std::optional<std::string> warning;
  };
  // samples [N, C, H, W] in [-1, 1] (N >= 2). The reading is taken at every
  // step; a warning (one line, then "\nhint: ...") only once training is
  // under way: from step 10 x monitor.window on.
  Reading observe(const torch::Tensor& samples, int64_t step);
  const std::string& network() const { return network_; }

 private:
  CollapseProbe() = default;
  std::unique_ptr<FeatureExtractor> net_;
  torch::Tensor real_images_;  // uint8, a fixed subset
  double real_entropy_ = 0;
  double min_diversity_ = 0, min_entropy_ = 0;
  int64_t warm_up_ = 0;  // no warning before this step (10 x monitor.window, as the pixel check)
  std::string network_;
};

// Mean pairwise Euclidean distance between the rows of x [N, D] (N >= 2).
double mean_pairwise_distance(const torch::Tensor& x);
// Entropy (nats) of a histogram given as shares.
double entropy(const std::vector<double>& shares);

}  // namespace duel
