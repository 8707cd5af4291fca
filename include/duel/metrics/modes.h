// Mode coverage: how many modes of a known mixture a generator's samples
// capture (docs/modes.md). The protocol of VEEGAN and PacGAN:
//
//   - a sample is high quality when it lies within `radius` standard
//     deviations of the nearest mode's centre, and then counts for that mode;
//   - a mode is captured when at least `min_count` high-quality samples count for it;
//   - reverse KL = KL(p || u) = sum_k p_k log(p_k K), p the histogram of the
//     high-quality samples over the K modes, u uniform: 0 when every mode gets
//     its share, log K when one mode takes everything.
//
// Stacked MNIST gives each sample a mode id by classifying its three digits;
// coverage_of_ids() counts those ids alike (every sample counts).
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

namespace duel {

struct ModeCoverage {
  int64_t modes = 0;          // K
  int64_t captured = 0;       // modes with >= min_count counted samples
  int64_t samples = 0;        // samples scored
  double high_quality = 0;    // share of samples counted for a mode, in [0, 1]
  double reverse_kl = 0;      // KL(p || uniform); NaN when no sample counts
  std::vector<int64_t> counts;  // counted samples per mode [K]
};

// points [N, 2], centres [K, 2]: the nearest centre of each point in Euclidean
// distance; it counts when that distance is below radius * sigma.
// Requires N >= 1, K >= 1, sigma > 0, min_count >= 1.
ModeCoverage count_modes(const torch::Tensor& points, const torch::Tensor& centres, double sigma, int64_t min_count = 1,
                         double radius = 3.0);

// ids int64 [N] in [0, K) (or -1: the sample counts for no mode).
ModeCoverage coverage_of_ids(const torch::Tensor& ids, int64_t modes, int64_t min_count = 1);

}  // namespace duel
