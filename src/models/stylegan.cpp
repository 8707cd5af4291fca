// stylegan: mapping network, modulated convolutions, noise inputs, style
// mixing, truncation; see include/duel/models/stylegan.h.
#include "duel/models/stylegan.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/upsampling.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/shard.h"
#include "duel/models/progan.h"
#include "duel/models/two_player.h"

namespace duel {

namespace F = torch::nn::functional;

namespace {
torch::Tensor upsample_bilinear(const torch::Tensor& x) {
  // [N, C, H, W] -> [N, C, 2H, 2W]
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{2 * x.size(2), 2 * x.size(3)})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}
}  // namespace

ModulatedConv2dImpl::ModulatedConv2dImpl(const ModulatedConv2dOptions& o) : options(o) {
  affine = register_module("affine", EqualLinear(EqualLinearOptions(o.w_dim(), o.in()).bias_init(1.0)));
  weight = register_parameter("weight", torch::randn({o.out(), o.in(), o.kernel(), o.kernel()}));
  scale_ = 1.0 / std::sqrt(double(o.in() * o.kernel() * o.kernel()));
}

torch::Tensor ModulatedConv2dImpl::forward(const torch::Tensor& x, const torch::Tensor& w) {
  // x [N, in, H, W], w [N, w_dim]
  const int64_t n = x.size(0);
  auto s = affine(w);  // [N, in]
  auto W = weight * scale_;
  auto h = options.upsample() ? upsample_bilinear(x) : x;  // [N, in, H', W']
  auto y = F::conv2d(h * s.view({n, -1, 1, 1}), W, F::Conv2dFuncOptions().padding(options.kernel() / 2));  // [N, out, H', W']
  if (options.demodulate()) {
    // d [N, out] = 1 / sqrt(sum_{i,k} (W_oik s_i)^2 + eps)
    auto d = torch::rsqrt(torch::matmul(s.square(), W.square().sum({2, 3}).t()) + 1e-8);
    y = y * d.view({n, -1, 1, 1});
  }
  return y;
}

StyleGeneratorImpl::StyleGeneratorImpl(const StyleganOptions& o) : options(o) {
  const auto res = progressive_resolutions(o.size());
  const int64_t levels = int64_t(res.size()), s0 = res[0];
  auto width = [&](int64_t i) { return progressive_width(o.width(), o.max_width(), levels, i); };
  num_ws_ = 2 * levels;
  for (int64_t i = 0; i < o.mapping_layers(); ++i)
    mapping.push_back(register_module(
        "map" + std::to_string(i),
        EqualLinear(EqualLinearOptions(i == 0 ? o.latent_dim() : o.w_dim(), o.w_dim()).lr_mul(0.01))));
  w_avg = register_buffer("w_avg", torch::zeros({o.w_dim()}));
  constant = register_parameter("constant", torch::randn({1, width(0), s0, s0}));
  auto add_conv = [&](int64_t in, int64_t out, bool up, int64_t side) {
    const std::string j = std::to_string(convs.size());
    convs.push_back(register_module("conv" + j, ModulatedConv2d(ModulatedConv2dOptions(in, out, 3, o.w_dim()).upsample(up))));
    noise_strength.push_back(register_parameter("noise_strength" + j, torch::zeros({1})));
    biases.push_back(register_parameter("bias" + j, torch::zeros({out})));
    noise_const.push_back(register_buffer("noise_const" + j, torch::randn({1, 1, side, side})));
  };
  auto add_rgb = [&](int64_t in) {
    const std::string i = std::to_string(to_rgb.size());
    to_rgb.push_back(register_module(
        "to_rgb" + i, ModulatedConv2d(ModulatedConv2dOptions(in, o.channels(), 1, o.w_dim()).demodulate(false))));
    rgb_bias.push_back(register_parameter("rgb_bias" + i, torch::zeros({o.channels()})));
  };
  add_conv(width(0), width(0), false, s0);
  add_rgb(width(0));
  for (int64_t i = 1; i < levels; ++i) {
    add_conv(width(i - 1), width(i), true, res[i]);
    add_conv(width(i), width(i), false, res[i]);
    add_rgb(width(i));
  }
}

torch::Tensor StyleGeneratorImpl::map(const torch::Tensor& z) {
  // z [N, latent] -> w [N, w_dim]
  auto w = pixel_norm(z);
  for (auto& layer : mapping) w = lrelu_gain(layer(w));
  if (is_training()) {
    torch::NoGradGuard no_grad;
    w_avg.copy_(torch::lerp(w.detach().mean(0), w_avg, options.w_avg_beta()));
  }
  return w;
}

torch::Tensor StyleGeneratorImpl::truncate(const torch::Tensor& w, double psi) const {
  // w [N, w_dim] -> [N, w_dim]
  if (psi == 1.0) return w;
  return torch::lerp(w_avg.unsqueeze(0).expand_as(w), w, psi);
}

torch::Tensor StyleGeneratorImpl::synthesize(const torch::Tensor& ws, NoiseMode noise) {
  // ws [N, num_ws, w_dim] -> [N, C, size, size]
  TORCH_CHECK(ws.dim() == 3 && ws.size(1) == num_ws_, "stylegan: expected ws [N, ", num_ws_, ", w_dim], got ",
              ws.sizes());
  const int64_t n = ws.size(0);
  auto layer = [&](torch::Tensor x, size_t j) {
    x = convs[j](x, ws.select(1, int64_t(j)));  // [N, out, H, W]
    if (noise != NoiseMode::None) {
      torch::Tensor nz;
      if (noise == NoiseMode::Const) {
        nz = noise_const[j];  // [1, 1, H, W]
      } else {
        auto shape = std::vector<int64_t>{n, 1, x.size(2), x.size(3)};
        nz = draw_for_batch(n, [&](int64_t m) {
          shape[0] = m;
          return torch::randn(shape, x.options());
        });
      }
      x = x + noise_strength[j] * nz;
    }
    return lrelu_gain(x + biases[j].view({1, -1, 1, 1}));
  };
  auto x = layer(constant.expand({n, -1, -1, -1}), 0);                          // [N, c0, s0, s0]
  auto rgb = to_rgb[0](x, ws.select(1, 1)) + rgb_bias[0].view({1, -1, 1, 1});  // [N, C, s0, s0]
  for (size_t i = 1; i < to_rgb.size(); ++i) {
    // [N, c_{i-1}, r/2, r/2] -> [N, c_i, r, r]
    x = layer(x, 2 * i - 1);
    x = layer(x, 2 * i);
    rgb = upsample_bilinear(rgb) + to_rgb[i](x, ws.select(1, int64_t(2 * i + 1))) + rgb_bias[i].view({1, -1, 1, 1});
  }
  return rgb;
}

StyleDiscriminatorImpl::StyleDiscriminatorImpl(const StyleganOptions& o) : options(o) {
  const auto res = progressive_resolutions(o.size());
  const int64_t levels = int64_t(res.size());
  auto width = [&](int64_t i) { return progressive_width(o.width(), o.max_width(), levels, i); };
  from_rgb = register_module("from_rgb", EqualConv2d(EqualConv2dOptions(o.channels(), width(levels - 1), 1)));
  for (int64_t i = levels - 1; i >= 1; --i) {
    const std::string n = std::to_string(i);
    conv_a.push_back(register_module("block" + n + "a", EqualConv2d(EqualConv2dOptions(width(i), width(i), 3))));
    conv_b.push_back(register_module("block" + n + "b", EqualConv2d(EqualConv2dOptions(width(i), width(i - 1), 3))));
    skip.push_back(register_module("skip" + n, EqualConv2d(EqualConv2dOptions(width(i), width(i - 1), 1).bias(false))));
  }
  epilogue = register_module("epilogue", CriticEpilogue(width(0), res[0]));
}

torch::Tensor StyleDiscriminatorImpl::forward(const torch::Tensor& x) {
  // x [N, C, size, size] -> [N, c_last, size, size]
  auto h = lrelu_gain(from_rgb(x));
  for (size_t b = 0; b < conv_a.size(); ++b) {
    // [N, c_i, r, r] -> [N, c_{i-1}, r/2, r/2], residual
    auto y = lrelu_gain(conv_a[b](h));
    y = downsample_avg(lrelu_gain(conv_b[b](y)), 2);
    h = (y + skip[b](downsample_avg(h, 2))) * (1.0 / std::sqrt(2.0));
  }
  return epilogue(h);  // [N, c0, s0, s0] -> [N, 1]
}

namespace {

const bool keys_registered = [] {
  register_int_key("model.style_dim", 128, 1, 4096, "stylegan: width of the intermediate latent w");
  register_int_key("model.mapping_layers", 4, 1, 16, "stylegan: dense layers of the mapping network z -> w");
  register_float_key("model.style_mixing", 0.9, 0.0, 1.0,
                     "stylegan: probability that a training batch mixes two latents from a random layer on");
  return true;
}();

class Stylegan : public TwoPlayerGan, public StyleControl {
 public:
  Stylegan(const Config& cfg, const DataShape& shape, StyleGenerator g, StyleDiscriminator d)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr()), g_(g), d_(d), mixing_(cfg.get_float("model.style_mixing")) {}
  std::string name() const override { return "stylegan"; }
  int64_t style_layers() const override { return g_->num_ws(); }
  // Projection in w+: one style vector per layer; noise inputs held at the
  // generator's constant maps, as sample() draws them.
  std::string latent_space() const override { return "w+"; }
  std::vector<int64_t> latent_shape() const override { return {g_->num_ws(), g_->options.w_dim()}; }
  torch::Tensor start_latents(int64_t n, torch::Device device) override {
    torch::NoGradGuard no_grad;
    const bool was_training = g_->is_training();
    g_->eval();  // map() updates w_avg only in training mode
    auto ws = broadcast(g_->map(make_noise(n, device))).contiguous();
    if (was_training) g_->train();
    return ws;
  }
  torch::Tensor render_latents(const torch::Tensor& latents, const torch::Tensor&) override {
    return g_->synthesize(latents, NoiseMode::Const);
  }

 protected:
  torch::Tensor generate_sample(const SampleRequest& request) override {
    auto ws = broadcast(g_->truncate(g_->map(request.noise), request.truncation));  // [N, num_ws, w_dim]
    if (request.mix.defined()) {
      TORCH_CHECK(request.crossover >= 0 && request.crossover <= g_->num_ws(), "stylegan: crossover out of range");
      auto ws2 = broadcast(g_->truncate(g_->map(request.mix), request.truncation));
      ws = torch::cat({ws.slice(1, 0, request.crossover), ws2.slice(1, request.crossover)}, 1);
    }
    return g_->synthesize(ws, NoiseMode::Const).clamp(-1, 1);
  }
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override {
    auto ws = broadcast(g_->map(z));  // [N, num_ws, w_dim]
    if (mixing_ > 0) {
      // One draw for the whole (global) batch: whether to mix, and from which layer on.
      auto u = torch::rand({2});
      if (u[0].item<double>() < mixing_) {
        const int64_t cutoff = 1 + std::min(g_->num_ws() - 2, int64_t(u[1].item<double>() * double(g_->num_ws() - 1)));
        auto z2 = draw_for_batch(z.size(0), [&](int64_t m) { return make_noise(m, z.device()); });
        auto ws2 = broadcast(g_->map(z2));
        ws = torch::cat({ws.slice(1, 0, cutoff), ws2.slice(1, cutoff)}, 1);
      }
    }
    return g_->synthesize(ws, NoiseMode::Random);
  }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override { return d_->forward(x); }

 private:
  torch::Tensor broadcast(const torch::Tensor& w) const {
    // w [N, w_dim] -> [N, num_ws, w_dim]
    return w.unsqueeze(1).expand({-1, g_->num_ws(), -1});
  }
  StyleGenerator g_;
  StyleDiscriminator d_;
  double mixing_;
};

std::unique_ptr<GanModel> make_stylegan(const Config& cfg, const DataShape& shape) {
  progressive_resolutions(shape.size);  // validates the size before any allocation
  StyleganOptions g(cfg.get_int("model.latent_dim"), shape.channels, shape.size);
  g.w_dim(cfg.get_int("model.style_dim"))
      .mapping_layers(cfg.get_int("model.mapping_layers"))
      .width(cfg.get_int("model.g_width"))
      .max_width(cfg.get_int("model.max_width"));
  StyleganOptions d = g;
  d.width(cfg.get_int("model.d_width"));
  return std::make_unique<Stylegan>(cfg, shape, StyleGenerator(g), StyleDiscriminator(d));
}

}  // namespace

DUEL_REGISTER_MODEL("stylegan",
                    "style-based generator: mapping net, modulated convs, noise, style mixing, truncation, lazy R1",
                    make_stylegan,
                    ModelDefaults{{"train.loss", std::string("nonsaturating")},
                                  {"train.r1_weight", 0.1},
                                  {"train.r1_every", int64_t(16)},
                                  {"train.ema", 0.995},
                                  {"optim.g_lr", 0.002},
                                  {"optim.d_lr", 0.002},
                                  {"optim.g_beta1", 0.0},
                                  {"optim.d_beta1", 0.0},
                                  {"optim.g_beta2", 0.99},
                                  {"optim.d_beta2", 0.99}});

}  // namespace duel
