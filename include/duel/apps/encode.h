// `duel encode`: the codes a model's encoder gives images (the adversarial
// autoencoder as dimensionality reduction), saved as .npy, and a 2-D scatter
// plot of them coloured by class: the codes themselves when they have two
// dimensions, else their first two principal components.
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>

namespace duel {

struct EncodeRequest {
  std::string checkpoint;
  std::string in;          // a folder (class subfolders label the images) or one image
  int64_t from_test = 0;   // > 0: the first N test images of the model's dataset (with their labels)
  std::string out;         // codes .npy [N, code_dim]
  std::string scatter;     // scatter PNG (empty: none)
  int64_t batch = 256;
};

struct EncodeReport {
  std::string model;
  int64_t step = 0, n = 0, code_dim = 0, classes = 0;  // classes 0: unlabelled
  std::string plotted;          // "the codes" or "principal components 1-2 (x % of the variance)"
  double explained = 1.0;       // share of the variance the plot shows
  std::string labels_path;      // labels .npy written beside the codes (labelled images)
};

// Throws duel::Error naming the flag for a missing or empty input, a model
// without an encoder (ImageEncoder), or an output that is not .npy / .png.
EncodeReport encode_images(const EncodeRequest& request);

// points [N, D] (D >= 2) -> their first two principal components [N, 2]
// (centred; signs fixed so each component's largest loading is positive);
// *explained receives the share of the total variance they hold.
torch::Tensor principal_components_2d(const torch::Tensor& points, double* explained);

}  // namespace duel
