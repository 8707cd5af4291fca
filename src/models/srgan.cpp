// srgan (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution
// Using a Generative Adversarial Network") and srresnet, its generator
// trained alone.
//
// The data are ordinary images (the high-resolution targets HR); the model
// makes each input LR by averaging scale x scale blocks of HR (area
// downscaling), so any image set trains a super-resolution model.
// G = SRResNet (nn/i2i_nets.h). G's loss:
//   pixel_weight * MSE(G(LR), HR)
//   + feature_weight * MSE(phi(G(LR)), phi(HR))    phi: a feature network (model.sr_features;
//                                                    default: the dataset's duel feature net,
//                                                    or a user's TorchScript VGG)
//   + adv_weight * adversarial loss of D(G(LR))     (srgan only, after model.sr_pretrain_steps)
// The first model.sr_pretrain_steps steps train G alone (the SRResNet phase
// SRGAN starts from); D joins afterwards. Columns are the same in both phases.
#include <torch/nn/functional/pooling.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/losses/adversarial.h"
#include "duel/models/translator.h"
#include "duel/models/two_player.h"
#include "duel/nn/feature_net.h"
#include "duel/nn/i2i_nets.h"
#include "duel/nn/init.h"
#include "duel/nn/onnx_modules.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  const auto I = register_int_key;
  const auto F = register_float_key;
  I("model.sr_scale", 4, 2, 8, "srgan/srresnet: upscaling factor, 2 or 4 (the input is HR averaged over scale x scale blocks)");
  I("model.sr_blocks", 16, 1, 64, "srgan/srresnet: residual blocks of the SRResNet generator");
  I("model.sr_d_stages", 3, 1, 6, "srgan: stages of the discriminator (each: conv, stride-2 conv)");
  F("model.sr_pixel_weight", 1.0, 0.0, 1.0e6, "srgan/srresnet: weight of the pixel MSE in G's content loss");
  F("model.sr_feature_weight", 0.0, 0.0, 1.0e6,
    "srgan/srresnet: weight of the feature MSE (through model.sr_features) in G's content loss (0: off)");
  F("model.sr_adv_weight", 1.0e-3, 0.0, 1.0e6, "srgan: weight of the adversarial term in G's loss");
  I("model.sr_pretrain_steps", 0, 0, 1.0e12, "srgan: first steps that train G alone on the content loss (SRResNet phase)");
  register_key({"model.sr_features", ConfigType::String, std::string(""),
                "srgan/srresnet: feature network of the feature loss: a .duelfeat or TorchScript file "
                "(empty: the dataset's duel feature network, features/<dataset>.duelfeat)",
                {}, {}, {}});
  return true;
}();

// x float [N, C, H, W] -> the feature network's channels and size (differentiably).
torch::Tensor fit_to(const torch::Tensor& x, const FeatureIdentity& id) {
  auto y = x;
  if (id.input_channels > 0 && y.size(1) != id.input_channels)
    y = id.input_channels == 1 ? y.mean(1, true) : y.expand({-1, id.input_channels, -1, -1});
  if (id.input_size > 0 && (y.size(2) != id.input_size || y.size(3) != id.input_size))
    y = torch::nn::functional::interpolate(y, torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{id.input_size, id.input_size})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false));
  return y;
}

class Srgan : public Translator, public ImageJudge {
 public:
  Srgan(const Config& cfg, const DataShape& shape, bool adversarial)
      : shape_(shape),
        adversarial_(adversarial),
        knobs_(AdversarialKnobs::from_config(cfg)),
        scale_(cfg.get_int("model.sr_scale")),
        pixel_w_(cfg.get_float("model.sr_pixel_weight")),
        feature_w_(cfg.get_float("model.sr_feature_weight")),
        adv_w_(cfg.get_float("model.sr_adv_weight")),
        pretrain_(cfg.get_int("model.sr_pretrain_steps")) {
    const std::string model = adversarial ? "srgan" : "srresnet";
    knobs_.refuse_two_player_only(model);
    require(scale_ == 2 || scale_ == 4 || scale_ == 8, "model.sr_scale = " + std::to_string(scale_) + " is not supported",
            "set model.sr_scale to 2 or 4");
    require(shape.size % scale_ == 0,
            model + " makes its inputs by shrinking the images " + std::to_string(scale_) + "x, and " +
                std::to_string(shape.size) + " px is not a multiple of " + std::to_string(scale_),
            "set data.image_size or data.crop to a multiple of model.sr_scale");
    require(pixel_w_ > 0 || feature_w_ > 0, model + " has no content loss (model.sr_pixel_weight and sr_feature_weight are 0)",
            "set model.sr_pixel_weight = 1");
    G_ = SrResnet(SrResnetOptions(shape.channels)
                      .scale(scale_)
                      .width(cfg.get_int("model.g_width"))
                      .blocks(cfg.get_int("model.sr_blocks")));
    init_weights(*G_, cfg.get_string("model.init"));
    opt_g_ = make_optimizer(cfg, "g", G_->parameters());
    if (adversarial_) {
      D_ = SrDiscriminator(
          SrDiscOptions(shape.channels).width(cfg.get_int("model.d_width")).stages(cfg.get_int("model.sr_d_stages")));
      init_weights(*D_, cfg.get_string("model.init"));
      opt_d_ = make_optimizer(cfg, "d", D_->parameters());
    }
    features_path_ = cfg.get_string("model.sr_features");
    dataset_ = cfg.get_string("data.dataset");
  }

  // The feature network of the content loss is needed for training only:
  // translating, upscaling and evaluating a checkpoint never load it.
  void prepare_training() override {
    if (feature_w_ <= 0 || features_) return;
    std::string path = features_path_;
    if (path.empty()) {
      require(dataset_.rfind("folder:", 0) != 0,
              "the feature loss of " + name() + " needs a feature network, and image folders have no default one",
              "set model.sr_features to a .duelfeat or TorchScript file (e.g. a VGG export), or "
              "model.sr_feature_weight = 0");
      path = find_feature_net(dataset_);
    }
    features_ = load_feature_extractor(path);
  }

  std::string name() const override { return adversarial_ ? "srgan" : "srresnet"; }

  // ImageJudge: D on full-size (high-resolution) images; srresnet has no D.
  int64_t judge_channels(const std::string&) const override { return shape_.channels; }
  torch::Tensor judge(const torch::Tensor& images, const torch::Tensor&, const std::string& domain) override {
    require(adversarial_, "srresnet has no discriminator (it trains on the content loss alone)",
            "judge with an srgan checkpoint");
    require(domain.empty(), "srgan has one discriminator; there is no domain '" + domain + "'", "drop --domain");
    return judged_by(*D_, [&] { return D_->forward(images); });
  }
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override {
    if (!adversarial_) return {{"G", G_.ptr()}};
    return {{"G", G_.ptr()}, {"D", D_.ptr()}};
  }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override {
    if (!adversarial_) return {{"G", opt_g_.get()}};
    return {{"G", opt_g_.get()}, {"D", opt_d_.get()}};
  }
  std::vector<std::string> directions() const override { return {"AtoB"}; }
  int64_t scale() const override { return scale_; }

  // The input is the image shrunk by scale (the mean of each scale x scale block); the target is the image.
  std::pair<torch::Tensor, torch::Tensor> io_of(const Batch& batch) const override {
    return {torch::nn::functional::avg_pool2d(batch.images, torch::nn::functional::AvgPool2dFuncOptions(scale_)),
            batch.images};
  }

  Scalars step(const Batch& batch, StepContext& ctx) override {
    auto [lr, hr] = io_of(batch);  // [N, C, S/scale, S/scale], [N, C, S, S]
    auto sr = G_->forward(lr);      // [N, C, S, S]
    const bool adv_phase = adversarial_ && ctx.step >= pretrain_;
    auto zero = torch::zeros({}, hr.options());
    torch::Tensor loss_d = zero, d_real = zero, d_fake = zero;
    if (adv_phase) {
      clear_grads(*D_);
      auto real_out = D_->forward(hr);           // [N, 1]
      auto fake_out = D_->forward(sr.detach());  // [N, 1]
      auto t = real_targets(real_out.numel(), knobs_.label_smoothing, knobs_.smoothing_uniform, knobs_.label_flip,
                            real_out.options());
      loss_d = discriminator_loss(knobs_.loss, real_out, t, fake_out);
      loss_d.backward();
      if (ctx.after_backward) ctx.after_backward("D");
      opt_d_->step();
      if (loss_uses_logits(knobs_.loss)) {
        d_real = torch::sigmoid(real_out.detach()).mean();
        d_fake = torch::sigmoid(fake_out.detach()).mean();
      }
      set_requires_grad(*D_, false);
    }
    clear_grads(*G_);
    auto pixel = (sr - hr).square().mean();
    torch::Tensor loss_g = pixel_w_ * pixel, feature = zero, adv = zero;
    require(feature_w_ <= 0 || features_, name() + " trains with a feature loss but has no feature network",
            "call prepare_training() before step()");
    if (features_) {
      require(!hr.is_cuda(), "the feature loss runs on the CPU only", "train with --device cpu or model.sr_feature_weight = 0");
      const auto& id = features_->identity();
      auto target = features_->differentiable_features(fit_to(hr, id)).detach();  // [N, D]
      feature = (features_->differentiable_features(fit_to(sr, id)) - target).square().mean();
      loss_g = loss_g + feature_w_ * feature;
    }
    if (adv_phase) {
      adv = generator_loss(knobs_.loss, D_->forward(sr));
      loss_g = loss_g + adv_w_ * adv;
    }
    loss_g.backward();
    if (adv_phase) set_requires_grad(*D_, true);
    if (ctx.after_backward) ctx.after_backward("G");
    opt_g_->step();

    Scalars out{{"loss_g", loss_g.detach()}, {"pixel_mse", pixel.detach()}};
    if (features_) out.emplace_back("feature_mse", feature.detach());
    if (adversarial_) {
      out.emplace_back("loss_d", loss_d.detach());
      out.emplace_back("adv_g", adv.detach());
      if (loss_uses_logits(knobs_.loss)) {
        out.emplace_back("d_real", d_real);
        out.emplace_back("d_fake", d_fake);
      }
    }
    return out;
  }

 protected:
  int64_t input_channels(const std::string&) const override { return shape_.channels; }
  std::string export_run_generator(onnx::Graph& graph, const std::string&, const std::string& x) override {
    return onnx::export_module(graph, *G_, x, "G");
  }
  torch::Tensor run_generator(const std::string&, const torch::Tensor& input) override {
    return G_->forward(input);  // [N, C, h, w] -> [N, C, h*scale, w*scale]
  }

 private:
  DataShape shape_;
  bool adversarial_;
  AdversarialKnobs knobs_;
  int64_t scale_;
  double pixel_w_, feature_w_, adv_w_;
  int64_t pretrain_;
  SrResnet G_{nullptr};
  SrDiscriminator D_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> opt_g_, opt_d_;
  std::string features_path_, dataset_;
  std::unique_ptr<FeatureExtractor> features_;  // loaded by prepare_training()
};

std::unique_ptr<GanModel> make_srgan(const Config& cfg, const DataShape& shape) {
  return std::make_unique<Srgan>(cfg, shape, true);
}
std::unique_ptr<GanModel> make_srresnet(const Config& cfg, const DataShape& shape) {
  return std::make_unique<Srgan>(cfg, shape, false);
}

const ModelDefaults kSrDefaults{{"optim.g_lr", 1e-4}, {"optim.g_beta1", 0.9}, {"optim.d_lr", 1e-4},
                                {"optim.d_beta1", 0.9}, {"train.batch_size", int64_t(16)}};

}  // namespace

DUEL_REGISTER_MODEL("srgan",
                    "SRGAN: SRResNet generator (pixel shuffle x2/x4), VGG-style D, pixel + feature content loss "
                    "+ adversarial term",
                    make_srgan, kSrDefaults);
DUEL_REGISTER_MODEL("srresnet", "SRResNet: srgan's generator alone on the content loss (no adversary)", make_srresnet,
                    kSrDefaults);

}  // namespace duel
