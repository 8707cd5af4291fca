// Mode coverage of samples from a known mixture (include/duel/metrics/modes.h).
#include "duel/metrics/modes.h"

#include <cmath>
#include <limits>

#include "duel/core/error.h"

namespace duel {

ModeCoverage coverage_of_ids(const torch::Tensor& ids, int64_t modes, int64_t min_count) {
  require(modes >= 1 && min_count >= 1 && ids.dim() == 1 && ids.size(0) >= 1,
          "mode coverage needs >= 1 sample, >= 1 mode and min_count >= 1", "pass samples and the mixture's modes");
  auto id = ids.to(torch::kInt64).cpu();
  auto counted = id.ge(0);
  ModeCoverage c;
  c.modes = modes;
  c.samples = id.size(0);
  auto hist = torch::bincount(id.masked_select(counted), {}, modes);  // [K]
  require(hist.size(0) == modes, "a mode id is >= the number of modes (" + std::to_string(modes) + ")",
          "ids must lie in [0, modes) or be -1");
  c.counts.assign(hist.data_ptr<int64_t>(), hist.data_ptr<int64_t>() + modes);
  int64_t total = 0;
  for (int64_t k : c.counts) {
    total += k;
    if (k >= min_count) ++c.captured;
  }
  c.high_quality = double(total) / double(c.samples);
  if (total == 0) {
    c.reverse_kl = std::numeric_limits<double>::quiet_NaN();
  } else {
    double kl = 0;
    for (int64_t k : c.counts)
      if (k > 0) {
        const double p = double(k) / double(total);
        kl += p * std::log(p * double(modes));
      }
    c.reverse_kl = kl;
  }
  return c;
}

ModeCoverage count_modes(const torch::Tensor& points, const torch::Tensor& centres, double sigma, int64_t min_count,
                         double radius) {
  require(points.dim() == 2 && points.size(1) == 2 && centres.dim() == 2 && centres.size(1) == 2,
          "mode counting takes points [N, 2] and centres [K, 2]", "reshape the samples to two coordinates per row");
  require(sigma > 0 && radius > 0, "mode counting needs sigma > 0 and radius > 0", "use the mixture's standard deviation");
  auto p = points.to(torch::kFloat64).cpu(), c = centres.to(torch::kFloat64).cpu();
  auto d = torch::cdist(p, c);  // [N, K]
  auto [dist, nearest] = d.min(1);
  auto ids = torch::where(dist.lt(radius * sigma), nearest, torch::full_like(nearest, -1));
  return coverage_of_ids(ids, centres.size(0), min_count);
}

}  // namespace duel
