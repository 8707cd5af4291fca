// TwoPlayerGan: the alternating-update step shared by one-G/one-D models.
#include "duel/models/two_player.h"

#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include <cmath>

#include "duel/core/shard.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/losses/penalty.h"
#include "duel/nn/diffaug.h"
#include "duel/nn/init.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  const auto F = register_float_key;
  F("train.gp_weight", 0.0, 0.0, 1.0e4, "WGAN-GP gradient penalty weight lambda (0: off; 10 in the paper)");
  F("train.r1_weight", 0.0, 0.0, 1.0e4, "R1 penalty weight gamma on real images (0: off)");
  register_int_key("train.r1_every", 1, 1, 1000000,
                   "lazy R1: apply the R1 penalty every k-th D update, weighted by k (StyleGAN uses 16)");
  F("train.drift_weight", 0.0, 0.0, 1.0e4, "drift penalty eps * E[D(real)^2] (ProGAN uses 0.001; 0: off)");
  F("train.ada_target", 0.0, 0.0, 0.99,
    "adaptive discriminator augmentation: target of r_t = E[sign D(real)] (0.6 in the paper; 0: off)");
  F("train.ada_p", 0.0, 0.0, 1.0,
    "ADA: initial augmentation probability; with train.ada_target = 0 a fixed probability (0: off)");
  F("train.ada_speed", 100000.0, 1.0, 1.0e12, "ADA: images over which the augmentation probability can move by 1");
  F("train.weight_clip", 0.0, 0.0, 100.0, "clip D's weights to [-c, c] after each D update (WGAN; 0: off)");
  F("train.ema", 0.0, 0.0, 0.999999, "decay of the moving average of G's weights used for sampling (0: off)");
  register_key({"train.diffaug",
                ConfigType::String,
                std::string(""),
                "differentiable augmentation of D's inputs: comma list of translation, cutout, color (empty: off)",
                {},
                {},
                {}});
  register_key({"optim.optimizer",
                ConfigType::String,
                std::string("adam"),
                "optimizer of every net: adam (lr, beta1, beta2), rmsprop (lr) or sgd (lr, optim.momentum)",
                {},
                {},
                {"adam", "rmsprop", "sgd"}});
  F("optim.momentum", 0.9, 0.0, 0.999999, "optim.optimizer = sgd: momentum of every net (0: plain SGD)");
  register_bool_key("optim.nesterov", false, "optim.optimizer = sgd: Nesterov momentum (needs optim.momentum > 0)");
  register_int_key("train.d_warmup", 0, 0, 100000000,
                   "iterations at the start of a run that update only the discriminator (pre-training D; 0: off)");
  register_int_key("train.d_steps", 1, 1, 100, "discriminator updates per generator update");
  register_int_key("model.pack", 1, 1, 16,
                   "PacGAN packing: D judges this many samples at once, concatenated along channels (1: off; "
                   "mlp, dcgan, wgan, wgan-gp; train.batch_size must be a multiple)");
  F("train.feature_matching", 0.0, 0.0, 1.0e4,
    "weight of feature matching in G's loss: mean over D's last features of (E f(real) - E f(fake))^2 "
    "(Salimans et al. 2016; mlp, dcgan, cgan, wgan, wgan-gp; 0: off)");
  register_string_key("model.minibatch", "none", {"none", "stddev", "discrimination"},
                      "a minibatch layer before D's last layer: stddev (ProGAN) or discrimination (Salimans et al. "
                      "2016); mlp, dcgan, cgan, wgan, wgan-gp (progan and stylegan always have stddev)");
  register_int_key("model.mbd_kernels", 50, 1, 1024, "minibatch discrimination: kernels B (closeness features added)");
  register_int_key("model.mbd_dims", 5, 1, 1024, "minibatch discrimination: dimensions C of each kernel");
  register_string_key(
      "train.loss", "nonsaturating", {"nonsaturating", "minimax", "wasserstein", "hinge", "least-squares"},
      "adversarial loss: nonsaturating (-log D(G(z))), minimax (log(1 - D(G(z)))), wasserstein, hinge or "
      "least-squares (see docs/models.md)");
  register_float_key("train.label_smoothing", 0.0, 0.0, 0.5, "one-sided: real targets become 1 - s (or U(1-s, 1))");
  register_string_key("train.smoothing_mode", "uniform", {"uniform", "fixed"},
                      "uniform: real targets ~ U(1-s, 1) per sample; fixed: real targets = 1-s");
  register_float_key("train.label_flip", 0.0, 0.0, 0.5, "probability that a real target is flipped to fake");
  register_float_key("train.instance_noise", 0.0, 0.0, 2.0,
                     "std of Gaussian noise added to D's inputs, decayed linearly to 0 over the run");
  register_float_key("optim.g_lr", 2e-4, 0.0, 10.0, "generator Adam learning rate");
  register_float_key("optim.g_beta1", 0.5, 0.0, 0.999999, "generator Adam beta1");
  register_float_key("optim.g_beta2", 0.999, 0.0, 0.999999, "generator Adam beta2");
  register_float_key("optim.d_lr", 2e-4, 0.0, 10.0, "discriminator Adam learning rate");
  register_float_key("optim.d_beta1", 0.5, 0.0, 0.999999, "discriminator Adam beta1");
  register_float_key("optim.d_beta2", 0.999, 0.0, 0.999999, "discriminator Adam beta2");
  register_bool_key("perf.fast_convt", true,
                    "transposed convolutions on oneDNN's convolution kernels (CPU); false: LibTorch's own");
  register_bool_key("perf.winograd", true,
                    "dcgan-family nets: 4x4 stride-2 convolutions and transposed convolutions with 64+ input channels in "
                    "float32 on CPU by Winograd's F(4x4, 2x2) / F(2x2, 2x2), about 2x fewer multiplications "
                    "(docs/performance.md); false: oneDNN's direct kernels");
  return true;
}();

}  // namespace

AdversarialKnobs AdversarialKnobs::from_config(const Config& cfg) {
  AdversarialKnobs k;
  k.loss = parse_loss(cfg.get_string("train.loss"));
  k.label_smoothing = cfg.get_float("train.label_smoothing");
  k.smoothing_uniform = cfg.get_string("train.smoothing_mode") == "uniform";
  k.label_flip = cfg.get_float("train.label_flip");
  k.instance_noise = cfg.get_float("train.instance_noise");
  k.d_steps = cfg.get_int("train.d_steps");
  k.d_warmup = cfg.get_int("train.d_warmup");
  k.gp_weight = cfg.get_float("train.gp_weight");
  k.r1_weight = cfg.get_float("train.r1_weight");
  k.r1_every = cfg.get_int("train.r1_every");
  k.drift_weight = cfg.get_float("train.drift_weight");
  k.ada_target = cfg.get_float("train.ada_target");
  k.ada_speed = cfg.get_float("train.ada_speed");
  k.ada_p = cfg.get_float("train.ada_p");
  k.weight_clip = cfg.get_float("train.weight_clip");
  k.diffaug = cfg.get_string("train.diffaug");
  parse_diffaug(k.diffaug);  // validates before any work
  k.ema = cfg.get_float("train.ema");
  k.pack = cfg.get_int("model.pack");
  k.feature_matching = cfg.get_float("train.feature_matching");
  return k;
}

MinibatchOptions minibatch_options(const Config& cfg) {
  MinibatchOptions o;
  o.kind = cfg.get_string("model.minibatch");
  o.kernels = cfg.get_int("model.mbd_kernels");
  o.dims = cfg.get_int("model.mbd_dims");
  return o;
}

void AdversarialKnobs::refuse_two_player_only(const std::string& model) const {
  const char* key = d_warmup != 0 ? "train.d_warmup" : r1_every != 1 ? "train.r1_every"
                   : drift_weight != 0                                 ? "train.drift_weight"
                                                     : ada_target != 0 ? "train.ada_target"
                                                     : ada_p != 0      ? "train.ada_p" : nullptr;
  if (key)
    throw Error(std::string(key) + " is not supported by model '" + model + "'",
                "it applies to mlp, dcgan, cgan, wgan, wgan-gp, infogan, progan and stylegan; leave it at its default");
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& cfg, const std::string& prefix,
                                                        std::vector<torch::Tensor> params) {
  const double lr = cfg.get_float("optim." + prefix + "_lr");
  const std::string kind = cfg.get_string("optim.optimizer");
  if (kind == "sgd") {
    const double momentum = cfg.get_float("optim.momentum");
    const bool nesterov = cfg.get_bool("optim.nesterov");
    require(!nesterov || momentum > 0, "optim.nesterov = true needs momentum, but optim.momentum is 0",
            "set optim.momentum > 0 (0.9 is usual) or optim.nesterov = false");
    return std::make_unique<torch::optim::SGD>(
        std::move(params), torch::optim::SGDOptions(lr).momentum(momentum).nesterov(nesterov));
  }
  if (kind == "rmsprop")
    return std::make_unique<torch::optim::RMSprop>(std::move(params), torch::optim::RMSpropOptions(lr));
  return std::make_unique<torch::optim::Adam>(
      std::move(params), torch::optim::AdamOptions(lr).betas(
                             {cfg.get_float("optim." + prefix + "_beta1"), cfg.get_float("optim." + prefix + "_beta2")}));
}

void GanModel::to(torch::Device device) {
  for (auto& [name, net] : nets()) net->to(device);
}

void GanModel::set_channels_last() {
  torch::NoGradGuard no_grad;
  for (auto& [name, net] : nets())
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

int64_t GanModel::parameter_count(const std::string& net_name) {
  for (auto& [name, net] : nets())
    if (name == net_name) {
      int64_t n = 0;
      for (auto& p : net->parameters()) n += p.numel();
      return n;
    }
  return 0;
}

namespace {

// Refuses, before any work, the options the model's discriminator was not built for.
void check_traits(const Config& cfg, const AdversarialKnobs& k, const DiscriminatorTraits& t) {
  const std::string model = cfg.get_string("model.name");
  auto refuse = [&](const std::string& key, const std::string& value) {
    throw Error(key + " = " + value + " is not supported by model '" + model + "'",
                "it applies to " + std::string(key == "model.pack" ? "mlp, dcgan, wgan and wgan-gp"
                                                                   : "mlp, dcgan, cgan, wgan and wgan-gp") +
                    "; leave it at its default for this model");
  };
  if (k.pack > 1 && !t.packs) refuse("model.pack", std::to_string(k.pack));
  if (k.feature_matching > 0 && !t.features) refuse("train.feature_matching", std::to_string(k.feature_matching));
  const std::string mb = cfg.get_string("model.minibatch");
  if (mb != "none" && !t.minibatch) refuse("model.minibatch", mb);
  const int64_t batch = cfg.get_int("train.batch_size");
  require(batch % k.pack == 0,
          "train.batch_size = " + std::to_string(batch) + " is not a multiple of model.pack = " + std::to_string(k.pack),
          "D judges packs of model.pack samples: choose a batch size that is a multiple of it");
}

}  // namespace

TwoPlayerGan::TwoPlayerGan(const Config& cfg, const DataShape& shape, std::shared_ptr<torch::nn::Module> g,
                           std::shared_ptr<torch::nn::Module> d, const DiscriminatorTraits& traits)
    : latent_dim_(cfg.get_int("model.latent_dim")), shape_(shape), knobs_(AdversarialKnobs::from_config(cfg)),
      G_(std::move(g)), D_(std::move(d)) {
  check_traits(cfg, knobs_, traits);
  const std::string init = cfg.get_string("model.init");
  init_weights(*G_, init);
  init_weights(*D_, init);
  opt_g_ = make_optimizer(cfg, "g", G_->parameters());
  opt_d_ = make_optimizer(cfg, "d", D_->parameters());
  if (knobs_.ema > 0) ema_ = std::make_unique<WeightEma>(*G_, knobs_.ema);
  if (knobs_.ada_target > 0 || knobs_.ada_p > 0)
    ada_ = std::make_unique<AdaController>(knobs_.ada_target, knobs_.ada_speed, 4, knobs_.ada_p);
}

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> TwoPlayerGan::nets() {
  return {{"G", G_}, {"D", D_}};
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> TwoPlayerGan::optimizers() {
  return {{"G", opt_g_.get()}, {"D", opt_d_.get()}};
}

PreviewInputs TwoPlayerGan::preview_inputs(const ImageSet& data, int64_t n, int64_t size, torch::Device device) const {
  PreviewInputs p = GanModel::preview_inputs(data, n, size, device);
  if (needs_labels()) {
    const int64_t cols = int64_t(std::ceil(std::sqrt(double(n))));
    p.request.labels = torch::arange(n, torch::kInt64).div(cols, "floor").remainder(shape_.num_classes).to(device);
  }
  return p;
}

torch::Tensor TwoPlayerGan::make_noise(int64_t n, torch::Device device) const {
  return torch::randn({n, latent_dim_}, torch::TensorOptions().device(device));
}

std::map<std::string, torch::Tensor> TwoPlayerGan::extra_state() {
  std::map<std::string, torch::Tensor> out;
  if (ema_) ema_->save(out, "ema.G");
  if (ada_) ada_->save(out, "ada");
  if (knobs_.r1_every > 1 && last_r1_.defined()) out["r1.last"] = last_r1_.cpu();
  return out;
}

void TwoPlayerGan::load_extra_state(const std::map<std::string, torch::Tensor>& state) {
  if (ema_) ema_->load(state, "ema.G");
  if (ada_) ada_->load(state, "ada");
  if (auto it = state.find("r1.last"); it != state.end()) last_r1_ = it->second;
}

Scalars TwoPlayerGan::step(const Batch& batch, StepContext& ctx) {
  const double sigma = knobs_.instance_noise * (1.0 - ctx.progress);
  const auto policy = parse_diffaug(knobs_.diffaug);
  const double ada_p = ada_ ? ada_->p() : 0.0;
  // What D sees of any image: augmented (real and fake alike), then instance noise.
  auto d_input = [&](const torch::Tensor& x) {
    auto y = policy.empty() ? x : diff_augment(x, policy);
    if (ada_p > 0) y = ada_augment(y, ada_p);
    if (sigma <= 0) return y;
    auto shape = y.sizes().vec();
    return y + sigma * draw_for_batch(y.size(0), [&](int64_t m) {
             shape[0] = m;
             return torch::randn(shape, y.options());
           });
  };
  // The first train.d_warmup iterations pre-train D: G is evaluated for the log but not updated.
  const bool warmup = ctx.step < knobs_.d_warmup;
  // model.pack: D's input is m consecutive samples concatenated along channels,
  // [N, C, H, W] -> [N/m, m*C, H, W] (real with real, fake with fake); one decision per pack.
  const int64_t m = knobs_.pack;
  auto packed = [m](const torch::Tensor& x) {
    if (m == 1) return x;
    auto s = x.sizes().vec();
    s[0] /= m;
    s[1] *= m;
    return x.reshape(s);
  };

  Scalars report;
  torch::Tensor z, fake, real, labels, real_out, fake_out, loss_d, gp, r1;
  for (int64_t k = 0; k < knobs_.d_steps; ++k) {
    const Batch b = (k == 0) ? batch : ctx.next_batch();
    real = b.images;
    labels = b.labels;
    const int64_t n = real.size(0);
    require(n % m == 0, "a batch of " + std::to_string(n) + " images cannot be split into packs of model.pack = " +
                            std::to_string(m), "choose train.batch_size (per rank) as a multiple of model.pack");
    z = draw_for_batch(n, [&](int64_t c) { return make_noise(c, real.device()); });
    const bool last = (k == knobs_.d_steps - 1);
    {
      // Only the last D step's fakes feed the generator update; earlier ones need no graph.
      torch::AutoGradMode grad_mode(last && !warmup);
      fake = generate(z, labels);  // [N, C, H, W]
    }
    clear_grads(*D_);
    auto critic = [&](const torch::Tensor& x) { return discriminate(packed(x), labels); };
    real_out = critic(d_input(real));          // [N/m, 1]
    fake_out = critic(d_input(fake.detach()));  // [N/m, 1]
    auto targets = real_targets(n / m, knobs_.label_smoothing, knobs_.smoothing_uniform, knobs_.label_flip,
                                real_out.options());
    loss_d = discriminator_loss(knobs_.loss, real_out, targets, fake_out);
    Scalars extra_report;
    if (auto extra = d_extra_loss(z, labels, extra_report); extra.defined()) loss_d = loss_d + extra;
    if (last) report.insert(report.end(), extra_report.begin(), extra_report.end());
    if (knobs_.gp_weight > 0) {
      gp = gradient_penalty(critic, d_input(real), d_input(fake.detach()));
      loss_d = loss_d + knobs_.gp_weight * gp;
    }
    if (knobs_.drift_weight > 0) loss_d = loss_d + knobs_.drift_weight * real_out.square().mean();
    // Lazy R1: every r1_every-th D update (counted over the run), weighted up to match.
    if (knobs_.r1_weight > 0 && (ctx.step * knobs_.d_steps + k) % knobs_.r1_every == 0) {
      r1 = r1_penalty(critic, d_input(real));
      loss_d = loss_d + 0.5 * knobs_.r1_weight * double(knobs_.r1_every) * r1;
      last_r1_ = r1.detach();
    }
    if (ada_) ada_->observe(real_out, n / m * batch_shard().world);
    loss_d.backward();
    if (ctx.after_backward) ctx.after_backward("D");
    opt_d_->step();
    if (knobs_.weight_clip > 0) {
      torch::NoGradGuard no_grad;
      for (auto& p : D_->parameters()) p.clamp_(-knobs_.weight_clip, knobs_.weight_clip);
    }
  }

  // G's loss through D: the adversarial term, InfoGAN's hook and feature matching
  // (the mean of D's features on the fakes against their mean on the last real batch).
  auto generator_objective = [&] {
    auto loss = generator_loss(knobs_.loss, discriminate(packed(d_input(fake)), labels));
    if (auto extra = g_extra_loss(z, labels, report); extra.defined()) loss = loss + extra;
    if (knobs_.feature_matching > 0) {
      torch::Tensor target;
      {
        torch::NoGradGuard no_grad;
        target = discriminator_features(packed(d_input(real)), labels).mean(0);  // [F]
      }
      auto fm = (discriminator_features(packed(d_input(fake)), labels).mean(0) - target).square().mean();
      report.emplace_back("feature_matching", fm.detach());
      loss = loss + knobs_.feature_matching * fm;
    }
    return loss;
  };
  // Generator update through a frozen D: no gradients are computed for D's weights.
  torch::Tensor loss_g;
  if (warmup) {
    torch::NoGradGuard no_grad;
    loss_g = generator_objective();
  } else {
    set_requires_grad(*D_, false);
    clear_grads(*G_);
    loss_g = generator_objective();
    loss_g.backward();
    set_requires_grad(*D_, true);
    if (ctx.after_backward) ctx.after_backward("G");
    opt_g_->step();
    if (ema_) ema_->update();
  }

  return step_scalars(loss_d, loss_g, real_out, fake_out, gp, report);
}

// What a step logs: the losses, D's mean outputs, the penalties and ADA's state, then the hooks' report.
Scalars TwoPlayerGan::step_scalars(const torch::Tensor& loss_d, const torch::Tensor& loss_g,
                                   const torch::Tensor& real_out, const torch::Tensor& fake_out, const torch::Tensor& gp,
                                   const Scalars& report) const {
  Scalars out{{"loss_d", loss_d.detach()}, {"loss_g", loss_g.detach()}};
  auto r = real_out.detach().to(torch::kFloat32), f = fake_out.detach().to(torch::kFloat32);
  if (loss_uses_logits(knobs_.loss)) {
    out.emplace_back("d_real", torch::sigmoid(r).mean());
    out.emplace_back("d_fake", torch::sigmoid(f).mean());
  } else {
    out.emplace_back("critic_real", r.mean());
    out.emplace_back("critic_fake", f.mean());
  }
  // The critic's estimate of the Wasserstein-1 distance (a training curve for WGANs).
  if (knobs_.loss == GanLoss::Wasserstein) out.emplace_back("w_estimate", r.mean() - f.mean());
  if (gp.defined()) out.emplace_back("gp", gp.detach());
  // Lazy R1 reports its last value in between, so the log's columns stay fixed.
  if (knobs_.r1_weight > 0) out.emplace_back("r1", last_r1_.defined() ? last_r1_ : torch::zeros({}));
  if (ada_) {
    out.emplace_back("ada_p", torch::scalar_tensor(ada_->p()));
    out.emplace_back("ada_rt", torch::scalar_tensor(ada_->rt()));
  }
  out.insert(out.end(), report.begin(), report.end());
  return out;
}

torch::Tensor TwoPlayerGan::sample(const SampleRequest& request) {
  torch::NoGradGuard no_grad;
  const bool was_training = G_->is_training();
  G_->eval();
  torch::Tensor out;
  {
    EmaSwap swap(request.average ? ema_.get() : nullptr);
    out = generate_sample(request);
  }
  if (was_training) G_->train();
  return out;
}

namespace {

// G on the weights sample() uses, in eval mode, parameters frozen; undone on destruction.
class FrozenGenerator {
 public:
  FrozenGenerator(torch::nn::Module& g, WeightEma* ema) : g_(g), swap_(ema), was_training_(g.is_training()) {
    g_.eval();
    for (auto& p : g_.parameters()) {
      flags_.push_back(p.requires_grad());
      p.set_requires_grad(false);
    }
  }
  ~FrozenGenerator() {
    auto params = g_.parameters();
    for (size_t i = 0; i < params.size() && i < flags_.size(); ++i) params[i].set_requires_grad(flags_[i]);
    if (was_training_) g_.train();
  }
  FrozenGenerator(const FrozenGenerator&) = delete;
  FrozenGenerator& operator=(const FrozenGenerator&) = delete;

 private:
  torch::nn::Module& g_;
  EmaSwap swap_;
  bool was_training_;
  std::vector<bool> flags_;
};

}  // namespace

std::vector<int64_t> TwoPlayerGan::latent_shape() const { return {make_noise(1, torch::kCPU).size(1)}; }

std::shared_ptr<void> TwoPlayerGan::render_scope() { return std::make_shared<FrozenGenerator>(*G_, ema_.get()); }

torch::Tensor TwoPlayerGan::render_latents(const torch::Tensor& latents, const torch::Tensor& labels) {
  SampleRequest request;
  request.noise = latents;
  request.labels = labels;
  return generate_sample(request);
}

torch::Tensor TwoPlayerGan::judge(const torch::Tensor& images, const torch::Tensor& labels, const std::string& domain) {
  require(domain.empty(), "model '" + name() + "' has one discriminator; there is no domain '" + domain + "'",
          "judge without a domain");
  require(knobs_.pack == 1,
          "model '" + name() + "' was trained with model.pack = " + std::to_string(knobs_.pack) +
              ": its discriminator judges packs of samples, not single images",
          "judge with a checkpoint trained without PacGAN packing (model.pack = 1)");
  require(!needs_labels() || labels.defined(), "model '" + name() + "' judges an image together with its class",
          "give the images' classes");
  return judged_by(*D_, [&] { return discriminate(images, labels); });
}

onnx::Metadata TwoPlayerGan::export_generator(onnx::Graph& graph, const std::string&) {
  const int64_t width = make_noise(1, torch::kCPU).size(1);
  auto z = graph.input("z", onnx::kFloat, {"N", width},
                       "latent noise [N, " + std::to_string(width) + "], drawn as latent_layout says");
  std::string label;
  if (needs_labels())
    label = graph.input("label", onnx::kInt64, {"N"},
                        "class of each image, int64 in [0, " + std::to_string(shape_.num_classes) + ")");
  std::string image;
  {
    EmaSwap swap(ema_.get());  // as sample(): the averaged weights are the ones written
    image = export_generate(graph, z, label);
  }
  graph.output(image, "image", onnx::kFloat, {"N", shape_.channels, shape_.size, shape_.size},
               "generated images [N, C, H, W] in [-1, 1]");
  return {{"latent_layout", noise_layout()}};
}

torch::Tensor TwoPlayerGan::discriminator_features(const torch::Tensor&, const torch::Tensor&) {
  throw Error("model '" + name() + "' does not expose its discriminator's features",
              "train.feature_matching applies to mlp, dcgan, cgan, wgan and wgan-gp");
}

std::string TwoPlayerGan::export_generate(onnx::Graph& graph, const std::string&, const std::string&) {
  graph.unsupported("the generator of model '" + name() + "'", "G");
}

}  // namespace duel
