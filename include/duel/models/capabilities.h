// Capabilities: what only some models can do, each a small interface a model
// implements only when it is true of it (docs/design.md, "The model
// interface"). Callers ask a GanModel for one:
//
//   if (auto* noise = capability<NoiseSampler>(model)) noise->sample(request);
//   auto& t = require_capability<ImageTranslator>(model);  // duel::Error when absent
//
//   NoiseSampler     draws images from noise: mlp, dcgan, cgan, wgan(-gp),
//                    infogan, progan, stylegan (TwoPlayerGan), aae, text2img
//   StyleControl     per-layer styles (truncation, style mixing): stylegan
//   CodeTraversal    named latent codes to traverse: infogan
//   AnomalyScorer    anomaly scores and reconstructions: aae
//   ImageTranslator  translates images: pix2pix, cyclegan, srgan, srresnet (Translator)
//   LatentProjection renders latents with gradients, for inversion (duel project):
//                    every TwoPlayerGan (z; stylegan: w+)
//   ImageJudge       the discriminator's verdict on images (duel judge): every TwoPlayerGan
//   ImageEncoder     images to codes (duel encode): aae
#pragma once
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "duel/core/error.h"
#include "duel/models/model.h"

namespace duel {

// Models that draw images from noise.
class NoiseSampler {
 public:
  virtual ~NoiseSampler() = default;
  // Images in [-1, 1], [N, C, H, W]; nets in eval mode, no gradients.
  virtual torch::Tensor sample(const SampleRequest& request) = 0;
  // Noise for n samples from the global generator.
  virtual torch::Tensor make_noise(int64_t n, torch::Device device) const = 0;
  // The error of require_capability when `model` has no noise input.
  static Error missing(const GanModel& model);
};

// Style-based generators: per-layer style inputs, which truncation and style
// mixing (SampleRequest::truncation, mix, crossover) act on.
class StyleControl {
 public:
  virtual ~StyleControl() = default;
  virtual int64_t style_layers() const = 0;
  static Error missing(const GanModel& model);
};

// Models with named latent codes that `duel sample --traverse` can vary
// (InfoGAN's "c1", "c2", ...).
class CodeTraversal {
 public:
  virtual ~CodeTraversal() = default;
  virtual std::vector<std::string> latent_codes() const = 0;
  // A traversal grid: `rows` rows, each holding the other inputs fixed while
  // `code` sweeps its range over `steps` columns. [rows*steps, C, H, W] in
  // [-1, 1], row-major. Throws duel::Error for an unknown code.
  virtual torch::Tensor traverse(const std::string& code, int64_t rows, int64_t steps, torch::Device device) = 0;
  static Error missing(const GanModel& model);
};

// Models that score images for anomalies and reconstruct them (an encoder).
class AnomalyScorer {
 public:
  virtual ~AnomalyScorer() = default;
  // Per-image anomaly scores, higher = more anomalous: images [N, C, H, W]
  // in [-1, 1] -> [N].
  virtual torch::Tensor anomaly_score(const torch::Tensor& images) = 0;
  // The chosen score of anomaly_score() and, for comparison, every kind of
  // score the model can compute (aae: recon, latent, disc, combined), each
  // [N], from one pass over `images`. Default: {anomaly_score(images), {}}.
  struct AnomalyScores {
    torch::Tensor score;
    std::vector<std::pair<std::string, torch::Tensor>> kinds;
  };
  virtual AnomalyScores anomaly_scores(const torch::Tensor& images) { return {anomaly_score(images), {}}; }
  // images [N, C, H, W] in [-1, 1] -> their reconstructions, same shape
  // (nets in eval mode, no gradients).
  virtual torch::Tensor reconstruct(const torch::Tensor& images) = 0;
  static Error missing(const GanModel& model);
};

// Image-to-image models: translate images instead of drawing them from noise.
// The trainer previews them on a fixed batch; `duel translate`, `duel
// upscale` and `duel eval` call translate().
class ImageTranslator {
 public:
  virtual ~ImageTranslator() = default;
  // Directions translate() accepts: {"AtoB"} or {"AtoB", "BtoA"}.
  virtual std::vector<std::string> directions() const = 0;
  // input [N, C, h, w] in [-1, 1] -> [N, C', h * scale(), w * scale()] in
  // [-1, 1]; nets in eval mode, no gradients. h and w must be multiples of
  // size_multiple(). Throws duel::Error for a direction not in directions().
  virtual torch::Tensor translate(const torch::Tensor& input, const std::string& direction) = 0;
  // Upscaling factor of translate() (srgan: 2 or 4).
  virtual int64_t scale() const { return 1; }
  // Input sides translate() accepts are multiples of this (the nets' strides).
  virtual int64_t size_multiple() const { return 1; }
  // The model's input for a batch and the image it should produce: pix2pix
  // reads A = batch.images and B = batch.targets; srgan makes its input by
  // downscaling batch.images. Used by evaluation and preview grids.
  virtual std::pair<torch::Tensor, torch::Tensor> io_of(const Batch& batch) const {
    return {batch.images, batch.targets};
  }
  static Error missing(const GanModel& model);
};

// Generators whose latents can be optimised to match a target image
// (`duel project`, apps/projection.h) and decoded again for editing.
class LatentProjection {
 public:
  virtual ~LatentProjection() = default;
  // "z" (the noise input, [latent_dim] per image) or "w+" (stylegan: one
  // style vector per layer, [style_layers, w_dim] per image).
  virtual std::string latent_space() const { return "z"; }
  // The shape of one image's latent (without the batch dimension).
  virtual std::vector<int64_t> latent_shape() const = 0;
  // n random starting latents [n, latent_shape...] from the global generator
  // (z: the prior; w+: the mapping of prior draws).
  virtual torch::Tensor start_latents(int64_t n, torch::Device device) = 0;
  // Holds the generator on the weights sample() draws with (the moving
  // average when train.ema > 0), in eval mode and with its parameters frozen,
  // for the lifetime of the returned guard. render_latents() needs one.
  virtual std::shared_ptr<void> render_scope() = 0;
  // latents [N, latent_shape...] (+ int64 labels [N] for conditional models)
  // -> images [N, C, H, W], differentiable in the latents.
  virtual torch::Tensor render_latents(const torch::Tensor& latents, const torch::Tensor& labels) = 0;
  // A penalty [scalar] keeping latents where the generator was trained
  // (z: the squared gap of |z|^2 / d from 1; w+: none).
  virtual torch::Tensor latent_penalty(const torch::Tensor& latents) const;
  static Error missing(const GanModel& model);
};

// Models with a discriminator that judges single images (`duel judge`).
class ImageJudge {
 public:
  virtual ~ImageJudge() = default;
  // images [N, C, H, W] in [-1, 1] at the model's size, C = judge_channels(domain)
  // (+ int64 labels [N] when judge_needs_labels()) -> the discriminator's raw
  // outputs [N] (a patch discriminator's mean over its patches), higher =
  // judged more real; D in eval mode, no gradients. `domain` is one of
  // judge_domains().
  virtual torch::Tensor judge(const torch::Tensor& images, const torch::Tensor& labels, const std::string& domain) = 0;
  virtual bool judge_needs_labels() const { return false; }
  // Models with one discriminator per image domain name the domains
  // (cyclegan: "A" and "B"; D_A judges A images); the rest have one, "".
  virtual std::vector<std::string> judge_domains() const { return {""}; }
  virtual int64_t judge_channels(const std::string& domain) const = 0;
  static Error missing(const GanModel& model);

 protected:
  // forward() with `net` in eval mode and without gradients, flattened to
  // [N] by the mean over the other dimensions; net's mode is restored.
  static torch::Tensor judged_by(torch::nn::Module& net, const std::function<torch::Tensor()>& forward);
};

// Models with an encoder from images to codes (`duel encode`).
class ImageEncoder {
 public:
  virtual ~ImageEncoder() = default;
  // images [N, C, H, W] in [-1, 1] -> codes [N, code_dim()] (eval mode, no gradients)
  virtual torch::Tensor encode(const torch::Tensor& images) = 0;
  virtual int64_t code_dim() const = 0;
  static Error missing(const GanModel& model);
};

// The capability C of `model`, or null when the model does not have it.
template <class C>
C* capability(GanModel& model) {
  return dynamic_cast<C*>(&model);
}
template <class C>
const C* capability(const GanModel& model) {
  return dynamic_cast<const C*>(&model);
}

// The capability C of `model`; throws C::missing(model) (a duel::Error naming
// the model and what to use instead) when the model does not have it.
template <class C>
C& require_capability(GanModel& model) {
  if (C* c = capability<C>(model)) return *c;
  throw C::missing(model);
}
template <class C>
const C& require_capability(const GanModel& model) {
  if (const C* c = capability<C>(model)) return *c;
  throw C::missing(model);
}

}  // namespace duel
