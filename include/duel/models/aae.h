// aae: the adversarial autoencoder (Makhzani et al. 2015, "Adversarial
// autoencoders").
//
// An encoder E maps an image to a code z = E(x) [N, L] (deterministic), a
// decoder G maps a code back to an image (tanh), and a discriminator D on
// codes (an MLP) tells samples of the prior p(z) = N(0, I) from encoded
// codes. Each step runs the paper's two phases on one batch:
//   1. reconstruction: E and G minimise w_r * mean |G(E(x)) - x|^p
//      (p = 2 "mse" or 1 "l1", on images in [-1, 1]);
//   2. regularisation: D learns prior samples (real) vs E(x) (fake) with the
//      adversarial loss of train.loss, then E learns to fool D (w_a times the
//      generator loss). The aggregated posterior q(z) is pushed onto the
//      prior, so the decoder turns prior noise into images: G is the
//      generator that `duel sample` and `duel eval` draw from.
//
// Anomaly scores (`duel score`): an autoencoder trained on normal data
// reconstructs normal images better than unseen kinds, and encodes them
// where the prior has mass. model.aae_score chooses the per-image score:
//   recon     the reconstruction error (same norm as training)
//   latent    the code's negative log-likelihood under the prior, 0.5 |z|^2 / L
//   disc      how little D takes the code for a prior sample, softplus(-D(z))
//   combined  recon + model.aae_score_weight * latent (the default, weight 0.1)
// On Fashion-MNIST with Bags held out (configs/aae28.toml) the AUROCs were
// recon 0.916, latent 0.860, disc 0.661, combined 0.935: a poorly
// reconstructed image whose code also lies far out in the prior's tail is
// the likeliest anomaly. docs/models.md has the measurement.
//
// `duel score` (src/apps/anomaly.cpp) reports the AUROC of such scores
// (include/duel/metrics/auroc.h).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "duel/models/dcgan.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/models/two_player.h"

namespace duel {

struct AaeEncoderOptions {
  AaeEncoderOptions(int64_t latent_dim, int64_t channels, int64_t size)
      : latent_dim_(latent_dim), channels_(channels), size_(size) {}
  TORCH_ARG(int64_t, latent_dim);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, size);    // 28 or a power of two from 16 to 256 (as dcgan)
  TORCH_ARG(int64_t, width) = 64;  // channels of the first convolution
};

// The DCGAN discriminator's trunk (strided 4x4 convolutions, LeakyReLU 0.2,
// BatchNorm on all but the first) ending in a convolution to L channels at 1x1.
class AaeEncoderImpl : public torch::nn::Module {
 public:
  explicit AaeEncoderImpl(const AaeEncoderOptions& options);
  // x [N, C, size, size] -> z [N, L]
  torch::Tensor forward(const torch::Tensor& x);
  AaeEncoderOptions options;

 private:
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(AaeEncoder);

struct CodeDiscriminatorOptions {
  explicit CodeDiscriminatorOptions(int64_t latent_dim) : latent_dim_(latent_dim) {}
  TORCH_ARG(int64_t, latent_dim);
  TORCH_ARG(int64_t, hidden) = 512;
  TORCH_ARG(bool, spectral_norm) = false;
};

// L -> hidden -> hidden -> 1 logit, LeakyReLU 0.2 (optionally spectrally normalised).
class CodeDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit CodeDiscriminatorImpl(const CodeDiscriminatorOptions& options);
  // z [N, L] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& z);
  CodeDiscriminatorOptions options;

 private:
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(CodeDiscriminator);

enum class AaeScore { Recon, Latent, Disc, Combined };
AaeScore parse_aae_score(const std::string& name);  // throws duel::Error for an unknown name

class Aae : public GanModel,
            public NoiseSampler,
            public AnomalyScorer,
            public ImageEncoder,
            public onnx::GeneratorExport {
 public:
  Aae(const Config& cfg, const DataShape& shape);
  std::string name() const override { return "aae"; }
  // "E" (encoder), "G" (decoder), "D" (code discriminator).
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override;
  // "AE" (E and G, reconstruction; optim.g_*), "D" (optim.d_*), "E" (E's regularisation; optim.g_*).
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;
  Scalars step(const Batch& batch, StepContext& ctx) override;
  // Decodes prior noise: [N, L] -> [N, C, H, W] in [-1, 1] (nets in eval mode).
  torch::Tensor sample(const SampleRequest& request) override;
  // z ~ N(0, I) [n, L]: the prior.
  torch::Tensor make_noise(int64_t n, torch::Device device) const override;
  // ONNX: the decoder on prior noise, as sample(): z [N, L] -> image [N, C, H, W].
  onnx::Metadata export_generator(onnx::Graph& graph, const std::string& direction) override;
  // Per-image scores as model.aae_score says: [N, C, H, W] -> [N], higher = more anomalous.
  torch::Tensor anomaly_score(const torch::Tensor& images) override;
  // The chosen score, and recon, latent, disc and combined (float64:
  // recon + model.aae_score_weight * latent), from one encoder pass.
  AnomalyScores anomaly_scores(const torch::Tensor& images) override;

  // Every score of model.aae_score at once (eval mode, no gradients).
  struct ScoreParts {
    torch::Tensor recon, latent, disc;  // each [N]
  };
  ScoreParts score_parts(const torch::Tensor& images);
  torch::Tensor combine(const ScoreParts& parts) const;
  AaeScore score_kind() const { return score_; }
  // x [N, C, H, W] -> z [N, L] (eval mode, no gradients)
  torch::Tensor encode(const torch::Tensor& images) override;
  int64_t code_dim() const override { return latent_dim_; }
  // x [N, C, H, W] -> G(E(x)) [N, C, H, W] (eval mode, no gradients)
  torch::Tensor reconstruct(const torch::Tensor& images) override;

 private:
  // Per-image reconstruction error [N] of x_hat against x.
  torch::Tensor recon_error(const torch::Tensor& x_hat, const torch::Tensor& x) const;

  int64_t latent_dim_;
  DataShape shape_;
  AdversarialKnobs knobs_;
  bool l1_ = false;
  double recon_weight_ = 1.0, adv_weight_ = 1.0, score_weight_ = 0.0;
  AaeScore score_ = AaeScore::Combined;
  AaeEncoder E_{nullptr};
  DcganGenerator G_{nullptr};
  CodeDiscriminator D_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> opt_ae_, opt_d_, opt_e_;
};

}  // namespace duel
