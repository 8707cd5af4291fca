// Scatter plots of 2-D points as images (the point datasets' previews and
// the mode-coverage figures, docs/modes.md).
#pragma once
#include <torch/types.h>

namespace duel {

struct ScatterOptions {
  double extent = 1.5;       // the plot shows [-extent, extent]^2
  double mark_radius = 0.0;  // radius of each mark's ring in data units (drawn at least 4 px)
  int64_t pixels = 480;      // side of the square image
  int64_t dot = 1;           // each point is a (2 dot + 1)-pixel square, opaque inside, faint at its rim
  // int64 [N]: each point's class, drawn in the colour kClassColours[class % 10]
  // (undefined: every point blue).
  torch::Tensor classes{};
};

// The ten colours of classes 0-9 in a scatter plot, as RGB in [0, 1]:
// blue, orange, green, red, purple, brown, pink, grey, olive, cyan.
extern const float kClassColours[10][3];

// points [N, 2] as translucent blue dots over `marks` [K, 2] (e.g. a mixture's
// centres; may be undefined) as red rings, on light grid lines at every
// integer coordinate; y grows upwards. Points outside the square are clipped.
// Returns uint8 [3, pixels, pixels] for write_png.
torch::Tensor scatter_plot(const torch::Tensor& points, const torch::Tensor& marks, const ScatterOptions& options = {});

}  // namespace duel
