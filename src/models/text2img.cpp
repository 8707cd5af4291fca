// text2img: text-to-image GAN-INT-CLS on DCGAN nets (see the header for the
// model). One step:
//   1. E embeds the batch's captions; G draws fakes from z and the (detached)
//      embeddings.
//   2. D (and E, through the same loss) update on three kinds of pair: real
//      image + own caption (real), real image + mismatched caption and fake
//      image + own caption (fake, half weight each).
//   3. G updates through a frozen D on its fakes, plus (INT) on fakes drawn
//      for midpoints between pairs of the batch's sentence embeddings.
#include "duel/models/text2img.h"

#include <torch/nn/functional/activation.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/nn/ema.h"
#include "duel/nn/init.h"
#include "duel/models/two_player.h"

namespace duel {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

const bool keys_registered = [] {
  register_int_key("model.word_dim", 64, 4, 4096, "text2img: size of the learned word embeddings");
  register_int_key("model.text_dim", 128, 4, 4096, "text2img: size of the sentence embedding E produces");
  register_int_key("model.text_cond", 64, 1, 4096, "text2img: size of G's projection of the sentence embedding");
  register_float_key("model.text_interp_weight", 1.0, 0.0, 100.0,
                     "text2img: weight of G's loss on midpoints of pairs of sentence embeddings (GAN-INT; 0: off)");
  register_key({"model.text_pool", ConfigType::String, std::string("mean"),
                "text2img: how E pools its per-word features into the sentence embedding: mean or max", {}, {},
                {"mean", "max"}});
  register_float_key("model.word_dropout", 0.0, 0.0, 0.9,
                     "text2img: training only: each caption word is left out with this probability (at least one "
                     "word stays), so E does not depend on exact phrasings");
  return true;
}();

torch::Tensor leaky(const torch::Tensor& x) { return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)); }

}  // namespace

TextEncoderImpl::TextEncoderImpl(const TextEncoderOptions& o) : options(o) {
  words = register_module("words", nn::Embedding(nn::EmbeddingOptions(o.vocabulary(), o.word_dim()).padding_idx(0)));
  conv1 = register_module("conv1", nn::Conv1d(nn::Conv1dOptions(o.word_dim(), o.text_dim(), 3).padding(1)));
  conv2 = register_module("conv2", nn::Conv1d(nn::Conv1dOptions(o.text_dim(), o.text_dim(), 3).padding(1)));
  out = register_module("out", nn::Linear(o.text_dim(), o.text_dim()));
}

torch::Tensor TextEncoderImpl::forward(const torch::Tensor& ids) {
  auto mask = ids.gt(0).unsqueeze(1).to(torch::kFloat32);  // [N, 1, L]
  auto x = words->forward(ids).transpose(1, 2);            // [N, L] -> [N, word_dim, L]
  x = leaky(conv1->forward(x)) * mask;                     // [N, text_dim, L], padding zeroed
  x = leaky(conv2->forward(x)) * mask;                     // [N, text_dim, L]
  torch::Tensor pooled;                                    // [N, text_dim]
  if (options.max_pool()) pooled = (x + (mask - 1) * 1e4).amax(2);  // max over the words (padding pushed down)
  else pooled = x.sum(2) / mask.sum(2).clamp_min(1.0);             // mean over the words
  return out->forward(pooled);                                     // [N, text_dim]
}

torch::Tensor matching_aware_d_loss(GanLoss loss, const torch::Tensor& real_match, const torch::Tensor& real_mismatch,
                                    const torch::Tensor& fake_match, const torch::Tensor& real_targets) {
  // The fake term is a mean over 2N outputs: 1/2 weight for each kind.
  return discriminator_loss(loss, real_match, real_targets, torch::cat({real_mismatch, fake_match}, 0));
}

torch::Tensor drop_words(const torch::Tensor& ids, double p) {
  if (p <= 0) return ids;
  auto words = ids.gt(0);                                                // [N, L]
  auto kept = words.logical_and(torch::rand(ids.sizes(), torch::TensorOptions().device(ids.device())) >= p);
  auto none_left = kept.sum(1, true).eq(0);                              // [N, 1]: keep such captions whole
  return torch::where(kept.logical_or(none_left.logical_and(words)), ids, torch::zeros_like(ids));
}

torch::Tensor mismatch_permutation(int64_t n) {
  require(n >= 2, "mismatched captions need a batch of at least 2 images", "raise train.batch_size");
  auto sigma = torch::randperm(n, torch::kInt64);                          // [n]
  const int64_t shift = 1 + torch::randint(n - 1, {1}, torch::kInt64).item<int64_t>();
  auto rotated = sigma.roll(-shift);                                       // rotated[i] = sigma[(i + shift) % n]
  auto perm = torch::empty({n}, torch::kInt64);
  perm.index_put_({sigma}, rotated);                                      // perm[sigma[i]] = sigma[(i + shift) % n]
  return perm;
}

namespace {

class Text2ImgGeneratorImpl : public nn::Module {
 public:
  Text2ImgGeneratorImpl(const DcganOptions& o, int64_t text_dim, int64_t cond_dim) {
    cond = register_module("cond", nn::Linear(text_dim, cond_dim));
    DcganOptions g = o;
    g.extra_in(cond_dim);
    net = register_module("net", DcganGenerator(g));
  }
  // z [N, latent], sentence [N, text_dim] -> images [N, C, S, S] in [-1, 1]
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& sentence) {
    return net->forward(torch::cat({z, leaky(cond->forward(sentence))}, 1));  // [N, latent + cond] -> image
  }
  nn::Linear cond{nullptr};
  DcganGenerator net{nullptr};
};
TORCH_MODULE(Text2ImgGenerator);

class Text2ImgDiscriminatorImpl : public nn::Module {
 public:
  Text2ImgDiscriminatorImpl(const DcganOptions& o, int64_t text_dim) {
    net = register_module("net", DcganDiscriminator(o));
    project = register_module("project", nn::Linear(text_dim, net->feature_channels()));
  }
  // x [N, C, S, S] -> trunk features [N, c, k, k]
  torch::Tensor features(const torch::Tensor& x) { return net->features(x); }
  // h [N, c, k, k], sentence [N, text_dim] -> logits [N, 1]
  torch::Tensor score(const torch::Tensor& h, const torch::Tensor& sentence) {
    return net->head(h) + (project->forward(sentence) * h.sum({2, 3})).sum(1, true);
  }
  DcganDiscriminator net{nullptr};
  nn::Linear project{nullptr};
};
TORCH_MODULE(Text2ImgDiscriminator);

class Text2Img : public Text2ImgModel {
 public:
  Text2Img(const Config& cfg, const DataShape& shape)
      : latent_dim_(cfg.get_int("model.latent_dim")), knobs_(AdversarialKnobs::from_config(cfg)),
        interp_weight_(cfg.get_float("model.text_interp_weight")), word_dropout_(cfg.get_float("model.word_dropout")) {
    knobs_.refuse_two_player_only("text2img");
    require(knobs_.d_steps == 1 && knobs_.gp_weight == 0 && knobs_.r1_weight == 0 && knobs_.weight_clip == 0 &&
                knobs_.diffaug.empty() && knobs_.instance_noise == 0 && knobs_.label_flip == 0,
            "text2img supports train.loss, train.label_smoothing and train.ema of the adversarial settings",
            "leave train.d_steps = 1 and train.gp_weight, r1_weight, weight_clip, diffaug, instance_noise, "
            "label_flip at their defaults");
    DcganOptions g(latent_dim_, shape.channels, shape.size);
    dcgan_stages(shape.size);  // validates the size before any allocation
    g.winograd(cfg.get_bool("perf.winograd"));
    DcganOptions d = g;
    g.width(cfg.get_int("model.g_width")).fast_convt(cfg.get_bool("perf.fast_convt"));
    d.width(cfg.get_int("model.d_width"))
        .spectral_norm(cfg.get_bool("model.spectral_norm"))
        .norm(cfg.get_string("model.d_norm"));
    const int64_t text_dim = cfg.get_int("model.text_dim");
    G_ = Text2ImgGenerator(g, text_dim, cfg.get_int("model.text_cond"));
    D_ = Text2ImgDiscriminator(d, text_dim);
    E_ = TextEncoder(TextEncoderOptions(int64_t(shape.vocabulary.size()), cfg.get_int("model.word_dim"), text_dim)
                         .max_pool(cfg.get_string("model.text_pool") == "max"));
    const std::string init = cfg.get_string("model.init");
    init_weights(*G_, init);
    init_weights(*D_, init);
    opt_g_ = make_optimizer(cfg, "g", G_->parameters());
    auto dp = D_->parameters();
    for (auto& p : E_->parameters()) dp.push_back(p);
    opt_d_ = make_optimizer(cfg, "d", dp);  // E learns with D, from D's loss
    if (knobs_.ema > 0) ema_ = std::make_unique<WeightEma>(*G_, knobs_.ema);
  }

  std::string name() const override { return "text2img"; }
  bool needs_captions() const override { return true; }
  // The preview grid keeps the first caption of the first images; with
  // labelled data, one class per grid row (the grid is ceil(sqrt(n)) wide).
  PreviewInputs preview_inputs(const ImageSet& data, int64_t n, int64_t size, torch::Device device) const override {
    PreviewInputs p = GanModel::preview_inputs(data, n, size, device);
    const int64_t cols = int64_t(std::ceil(std::sqrt(double(n))));
    std::vector<int64_t> pick;
    for (int64_t i = 0; i < n; ++i) {
      int64_t chosen = i % data.size();
      if (data.has_labels()) {
        const auto of_class = data.labels.eq((i / cols) % data.num_classes).nonzero().reshape({-1});
        if (of_class.numel() > 0) chosen = of_class[(i % cols) % of_class.numel()].item<int64_t>();
      }
      pick.push_back(chosen);
    }
    p.request.text = data.captions.first_caption(torch::tensor(pick, torch::kInt64)).to(device);
    return p;
  }
  std::vector<std::pair<std::string, std::shared_ptr<nn::Module>>> nets() override {
    return {{"G", G_.ptr()}, {"D", D_.ptr()}, {"E", E_.ptr()}};
  }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override {
    return {{"G", opt_g_.get()}, {"D", opt_d_.get()}};
  }
  torch::Tensor make_noise(int64_t n, torch::Device device) const override {
    return torch::randn({n, latent_dim_}, torch::TensorOptions().device(device));
  }
  std::map<std::string, torch::Tensor> extra_state() override {
    std::map<std::string, torch::Tensor> out;
    if (ema_) ema_->save(out, "ema.G");
    return out;
  }
  void load_extra_state(const std::map<std::string, torch::Tensor>& state) override {
    if (ema_) ema_->load(state, "ema.G");
  }

  MatchingScores score_pairs(const torch::Tensor& real, const torch::Tensor& fake, const torch::Tensor& text,
                             const torch::Tensor& mismatch) override {
    auto e = E_->forward(text);                            // [N, T]
    auto h_real = D_->features(real);                      // [N, c, k, k]
    MatchingScores s;
    s.real_match = D_->score(h_real, e);                                   // [N, 1]
    s.real_mismatch = D_->score(h_real, e.index_select(0, mismatch));      // [N, 1]
    s.fake_match = D_->score(D_->features(fake), e);                       // [N, 1]
    auto targets = real_targets(real.size(0), knobs_.label_smoothing, knobs_.smoothing_uniform, 0.0,
                                s.real_match.options());
    s.loss = matching_aware_d_loss(knobs_.loss, s.real_match, s.real_mismatch, s.fake_match, targets);
    return s;
  }

  torch::Tensor embed(const torch::Tensor& text) override {
    torch::NoGradGuard no_grad;
    check_text(text, "text");
    const bool was_training = E_->is_training();
    E_->eval();
    auto e = E_->forward(text);
    if (was_training) E_->train();
    return e;
  }

  Scalars step(const Batch& batch, StepContext& ctx) override {
    require(batch.text.defined(), "text2img needs captions in every batch", "set data.captions");
    const auto& real = batch.images;  // [N, C, H, W]
    const auto text = drop_words(batch.text, word_dropout_);  // [N, L]
    const int64_t n = real.size(0);
    auto z = make_noise(n, real.device());
    auto mismatch = mismatch_permutation(n).to(real.device());

    // D and E: the matching-aware loss.
    clear_grads(*D_);
    clear_grads(*E_);
    torch::Tensor e_fixed;
    torch::Tensor fake;
    {
      torch::NoGradGuard no_grad;
      e_fixed = E_->forward(text);  // [N, T], G's input (E learns only from D's loss)
    }
    fake = G_->forward(z, e_fixed);  // [N, C, H, W], graph kept for G's update
    auto s = score_pairs(real, fake.detach(), text, mismatch);
    s.loss.backward();
    if (ctx.after_backward) {
      ctx.after_backward("D");
      ctx.after_backward("E");
    }
    opt_d_->step();

    // G through a frozen D (and E): its fakes, and fakes of embedding midpoints.
    set_requires_grad(*D_, false);
    clear_grads(*G_);
    auto loss_g = generator_loss(knobs_.loss, D_->score(D_->features(fake), e_fixed));
    torch::Tensor loss_int;
    if (interp_weight_ > 0) {
      const int64_t h = std::max<int64_t>(1, n / 2);
      auto mid = 0.5 * (e_fixed.slice(0, 0, h) + e_fixed.index_select(0, mismatch).slice(0, 0, h));  // [h, T]
      auto fake_mid = G_->forward(make_noise(h, real.device()), mid);                                 // [h, C, H, W]
      loss_int = generator_loss(knobs_.loss, D_->score(D_->features(fake_mid), mid));
      loss_g = loss_g + interp_weight_ * loss_int;
    }
    loss_g.backward();
    set_requires_grad(*D_, true);
    if (ctx.after_backward) ctx.after_backward("G");
    opt_g_->step();
    if (ema_) ema_->update();

    Scalars out{{"loss_d", s.loss.detach()}, {"loss_g", loss_g.detach()}};
    const bool logits = loss_uses_logits(knobs_.loss);
    auto read = [&](const torch::Tensor& t) {
      auto f = t.detach().to(torch::kFloat32);
      return logits ? torch::sigmoid(f).mean() : f.mean();
    };
    out.emplace_back(logits ? "d_real" : "critic_real", read(s.real_match));
    out.emplace_back(logits ? "d_mismatch" : "critic_mismatch", read(s.real_mismatch));
    out.emplace_back(logits ? "d_fake" : "critic_fake", read(s.fake_match));
    if (loss_int.defined()) out.emplace_back("loss_g_int", loss_int.detach());
    return out;
  }

  torch::Tensor sample(const SampleRequest& r) override {
    require(r.text.defined(), "text2img draws images from text, and none was given",
            "use duel sample --prompt \"...\" or duel experiment text2img");
    require(r.text.size(0) == r.noise.size(0), "text2img: one caption per noise vector is needed");
    torch::NoGradGuard no_grad;
    auto e = embed(r.text);  // [N, T]
    if (r.text_to.defined()) {
      require(r.text_mix.defined() && r.text_to.size(0) == r.noise.size(0) && r.text_mix.numel() == r.noise.size(0),
              "text2img: text_to needs text_mix with one weight per image");
      auto m = r.text_mix.to(e.options()).reshape({-1, 1});  // [N, 1]
      e = (1 - m) * e + m * embed(r.text_to);
    }
    const bool was_training = G_->is_training();
    G_->eval();
    torch::Tensor out;
    {
      EmaSwap swap(r.average ? ema_.get() : nullptr);
      out = G_->forward(r.noise, e);
    }
    if (was_training) G_->train();
    return out;
  }

 private:
  void check_text(const torch::Tensor& text, const char* what) const {
    const int64_t vocab = E_->options.vocabulary();
    require(text.scalar_type() == torch::kInt64 && text.dim() == 2 && text.size(1) >= 1,
            std::string("text2img: ") + what + " must be int64 token ids [N, L]");
    require(text.numel() == 0 || (text.min().item<int64_t>() >= 0 && text.max().item<int64_t>() < vocab),
            std::string("text2img: ") + what + " holds token ids outside the vocabulary of " + std::to_string(vocab));
  }

  int64_t latent_dim_;
  AdversarialKnobs knobs_;
  double interp_weight_, word_dropout_;
  Text2ImgGenerator G_{nullptr};
  Text2ImgDiscriminator D_{nullptr};
  TextEncoder E_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> opt_g_, opt_d_;
  std::unique_ptr<WeightEma> ema_;
};

std::unique_ptr<GanModel> make_text2img(const Config& cfg, const DataShape& shape) {
  require(shape.text_length > 0 && shape.vocabulary.size() >= 2,
          "model 'text2img' needs captioned data (data.captions)",
          "set data.captions to a captions file; `duel captions fashion-mnist --out captions.tsv` writes one");
  return std::make_unique<Text2Img>(cfg, shape);
}

}  // namespace

DUEL_REGISTER_MODEL("text2img",
                    "text-to-image GAN-INT-CLS: caption encoder, text-conditioned DCGAN, matching-aware D",
                    make_text2img, ModelDefaults{{"sample.grid", int64_t(100)}});

}  // namespace duel
