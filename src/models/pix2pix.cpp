// pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional
// Adversarial Networks"): a U-Net G maps an A image to its B image; a
// PatchGAN D judges (A, B) pairs patch by patch. G minimises the adversarial
// loss of train.loss plus lambda * L1(G(A), B) (model.l1_weight, 100).
// Dropout in G's inner up steps is on while training and off when
// translating, so translations are deterministic.
#include <torch/nn/functional/loss.h>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/losses/adversarial.h"
#include "duel/models/translator.h"
#include "duel/models/two_player.h"
#include "duel/nn/i2i_nets.h"
#include "duel/nn/init.h"
#include "duel/nn/onnx_modules.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"model.unet_depth", ConfigType::Int, int64_t(0),
                "pix2pix: stride-2 steps of the U-Net (0: as many as the image size allows, at most 8)", 0, 10, {}});
  register_key({"model.unet_dropout", ConfigType::Float, 0.5,
                "pix2pix: dropout in the U-Net's three up steps after the innermost (training only)", 0.0, 0.95, {}});
  register_key({"model.l1_weight", ConfigType::Float, 100.0, "pix2pix: weight lambda of L1(G(A), B) in G's loss",
                0.0, 1.0e6, {}});
  return true;
}();

class Pix2pix : public Translator {
 public:
  Pix2pix(const Config& cfg, const DataShape& shape)
      : shape_(shape), knobs_(AdversarialKnobs::from_config(cfg)), l1_weight_(cfg.get_float("model.l1_weight")) {
    knobs_.refuse_two_player_only("pix2pix");
    require(shape.target_channels > 0 && shape.paired,
            "pix2pix trains on paired images (A and its B), and the data has " +
                std::string(shape.target_channels > 0 ? "unpaired domains" : "no B images"),
            "set data.pair to paired-folders, side-by-side or sobel (or use cyclegan for unpaired data)");
    depth_ = unet_depth(shape.size, cfg.get_int("model.unet_depth"));
    G_ = UnetGenerator(UnetOptions(shape.channels, shape.target_channels)
                           .width(cfg.get_int("model.g_width"))
                           .depth(depth_)
                           .dropout(cfg.get_float("model.unet_dropout")));
    D_ = PatchDiscriminator(PatchOptions(shape.channels + shape.target_channels)
                                .width(cfg.get_int("model.d_width"))
                                .layers(patch_layers(shape.size, cfg.get_int("model.patch_layers")))
                                .norm(cfg.get_string("model.patch_norm")));
    init_weights(*G_, cfg.get_string("model.init"));
    init_weights(*D_, cfg.get_string("model.init"));
    opt_g_ = make_optimizer(cfg, "g", G_->parameters());
    opt_d_ = make_optimizer(cfg, "d", D_->parameters());
  }

  std::string name() const override { return "pix2pix"; }
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override {
    return {{"G", G_.ptr()}, {"D", D_.ptr()}};
  }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override {
    return {{"G", opt_g_.get()}, {"D", opt_d_.get()}};
  }
  std::vector<std::string> directions() const override { return {"AtoB"}; }
  int64_t size_multiple() const override { return int64_t(1) << depth_; }

  Scalars step(const Batch& batch, StepContext& ctx) override {
    const auto& a = batch.images;   // [N, Ca, S, S]
    const auto& b = batch.targets;  // [N, Cb, S, S]
    require(b.defined(), "pix2pix got a batch without B images", "set data.pair");
    auto fake = G_->forward(a);  // [N, Cb, S, S]

    clear_grads(*D_);
    auto real_out = D_->forward(torch::cat({a, b}, 1));                // [N, 1, P, P]
    auto fake_out = D_->forward(torch::cat({a, fake.detach()}, 1));    // [N, 1, P, P]
    auto t = real_targets(real_out.numel(), knobs_.label_smoothing, knobs_.smoothing_uniform, knobs_.label_flip,
                          real_out.options());
    // Halved, as in pix2pix: D learns at half the rate of G.
    auto loss_d = 0.5 * discriminator_loss(knobs_.loss, real_out, t, fake_out);
    loss_d.backward();
    if (ctx.after_backward) ctx.after_backward("D");
    opt_d_->step();

    set_requires_grad(*D_, false);
    clear_grads(*G_);
    auto adv = generator_loss(knobs_.loss, D_->forward(torch::cat({a, fake}, 1)));
    auto l1 = (fake - b).abs().mean();
    auto loss_g = adv + l1_weight_ * l1;
    loss_g.backward();
    set_requires_grad(*D_, true);
    if (ctx.after_backward) ctx.after_backward("G");
    opt_g_->step();

    Scalars out{{"loss_d", loss_d.detach()}, {"loss_g", loss_g.detach()}, {"adv_g", adv.detach()},
                {"l1", l1.detach()}};
    if (loss_uses_logits(knobs_.loss)) {
      out.emplace_back("d_real", torch::sigmoid(real_out.detach()).mean());
      out.emplace_back("d_fake", torch::sigmoid(fake_out.detach()).mean());
    }
    return out;
  }

 protected:
  int64_t input_channels(const std::string&) const override { return shape_.channels; }
  std::string export_run_generator(onnx::Graph& graph, const std::string&, const std::string& x) override {
    return onnx::export_module(graph, *G_, x, "G");
  }
  torch::Tensor run_generator(const std::string&, const torch::Tensor& input) override {
    return G_->forward(input);  // [N, Ca, H, W] -> [N, Cb, H, W]
  }

 private:
  DataShape shape_;
  AdversarialKnobs knobs_;
  double l1_weight_;
  int64_t depth_ = 0;
  UnetGenerator G_{nullptr};
  PatchDiscriminator D_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> opt_g_, opt_d_;
};

std::unique_ptr<GanModel> make_pix2pix(const Config& cfg, const DataShape& shape) {
  return std::make_unique<Pix2pix>(cfg, shape);
}

}  // namespace

DUEL_REGISTER_MODEL("pix2pix", "pix2pix: U-Net G, PatchGAN D on (A, B) pairs, adversarial + 100 x L1 (paired data)",
                    make_pix2pix, ModelDefaults{{"train.batch_size", int64_t(16)}});

}  // namespace duel
