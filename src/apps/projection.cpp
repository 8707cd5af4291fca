// Projection of images into a generator's latent space; see projection.h.
#include "duel/apps/projection.h"

#include <torch/nn/functional/upsampling.h>
#include <torch/optim/adam.h>

#include <cmath>

#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/metrics/image_quality.h"
#include "duel/models/capabilities.h"

namespace duel {
namespace {

// x float [N, C, H, W] in [-1, 1] -> what the feature network takes (its channels and size), differentiably.
torch::Tensor to_net_input(const torch::Tensor& x, const FeatureIdentity& id) {
  auto y = x;
  if (id.input_channels == 1 && y.size(1) == 3) y = y.mean(1, true);
  if (id.input_channels == 3 && y.size(1) == 1) y = y.expand({-1, 3, -1, -1});
  if (id.input_size > 0 && y.size(2) != id.input_size) {
    namespace F = torch::nn::functional;
    y = F::interpolate(y, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{id.input_size, id.input_size})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  }
  return y;
}

// Learning rate at step t of T: a linear ramp over the first 5 %, then a cosine to 0.
double rate_at(double peak, int64_t t, int64_t total) {
  const double p = double(t) / double(total);
  const double ramp = std::min(1.0, p / 0.05);
  return peak * ramp * 0.5 * (1.0 + std::cos(M_PI * p));
}

struct BatchResult {
  torch::Tensor latents, images;
};

// Optimises `starts` latents per target of one batch; returns each target's best.
BatchResult project_batch(LatentProjection& lp, const torch::Tensor& x, const torch::Tensor& labels,
                          FeatureExtractor* net, const ProjectionOptions& o) {
  const int64_t n = x.size(0), s = o.starts;
  auto xs = x.repeat_interleave(s, 0);  // [n*s, C, H, W], target i at rows i*s .. i*s+s-1
  auto ls = labels.defined() ? labels.repeat_interleave(s, 0) : torch::Tensor();
  torch::Tensor target_features;
  if (net) {
    torch::NoGradGuard no_grad;
    target_features = net->differentiable_features(to_net_input(x, net->identity())).repeat_interleave(s, 0);
  }
  auto latents = lp.start_latents(n * s, x.device()).detach().clone().requires_grad_(true);
  torch::optim::Adam adam({latents}, torch::optim::AdamOptions(o.lr).betas({0.9, 0.999}));
  auto per_image_loss = [&](const torch::Tensor& img) {
    auto loss = (img - xs).pow(2).flatten(1).mean(1);  // [n*s]
    if (net && o.feature_weight > 0) {
      auto f = net->differentiable_features(to_net_input(img, net->identity()));
      loss = loss + o.feature_weight * (f - target_features).pow(2).mean(1);
    }
    return loss;
  };
  for (int64_t t = 0; t < o.steps; ++t) {
    for (auto& g : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(rate_at(o.lr, t, o.steps));
    adam.zero_grad();
    auto img = lp.render_latents(latents, ls);
    auto loss = per_image_loss(img).sum();
    if (o.latent_weight > 0) loss = loss + o.latent_weight * double(n * s) * lp.latent_penalty(latents);
    loss.backward();
    adam.step();
  }
  torch::NoGradGuard no_grad;
  auto img = lp.render_latents(latents, ls).clamp(-1, 1);
  auto best = per_image_loss(img).reshape({n, s}).argmin(1);  // [n]
  auto rows = torch::arange(n, torch::kInt64).mul(s).add(best.cpu()).to(x.device());
  return {latents.detach().index_select(0, rows), img.index_select(0, rows)};
}

}  // namespace

void check_projection_options(const ProjectionOptions& o) {
  require(o.steps >= 1 && o.steps <= 100000, "--steps " + std::to_string(o.steps) + " is out of range",
          "use 1 to 100000 optimisation steps (300 is the default)");
  require(o.starts >= 1 && o.starts <= 64, "--starts " + std::to_string(o.starts) + " is out of range",
          "use 1 to 64 random starts");
  require(std::isfinite(o.lr) && o.lr > 0 && o.lr <= 10, "--lr must be in (0, 10]", "0.05 is the default");
  require(std::isfinite(o.feature_weight) && o.feature_weight >= 0, "--feature-weight must be >= 0",
          "0 matches pixels only; 1 is the default");
  require(std::isfinite(o.latent_weight) && o.latent_weight >= 0, "--latent-weight must be >= 0",
          "0.01 is the default");
  require(o.batch >= 1, "--batch must be at least 1", "32 is the default");
}

torch::Tensor feature_distance(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).pow(2).mean(1).sqrt();
}

Projection project_images(GanModel& model, const torch::Tensor& targets, const torch::Tensor& labels,
                          FeatureExtractor* features, const ProjectionOptions& o,
                          const std::function<void(int64_t, int64_t)>& progress) {
  check_projection_options(o);
  auto& lp = require_capability<LatentProjection>(model);
  require(!model.needs_labels() || (labels.defined() && labels.size(0) == targets.size(0)),
          "model '" + model.name() + "' projects an image together with its class", "pass --class");
  require(targets.dim() == 4 && targets.scalar_type() == torch::kUInt8, "projection targets must be uint8 [N, C, H, W]",
          "this is a bug in the caller");
  const auto guard = lp.render_scope();
  torch::manual_seed(o.seed);
  const int64_t n = targets.size(0);
  std::vector<torch::Tensor> lat, img;
  for (int64_t at = 0; at < n; at += o.batch) {
    const int64_t end = std::min(n, at + o.batch);
    auto x = to_unit_range(targets.slice(0, at, end));
    auto l = labels.defined() && model.needs_labels() ? labels.slice(0, at, end) : torch::Tensor();
    auto r = project_batch(lp, x, l, features, o);
    lat.push_back(r.latents);
    img.push_back(r.images);
    if (progress) progress(end, n);
  }
  Projection p;
  p.latents = torch::cat(lat);
  p.images = torch::cat(img);
  if (model.needs_labels()) p.labels = labels;
  auto saved = quantise(p.images);
  p.psnr = psnr(to_unit_range(saved), to_unit_range(targets));
  if (features) {
    auto a = features->extract(saved), b = features->extract(targets);
    p.feature_distance = feature_distance(a.features, b.features);
    if (a.probs.defined()) p.recognised = a.probs.argmax(1);
  }
  return p;
}

torch::Tensor projection_labels(GanModel& model, const DataShape& shape, const torch::Tensor& targets, int64_t cls,
                                FeatureExtractor* features, const std::string& model_dataset) {
  if (!model.needs_labels()) return {};
  if (cls >= 0) {
    require(cls < shape.num_classes,
            "--class " + std::to_string(cls) + " is out of range: the model has " + std::to_string(shape.num_classes) +
                " classes",
            "use --class 0 to " + std::to_string(shape.num_classes - 1));
    return torch::full({targets.size(0)}, cls, torch::kInt64);
  }
  const bool classifies = features && features->identity().dataset == model_dataset &&
                          features->identity().num_classes == shape.num_classes;
  require(classifies,
          "model '" + model.name() + "' is conditional and no feature network classifies " + model_dataset +
              "'s classes to choose each image's class",
          "pass --class K (0 to " + std::to_string(shape.num_classes - 1) + ")");
  return features->extract(targets).probs.argmax(1);
}

NearestTrain nearest_training_images(FeatureExtractor& net, const torch::Tensor& targets, const torch::Tensor& train) {
  auto ft = net.extract(targets).features.to(torch::kFloat32);
  auto fr = net.extract(train).features.to(torch::kFloat32);
  const int64_t n = ft.size(0);
  auto index = torch::empty({n}, torch::kInt64);
  for (int64_t at = 0; at < n; at += 256) {
    const int64_t end = std::min(n, at + 256);
    index.slice(0, at, end).copy_(torch::cdist(ft.slice(0, at, end), fr).argmin(1));
  }
  NearestTrain out;
  out.index = index;
  auto chosen = train.index_select(0, index);
  out.psnr = psnr(to_unit_range(chosen), to_unit_range(targets));
  out.feature_distance = feature_distance(ft, fr.index_select(0, index));
  return out;
}

}  // namespace duel
