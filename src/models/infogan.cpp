// infogan: InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation
// Learning by Information Maximizing Generative Adversarial Nets") on DCGAN
// nets, trained by the TwoPlayerGan step, so every loss and stabiliser of the
// config applies.
//
// Objective: min_{G,Q} max_D  L_GAN(G, D) - lambda * L_I(G, Q), where
// L_I = E[log Q(c | G(z, c))] is the variational lower bound of the mutual
// information between the codes c and the image (up to the constant H(c)).
// duel adds lambda * (CE(categorical) + cont_weight * NLL(continuous)) to
//   - each D update, on the detached fakes: trains Q and the shared trunk
//     (model.info_trunk_grad = false: Q's head alone, on the trunk features
//     detached, so the trunk learns from the adversarial loss only);
//   - the G update, on the fakes through the frozen D (and Q): trains G to
//     make its codes recoverable.
// Q is part of the net saved as "D" (InfoganDiscriminator: trunk, adversarial
// head, Q head), so D's optimizer trains it and checkpoints hold it.
//
// The Q head shares D's trunk: discriminate() keeps the trunk features of
// its last call, and the hooks read them. This relies on the order
// TwoPlayerGan guarantees (two_player.h): d_extra_loss runs right after
// discriminate() of the detached fakes made from z, and g_extra_loss right
// after discriminate() of those fakes in the G update. Each hook takes the
// features and clears the cache, so a hook never sees stale features (the
// gradient penalty's discriminate() calls come after the hook).
//
// Reported (from the last D update, Q on the fakes before Q's update):
// info_loss (cat + cont_weight * cont), info_cat, info_cat_acc (share of
// categorical codes Q recovers; chance is 1/cat_dim), info_cont,
// info_cont_mse (chance: 1/3, the variance of U(-1, 1)).
#include "duel/models/infogan.h"

#include <torch/nn/functional/embedding.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include <algorithm>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/two_player.h"
#include "duel/nn/onnx_modules.h"

namespace duel {

namespace nn = torch::nn;

InfoganDiscriminatorImpl::InfoganDiscriminatorImpl(const DcganOptions& o, const InfoCodesOptions& c) : codes(c) {
  net = register_module("net", DcganDiscriminator(o));
  const int64_t k = o.size() == 28 ? 3 : 4;  // the trunk's spatial size
  q_head = nn::Sequential();
  // [N, c, k, k] -> [N, hidden, 1, 1]
  q_head->push_back(nn::Conv2d(nn::Conv2dOptions(net->feature_channels(), c.q_hidden(), k)));
  q_head->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
  // [N, hidden, 1, 1] -> [N, q_width, 1, 1]
  q_head->push_back(nn::Conv2d(nn::Conv2dOptions(c.q_hidden(), c.q_width(), 1)));
  register_module("q_head", q_head);
}

torch::Tensor InfoganDiscriminatorImpl::features(const torch::Tensor& x) {
  // x [N, C, S, S] -> [N, c, k, k]
  return net->features(x);
}

torch::Tensor InfoganDiscriminatorImpl::head(const torch::Tensor& h) {
  // h [N, c, k, k] -> [N, 1]
  return net->head(h);
}

torch::Tensor InfoganDiscriminatorImpl::q(const torch::Tensor& h) {
  // h [N, c, k, k] -> [N, q_width, 1, 1] -> [N, q_width]
  return q_head->forward(h).reshape({h.size(0), codes.q_width()});
}

torch::Tensor InfoganDiscriminatorImpl::forward(const torch::Tensor& x) {
  // x [N, C, S, S] -> [N, 1]
  return head(features(x));
}

InfoTerms info_terms(const torch::Tensor& q_out, const torch::Tensor& code_in, const InfoCodesOptions& o,
                     double cont_weight) {
  TORCH_CHECK(q_out.dim() == 2 && q_out.size(1) == o.q_width(), "info_terms: Q output ", q_out.sizes(),
              " does not have ", o.q_width(), " columns");
  TORCH_CHECK(code_in.dim() == 2 && code_in.size(1) == o.input_width() && code_in.size(0) == q_out.size(0),
              "info_terms: codes ", code_in.sizes(), " do not match Q output ", q_out.sizes());
  const int64_t n = q_out.size(0), K = o.cat_codes(), D = o.cat_dim(), C = o.cont_codes();
  auto q = q_out.to(torch::kFloat32);
  auto codes = code_in.to(torch::kFloat32);
  InfoTerms t;
  t.loss = torch::zeros({}, q.options());
  if (K > 0) {
    auto logits = q.narrow(1, 0, K * D).reshape({n * K, D});                 // [N*K, D]
    auto target = codes.narrow(1, 0, K * D).reshape({n * K, D}).argmax(1);  // [N*K]
    // The mean over N*K times K: the sum over codes of each code's mean cross-entropy.
    t.cat = nn::functional::cross_entropy(logits, target) * double(K);
    t.cat_acc = (logits.detach().argmax(1) == target).to(torch::kFloat32).mean();
    t.loss = t.loss + t.cat;
  }
  if (C > 0) {
    auto c = codes.narrow(1, K * D, C);  // [N, C]
    auto mu = q.narrow(1, K * D, C);     // [N, C]
    auto err = c - mu;
    torch::Tensor nll;  // [N, C]
    if (o.learned_std()) {
      auto log_sigma = q.narrow(1, K * D + C, C).clamp(-5.0, 2.0);
      nll = 0.5 * (err * torch::exp(-log_sigma)).pow(2) + log_sigma;
    } else {
      nll = 0.5 * err.pow(2);
    }
    t.cont = nll.mean(0).sum();
    t.cont_mse = err.detach().pow(2).mean();
    t.loss = t.loss + cont_weight * t.cont;
  }
  return t;
}

namespace {

const bool keys_registered = [] {
  const auto I = register_int_key;
  const auto F = register_float_key;
  I("model.info_cat_codes", 1, 0, 16, "infogan: number of categorical latent codes (c1, c2, ... come first)");
  I("model.info_cat_dim", 10, 2, 1000, "infogan: values of each categorical code (one-hot in G's input)");
  I("model.info_cont_codes", 2, 0, 64, "infogan: number of continuous latent codes ~ U(-1, 1), named after the categorical ones");
  F("model.info_lambda", 1.0, 0.0, 1.0e4, "infogan: weight lambda of the mutual-information loss in the D/Q and G updates");
  F("model.info_cont_weight", 1.0, 0.0, 1.0e4, "infogan: weight of the continuous codes' NLL relative to the categorical cross-entropy");
  register_key({"model.info_cont_std", ConfigType::String, std::string("fixed"),
                "infogan: Q's Gaussian for continuous codes: fixed (std 1, i.e. squared error) or learned (Q predicts log-std)",
                {}, {}, {"fixed", "learned"}});
  I("model.info_q_hidden", 128, 1, 4096, "infogan: width of the Q head's hidden layer");
  register_key({"model.info_trunk_grad", ConfigType::Bool, true,
                "infogan: the info loss of the D update also trains D's shared trunk (false: only the Q head; "
                "the trunk learns from the adversarial loss alone)",
                {}, {}, {}});
  return true;
}();

class Infogan : public TwoPlayerGan, public CodeTraversal {
 public:
  Infogan(const Config& cfg, const DataShape& shape, DcganGenerator g, InfoganDiscriminator d)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr()), g_(g), d_(d), codes_(d->codes),
        lambda_(cfg.get_float("model.info_lambda")), cont_weight_(cfg.get_float("model.info_cont_weight")),
        trunk_grad_(cfg.get_bool("model.info_trunk_grad")) {}

  std::string name() const override { return "infogan"; }

  // [n, latent] noise ++ [n, cat_codes * cat_dim] one-hot codes ++ [n, cont_codes] in U(-1, 1)
  torch::Tensor make_noise(int64_t n, torch::Device device) const override {
    auto opts = torch::TensorOptions().device(device);
    std::vector<torch::Tensor> parts{torch::randn({n, latent_dim_}, opts)};
    if (codes_.cat_codes() > 0) {
      auto values = torch::randint(codes_.cat_dim(), {n, codes_.cat_codes()}, opts.dtype(torch::kInt64));
      parts.push_back(
          nn::functional::one_hot(values, codes_.cat_dim()).to(torch::kFloat32).reshape({n, -1}));  // [n, K*D]
    }
    if (codes_.cont_codes() > 0) parts.push_back(torch::rand({n, codes_.cont_codes()}, opts) * 2 - 1);  // [n, C]
    return torch::cat(parts, 1);
  }

  std::vector<std::string> latent_codes() const override {
    std::vector<std::string> names;
    for (int64_t i = 1; i <= codes_.cat_codes() + codes_.cont_codes(); ++i) names.push_back("c" + std::to_string(i));
    return names;
  }

  // Each row: one draw of z and of every other code; the named code sweeps
  // its values across the columns (categorical: values 0.. in turn, at most
  // cat_dim columns; continuous: linspace(-2, 2, steps), past the training
  // range on purpose, to show where the factor leads).
  torch::Tensor traverse(const std::string& code, int64_t rows, int64_t steps, torch::Device device) override {
    const auto names = latent_codes();
    const auto it = std::find(names.begin(), names.end(), code);
    require(it != names.end(), "unknown latent code '" + code + "': this infogan's codes are " + describe_codes(),
            "for example --traverse c1");
    require(rows >= 1 && steps >= 1, "a traversal needs at least one row and one step", "use --rows 8 --steps 10");
    const int64_t index = it - names.begin(), K = codes_.cat_codes(), D = codes_.cat_dim();
    const bool categorical = index < K;
    const int64_t cols = categorical ? std::min(steps, D) : steps;
    auto base = make_noise(rows, device);                                // [rows, L]
    const int64_t width = base.size(1);
    auto grid = base.unsqueeze(1).repeat({1, cols, 1});                  // [rows, cols, L]
    if (categorical) {
      const int64_t offset = latent_dim_ + index * D;
      grid.narrow(2, offset, D).zero_();
      for (int64_t j = 0; j < cols; ++j) grid.select(1, j).select(1, offset + j).fill_(1.0);
    } else {
      const int64_t column = latent_dim_ + K * D + (index - K);
      auto values = torch::linspace(-2.0, 2.0, cols, base.options());   // [cols]
      grid.select(2, column).copy_(values.unsqueeze(0).expand({rows, cols}));
    }
    return sample({grid.reshape({rows * cols, width}), {}});  // [rows*cols, C, H, W]
  }

 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override {
    const int64_t want = latent_dim_ + codes_.input_width();
    require(z.dim() == 2 && z.size(1) == want,
            "infogan's generator reads " + std::to_string(want) + " inputs (" + std::to_string(latent_dim_) +
                " noise + " + std::to_string(codes_.input_width()) + " code columns), got " +
                std::to_string(z.dim() == 2 ? z.size(1) : -1),
            "draw its inputs with make_noise (duel sample does)");
    return g_->forward(z);  // [N, latent + codes] -> [N, C, S, S]
  }

  std::string export_generate(onnx::Graph& graph, const std::string& z, const std::string&) override {
    return onnx::export_module(graph, *g_, z, "G");  // [N, latent + codes] -> [N, C, S, S]
  }
  // As make_noise: N(0, 1) noise, one one-hot group per categorical code, then U(-1, 1) codes.
  std::string noise_layout() const override {
    std::string s = "normal:" + std::to_string(latent_dim_);
    for (int64_t i = 0; i < codes_.cat_codes(); ++i) s += ",onehot:" + std::to_string(codes_.cat_dim());
    if (codes_.cont_codes() > 0) s += ",uniform:" + std::to_string(codes_.cont_codes());
    return s;
  }

  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override {
    last_features_ = d_->features(x);  // [N, c, k, k], read by the next hook
    return d_->head(last_features_);   // [N, 1]
  }

  // Trains Q and the trunk on the detached fakes (their features are the last discriminate()'s).
  torch::Tensor d_extra_loss(const torch::Tensor& z, const torch::Tensor&, Scalars& report) override {
    auto t = terms_for(z, /*detach_trunk=*/!trunk_grad_);
    report.emplace_back("info_loss", t.loss.detach());
    if (t.cat.defined()) {
      report.emplace_back("info_cat", t.cat.detach());
      report.emplace_back("info_cat_acc", t.cat_acc);
    }
    if (t.cont.defined()) {
      report.emplace_back("info_cont", t.cont.detach());
      report.emplace_back("info_cont_mse", t.cont_mse);
    }
    return lambda_ * t.loss;
  }

  // Trains G through the frozen D and Q to make its codes recoverable.
  torch::Tensor g_extra_loss(const torch::Tensor& z, const torch::Tensor&, Scalars&) override {
    return lambda_ * terms_for(z, /*detach_trunk=*/false).loss;
  }

 private:
  InfoTerms terms_for(const torch::Tensor& z, bool detach_trunk) {
    TORCH_CHECK(last_features_.defined() && last_features_.size(0) == z.size(0),
                "infogan: a loss hook ran without the fakes' trunk features");
    auto h = std::move(last_features_);
    last_features_ = torch::Tensor();
    auto codes = z.narrow(1, latent_dim_, codes_.input_width());  // [N, K*D + C]
    return info_terms(d_->q(detach_trunk ? h.detach() : h), codes, codes_, cont_weight_);
  }

  std::string describe_codes() const {
    std::string s;
    const int64_t K = codes_.cat_codes(), C = codes_.cont_codes();
    for (int64_t i = 1; i <= K; ++i)
      s += (s.empty() ? "" : ", ") + ("c" + std::to_string(i)) + " (categorical, " +
           std::to_string(codes_.cat_dim()) + " values)";
    for (int64_t i = K + 1; i <= K + C; ++i) s += (s.empty() ? "" : ", ") + ("c" + std::to_string(i)) + " (continuous)";
    return s;
  }

  DcganGenerator g_;
  InfoganDiscriminator d_;
  InfoCodesOptions codes_;
  double lambda_, cont_weight_;
  bool trunk_grad_;
  torch::Tensor last_features_;  // trunk features of the last discriminate() call
};

std::unique_ptr<GanModel> make_infogan(const Config& cfg, const DataShape& shape) {
  InfoCodesOptions codes;
  codes.cat_codes(cfg.get_int("model.info_cat_codes"))
      .cat_dim(cfg.get_int("model.info_cat_dim"))
      .cont_codes(cfg.get_int("model.info_cont_codes"))
      .learned_std(cfg.get_string("model.info_cont_std") == "learned")
      .q_hidden(cfg.get_int("model.info_q_hidden"));
  require(codes.cat_codes() + codes.cont_codes() > 0, "model 'infogan' needs at least one latent code",
          "set model.info_cat_codes or model.info_cont_codes above 0, or use model.name=dcgan");
  dcgan_stages(shape.size);  // validates the size before any allocation
  DcganOptions g(cfg.get_int("model.latent_dim"), shape.channels, shape.size);
  g.winograd(cfg.get_bool("perf.winograd"));
  DcganOptions d = g;
  g.width(cfg.get_int("model.g_width")).fast_convt(cfg.get_bool("perf.fast_convt")).extra_in(codes.input_width());
  d.width(cfg.get_int("model.d_width")).spectral_norm(cfg.get_bool("model.spectral_norm")).norm(cfg.get_string("model.d_norm"))
      .dropout(cfg.get_float("model.d_dropout"));
  return std::make_unique<Infogan>(cfg, shape, DcganGenerator(g), InfoganDiscriminator(d, codes));
}

}  // namespace

DUEL_REGISTER_MODEL("infogan", "InfoGAN: DCGAN + categorical/continuous latent codes recovered by a Q head on D's trunk",
                    make_infogan);

}  // namespace duel
