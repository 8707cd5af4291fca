// Two-dimensional point data: the mixtures of Gaussians on which mode
// collapse is measured (`data.dataset = ring8 | grid25`, docs/modes.md).
//
//   ring8   8 Gaussians with centres on the unit circle, standard deviation 0.01
//   grid25  25 Gaussians with centres on the 5x5 grid {-4, -2, 0, 2, 4}^2, std 0.05
//
// These are the mixtures of PacGAN (Lin et al. 2018), as VEEGAN and the
// unrolled GAN paper used them. A point set is an ImageSet whose `images` are
// float32 [N, 2, 1, 1] in data units (not uint8 pixels): to_unit_range()
// passes floats through, so the loader, the trainer and `duel sample` carry
// them unchanged, and the label of each point is the mode it was drawn from.
#pragma once
#include <torch/types.h>

#include <string>

#include "duel/data/dataset.h"

namespace duel {

struct PointMixture {
  std::string name;       // "ring8", "grid25"
  torch::Tensor centres;  // float32 [K, 2]
  double sigma = 0;       // standard deviation of every component (isotropic)
  double extent = 0;      // half-width of a square that holds the data with a margin (plots)
};

// True for the names point_mixture() knows.
bool is_point_dataset(const std::string& name);
// The mixture `name` names; throws duel::Error for any other name.
PointMixture point_mixture(const std::string& name);
// n points drawn from the mixture with equal weights, seeded: float32 [n, 2, 1, 1], labels = the
// component of each point. Requires n >= 1.
ImageSet draw_point_set(const PointMixture& mixture, int64_t n, uint64_t seed);
// A point set's points as [N, 2] (any [N, 2, ...] tensor of two values per row).
torch::Tensor as_points(const torch::Tensor& images);
// True for the shape of point data: two values per sample, 1x1 "pixels".
inline bool is_point_shape(int64_t channels, int64_t size) { return channels == 2 && size == 1; }
// A scatter plot (io/plot.h) of samples [N, 2, 1, 1] over the modes of `data`,
// a point set: each class's mean as a ring of radius 3 standard deviations,
// in a square fitted to the data. Returns uint8 [3, 480, 480].
torch::Tensor plot_points(const torch::Tensor& samples, const ImageSet& data);

}  // namespace duel
