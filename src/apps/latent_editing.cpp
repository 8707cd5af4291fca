// Editing with latents from files; see latent_editing.h.
#include "duel/apps/latent_editing.h"

#include <sstream>

#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/io/npy.h"
#include "duel/models/capabilities.h"
#include "duel/nn/latent.h"

namespace duel {
namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

}  // namespace

torch::Tensor read_latent_files(GanModel& model, const std::vector<std::string>& paths) {
  auto& lp = require_capability<LatentProjection>(model);
  const auto want = lp.latent_shape();
  std::vector<torch::Tensor> parts;
  for (const auto& path : paths) {
    auto t = read_npy(path);
    require(t.is_floating_point(), "'" + path + "' holds integers, not a latent", "pass a latent written by duel project");
    auto got = t.sizes().vec();
    const bool one = got == want;
    const bool batch = got.size() == want.size() + 1 && std::vector<int64_t>(got.begin() + 1, got.end()) == want;
    require(one || batch,
            "'" + path + "' holds a latent of shape " + shape_text(got) + "; model '" + model.name() + "' takes " +
                lp.latent_space() + " latents of shape " + shape_text(want) + " (or a batch of them)",
            "project images with `duel project` on this checkpoint and pass its .npy files");
    require(torch::isfinite(t).all().item<bool>(), "'" + path + "' holds NaN or infinite values",
            "project the image again");
    parts.push_back(one ? t.unsqueeze(0) : t);
  }
  require(!parts.empty(), "no latent files given", "pass .npy files written by duel project");
  return torch::cat(parts);
}

torch::Tensor decode_latents(GanModel& model, const torch::Tensor& latents, const torch::Tensor& labels) {
  auto& lp = require_capability<LatentProjection>(model);
  require(!model.needs_labels() || labels.defined(), "model '" + model.name() + "' decodes a latent with a class",
          "pass --class K");
  const auto guard = lp.render_scope();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (int64_t at = 0; at < latents.size(0); at += 256) {
    const int64_t end = std::min(latents.size(0), at + 256);
    auto l = model.needs_labels() ? labels.slice(0, at, end) : torch::Tensor();
    out.push_back(lp.render_latents(latents.slice(0, at, end), l).clamp(-1, 1));
  }
  return torch::cat(out);
}

torch::Tensor class_change_grid(GanModel& model, const torch::Tensor& latents, int64_t classes) {
  require(model.needs_labels() && classes > 0, "model '" + model.name() + "' has no classes to change",
          "a class change needs a conditional (cgan) checkpoint");
  const int64_t n = latents.size(0);
  auto z = latents.repeat_interleave(classes, 0);                          // row r: latent r, `classes` times
  auto labels = torch::arange(classes, torch::kInt64).repeat({n});        // column c: class c
  return make_grid(decode_latents(model, z, labels), classes);
}

torch::Tensor latent_style_mixing_grid(GanModel& model, const torch::Tensor& latents, uint64_t seed) {
  auto& lp = require_capability<LatentProjection>(model);
  require(lp.latent_space() == "w+", "model '" + model.name() + "' has no per-layer styles to mix",
          "style mixing needs a stylegan checkpoint");
  torch::Tensor seed_w;
  {
    const auto guard = lp.render_scope();
    torch::manual_seed(seed);
    seed_w = lp.start_latents(1, latents.device());  // [1, L, W]
  }
  const int64_t n = latents.size(0), layers = latents.size(1);
  std::vector<torch::Tensor> cells;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j <= layers; ++j) {
      const int64_t k = layers - j;  // styles [0, k) from the latent
      cells.push_back(torch::cat({latents.slice(0, r, r + 1).slice(1, 0, k), seed_w.slice(1, k)}, 1));
    }
  return make_grid(decode_latents(model, torch::cat(cells), {}), layers + 1);
}

Interpolation interpolate_latents(GanModel& model, const torch::Tensor& a, const torch::Tensor& b, int64_t steps,
                                  const torch::Tensor& labels) {
  auto& lp = require_capability<LatentProjection>(model);
  require(a.sizes() == b.sizes(), "the two latents differ in shape", "interpolate between latents of one model");
  require(steps >= 2, "an interpolation needs at least 2 steps", "use --steps 10");
  const int64_t rows = a.size(0);
  const bool spherical = lp.latent_space() == "z";
  std::vector<torch::Tensor> points;  // row r, column t
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < steps; ++t) {
      const double u = double(t) / double(steps - 1);
      auto p = spherical ? slerp(a[r].flatten(), b[r].flatten(), u).reshape(a[r].sizes()) : a[r] * (1 - u) + b[r] * u;
      points.push_back(p.unsqueeze(0));
    }
  torch::Tensor l;
  if (model.needs_labels()) {
    require(labels.defined(), "model '" + model.name() + "' interpolates with a class", "pass --class K");
    l = labels.repeat_interleave(steps);
  }
  return assemble_interpolation(decode_latents(model, torch::cat(points), l), rows, steps);
}

LatentSampleResult sample_latents(GanModel& model, const DataShape& shape, const LatentSampleJob& job) {
  require(job.latents.empty() != job.between.empty(), "--latent and --interpolate-between cannot go together",
          "decode latents with --latent, or walk between two with --interpolate-between A.npy B.npy");
  require(job.between.empty() || job.between.size() == 2,
          "--interpolate-between takes two .npy files, got " + std::to_string(job.between.size()),
          "e.g. --interpolate-between a.npy b.npy");
  require(job.cls < shape.num_classes || (shape.num_classes == 0 && job.cls < 0),
          shape.num_classes == 0 ? "--class is for conditional models; '" + model.name() + "' has no classes"
                                 : "--class " + std::to_string(job.cls) + " is out of range (0 to " +
                                       std::to_string(shape.num_classes - 1) + ")",
          "drop --class or pick one of the model's classes");
  LatentSampleResult r;
  const auto latents = read_latent_files(model, job.latents.empty() ? job.between : job.latents);
  const int64_t n = latents.size(0);
  auto labels = job.cls >= 0 ? torch::full({n}, job.cls, torch::kInt64) : torch::Tensor();
  if (!job.between.empty()) {
    require(n == 2, "each --interpolate-between file must hold one latent", "pass two NAME.npy files of duel project");
    require(!model.needs_labels() || job.cls >= 0, "model '" + model.name() + "' interpolates within one class",
            "pass --class K");
    auto path = interpolate_latents(model, latents.slice(0, 0, 1), latents.slice(0, 1, 2), job.steps,
                                    labels.defined() ? labels.slice(0, 0, 1) : labels);
    r.grid = path.grid;
    r.frames = path.frames;
    r.what = "an interpolation of " + std::to_string(job.steps) + " steps from " + job.between[0] + " to " + job.between[1];
    return r;
  }
  if (job.mix_seed >= 0) {
    r.grid = latent_style_mixing_grid(model, latents, uint64_t(job.mix_seed));
    r.what = "style mixing of " + std::to_string(n) + " latent(s) with seed " + std::to_string(job.mix_seed) +
             " (column j: the last j style layers from the seed)";
  } else if (model.needs_labels() && job.cls < 0) {
    r.grid = class_change_grid(model, latents, shape.num_classes);
    r.what = std::to_string(n) + " latent(s) with every class (one row each)";
  } else {
    r.grid = make_grid(decode_latents(model, latents, labels));
    r.what = std::to_string(n) + " decoded latent(s)";
  }
  return r;
}

}  // namespace duel
