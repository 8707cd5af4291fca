// TwoPlayerGan: the alternating-update step shared by one-G/one-D models.
#include "duel/models/two_player.h"

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/nn/init.h"

namespace duel {

AdversarialKnobs AdversarialKnobs::from_config(const Config& cfg) {
  AdversarialKnobs k;
  k.objective = parse_objective(cfg.get_string("train.loss"));
  k.label_smoothing = cfg.get_float("train.label_smoothing");
  k.smoothing_uniform = cfg.get_string("train.smoothing_mode") == "uniform";
  k.label_flip = cfg.get_float("train.label_flip");
  k.instance_noise = cfg.get_float("train.instance_noise");
  k.d_steps = cfg.get_int("train.d_steps");
  return k;
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

TwoPlayerGan::TwoPlayerGan(const Config& cfg, const DataShape& shape, std::shared_ptr<torch::nn::Module> g,
                           std::shared_ptr<torch::nn::Module> d)
    : latent_dim_(cfg.get_int("model.latent_dim")), shape_(shape), knobs_(AdversarialKnobs::from_config(cfg)),
      G_(std::move(g)), D_(std::move(d)) {
  const std::string init = cfg.get_string("model.init");
  init_weights(*G_, init);
  init_weights(*D_, init);
  opt_g_ = std::make_unique<torch::optim::Adam>(
      G_->parameters(), torch::optim::AdamOptions(cfg.get_float("optim.g_lr"))
                            .betas({cfg.get_float("optim.g_beta1"), cfg.get_float("optim.g_beta2")}));
  opt_d_ = std::make_unique<torch::optim::Adam>(
      D_->parameters(), torch::optim::AdamOptions(cfg.get_float("optim.d_lr"))
                            .betas({cfg.get_float("optim.d_beta1"), cfg.get_float("optim.d_beta2")}));
}

std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> TwoPlayerGan::nets() {
  return {{"G", G_}, {"D", D_}};
}

std::vector<std::pair<std::string, torch::optim::Optimizer*>> TwoPlayerGan::optimizers() {
  return {{"G", opt_g_.get()}, {"D", opt_d_.get()}};
}

torch::Tensor TwoPlayerGan::make_noise(int64_t n, torch::Device device) const {
  return torch::randn({n, latent_dim_}, torch::TensorOptions().device(device));
}

Scalars TwoPlayerGan::step(const Batch& batch, StepContext& ctx) {
  const double sigma = knobs_.instance_noise * (1.0 - ctx.progress);
  auto with_noise = [&](const torch::Tensor& x) { return sigma > 0 ? x + sigma * torch::randn_like(x) : x; };

  torch::Tensor fake, labels, real_logits, fake_logits, loss_d;
  for (int64_t k = 0; k < knobs_.d_steps; ++k) {
    const Batch b = (k == 0) ? batch : ctx.next_batch();
    const auto& real = b.images;
    labels = b.labels;
    const int64_t n = real.size(0);
    auto z = make_noise(n, real.device());
    const bool last = (k == knobs_.d_steps - 1);
    {
      // Only the last D step's fakes feed the generator update; earlier ones need no graph.
      torch::AutoGradMode grad_mode(last);
      fake = generate(z, labels);  // [N, C, H, W]
    }
    clear_grads(*D_);
    real_logits = discriminate(with_noise(real), labels);          // [N, 1]
    fake_logits = discriminate(with_noise(fake.detach()), labels);  // [N, 1]
    auto targets = real_targets(n, knobs_.label_smoothing, knobs_.smoothing_uniform, knobs_.label_flip,
                                real_logits.options());
    loss_d = discriminator_loss(real_logits, targets, fake_logits);
    loss_d.backward();
    if (ctx.after_backward) ctx.after_backward("D");
    opt_d_->step();
  }

  // Generator update through a frozen D: no gradients are computed for D's weights.
  set_requires_grad(*D_, false);
  clear_grads(*G_);
  auto gen_logits = discriminate(with_noise(fake), labels);  // [N, 1]
  auto loss_g = generator_loss(gen_logits, knobs_.objective);
  loss_g.backward();
  set_requires_grad(*D_, true);
  if (ctx.after_backward) ctx.after_backward("G");
  opt_g_->step();

  return {{"loss_d", loss_d.detach()},
          {"loss_g", loss_g.detach()},
          {"d_real", torch::sigmoid(real_logits.detach()).mean()},
          {"d_fake", torch::sigmoid(fake_logits.detach()).mean()}};
}

torch::Tensor TwoPlayerGan::sample(const SampleRequest& request) {
  torch::NoGradGuard no_grad;
  const bool was_training = G_->is_training();
  G_->eval();
  auto out = generate(request.noise, request.labels);
  if (was_training) G_->train();
  return out;
}

}  // namespace duel
