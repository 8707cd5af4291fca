// progan: progressive growing with fade-in; see include/duel/models/progan.h.
#include "duel/models/progan.h"

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/shard.h"
#include "duel/models/two_player.h"

namespace duel {

std::vector<int64_t> progressive_resolutions(int64_t size) {
  std::vector<int64_t> out;
  int64_t r = 0;
  if (size == 28) r = 7;
  else if (size >= 16 && size <= 256 && (size & (size - 1)) == 0) r = 4;
  else
    throw Error("progressive models do not support image size " + std::to_string(size),
                "set data.image_size to 28 or a power of two from 16 to 256");
  for (; r <= size; r *= 2) out.push_back(r);
  return out;
}

int64_t progressive_width(int64_t width, int64_t max_width, int64_t levels, int64_t i) {
  return std::min(max_width, width << (levels - 1 - i));
}

GrowthPhase growth_phase(int64_t images, int64_t phase_images, int64_t levels) {
  GrowthPhase p;
  if (images < phase_images || levels == 1) return p;  // the base resolution, stable
  const int64_t after = images - phase_images;         // time since the first fade began
  const int64_t level = 1 + after / (2 * phase_images);
  if (level >= levels) {
    p.level = levels - 1;
    return p;
  }
  p.level = level;
  const int64_t into = after - (level - 1) * 2 * phase_images;  // [0, 2P): fade, then stable
  p.alpha = into < phase_images ? double(into) / double(phase_images) : 1.0;
  return p;
}

namespace {

using Pair = std::pair<EqualConv2d, EqualConv2d>;

void check_phase(const GrowthPhase& p, size_t levels) {
  TORCH_CHECK(p.level >= 0 && p.level < int64_t(levels) && p.alpha >= 0 && p.alpha <= 1, "progan: bad phase ",
              p.level, "/", p.alpha);
}

}  // namespace

ProganGeneratorImpl::ProganGeneratorImpl(const ProganOptions& o)
    : options(o), resolutions(progressive_resolutions(o.size())) {
  const int64_t levels = int64_t(resolutions.size()), s0 = resolutions[0];
  auto width = [&](int64_t i) { return progressive_width(o.width(), o.max_width(), levels, i); };
  const int64_t c0 = width(0);
  // z -> [N, c0, s0, s0]: a dense layer is ProGAN's 4x4 "transposed convolution" of a 1x1 input.
  input = register_module("input", EqualLinear(EqualLinearOptions(o.latent_dim(), c0 * s0 * s0).gain(std::sqrt(2.0) / 4)));
  input_conv = register_module("input_conv", EqualConv2d(EqualConv2dOptions(c0, c0, 3)));
  to_rgb.push_back(register_module("to_rgb0", EqualConv2d(EqualConv2dOptions(c0, o.channels(), 1))));
  blocks.emplace_back(nullptr, nullptr);  // level 0 has no upsampling block
  for (int64_t i = 1; i < levels; ++i) {
    const std::string n = std::to_string(i);
    blocks.emplace_back(register_module("block" + n + "a", EqualConv2d(EqualConv2dOptions(width(i - 1), width(i), 3))),
                        register_module("block" + n + "b", EqualConv2d(EqualConv2dOptions(width(i), width(i), 3))));
    to_rgb.push_back(register_module("to_rgb" + n, EqualConv2d(EqualConv2dOptions(width(i), o.channels(), 1))));
  }
}

torch::Tensor ProganGeneratorImpl::forward(const torch::Tensor& z, const GrowthPhase& phase) {
  check_phase(phase, resolutions.size());
  const int64_t s0 = resolutions[0];
  // z [N, L] -> [N, c0, s0, s0]
  auto h = input(pixel_norm(z)).view({z.size(0), -1, s0, s0});
  h = pixel_norm(lrelu_gain(h));
  h = pixel_norm(lrelu_gain(input_conv(h)));
  torch::Tensor previous;  // h of the level below, for the fade
  for (int64_t i = 1; i <= phase.level; ++i) {
    previous = h;
    // [N, c_{i-1}, r/2, r/2] -> [N, c_i, r, r]
    h = upsample_nearest(h, 2);
    h = pixel_norm(lrelu_gain(blocks[i].first(h)));
    h = pixel_norm(lrelu_gain(blocks[i].second(h)));
  }
  auto rgb = to_rgb[phase.level](h);  // [N, C, r, r]
  if (phase.level > 0 && phase.alpha < 1.0)
    rgb = torch::lerp(upsample_nearest(to_rgb[phase.level - 1](previous), 2), rgb, phase.alpha);
  return rgb;
}

ProganDiscriminatorImpl::ProganDiscriminatorImpl(const ProganOptions& o)
    : options(o), resolutions(progressive_resolutions(o.size())) {
  const int64_t levels = int64_t(resolutions.size());
  auto width = [&](int64_t i) { return progressive_width(o.width(), o.max_width(), levels, i); };
  blocks.emplace_back(nullptr, nullptr);
  for (int64_t i = 0; i < levels; ++i) {
    const std::string n = std::to_string(i);
    from_rgb.push_back(register_module("from_rgb" + n, EqualConv2d(EqualConv2dOptions(o.channels(), width(i), 1))));
    if (i > 0)
      blocks.emplace_back(register_module("block" + n + "a", EqualConv2d(EqualConv2dOptions(width(i), width(i), 3))),
                          register_module("block" + n + "b", EqualConv2d(EqualConv2dOptions(width(i), width(i - 1), 3))));
  }
  epilogue = register_module("epilogue", CriticEpilogue(width(0), resolutions[0]));
}

torch::Tensor ProganDiscriminatorImpl::forward(const torch::Tensor& x, const GrowthPhase& phase) {
  check_phase(phase, resolutions.size());
  const int64_t r = resolutions[phase.level];
  TORCH_CHECK(x.size(2) % r == 0 && x.size(3) == x.size(2), "progan D: input side ", x.size(2),
              " is not a multiple of the phase's resolution ", r);
  auto xr = downsample_avg(x, x.size(2) / r);        // [N, C, r, r]
  auto h = lrelu_gain(from_rgb[phase.level](xr));   // [N, c_level, r, r]
  for (int64_t i = phase.level; i >= 1; --i) {
    // [N, c_i, r_i, r_i] -> [N, c_{i-1}, r_i / 2, r_i / 2]
    h = lrelu_gain(blocks[i].first(h));
    h = downsample_avg(lrelu_gain(blocks[i].second(h)), 2);
    if (i == phase.level && phase.alpha < 1.0)
      h = torch::lerp(lrelu_gain(from_rgb[i - 1](downsample_avg(xr, 2))), h, phase.alpha);
  }
  return epilogue(h);  // [N, c0, s0, s0] -> [N, 1]
}

namespace {

const bool keys_registered = [] {
  register_int_key("model.phase_images", 60000, 1, 1e12,
                   "progan: images shown per fade-in and per stable stretch of each resolution");
  register_int_key("model.max_width", 256, 1, 4096, "progan, stylegan: cap on the channels of low-resolution layers");
  return true;
}();

class Progan : public TwoPlayerGan {
 public:
  Progan(const Config& cfg, const DataShape& shape, ProganGenerator g, ProganDiscriminator d)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr()), g_(g), d_(d), phase_images_(cfg.get_int("model.phase_images")) {}
  std::string name() const override { return "progan"; }

  GrowthPhase phase() const { return growth_phase(images_, phase_images_, int64_t(g_->resolutions.size())); }

  Scalars step(const Batch& batch, StepContext& ctx) override {
    phase_ = phase();
    // Real images at the phase's resolution, blended between the two resolutions during a fade.
    auto grown = [&](Batch b) {
      const int64_t r = g_->resolutions[phase_.level];
      auto x = downsample_avg(b.images, b.images.size(2) / r);  // [N, C, r, r]
      if (phase_.level > 0 && phase_.alpha < 1.0)
        x = torch::lerp(upsample_nearest(downsample_avg(x, 2), 2), x, phase_.alpha);
      b.images = x;
      return b;
    };
    StepContext inner = ctx;
    if (ctx.next_batch) inner.next_batch = [&]() { return grown(ctx.next_batch()); };
    auto out = TwoPlayerGan::step(grown(batch), inner);
    images_ += batch.images.size(0) * batch_shard().world * knobs_.d_steps;
    const auto o = torch::TensorOptions().device(batch.images.device());
    out.emplace_back("resolution", torch::scalar_tensor(double(g_->resolutions[phase_.level]), o));
    out.emplace_back("alpha", torch::scalar_tensor(phase_.alpha, o));
    return out;
  }

  torch::Tensor sample(const SampleRequest& request) override {
    phase_ = phase();
    auto x = TwoPlayerGan::sample(request);  // [N, C, r, r]
    return upsample_nearest(x, shape_.size / x.size(2)).clamp(-1, 1);
  }

  std::map<std::string, torch::Tensor> extra_state() override {
    auto out = TwoPlayerGan::extra_state();
    const auto p = phase();
    out["progan.images"] = torch::tensor({images_}, torch::kInt64);
    // For readers of the checkpoint; the schedule recomputes both from the images.
    out["progan.resolution"] = torch::tensor({g_->resolutions[p.level]}, torch::kInt64);
    out["progan.alpha"] = torch::tensor({p.alpha}, torch::kFloat64);
    return out;
  }

  void load_extra_state(const std::map<std::string, torch::Tensor>& state) override {
    TwoPlayerGan::load_extra_state(state);
    auto it = state.find("progan.images");
    require(it != state.end() && it->second.numel() == 1, "checkpoint has no progan.images",
            "it was not written by a progan run");
    images_ = it->second.item<int64_t>();
  }

 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override { return g_->forward(z, phase_); }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override { return d_->forward(x, phase_); }

 private:
  ProganGenerator g_;
  ProganDiscriminator d_;
  int64_t phase_images_;
  int64_t images_ = 0;  // images shown to D so far (all ranks)
  GrowthPhase phase_;
};

std::unique_ptr<GanModel> make_progan(const Config& cfg, const DataShape& shape) {
  progressive_resolutions(shape.size);  // validates the size before any allocation
  ProganOptions g(cfg.get_int("model.latent_dim"), shape.channels, shape.size);
  g.width(cfg.get_int("model.g_width")).max_width(cfg.get_int("model.max_width"));
  ProganOptions d = g;
  d.width(cfg.get_int("model.d_width"));
  return std::make_unique<Progan>(cfg, shape, ProganGenerator(g), ProganDiscriminator(d));
}

}  // namespace

DUEL_REGISTER_MODEL("progan",
                    "progressive growing GAN: 7 -> 28 px or 4 px -> powers of two up to 256, fade-in, equalised lr",
                    make_progan,
                    ModelDefaults{{"train.loss", std::string("wasserstein")},
                                  {"train.gp_weight", 10.0},
                                  {"train.drift_weight", 0.001},
                                  {"optim.g_lr", 0.001},
                                  {"optim.d_lr", 0.001},
                                  {"optim.g_beta1", 0.0},
                                  {"optim.d_beta1", 0.0},
                                  {"optim.g_beta2", 0.99},
                                  {"optim.d_beta2", 0.99}});

}  // namespace duel
