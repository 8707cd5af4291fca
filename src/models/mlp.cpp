// mlp: the vanilla GAN of Goodfellow et al. (2014) with fully connected nets.
// model.mlp_arch = goodfellow (default), h = model.mlp_hidden:
//   G: z -> h -> 2h -> 4h -> C*H*W (LeakyReLU 0.2, tanh output).
//   D: C*H*W -> 4h -> 2h -> h -> 1 logit (LeakyReLU 0.2 + dropout).
// model.mlp_arch = pacgan, the nets of PacGAN's and VEEGAN's 2-D experiments:
//   G: z -> 4 x [h, batch norm, ReLU] -> C*H*W, linear output (point data is not in [-1, 1]).
//   D: C*H*W -> 3 x [h/2, maxout of 5 pieces] -> 1 logit.
// D takes model.pack samples at once (C*H*W x pack inputs), and model.minibatch
// puts a minibatch layer before its last linear layer.
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/two_player.h"
#include "duel/nn/onnx_modules.h"
#include "duel/nn/spectral_norm.h"

namespace duel {

namespace nn = torch::nn;

struct MlpOptions {
  MlpOptions(int64_t latent_dim, int64_t channels, int64_t size)
      : latent_dim_(latent_dim), channels_(channels), size_(size) {}
  int64_t pixels() const { return channels_ * size_ * size_; }
  TORCH_ARG(int64_t, latent_dim);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, size);
  TORCH_ARG(int64_t, hidden) = 256;
  TORCH_ARG(double, dropout) = 0.3;
  TORCH_ARG(bool, spectral_norm) = false;  // D
  TORCH_ARG(std::string, arch) = "goodfellow";
  TORCH_ARG(int64_t, pack) = 1;                 // D: samples per decision
  TORCH_ARG(MinibatchOptions, minibatch) = {};  // D
};

// Maxout (Goodfellow et al. 2013): the largest of `pieces` linear maps, [N, in] -> [N, out].
class LinearMaxoutImpl : public nn::Module {
 public:
  LinearMaxoutImpl(int64_t in, int64_t out, int64_t pieces) : out_(out), pieces_(pieces) {
    linear = register_module("linear", nn::Linear(in, out * pieces));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return std::get<0>(linear->forward(x).reshape({x.size(0), out_, pieces_}).max(2));
  }
  nn::Linear linear{nullptr};

 private:
  int64_t out_, pieces_;
};
TORCH_MODULE(LinearMaxout);

class MlpGeneratorImpl : public nn::Module, public onnx::Exportable {
 public:
  explicit MlpGeneratorImpl(const MlpOptions& o) : options(o) {
    const int64_t h = o.hidden();
    if (o.arch() == "pacgan") {
      body = register_module("body", nn::Sequential());
      for (int64_t i = 0; i < 4; ++i) {
        body->push_back(nn::Linear(nn::LinearOptions(i == 0 ? o.latent_dim() : h, h).bias(false)));
        body->push_back(nn::BatchNorm1d(h));
        body->push_back(nn::ReLU());
      }
      body->push_back(nn::Linear(h, o.pixels()));
      return;
    }
    body = register_module("body", nn::Sequential(
        nn::Linear(o.latent_dim(), h), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
        nn::Linear(h, 2 * h), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
        nn::Linear(2 * h, 4 * h), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
        nn::Linear(4 * h, o.pixels()), nn::Tanh()));
  }
  // z [N, L] -> [N, C, S, S] in [-1, 1]
  torch::Tensor forward(const torch::Tensor& z) {
    return body->forward(z).reshape({z.size(0), options.channels(), options.size(), options.size()});
  }
  std::string export_onnx(onnx::Graph& graph, const std::string& z, const std::string& path) const override {
    // z [N, L] -> [N, C*S*S] -> [N, C, S, S] (0: keep N)
    return graph.reshape(onnx::export_module(graph, *body, z, path + ".body"), {0, options.channels(), options.size(), options.size()});
  }
  MlpOptions options;
  nn::Sequential body{nullptr};
};
TORCH_MODULE(MlpGenerator);

class MlpDiscriminatorImpl : public nn::Module {
 public:
  explicit MlpDiscriminatorImpl(const MlpOptions& o) : options(o) {
    const int64_t h = o.hidden(), in = o.pixels() * o.pack();
    auto act = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
    const bool sn = o.spectral_norm();
    int64_t last = h;  // width of the features before the last layer
    if (o.arch() == "pacgan") {
      last = std::max<int64_t>(1, h / 2);
      body = register_module("body", nn::Sequential(LinearMaxout(in, last, 5), LinearMaxout(last, last, 5),
                                                    LinearMaxout(last, last, 5)));
    } else {
      body = register_module("body", nn::Sequential(
          make_linear(nn::LinearOptions(in, 4 * h), sn), act(), nn::Dropout(o.dropout()),
          make_linear(nn::LinearOptions(4 * h, 2 * h), sn), act(), nn::Dropout(o.dropout()),
          make_linear(nn::LinearOptions(2 * h, h), sn), act(), nn::Dropout(o.dropout())));
    }
    int64_t head_in = last;
    if (o.minibatch().kind != "none") {
      minibatch = register_module("minibatch", MinibatchLayer(o.minibatch(), last, 1));
      head_in += minibatch->extra();
    }
    body->push_back(make_linear(nn::LinearOptions(head_in, 1), sn));
  }
  // x [N, C*pack, S, S] -> [N, F]: every layer but the last
  torch::Tensor features(const torch::Tensor& x) {
    auto h = x.reshape({x.size(0), -1});
    auto it = body->begin();
    for (size_t i = 0; i + 1 < body->size(); ++i, ++it) h = it->forward(h);
    return h;
  }
  // x [N, C*pack, S, S] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = features(x);
    if (minibatch) h = minibatch->forward(h.reshape({h.size(0), -1, 1, 1})).reshape({h.size(0), -1});
    return (body->end() - 1)->forward(h);
  }
  MlpOptions options;
  nn::Sequential body{nullptr};
  MinibatchLayer minibatch{nullptr};
};
TORCH_MODULE(MlpDiscriminator);

namespace {

const bool keys_registered = [] {
  register_key({"model.mlp_hidden", ConfigType::Int, int64_t(256), "mlp: width of the narrowest hidden layer", 1, 65536, {}});
  register_key({"model.mlp_dropout", ConfigType::Float, 0.3, "mlp: dropout in the discriminator", 0.0, 0.95, {}});
  register_string_key("model.mlp_arch", "goodfellow", {"goodfellow", "pacgan"},
                      "mlp: goodfellow (LeakyReLU, tanh output, dropout in D) or pacgan (G: 4 x [h, batch norm, "
                      "ReLU], linear output; D: 3 x maxout(h/2, 5 pieces); PacGAN's 2-D nets)");
  return true;
}();

class Mlp : public TwoPlayerGan {
 public:
  Mlp(const Config& cfg, const DataShape& shape, MlpGenerator g, MlpDiscriminator d)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr(), {/*packs=*/true, /*features=*/true, /*minibatch=*/true}),
        g_(g),
        d_(d) {}
  std::string name() const override { return "mlp"; }

 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override { return g_->forward(z); }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override { return d_->forward(x); }
  torch::Tensor discriminator_features(const torch::Tensor& x, const torch::Tensor&) override {
    return d_->features(x);
  }
  std::string export_generate(onnx::Graph& graph, const std::string& z, const std::string&) override {
    return onnx::export_module(graph, *g_, z, "G");
  }

 private:
  MlpGenerator g_;
  MlpDiscriminator d_;
};

std::unique_ptr<GanModel> make_mlp(const Config& cfg, const DataShape& shape) {
  MlpOptions o(cfg.get_int("model.latent_dim"), shape.channels, shape.size);
  o.hidden(cfg.get_int("model.mlp_hidden")).dropout(cfg.get_float("model.mlp_dropout")).arch(cfg.get_string("model.mlp_arch"));
  MlpOptions d = o;
  d.spectral_norm(cfg.get_bool("model.spectral_norm")).pack(cfg.get_int("model.pack")).minibatch(minibatch_options(cfg));
  return std::make_unique<Mlp>(cfg, shape, MlpGenerator(o), MlpDiscriminator(d));
}

}  // namespace

DUEL_REGISTER_MODEL("mlp", "vanilla GAN with fully connected G and D (Goodfellow et al. 2014)", make_mlp);

}  // namespace duel
