// TwoPlayerGan: the base of every model with one generator and one
// discriminator (critic) trained by alternating updates: mlp, dcgan, cgan,
// wgan, wgan-gp, infogan.
//
// step(): d_steps discriminator updates on real + detached fakes, then one
// generator update through a frozen discriminator that reuses the last fakes
// (one G forward per iteration). Everything the config asks for happens here,
// for every subclass alike:
//   train.loss            minimax | nonsaturating | wasserstein | hinge | least-squares
//   train.label_smoothing / label_flip / instance_noise   (BCE and LS losses)
//   train.gp_weight       WGAN-GP penalty on random interpolates (double backprop)
//   train.r1_weight       R1 penalty gamma/2 E||grad D(x_real)||^2
//   train.r1_every        lazy R1: the penalty every k-th D update, weighted by k
//   train.drift_weight    ProGAN's drift term eps E[D(x_real)^2] keeping a critic near 0
//   train.ada_target      adaptive discriminator augmentation (nn/ada.h) steered to this r_t
//   train.weight_clip     WGAN clipping of D's weights after each D update
//   train.diffaug         differentiable augmentation of real and fake alike
//   train.ema             exponential moving average of G's weights, used by sample()
//   train.d_warmup        the first N iterations update only D (pre-training the discriminator)
//   model.pack            PacGAN: D judges m samples at once, concatenated along channels
//   train.feature_matching  G also matches the mean of D's features on real and fake (Salimans et al.)
//   model.minibatch       a minibatch layer in D (nn/minibatch.h), for the models that build one
//   optim.optimizer       adam | rmsprop | sgd (momentum), separate rates for G and D (TTUR)
// Subclasses supply the nets through generate()/discriminate() and may add
// loss terms through the d_extra_loss/g_extra_loss hooks (InfoGAN's
// mutual-information term).
#pragma once
#include <torch/optim/optimizer.h>

#include <memory>

#include "duel/io/onnx.h"
#include "duel/losses/adversarial.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/nn/ada.h"
#include "duel/nn/ema.h"
#include "duel/nn/minibatch.h"

namespace duel {

struct AdversarialKnobs {
  GanLoss loss = GanLoss::NonSaturating;
  double label_smoothing = 0.0;
  bool smoothing_uniform = true;
  double label_flip = 0.0;
  double instance_noise = 0.0;
  int64_t d_steps = 1;
  int64_t d_warmup = 0;  // iterations that update only D
  double gp_weight = 0.0;
  double r1_weight = 0.0;
  int64_t r1_every = 1;
  double drift_weight = 0.0;
  double ada_target = 0.0;       // 0: off
  double ada_speed = 100000.0;   // images for ADA's p to move by 1
  double ada_p = 0.0;            // ADA's initial (with ada_target 0: fixed) probability
  double weight_clip = 0.0;
  std::string diffaug;  // "" or a comma list of translation, cutout, color
  double ema = 0.0;     // 0: off
  int64_t pack = 1;              // model.pack: samples per discriminator decision (1: plain GAN)
  double feature_matching = 0.0; // train.feature_matching: weight of the feature-matching term (0: off)
  static AdversarialKnobs from_config(const Config& cfg);
  // Throws duel::Error naming the key when a setting only TwoPlayerGan's step
  // implements (train.r1_every, drift_weight, ada_target) is set for `model`,
  // which trains with its own step.
  void refuse_two_player_only(const std::string& model) const;
};

// model.minibatch, model.mbd_kernels, model.mbd_dims as nn/minibatch.h takes them.
MinibatchOptions minibatch_options(const Config& cfg);

// What a model's discriminator was built for beyond D(x). The options that
// need it (model.pack, train.feature_matching, model.minibatch) are refused,
// naming the key and the model, by a model whose discriminator lacks it.
struct DiscriminatorTraits {
  bool packs = false;      // built for inputs of model.pack x the data's channels
  bool features = false;   // overrides discriminator_features()
  bool minibatch = false;  // builds the minibatch layer model.minibatch names
};

// An optimizer over `params` as optim.optimizer and optim.<prefix>_lr/_beta1/_beta2 say.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& cfg, const std::string& prefix,
                                                        std::vector<torch::Tensor> params);

class TwoPlayerGan : public GanModel,
                     public NoiseSampler,
                     public LatentProjection,
                     public ImageJudge,
                     public onnx::GeneratorExport {
 public:
  TwoPlayerGan(const Config& cfg, const DataShape& shape, std::shared_ptr<torch::nn::Module> generator,
               std::shared_ptr<torch::nn::Module> discriminator, const DiscriminatorTraits& traits = {});

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override;
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;
  Scalars step(const Batch& batch, StepContext& ctx) override;
  // Uses the EMA weights of G when train.ema > 0.
  torch::Tensor sample(const SampleRequest& request) override;
  torch::Tensor make_noise(int64_t n, torch::Device device) const override;
  std::map<std::string, torch::Tensor> extra_state() override;
  void load_extra_state(const std::map<std::string, torch::Tensor>& state) override;

  // LatentProjection: z of make_noise's width; rendering is generate_sample()
  // of the latents as noise (stylegan overrides it for w+).
  std::vector<int64_t> latent_shape() const override;
  torch::Tensor start_latents(int64_t n, torch::Device device) override { return make_noise(n, device); }
  std::shared_ptr<void> render_scope() override;
  torch::Tensor render_latents(const torch::Tensor& latents, const torch::Tensor& labels) override;
  // ImageJudge: discriminate() in eval mode, flattened to [N]. Refused
  // (duel::Error) for model.pack > 1, whose D judges packs of samples.
  torch::Tensor judge(const torch::Tensor& images, const torch::Tensor& labels, const std::string& domain) override;
  bool judge_needs_labels() const override { return needs_labels(); }
  int64_t judge_channels(const std::string&) const override { return shape_.channels; }

  const AdversarialKnobs& knobs() const { return knobs_; }
  // Noise, plus one class per grid row when the model needs_labels().
  PreviewInputs preview_inputs(const ImageSet& data, int64_t n, int64_t size, torch::Device device) const override;

  // Declares z [N, Z] (+ label [N] when needs_labels()), writes export_generate()
  // on the EMA weights when train.ema > 0, and returns {latent_layout: noise_layout()}.
  onnx::Metadata export_generator(onnx::Graph& graph, const std::string& direction) override;

 protected:
  // z [N, latent] (+ labels) -> images [N, C, H, W] in [-1, 1]
  virtual torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& labels) = 0;
  // What sample() draws, with G in eval mode, no gradients and the EMA weights
  // swapped in as asked: generate(noise, labels) unless a model reads more of
  // the request (stylegan: truncation and style mixing).
  virtual torch::Tensor generate_sample(const SampleRequest& request) { return generate(request.noise, request.labels); }
  // images [N, C, H, W] (+ labels) -> raw outputs [N, 1]
  virtual torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor& labels) = 0;
  // D's features before its last layer, flattened to [N, F] (what feature
  // matching compares); x as discriminate() takes it (already packed). Models
  // that declare DiscriminatorTraits::features override it.
  virtual torch::Tensor discriminator_features(const torch::Tensor& x, const torch::Tensor& labels);
  // ONNX counterpart of generate(): z and label are value names (label "" when
  // unconditional); returns the name of the image [N, C, H, W]. The default
  // throws duel::Error (the model has no export).
  virtual std::string export_generate(onnx::Graph& graph, const std::string& z, const std::string& label);
  // How make_noise fills z, for consumers of the export: comma-separated
  // parts "normal:K" (N(0, 1)), "onehot:D" (a one-hot group), "uniform:K" (U(-1, 1)).
  virtual std::string noise_layout() const { return "normal:" + std::to_string(latent_dim_); }
  // Extra loss terms. d_extra_loss runs in each D update right after
  // discriminate() of the detached fakes made from z; g_extra_loss runs in
  // the G update right after discriminate() of the fakes (D frozen). Return
  // an undefined tensor for none; append what to log to `report`.
  virtual torch::Tensor d_extra_loss(const torch::Tensor& z, const torch::Tensor& labels, Scalars& report) {
    return {};
  }
  virtual torch::Tensor g_extra_loss(const torch::Tensor& z, const torch::Tensor& labels, Scalars& report) {
    return {};
  }
  // What step() logs (losses, D's outputs, penalties, ADA, then the hooks' `report`).
  Scalars step_scalars(const torch::Tensor& loss_d, const torch::Tensor& loss_g, const torch::Tensor& real_out,
                       const torch::Tensor& fake_out, const torch::Tensor& gp, const Scalars& report) const;
  // Fakes of a conditional model carry the labels of the real batch they are paired with.
  int64_t latent_dim_;
  DataShape shape_;
  AdversarialKnobs knobs_;
  std::shared_ptr<torch::nn::Module> G_, D_;
  std::unique_ptr<torch::optim::Optimizer> opt_g_, opt_d_;
  std::unique_ptr<WeightEma> ema_;  // null when train.ema is 0
  std::unique_ptr<AdaController> ada_;  // null when train.ada_target and train.ada_p are 0
  torch::Tensor last_r1_;               // the last R1 value (lazy R1 logs it in between)
};

}  // namespace duel
