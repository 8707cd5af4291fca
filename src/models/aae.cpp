// aae: the adversarial autoencoder; nets, step and scores are described in
// aae.h. One step, on one batch x:
//
//   phase           nets updated   loss
//   reconstruction  E, G           w_r * mean |G(E(x)) - x|^p            (optimizer "AE")
//   D update        D              D loss of train.loss: z ~ N(0, I) real,
//                                  E(x) fake (+ GP/R1 on codes if set)   (optimizer "D")
//   regularisation  E              w_a * G loss of train.loss on D(E(x)) (optimizer "E")
//
// E(x) is computed twice: once for the reconstruction and once, after that
// update, for the two regularisation updates, which share it (the D update
// sees it detached; the E update goes through a frozen D, as TwoPlayerGan's
// G update does). Random numbers are drawn only from the global generator
// (prior samples, label noise), so checkpoints resume bit for bit.
#include "duel/models/aae.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/shard.h"
#include "duel/losses/penalty.h"
#include "duel/nn/init.h"
#include "duel/nn/onnx_modules.h"
#include "duel/nn/spectral_norm.h"
#include "duel/nn/sync_batch_norm.h"

namespace duel {

namespace nn = torch::nn;

namespace {

const bool keys_registered = [] {
  register_key({"model.aae_e_width", ConfigType::Int, int64_t(64), "aae: encoder channels at the first stage", 1,
                4096, {}});
  register_key({"model.aae_d_hidden", ConfigType::Int, int64_t(512),
                "aae: width of the two hidden layers of the code discriminator", 1, 65536, {}});
  register_key({"model.aae_recon_loss", ConfigType::String, std::string("mse"),
                "aae: reconstruction loss on [-1, 1] images, mse or l1", {}, {}, {"mse", "l1"}});
  register_key({"model.aae_recon_weight", ConfigType::Float, 1.0, "aae: weight of the reconstruction loss", 0.0,
                1.0e6, {}});
  register_key({"model.aae_adv_weight", ConfigType::Float, 1.0,
                "aae: weight of the encoder's adversarial loss in the regularisation update", 0.0, 1.0e6, {}});
  register_key({"model.aae_score", ConfigType::String, std::string("combined"),
                "aae: anomaly score of `duel score`: recon (reconstruction error), latent (0.5 |z|^2 / L), "
                "disc (softplus(-D(z))) or combined (recon + aae_score_weight * latent)",
                {}, {}, {"recon", "latent", "disc", "combined"}});
  register_key({"model.aae_score_weight", ConfigType::Float, 0.1,
                "aae: weight of the latent term in the combined anomaly score", 0.0, 1.0e6, {}});
  return true;
}();

// Switches nets to eval mode for the guard's lifetime and back to what they were.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(std::vector<nn::Module*> nets) : nets_(std::move(nets)) {
    for (auto* n : nets_) {
      was_training_.push_back(n->is_training());
      n->eval();
    }
  }
  ~EvalModeGuard() {
    for (size_t i = 0; i < nets_.size(); ++i)
      if (was_training_[i]) nets_[i]->train();
  }

 private:
  std::vector<nn::Module*> nets_;
  std::vector<bool> was_training_;
};

}  // namespace

AaeEncoderImpl::AaeEncoderImpl(const AaeEncoderOptions& o) : options(o) {
  const int64_t stages = dcgan_stages(o.size());
  body = nn::Sequential();
  int64_t c = o.width();
  // [N, C, size, size] -> [N, width, size/2, size/2]
  body->push_back(nn::Conv2d(nn::Conv2dOptions(o.channels(), c, 4).stride(2).padding(1).bias(false)));
  body->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
  for (int64_t i = 1; i < stages; ++i) {
    // [N, c, s, s] -> [N, 2c, s/2, s/2]  (28 px: 14 -> 7 -> 3)
    body->push_back(nn::Conv2d(nn::Conv2dOptions(c, 2 * c, 4).stride(2).padding(1).bias(false)));
    body->push_back(SyncBatchNorm2d(2 * c));
    body->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
    c *= 2;
  }
  // [N, c, 3 or 4, 3 or 4] -> [N, L, 1, 1]
  body->push_back(nn::Conv2d(nn::Conv2dOptions(c, o.latent_dim(), o.size() == 28 ? 3 : 4)));
  register_module("body", body);
}

torch::Tensor AaeEncoderImpl::forward(const torch::Tensor& x) {
  // x [N, C, size, size] -> [N, L, 1, 1] -> [N, L]
  return body->forward(x).reshape({x.size(0), options.latent_dim()});
}

CodeDiscriminatorImpl::CodeDiscriminatorImpl(const CodeDiscriminatorOptions& o) : options(o) {
  const int64_t h = o.hidden();
  const bool sn = o.spectral_norm();
  auto act = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
  body = register_module("body", nn::Sequential(make_linear(nn::LinearOptions(o.latent_dim(), h), sn), act(),
                                                make_linear(nn::LinearOptions(h, h), sn), act(),
                                                make_linear(nn::LinearOptions(h, 1), sn)));
}

torch::Tensor CodeDiscriminatorImpl::forward(const torch::Tensor& z) {
  // z [N, L] -> [N, h] -> [N, h] -> logits [N, 1]
  return body->forward(z);
}

AaeScore parse_aae_score(const std::string& name) {
  if (name == "recon") return AaeScore::Recon;
  if (name == "latent") return AaeScore::Latent;
  if (name == "disc") return AaeScore::Disc;
  if (name == "combined") return AaeScore::Combined;
  throw Error("unknown aae anomaly score '" + name + "'", "use recon, latent, disc or combined");
}

Aae::Aae(const Config& cfg, const DataShape& shape)
    : latent_dim_(cfg.get_int("model.latent_dim")), shape_(shape), knobs_(AdversarialKnobs::from_config(cfg)) {
  dcgan_stages(shape.size);  // validates the size before any allocation
  knobs_.refuse_two_player_only("aae");
  require(knobs_.instance_noise == 0 && knobs_.diffaug.empty() && knobs_.ema == 0,
          "aae does not support train.instance_noise, train.diffaug or train.ema",
          "these act on images; the aae's discriminator sees codes. Leave them at their defaults");
  l1_ = cfg.get_string("model.aae_recon_loss") == "l1";
  recon_weight_ = cfg.get_float("model.aae_recon_weight");
  adv_weight_ = cfg.get_float("model.aae_adv_weight");
  score_ = parse_aae_score(cfg.get_string("model.aae_score"));
  score_weight_ = cfg.get_float("model.aae_score_weight");

  E_ = AaeEncoder(AaeEncoderOptions(latent_dim_, shape.channels, shape.size).width(cfg.get_int("model.aae_e_width")));
  G_ = DcganGenerator(DcganOptions(latent_dim_, shape.channels, shape.size)
                          .width(cfg.get_int("model.g_width"))
                          .fast_convt(cfg.get_bool("perf.fast_convt"))
                          .winograd(cfg.get_bool("perf.winograd")));
  D_ = CodeDiscriminator(CodeDiscriminatorOptions(latent_dim_)
                             .hidden(cfg.get_int("model.aae_d_hidden"))
                             .spectral_norm(cfg.get_bool("model.spectral_norm")));
  const std::string init = cfg.get_string("model.init");
  init_weights(*E_, init);
  init_weights(*G_, init);
  init_weights(*D_, init);
  auto ae_params = E_->parameters();
  for (auto& p : G_->parameters()) ae_params.push_back(p);
  opt_ae_ = make_optimizer(cfg, "g", ae_params);
  opt_d_ = make_optimizer(cfg, "d", D_->parameters());
  opt_e_ = make_optimizer(cfg, "g", E_->parameters());
}

std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> Aae::nets() {
  return {{"E", E_.ptr()}, {"G", G_.ptr()}, {"D", D_.ptr()}};
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> Aae::optimizers() {
  return {{"AE", opt_ae_.get()}, {"D", opt_d_.get()}, {"E", opt_e_.get()}};
}

torch::Tensor Aae::make_noise(int64_t n, torch::Device device) const {
  return torch::randn({n, latent_dim_}, torch::TensorOptions().device(device));
}

torch::Tensor Aae::recon_error(const torch::Tensor& x_hat, const torch::Tensor& x) const {
  // [N, C, H, W] x2 -> [N]
  auto d = (x_hat - x).reshape({x.size(0), -1});
  return l1_ ? d.abs().mean(1) : d.square().mean(1);
}

Scalars Aae::step(const Batch& batch, StepContext& ctx) {
  const auto& x = batch.images;  // [N, C, H, W] in [-1, 1]
  const int64_t n = x.size(0);
  auto after = [&](const char* net) {
    if (ctx.after_backward) ctx.after_backward(net);
  };

  // 1. Reconstruction: E and G.
  clear_grads(*E_);
  clear_grads(*G_);
  auto x_hat = G_->forward(E_->forward(x));  // [N, C, H, W]
  auto loss_recon = recon_error(x_hat, x).mean();
  (recon_weight_ * loss_recon).backward();
  after("E");
  after("G");
  opt_ae_->step();

  // 2. D: prior samples are real, encoded codes fake.
  auto z_fake = E_->forward(x);  // [N, L], graph kept for the E update
  torch::Tensor real_out, fake_out, loss_d, gp, r1;
  for (int64_t k = 0; k < knobs_.d_steps; ++k) {
    auto z_real = draw_for_batch(n, [&](int64_t m) { return make_noise(m, x.device()); });  // [N, L]
    clear_grads(*D_);
    real_out = D_->forward(z_real);            // [N, 1]
    fake_out = D_->forward(z_fake.detach());   // [N, 1]
    auto targets = real_targets(n, knobs_.label_smoothing, knobs_.smoothing_uniform, knobs_.label_flip,
                                real_out.options());
    loss_d = discriminator_loss(knobs_.loss, real_out, targets, fake_out);
    auto critic = [&](const torch::Tensor& z) { return D_->forward(z); };
    if (knobs_.gp_weight > 0) {
      gp = gradient_penalty(critic, z_real, z_fake.detach());
      loss_d = loss_d + knobs_.gp_weight * gp;
    }
    if (knobs_.r1_weight > 0) {
      r1 = r1_penalty(critic, z_real);
      loss_d = loss_d + 0.5 * knobs_.r1_weight * r1;
    }
    loss_d.backward();
    after("D");
    opt_d_->step();
    if (knobs_.weight_clip > 0) {
      torch::NoGradGuard no_grad;
      for (auto& p : D_->parameters()) p.clamp_(-knobs_.weight_clip, knobs_.weight_clip);
    }
  }

  // 3. Regularisation: E fools a frozen D.
  set_requires_grad(*D_, false);
  clear_grads(*E_);
  auto loss_e = generator_loss(knobs_.loss, D_->forward(z_fake));  // D [N, 1] -> scalar
  (adv_weight_ * loss_e).backward();
  set_requires_grad(*D_, true);
  after("E");
  opt_e_->step();

  Scalars out{{"loss_recon", loss_recon.detach()}, {"loss_d", loss_d.detach()}, {"loss_e", loss_e.detach()}};
  auto r = real_out.detach().to(torch::kFloat32), f = fake_out.detach().to(torch::kFloat32);
  if (loss_uses_logits(knobs_.loss)) {
    out.emplace_back("d_real", torch::sigmoid(r).mean());
    out.emplace_back("d_fake", torch::sigmoid(f).mean());
  } else {
    out.emplace_back("critic_real", r.mean());
    out.emplace_back("critic_fake", f.mean());
  }
  if (gp.defined()) out.emplace_back("gp", gp.detach());
  if (r1.defined()) out.emplace_back("r1", r1.detach());
  // How far the codes are from the prior's moments (0 and 1), a direct view of the regularisation.
  auto zf = z_fake.detach().to(torch::kFloat32);
  out.emplace_back("z_mean", zf.mean());
  out.emplace_back("z_std", zf.std());
  return out;
}

torch::Tensor Aae::sample(const SampleRequest& request) {
  torch::NoGradGuard no_grad;
  EvalModeGuard eval({G_.ptr().get()});
  return G_->forward(request.noise);  // [N, L] -> [N, C, H, W]
}

onnx::Metadata Aae::export_generator(onnx::Graph& graph, const std::string&) {
  auto z = graph.input("z", onnx::kFloat, {"N", latent_dim_}, "prior noise [N, L] ~ N(0, I)");
  graph.output(onnx::export_module(graph, *G_, z, "G"), "image", onnx::kFloat, {"N", shape_.channels, shape_.size, shape_.size},
               "decoded images [N, C, H, W] in [-1, 1]");
  return {{"latent_layout", "normal:" + std::to_string(latent_dim_)}};
}

torch::Tensor Aae::encode(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  EvalModeGuard eval({E_.ptr().get()});
  return E_->forward(images);  // [N, C, H, W] -> [N, L]
}

torch::Tensor Aae::reconstruct(const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  EvalModeGuard eval({E_.ptr().get(), G_.ptr().get()});
  return G_->forward(E_->forward(images));  // [N, C, H, W] -> [N, L] -> [N, C, H, W]
}

Aae::ScoreParts Aae::score_parts(const torch::Tensor& images) {
  require(images.dim() == 4 && images.size(1) == shape_.channels && images.size(2) == shape_.size &&
              images.size(3) == shape_.size,
          "aae scores images of " + std::to_string(shape_.channels) + "x" + std::to_string(shape_.size) + "x" +
              std::to_string(shape_.size) + ", got " + std::to_string(images.size(1)) + "x" +
              std::to_string(images.size(2)) + "x" + std::to_string(images.size(3)),
          "score data of the size and channels the model was trained on (data.image_size, data.channels)");
  torch::NoGradGuard no_grad;
  EvalModeGuard eval({E_.ptr().get(), G_.ptr().get(), D_.ptr().get()});
  auto z = E_->forward(images);  // [N, L]
  ScoreParts p;
  p.recon = recon_error(G_->forward(z), images).to(torch::kFloat32);               // [N]
  p.latent = (0.5 * z.square().sum(1) / double(latent_dim_)).to(torch::kFloat32);  // [N]
  p.disc = torch::nn::functional::softplus(-D_->forward(z).reshape({-1})).to(torch::kFloat32);  // [N]
  return p;
}

torch::Tensor Aae::combine(const ScoreParts& p) const {
  switch (score_) {
    case AaeScore::Recon: return p.recon;
    case AaeScore::Latent: return p.latent;
    case AaeScore::Disc: return p.disc;
    case AaeScore::Combined: return p.recon + score_weight_ * p.latent;
  }
  return p.recon;
}

torch::Tensor Aae::anomaly_score(const torch::Tensor& images) { return combine(score_parts(images)); }

AnomalyScorer::AnomalyScores Aae::anomaly_scores(const torch::Tensor& images) {
  const ScoreParts p = score_parts(images);
  AnomalyScores out;
  out.score = combine(p);
  out.kinds = {{"recon", p.recon}, {"latent", p.latent}, {"disc", p.disc},
               {"combined", p.recon.to(torch::kFloat64) + score_weight_ * p.latent.to(torch::kFloat64)}};
  return out;
}


namespace {
std::unique_ptr<GanModel> make_aae(const Config& cfg, const DataShape& shape) {
  return std::make_unique<Aae>(cfg, shape);
}
}  // namespace

DUEL_REGISTER_MODEL("aae",
                    "adversarial autoencoder: conv encoder, DCGAN decoder, MLP discriminator on codes vs N(0, I); "
                    "scores anomalies (duel score)",
                    make_aae, ModelDefaults{{"model.latent_dim", int64_t(16)}});

}  // namespace duel
