// cyclegan (Zhu et al. 2017, "Unpaired Image-to-Image Translation using
// Cycle-Consistent Adversarial Networks"): generators G_AB: A -> B and
// G_BA: B -> A (ResNet blocks), PatchGAN discriminators D_A and D_B.
//
// Each step, as in the paper:
//   G update (both generators, one optimizer "G"):
//     adv(D_B(G_AB(a))) + adv(D_A(G_BA(b)))                       (train.loss, least-squares by default)
//     + lambda   * (|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1)    (model.cycle_weight, 10)
//     + lambda * mu * (|G_BA(a) - a|_1 + |G_AB(b) - b|_1)            (model.identity_weight mu, 0.5)
//   D update (both discriminators, one optimizer "D"), each on real images
//   against fakes drawn through its history pool of model.pool_size (50),
//   the loss halved.
// Learning rates: the paper keeps them for the first half of training and
// decays them linearly to 0 over the second (the defaults optim.schedule =
// linear, optim.decay_start = 0.5).
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/losses/adversarial.h"
#include "duel/losses/cycle.h"
#include "duel/models/translator.h"
#include "duel/models/two_player.h"
#include "duel/nn/i2i_nets.h"
#include "duel/nn/init.h"
#include "duel/nn/onnx_modules.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"model.resnet_blocks", ConfigType::Int, int64_t(9),
                "cyclegan: residual blocks of each generator (the paper: 6 for 128 px, 9 for 256 px)", 1, 64, {}});
  register_key({"model.cycle_weight", ConfigType::Float, 10.0, "cyclegan: weight lambda of the cycle-consistency L1",
                0.0, 1.0e6, {}});
  register_key({"model.identity_weight", ConfigType::Float, 0.5,
                "cyclegan: identity L1 |G_BA(a) - a| + |G_AB(b) - b| weighted by this times model.cycle_weight "
                "(needs A and B with the same channels; 0: off)",
                0.0, 1.0e6, {}});
  register_key({"model.pool_size", ConfigType::Int, int64_t(50),
                "cyclegan: generated images each discriminator's history pool holds (0: no pool)", 0, 100000, {}});
  return true;
}();

class Cyclegan : public Translator, public ImageJudge {
 public:
  Cyclegan(const Config& cfg, const DataShape& shape)
      : shape_(shape),
        knobs_(AdversarialKnobs::from_config(cfg)),
        cycle_(cfg.get_float("model.cycle_weight")),
        identity_(cfg.get_float("model.identity_weight") * cfg.get_float("model.cycle_weight")),
        pool_a_(cfg.get_int("model.pool_size")),
        pool_b_(cfg.get_int("model.pool_size")) {
    knobs_.refuse_two_player_only("cyclegan");
    require(shape.target_channels > 0,
            "cyclegan translates between two domains, and the data has no B images",
            "set data.pair (classes, unpaired-folders, or any paired mode)");
    require(shape.size % 4 == 0,
            "cyclegan's generators need image sides that are multiples of 4, and the images are " +
                std::to_string(shape.size) + " px",
            "set data.image_size or data.crop to a multiple of 4");
    require(identity_ == 0 || shape.channels == shape.target_channels,
            "the identity loss compares G_BA(a) with a, which needs A and B of the same channels (A has " +
                std::to_string(shape.channels) + ", B " + std::to_string(shape.target_channels) + ")",
            "set model.identity_weight = 0, or data.channels to convert both");
    const int64_t ca = shape.channels, cb = shape.target_channels, blocks = cfg.get_int("model.resnet_blocks");
    const int64_t gw = cfg.get_int("model.g_width"), dw = cfg.get_int("model.d_width");
    const int64_t layers = patch_layers(shape.size, cfg.get_int("model.patch_layers"));
    const std::string norm = cfg.get_string("model.patch_norm");
    G_ab_ = ResnetGenerator(ResnetGenOptions(ca, cb).width(gw).blocks(blocks));
    G_ba_ = ResnetGenerator(ResnetGenOptions(cb, ca).width(gw).blocks(blocks));
    D_a_ = PatchDiscriminator(PatchOptions(ca).width(dw).layers(layers).norm(norm));
    D_b_ = PatchDiscriminator(PatchOptions(cb).width(dw).layers(layers).norm(norm));
    const std::string init = cfg.get_string("model.init");
    for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(G_ab_.get()), static_cast<torch::nn::Module*>(G_ba_.get()),
                                 static_cast<torch::nn::Module*>(D_a_.get()), static_cast<torch::nn::Module*>(D_b_.get())})
      init_weights(*m, init);
    auto g_params = G_ab_->parameters(), d_params = D_a_->parameters();
    for (auto& p : G_ba_->parameters()) g_params.push_back(p);
    for (auto& p : D_b_->parameters()) d_params.push_back(p);
    opt_g_ = make_optimizer(cfg, "g", g_params);
    opt_d_ = make_optimizer(cfg, "d", d_params);
  }

  std::string name() const override { return "cyclegan"; }

  // ImageJudge: D_A judges A images, D_B judges B images (the mean of the patch logits).
  std::vector<std::string> judge_domains() const override { return {"A", "B"}; }
  int64_t judge_channels(const std::string& domain) const override {
    return domain == "B" ? shape_.target_channels : shape_.channels;
  }
  torch::Tensor judge(const torch::Tensor& images, const torch::Tensor&, const std::string& domain) override {
    require(domain == "A" || domain == "B", "cyclegan has a discriminator per domain, A and B; not '" + domain + "'",
            "pass --domain A (real A images against translated B) or --domain B");
    auto& d = domain == "A" ? *D_a_ : *D_b_;
    return judged_by(d, [&] { return d.forward(images); });
  }
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override {
    return {{"G_AB", G_ab_.ptr()}, {"G_BA", G_ba_.ptr()}, {"D_A", D_a_.ptr()}, {"D_B", D_b_.ptr()}};
  }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override {
    return {{"G", opt_g_.get()}, {"D", opt_d_.get()}};
  }
  std::vector<std::string> directions() const override { return {"AtoB", "BtoA"}; }
  int64_t size_multiple() const override { return 4; }

  std::map<std::string, torch::Tensor> extra_state() override {
    std::map<std::string, torch::Tensor> out;
    pool_a_.save(out, "pool.A");
    pool_b_.save(out, "pool.B");
    return out;
  }
  void load_extra_state(const std::map<std::string, torch::Tensor>& state) override {
    pool_a_.load(state, "pool.A");
    pool_b_.load(state, "pool.B");
  }

  Scalars step(const Batch& batch, StepContext& ctx) override {
    const auto& a = batch.images;   // [N, Ca, S, S]
    const auto& b = batch.targets;  // [N, Cb, S, S]
    require(b.defined(), "cyclegan got a batch without B images", "set data.pair");

    // Generators, through frozen discriminators.
    set_requires_grad(*D_a_, false);
    set_requires_grad(*D_b_, false);
    clear_grads(*G_ab_);
    clear_grads(*G_ba_);
    // Each fake goes to its discriminator and, through the other generator, back to its source.
    ImageMap g_ab = [&](const torch::Tensor& x) { return G_ab_->forward(x); };  // [N, Ca, S, S] -> [N, Cb, S, S]
    ImageMap g_ba = [&](const torch::Tensor& x) { return G_ba_->forward(x); };  // [N, Cb, S, S] -> [N, Ca, S, S]
    auto [fake_b, fake_a, cycle] = cycle_consistency(g_ab, g_ba, a, b);
    auto adv = generator_loss(knobs_.loss, D_b_->forward(fake_b)) + generator_loss(knobs_.loss, D_a_->forward(fake_a));
    auto loss_g = adv + cycle_ * cycle;
    torch::Tensor idt;
    if (identity_ > 0) {
      idt = identity_loss(g_ab, g_ba, a, b);
      loss_g = loss_g + identity_ * idt;
    }
    loss_g.backward();
    set_requires_grad(*D_a_, true);
    set_requires_grad(*D_b_, true);
    if (ctx.after_backward) ctx.after_backward("G");
    opt_g_->step();

    // Discriminators, on real images and pooled fakes.
    clear_grads(*D_a_);
    clear_grads(*D_b_);
    auto d_loss = [&](PatchDiscriminator& D, const torch::Tensor& real, const torch::Tensor& fake,
                      torch::Tensor& real_out, torch::Tensor& fake_out) {
      real_out = D->forward(real);  // [N, 1, P, P]
      fake_out = D->forward(fake);  // [N, 1, P, P]
      auto t = real_targets(real_out.numel(), knobs_.label_smoothing, knobs_.smoothing_uniform, knobs_.label_flip,
                            real_out.options());
      return 0.5 * discriminator_loss(knobs_.loss, real_out, t, fake_out);
    };
    torch::Tensor ra, fa, rb, fb;
    auto loss_da = d_loss(D_a_, a, pool_a_.query(fake_a.detach()), ra, fa);
    auto loss_db = d_loss(D_b_, b, pool_b_.query(fake_b.detach()), rb, fb);
    auto loss_d = loss_da + loss_db;
    loss_d.backward();
    if (ctx.after_backward) ctx.after_backward("D");
    opt_d_->step();

    Scalars out{{"loss_d", loss_d.detach()}, {"loss_g", loss_g.detach()}, {"adv_g", adv.detach()},
                {"cycle", cycle.detach()}};
    if (idt.defined()) out.emplace_back("identity", idt.detach());
    out.emplace_back("loss_d_a", loss_da.detach());
    out.emplace_back("loss_d_b", loss_db.detach());
    return out;
  }

  // Columns: A | G_AB(A) | G_BA(G_AB(A)) | B | G_BA(B) | G_AB(G_BA(B)), each
  // shown with the channels of the widest domain.
  std::vector<torch::Tensor> preview(const Batch& fixed) override {
    auto fb = translate(fixed.images, "AtoB"), fa = translate(fixed.targets, "BtoA");
    auto ra = translate(fb, "BtoA"), rb = translate(fa, "AtoB");
    const int64_t c = std::max(shape_.channels, shape_.target_channels);
    auto show = [&](const torch::Tensor& x) { return x.size(1) == c ? x : x.expand({-1, c, -1, -1}); };
    return {show(fixed.images), show(fb), show(ra), show(fixed.targets), show(fa), show(rb)};
  }

 protected:
  int64_t input_channels(const std::string& direction) const override {
    return direction == "AtoB" ? shape_.channels : shape_.target_channels;
  }
  std::string export_run_generator(onnx::Graph& graph, const std::string& direction, const std::string& x) override {
    return direction == "AtoB" ? onnx::export_module(graph, *G_ab_, x, "G_AB") : onnx::export_module(graph, *G_ba_, x, "G_BA");
  }
  torch::Tensor run_generator(const std::string& direction, const torch::Tensor& input) override {
    return direction == "AtoB" ? G_ab_->forward(input) : G_ba_->forward(input);  // [N, C, H, W] -> [N, C', H, W]
  }

 private:
  DataShape shape_;
  AdversarialKnobs knobs_;
  double cycle_, identity_;
  ImagePool pool_a_, pool_b_;
  ResnetGenerator G_ab_{nullptr}, G_ba_{nullptr};
  PatchDiscriminator D_a_{nullptr}, D_b_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> opt_g_, opt_d_;
};

std::unique_ptr<GanModel> make_cyclegan(const Config& cfg, const DataShape& shape) {
  return std::make_unique<Cyclegan>(cfg, shape);
}

}  // namespace

DUEL_REGISTER_MODEL("cyclegan",
                    "CycleGAN: two ResNet generators, two PatchGAN Ds, least-squares + cycle + identity losses "
                    "(unpaired data)",
                    make_cyclegan,
                    ModelDefaults{{"train.loss", std::string("least-squares")},
                                  {"model.patch_norm", std::string("instance")},
                                  {"train.batch_size", int64_t(8)},
                                  {"optim.schedule", std::string("linear")},
                                  {"optim.decay_start", 0.5}});

}  // namespace duel
