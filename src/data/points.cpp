// The 2-D Gaussian mixtures of the mode-coverage benchmark (include/duel/data/points.h).
#include "duel/data/points.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "duel/core/error.h"
#include "duel/io/plot.h"

namespace duel {

bool is_point_dataset(const std::string& name) { return name == "ring8" || name == "grid25"; }

PointMixture point_mixture(const std::string& name) {
  PointMixture m;
  m.name = name;
  if (name == "ring8") {
    auto angle = torch::arange(8, torch::kFloat64) * (2 * M_PI / 8);  // [8]
    m.centres = torch::stack({angle.cos(), angle.sin()}, 1).to(torch::kFloat32);
    m.sigma = 0.01;
    m.extent = 1.5;
  } else if (name == "grid25") {
    auto axis = torch::arange(-4, 5, 2, torch::kFloat32);  // -4 -2 0 2 4
    auto grid = torch::meshgrid({axis, axis}, "ij");
    m.centres = torch::stack({grid[0].reshape(-1), grid[1].reshape(-1)}, 1);
    m.sigma = 0.05;
    m.extent = 6.0;
  } else {
    throw Error("unknown point dataset '" + name + "'", "use ring8 or grid25");
  }
  return m;
}

ImageSet draw_point_set(const PointMixture& m, int64_t n, uint64_t seed) {
  require(n >= 1, "a point set needs at least one point, not " + std::to_string(n), "set data.limit >= 1 (or 0: 100000)");
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t k = m.centres.size(0);
  auto which = torch::randint(k, {n}, gen, torch::kInt64);                                  // [n]
  auto noise = torch::randn({n, 2}, gen, torch::kFloat32) * float(m.sigma);                  // [n, 2]
  ImageSet s;
  s.images = (m.centres.index_select(0, which) + noise).reshape({n, 2, 1, 1}).contiguous();  // [n, 2, 1, 1]
  s.labels = which;
  s.num_classes = k;
  for (int64_t i = 0; i < k; ++i) {
    auto c = m.centres[i];
    char buf[64];
    std::snprintf(buf, sizeof buf, "(%g, %g)", c[0].item<double>(), c[1].item<double>());
    s.class_names.push_back(buf);
  }
  char desc[160];
  std::snprintf(desc, sizeof desc, "%s: %lld Gaussians, std %g (%lld points, seed %llu)", m.name.c_str(),
                static_cast<long long>(k), m.sigma, static_cast<long long>(n), static_cast<unsigned long long>(seed));
  s.description = desc;
  return s;
}

torch::Tensor as_points(const torch::Tensor& images) { return images.reshape({images.size(0), 2}).to(torch::kFloat32); }

torch::Tensor plot_points(const torch::Tensor& samples, const ImageSet& data) {
  auto real = as_points(data.images);  // [N, 2]
  ScatterOptions o;
  o.extent = std::max(1.0, 1.3 * real.abs().max().item<double>());
  torch::Tensor centres;
  if (data.has_labels() && data.num_classes > 0) {
    auto onehot = torch::one_hot(data.labels, data.num_classes).to(torch::kFloat32);  // [N, K]
    auto count = onehot.sum(0).clamp_min(1).unsqueeze(1);                              // [K, 1]
    centres = onehot.t().mm(real) / count;                                             // [K, 2]
    auto spread = (real - centres.index_select(0, data.labels)).square().sum(1).mean().div(2).sqrt();
    o.mark_radius = 3 * spread.item<double>();
  }
  return scatter_plot(as_points(samples.cpu()), centres, o);
}

}  // namespace duel
