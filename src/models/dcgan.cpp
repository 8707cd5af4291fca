// dcgan: the deep convolutional GAN. Nets are described in dcgan.h; the
// training step is TwoPlayerGan's.
#include "duel/models/dcgan.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "duel/core/autocast.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/two_player.h"
#include "duel/nn/conv_transpose.h"
#include "duel/nn/onnx_modules.h"
#include "duel/nn/spectral_norm.h"
#include "duel/nn/sync_batch_norm.h"

namespace duel {

namespace nn = torch::nn;

int64_t dcgan_stages(int64_t size) {
  if (size == 28) return 3;
  for (int64_t s = 2; s <= 6; ++s)
    if (size == (int64_t(4) << s)) return s;
  throw Error("dcgan does not support image size " + std::to_string(size),
              "set data.image_size to 28 or a power of two from 16 to 256");
}

DcganGeneratorImpl::DcganGeneratorImpl(const DcganOptions& o) : options(o) {
  const int64_t stages = dcgan_stages(o.size());
  int64_t c = o.width() << (stages - 1);
  body = nn::Sequential();
  // [N, latent, 1, 1] -> [N, c, 4, 4]
  body->push_back(TransposedConv2d(TransposedConv2dOptions(o.latent_dim() + o.extra_in(), c, 4).fast(o.fast_convt())));
  body->push_back(SyncBatchNorm2d(c));
  body->push_back(nn::ReLU(nn::ReLUOptions(true)));
  for (int64_t i = 0; i < stages - 1; ++i) {
    // [N, c, s, s] -> [N, c/2, 2s, 2s]; at 28 px the first stage is 4 -> 7 (kernel 3)
    const int64_t k = (o.size() == 28 && i == 0) ? 3 : 4;
    body->push_back(TransposedConv2d(
        TransposedConv2dOptions(c, c / 2, k).stride(2).padding(1).fast(o.fast_convt()).winograd(o.winograd())));
    body->push_back(SyncBatchNorm2d(c / 2));
    body->push_back(nn::ReLU(nn::ReLUOptions(true)));
    c /= 2;
  }
  // [N, width, size/2, size/2] -> [N, C, size, size]
  body->push_back(TransposedConv2d(
      TransposedConv2dOptions(c, o.channels(), 4).stride(2).padding(1).fast(o.fast_convt()).winograd(o.winograd())));
  body->push_back(nn::Tanh());
  register_module("body", body);
}

torch::Tensor DcganGeneratorImpl::forward(const torch::Tensor& z) {
  // z [N, L] -> [N, L, 1, 1] -> [N, C, size, size]
  return body->forward(z.reshape({z.size(0), -1, 1, 1}));
}

std::string DcganGeneratorImpl::export_onnx(onnx::Graph& graph, const std::string& z, const std::string& path) const {
  // z [N, L] -> [N, L, 1, 1] -> [N, C, size, size]
  return onnx::export_module(graph, *body, graph.unsqueeze(z, {2, 3}), path + ".body");
}

DcganDiscriminatorImpl::DcganDiscriminatorImpl(const DcganOptions& o) : options(o) {
  const int64_t stages = dcgan_stages(o.size());
  const bool sn = o.spectral_norm();
  require(o.norm() == "batch" || o.norm() == "layer" || o.norm() == "none",
          "unknown discriminator normalisation '" + o.norm() + "'", "model.d_norm is batch, layer or none");
  trunk = nn::Sequential();
  int64_t c = o.width();
  // [N, C, size, size] -> [N, width, size/2, size/2]
  trunk->push_back(
      make_conv2d(nn::Conv2dOptions(o.channels() + o.extra_in(), c, 4).stride(2).padding(1).bias(false), sn, o.winograd()));
  trunk->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
  if (o.dropout() > 0) trunk->push_back(nn::Dropout(o.dropout()));
  for (int64_t i = 1, s = o.size() / 2; i < stages; ++i, s /= 2) {
    // [N, c, s, s] -> [N, 2c, s/2, s/2]  (28 px: 14 -> 7 -> 3)
    const auto conv = nn::Conv2dOptions(c, 2 * c, 4).stride(2).padding(1).bias(o.norm() == "none");
    winograd_trunk_ = winograd_trunk_ || conv2d_takes_winograd(conv, sn, o.winograd(), s, s);
    trunk->push_back(make_conv2d(conv, sn, o.winograd()));
    if (o.norm() == "batch") trunk->push_back(SyncBatchNorm2d(2 * c));
    else if (o.norm() == "layer") trunk->push_back(nn::GroupNorm(nn::GroupNormOptions(1, 2 * c)));
    trunk->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2).inplace(true)));
    if (o.dropout() > 0) trunk->push_back(nn::Dropout(o.dropout()));
    c *= 2;
  }
  feature_channels_ = c;
  register_module("trunk", trunk);
  const int64_t k = o.size() == 28 ? 3 : 4;
  int64_t head_in = c;
  if (o.minibatch().kind != "none") {  // [N, c, k, k] -> [N, c + extra, k, k]
    minibatch = register_module("minibatch", MinibatchLayer(o.minibatch(), c, k));
    head_in += minibatch->extra();
  }
  // [N, c (+ extra), k, k] -> [N, 1, 1, 1]
  out = make_conv2d(nn::Conv2dOptions(head_in, 1, k).bias(false), sn);
  register_module("out", out.ptr());
}

torch::Tensor DcganDiscriminatorImpl::features(const torch::Tensor& x) {
  // x [N, C, size, size] -> [N, c, k, k]. When a trunk layer takes the Winograd route, the trunk
  // runs channels-last from its first layer on, so that layer reads its input without a conversion.
  if (winograd_trunk_ && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && !AutocastScope::cpu_enabled())
    return trunk->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
  return trunk->forward(x);
}

torch::Tensor DcganDiscriminatorImpl::head(const torch::Tensor& h) {
  // h [N, c, k, k] -> [N, 1]
  return out.forward(minibatch ? minibatch->forward(h) : h).reshape({h.size(0), 1});
}

torch::Tensor DcganDiscriminatorImpl::forward(const torch::Tensor& x) {
  // x [N, C, size, size] -> [N, 1]
  return head(features(x));
}

namespace {

const bool keys_registered = [] {
  register_key({"model.g_width", ConfigType::Int, int64_t(64), "dcgan: generator channels at the last stage", 1, 4096, {}});
  register_key({"model.d_width", ConfigType::Int, int64_t(64), "dcgan: discriminator channels at the first stage", 1, 4096, {}});
  register_key({"model.spectral_norm", ConfigType::Bool, false,
                "spectral normalisation of every discriminator layer (persistent power iteration)", {}, {}, {}});
  register_key({"model.d_norm", ConfigType::String, std::string("batch"),
                "normalisation between discriminator convolutions: batch, layer or none", {}, {}, {"batch", "layer", "none"}});
  register_float_key("model.d_dropout", 0.0, 0.0, 0.9,
                     "dcgan, cgan, wgan, infogan: dropout probability after each discriminator activation (0: none)");
  return true;
}();

class Dcgan : public TwoPlayerGan {
 public:
  Dcgan(const Config& cfg, const DataShape& shape, DcganGenerator g, DcganDiscriminator d, std::string name)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr(), {/*packs=*/true, /*features=*/true, /*minibatch=*/true}),
        g_(g),
        d_(d),
        name_(std::move(name)) {}
  std::string name() const override { return name_; }

 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override { return g_->forward(z); }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override { return d_->forward(x); }
  torch::Tensor discriminator_features(const torch::Tensor& x, const torch::Tensor&) override {
    return d_->features(x).flatten(1);
  }
  std::string export_generate(onnx::Graph& graph, const std::string& z, const std::string&) override {
    return onnx::export_module(graph, *g_, z, "G");
  }

 private:
  DcganGenerator g_;
  DcganDiscriminator d_;
  std::string name_;
};

}  // namespace

std::unique_ptr<GanModel> make_dcgan_model(const Config& cfg, const DataShape& shape, const std::string& name) {
  DcganOptions g(cfg.get_int("model.latent_dim"), shape.channels, shape.size);
  g.winograd(cfg.get_bool("perf.winograd"));
  DcganOptions d = g;
  g.width(cfg.get_int("model.g_width")).fast_convt(cfg.get_bool("perf.fast_convt"));
  d.width(cfg.get_int("model.d_width")).spectral_norm(cfg.get_bool("model.spectral_norm")).norm(cfg.get_string("model.d_norm"))
      .dropout(cfg.get_float("model.d_dropout")).minibatch(minibatch_options(cfg));
  d.channels(shape.channels * cfg.get_int("model.pack"));  // D judges model.pack images at once
  dcgan_stages(shape.size);  // validates the size before any allocation
  return std::make_unique<Dcgan>(cfg, shape, DcganGenerator(g), DcganDiscriminator(d), name);
}

namespace {
std::unique_ptr<GanModel> make_dcgan(const Config& cfg, const DataShape& shape) {
  return make_dcgan_model(cfg, shape, "dcgan");
}
}  // namespace

DUEL_REGISTER_MODEL("dcgan", "deep convolutional GAN (28 px or powers of two 16-256, 1 or 3 channels)", make_dcgan);

}  // namespace duel
