// mlp: the vanilla GAN of Goodfellow et al. (2014) with fully connected nets.
// G: z -> h -> 2h -> 4h -> C*H*W (LeakyReLU 0.2, tanh output).
// D: C*H*W -> 4h -> 2h -> h -> 1 logit (LeakyReLU 0.2 + dropout).
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "duel/core/config.h"
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
};

class MlpGeneratorImpl : public nn::Module, public onnx::Exportable {
 public:
  explicit MlpGeneratorImpl(const MlpOptions& o) : options(o) {
    const int64_t h = o.hidden();
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
    const int64_t h = o.hidden();
    auto act = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
    const bool sn = o.spectral_norm();
    body = register_module("body", nn::Sequential(
        make_linear(nn::LinearOptions(o.pixels(), 4 * h), sn), act(), nn::Dropout(o.dropout()),
        make_linear(nn::LinearOptions(4 * h, 2 * h), sn), act(), nn::Dropout(o.dropout()),
        make_linear(nn::LinearOptions(2 * h, h), sn), act(), nn::Dropout(o.dropout()),
        make_linear(nn::LinearOptions(h, 1), sn)));
  }
  // x [N, C, S, S] -> [N, C*S*S] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& x) { return body->forward(x.reshape({x.size(0), -1})); }
  MlpOptions options;
  nn::Sequential body{nullptr};
};
TORCH_MODULE(MlpDiscriminator);

namespace {

const bool keys_registered = [] {
  register_key({"model.mlp_hidden", ConfigType::Int, int64_t(256), "mlp: width of the narrowest hidden layer", 1, 65536, {}});
  register_key({"model.mlp_dropout", ConfigType::Float, 0.3, "mlp: dropout in the discriminator", 0.0, 0.95, {}});
  return true;
}();

class Mlp : public TwoPlayerGan {
 public:
  Mlp(const Config& cfg, const DataShape& shape, MlpGenerator g, MlpDiscriminator d)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr()), g_(g), d_(d) {}
  std::string name() const override { return "mlp"; }

 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override { return g_->forward(z); }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override { return d_->forward(x); }
  std::string export_generate(onnx::Graph& graph, const std::string& z, const std::string&) override {
    return onnx::export_module(graph, *g_, z, "G");
  }

 private:
  MlpGenerator g_;
  MlpDiscriminator d_;
};

std::unique_ptr<GanModel> make_mlp(const Config& cfg, const DataShape& shape) {
  MlpOptions o(cfg.get_int("model.latent_dim"), shape.channels, shape.size);
  o.hidden(cfg.get_int("model.mlp_hidden")).dropout(cfg.get_float("model.mlp_dropout"));
  MlpOptions d = o;
  d.spectral_norm(cfg.get_bool("model.spectral_norm"));
  return std::make_unique<Mlp>(cfg, shape, MlpGenerator(o), MlpDiscriminator(d));
}

}  // namespace

DUEL_REGISTER_MODEL("mlp", "vanilla GAN with fully connected G and D (Goodfellow et al. 2014)", make_mlp);

}  // namespace duel
