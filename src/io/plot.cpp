// Scatter plots as RGB images (include/duel/io/plot.h).
#include "duel/io/plot.h"

#include <algorithm>
#include <cmath>

namespace duel {
namespace {

struct Canvas {
  int64_t n;
  torch::Tensor rgb;  // float [3, n, n] in [0, 1]
  float* p;
  explicit Canvas(int64_t side) : n(side), rgb(torch::ones({3, side, side})), p(rgb.data_ptr<float>()) {}
  // Blends colour c into pixel (x, y) with opacity a.
  void blend(int64_t x, int64_t y, const float c[3], float a) {
    if (x < 0 || y < 0 || x >= n || y >= n) return;
    for (int k = 0; k < 3; ++k) {
      float& v = p[(k * n + y) * n + x];
      v = v * (1 - a) + c[k] * a;
    }
  }
};

}  // namespace

const float kClassColours[10][3] = {{0.12f, 0.47f, 0.71f}, {1.0f, 0.5f, 0.05f},  {0.17f, 0.63f, 0.17f},
                                    {0.84f, 0.15f, 0.16f}, {0.58f, 0.4f, 0.74f}, {0.55f, 0.34f, 0.29f},
                                    {0.89f, 0.47f, 0.76f}, {0.5f, 0.5f, 0.5f},   {0.74f, 0.74f, 0.13f},
                                    {0.09f, 0.75f, 0.81f}};

torch::Tensor scatter_plot(const torch::Tensor& points, const torch::Tensor& marks, const ScatterOptions& o) {
  Canvas cv(o.pixels);
  const double scale = double(o.pixels - 1) / (2 * o.extent);
  auto px = [&](double v) { return (v + o.extent) * scale; };               // data x -> column
  auto py = [&](double v) { return double(o.pixels - 1) - px(v); };         // data y -> row (upwards)
  const float grid[3] = {0.8f, 0.8f, 0.8f}, axis[3] = {0.55f, 0.55f, 0.55f};
  for (int64_t t = -int64_t(std::floor(o.extent)); t <= int64_t(std::floor(o.extent)); ++t) {
    const int64_t c = std::lround(px(double(t))), r = std::lround(py(double(t)));
    for (int64_t i = 0; i < o.pixels; ++i) {
      cv.blend(c, i, t == 0 ? axis : grid, 1.0f);
      cv.blend(i, r, t == 0 ? axis : grid, 1.0f);
    }
  }
  if (points.defined() && points.numel() > 0) {
    auto pts = points.reshape({-1, 2}).to(torch::kFloat64).cpu().contiguous();
    auto a = pts.accessor<double, 2>();
    const float blue[3] = {0.1f, 0.25f, 0.8f};
    const bool coloured = o.classes.defined() && o.classes.numel() == pts.size(0);
    auto cls = coloured ? o.classes.to(torch::kInt64).cpu().contiguous() : torch::Tensor();
    for (int64_t i = 0; i < pts.size(0); ++i) {
      const int64_t c = std::lround(px(a[i][0])), r = std::lround(py(a[i][1]));
      const float* colour = coloured ? kClassColours[((cls.data_ptr<int64_t>()[i] % 10) + 10) % 10] : blue;
      const int64_t d = std::max<int64_t>(1, o.dot);
      for (int64_t dy = -d; dy <= d; ++dy)
        for (int64_t dx = -d; dx <= d; ++dx)
          cv.blend(c + dx, r + dy, colour, (std::abs(dx) < d && std::abs(dy) < d) ? 0.6f : 0.25f);
    }
  }
  if (marks.defined() && marks.numel() > 0) {
    auto m = marks.reshape({-1, 2}).to(torch::kFloat64).cpu().contiguous();
    auto a = m.accessor<double, 2>();
    const float red[3] = {0.85f, 0.1f, 0.1f};
    const double rad = std::max(4.0, o.mark_radius * scale);
    const int64_t steps = int64_t(std::ceil(2 * M_PI * rad)) * 2;
    for (int64_t i = 0; i < m.size(0); ++i)
      for (int64_t s = 0; s < steps; ++s) {
        const double th = 2 * M_PI * double(s) / double(steps);
        cv.blend(std::lround(px(a[i][0]) + rad * std::cos(th)), std::lround(py(a[i][1]) - rad * std::sin(th)), red, 1.0f);
      }
  }
  return cv.rgb.mul(255).round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace duel
