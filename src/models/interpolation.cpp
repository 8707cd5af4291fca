// Latent interpolation (models/interpolation.h).
#include "duel/models/interpolation.h"

#include <cmath>

#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/nn/latent.h"

namespace duel {

Interpolation interpolate(GanModel& model, const torch::Tensor& start, const torch::Tensor& end, int64_t steps,
                          const torch::Tensor& labels, const torch::Tensor& text, double truncation) {
  require(start.dim() >= 2 && start.sizes() == end.sizes() && start.size(0) >= 1,
          "interpolation endpoints must be two noise batches of one shape", "draw both with make_noise(rows)");
  require(steps >= 2, "an interpolation needs at least 2 steps, got " + std::to_string(steps), "use 10 steps");
  const int64_t rows = start.size(0);
  std::vector<torch::Tensor> points;  // per step t: [rows, L]
  for (int64_t t = 0; t < steps; ++t) {
    const double u = double(t) / double(steps - 1);
    std::vector<torch::Tensor> row;
    for (int64_t r = 0; r < rows; ++r) row.push_back(slerp(start[r].flatten(), end[r].flatten(), u));
    points.push_back(torch::stack(row));
  }
  // Row r, column t: [rows, steps, L] -> [rows*steps, <noise shape>].
  auto noise_shape = start.sizes().vec();
  noise_shape[0] = rows * steps;
  auto z = torch::stack(points, 1).reshape(noise_shape);
  torch::Tensor per_image_labels;
  if (labels.defined()) per_image_labels = labels.to(torch::kInt64).repeat_interleave(steps).to(start.device());
  SampleRequest request{z, per_image_labels};
  request.truncation = truncation;
  if (text.defined()) request.text = text.to(torch::kInt64).repeat_interleave(steps, 0).to(start.device());  // [rows*steps, L]
  return assemble_interpolation(require_capability<NoiseSampler>(model).sample(request).to(torch::kCPU), rows, steps);
}

Interpolation assemble_interpolation(torch::Tensor images, int64_t rows, int64_t steps) {
  Interpolation out;
  out.images = std::move(images);  // [rows*steps, C, H, W]
  out.grid = make_grid(out.images, steps);
  // Frame t shows every path's point t side by side; the animation walks there and back.
  auto per_step = out.images.reshape({rows, steps, out.images.size(1), out.images.size(2), out.images.size(3)});
  const int64_t frame_cols = int64_t(std::ceil(std::sqrt(double(rows))));
  for (int64_t t = 0; t < steps; ++t) out.frames.push_back(make_grid(per_step.select(1, t), frame_cols));
  for (int64_t t = steps - 2; t > 0; --t) out.frames.push_back(out.frames[size_t(t)]);
  return out;
}

}  // namespace duel
