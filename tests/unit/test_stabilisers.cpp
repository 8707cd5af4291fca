// Stabilisers and inspection helpers against independent computations:
// spectral norm vs an SVD, gradient penalties vs finite differences, the
// EMA formula, DiffAugment's transforms, learning-rate schedules, slerp,
// and GIF files as an independent decoder (stb_image) reads them.
#include <gtest/gtest.h>

#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/gif.h"
#include "duel/losses/penalty.h"
#include "duel/nn/diffaug.h"
#include "duel/nn/ema.h"
#include "duel/nn/latent.h"
#include "duel/nn/spectral_norm.h"
#include "duel/train/schedule.h"

#define STB_IMAGE_STATIC  // private copy: the library's own stb has GIF reading compiled out
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_GIF
#define STBI_NO_STDIO
#include <stb/stb_image.h>

using namespace duel;

namespace {
double top_singular_value(const torch::Tensor& w) {
  auto m = w.reshape({w.size(0), -1}).to(torch::kFloat64);
  return std::sqrt(torch::linalg_eigvalsh(torch::mm(m.t(), m)).max().item<double>());
}
}  // namespace

TEST(SpectralNorm, LinearTopSingularValueBecomesOne) {
  torch::manual_seed(0);
  SpectralNorm sn(torch::nn::Linear(30, 20));
  auto params = sn->named_parameters();
  { torch::NoGradGuard g; params["module.weight"].mul_(7.0); }
  EXPECT_GT(top_singular_value(params["module.weight"]), 2.0);
  auto x = torch::randn({4, 30});
  for (int i = 0; i < 200; ++i) sn->forward(x);  // power iteration runs in training mode
  EXPECT_NEAR(top_singular_value(sn->normalized_weight().detach()), 1.0, 1e-3);
  // The layer computes x W_sn^T + b.
  auto want = torch::mm(x, sn->normalized_weight().t()) + params["module.bias"];
  EXPECT_TRUE(torch::allclose(sn->forward(x), want, 1e-5, 1e-5));
}

TEST(SpectralNorm, ConvTopSingularValueBecomesOneAndEvalFreezesVectors) {
  torch::manual_seed(1);
  SpectralNorm sn(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 4).stride(2).padding(1)));
  auto x = torch::randn({2, 3, 16, 16});
  for (int i = 0; i < 200; ++i) sn->forward(x);
  EXPECT_NEAR(top_singular_value(sn->normalized_weight().detach()), 1.0, 1e-3);
  EXPECT_EQ(sn->forward(x).sizes(), torch::IntArrayRef({2, 8, 8, 8}));
  // Persistent vectors are buffers (checkpointed) and stay put in eval mode.
  auto buffers = sn->named_buffers();
  ASSERT_TRUE(buffers.contains("u") && buffers.contains("v"));
  auto u = buffers["u"].clone();
  sn->eval();
  sn->forward(x);
  EXPECT_TRUE(torch::equal(u, sn->named_buffers()["u"]));
  sn->train();
  torch::NoGradGuard g;
  sn->named_parameters()["module.weight"].add_(torch::randn_like(sn->named_parameters()["module.weight"]));
  sn->forward(x);
  EXPECT_FALSE(torch::equal(u, sn->named_buffers()["u"]));
}

namespace {
// A tiny smooth critic D(x) = v . tanh(W x) on x [N, 1, 2, 2].
struct TinyCritic {
  torch::Tensor W = torch::randn({3, 4}, torch::kFloat64).requires_grad_(true);
  torch::Tensor v = torch::randn({3}, torch::kFloat64);
  torch::Tensor operator()(const torch::Tensor& x) const {
    return torch::mv(torch::tanh(torch::mm(x.reshape({x.size(0), 4}), W.t())), v).reshape({-1, 1});
  }
};
}  // namespace

TEST(Penalty, GradientPenaltyMatchesFiniteDifferences) {
  torch::manual_seed(2);
  TinyCritic D;
  auto real = torch::randn({5, 1, 2, 2}, torch::kFloat64), fake = torch::randn({5, 1, 2, 2}, torch::kFloat64);
  auto alpha = torch::rand({5}, torch::kFloat64);
  Critic critic = [&](const torch::Tensor& x) { return D(x); };
  auto gp = gradient_penalty(critic, real, fake, alpha);
  // Finite-difference gradient of D at each interpolate, then the penalty by hand.
  const double h = 1e-6;
  double want = 0;
  for (int64_t i = 0; i < 5; ++i) {
    auto xi = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i]).reshape({1, 1, 2, 2}).detach();
    double norm_sq = 0;
    for (int64_t j = 0; j < 4; ++j) {
      auto e = torch::zeros({1, 1, 2, 2}, torch::kFloat64);
      e.view({-1})[j] = h;
      double g = (D(xi + e).item<double>() - D(xi - e).item<double>()) / (2 * h);
      norm_sq += g * g;
    }
    want += std::pow(std::sqrt(norm_sq) - 1, 2) / 5;
  }
  EXPECT_NEAR(gp.item<double>(), want, 1e-7);
  // Double backprop: d GP / d W against finite differences of GP in W.
  gp.backward();
  auto analytic = D.W.grad().clone();
  for (int64_t j = 0; j < 12; j += 5) {
    auto w = D.W.detach().view({-1});  // shares storage: edits reach the critic
    const double w0 = w[j].item<double>();
    w[j] = w0 + h;
    double up = gradient_penalty(critic, real, fake, alpha).item<double>();
    w[j] = w0 - h;
    double down = gradient_penalty(critic, real, fake, alpha).item<double>();
    w[j] = w0;
    EXPECT_NEAR(analytic.view({-1})[j].item<double>(), (up - down) / (2 * h), 1e-5);
  }
}

TEST(Penalty, R1OfALinearCriticIsItsSquaredWeightNorm) {
  auto w = torch::tensor({0.5, -2.0, 1.0, 3.0}, torch::kFloat64).requires_grad_(true);
  Critic critic = [&](const torch::Tensor& x) { return torch::mv(x.reshape({x.size(0), 4}), w).reshape({-1, 1}); };
  auto r1 = r1_penalty(critic, torch::randn({3, 1, 2, 2}, torch::kFloat64));
  EXPECT_NEAR(r1.item<double>(), 0.25 + 4 + 1 + 9, 1e-12);
  r1.backward();  // d ||w||^2 / dw = 2w
  EXPECT_TRUE(torch::allclose(w.grad(), 2 * w.detach()));
}

TEST(Ema, FollowsTheFormulaAndSwapsBack) {
  torch::nn::Linear lin(2, 1);
  auto p = lin->named_parameters()["weight"];
  { torch::NoGradGuard g; p.fill_(0.0); }
  WeightEma ema(*lin, 0.9);
  double shadow = 0;
  for (int t = 0; t < 30; ++t) {
    { torch::NoGradGuard g; p.fill_(double(t + 1)); }
    ema.update();
    const double d = std::min(0.9, (1.0 + t) / (10.0 + t));
    shadow = d * shadow + (1 - d) * double(t + 1);
  }
  ema.swap();
  EXPECT_NEAR(lin->named_parameters()["weight"][0][0].item<double>(), shadow, 1e-4);
  ema.swap();
  EXPECT_EQ(lin->named_parameters()["weight"][0][0].item<double>(), 30.0);
  std::map<std::string, torch::Tensor> state;
  ema.save(state, "ema.G");
  EXPECT_EQ(state.at("ema.G.updates").item<int64_t>(), 30);
  WeightEma other(*lin, 0.9);
  other.load(state, "ema.G");
  EXPECT_EQ(other.updates(), 30);
  EXPECT_THROW(other.load({}, "ema.G"), Error);
}

TEST(DiffAugment, TranslationShiftsWithZeroFillAndPassesGradients) {
  torch::manual_seed(3);
  auto x = (torch::rand({6, 1, 16, 16}) + 0.1).requires_grad_(true);  // no zeros in x
  auto y = diff_augment(x, parse_diffaug("translation"));
  ASSERT_EQ(y.sizes(), x.sizes());
  for (int64_t i = 0; i < 6; ++i) {
    bool found = false;
    for (int dy = -2; dy <= 2 && !found; ++dy)
      for (int dx = -2; dx <= 2 && !found; ++dx) {
        auto want = torch::zeros({16, 16});
        for (int r = 0; r < 16; ++r)
          for (int c = 0; c < 16; ++c)
            if (r + dy >= 0 && r + dy < 16 && c + dx >= 0 && c + dx < 16) want[r][c] = x[i][0][r + dy][c + dx];
        found = torch::equal(y[i][0].detach(), want.detach());
      }
    EXPECT_TRUE(found) << "sample " << i << " is not a shifted copy";
  }
  y.sum().backward();
  EXPECT_GT(x.grad().sum().item<double>(), 0.0);
}

TEST(DiffAugment, CutoutZeroesAtMostAQuarterAndColorChangesEverySample) {
  torch::manual_seed(4);
  auto x = torch::rand({50, 3, 16, 16}) + 0.5;
  auto y = diff_augment(x, parse_diffaug("cutout"));
  auto zero_frac = (y == 0).to(torch::kFloat).mean({1, 2, 3});
  EXPECT_LE(zero_frac.max().item<double>(), 0.25 + 1e-6);
  EXPECT_GT(zero_frac.mean().item<double>(), 0.05);
  auto c = diff_augment(x, parse_diffaug("color"));
  EXPECT_TRUE(((c - x).abs().amax({1, 2, 3}) > 0).all().item<bool>());
  EXPECT_THROW(parse_diffaug("translation,rotate"), Error);
  EXPECT_TRUE(parse_diffaug("").empty());
}

TEST(Schedule, FactorsAndRates) {
  Config cfg;
  cfg.set_from_string("optim.schedule=cosine");
  cfg.set_from_string("optim.warmup=10");
  torch::nn::Linear lin(2, 2);
  torch::optim::Adam adam(lin->parameters(), torch::optim::AdamOptions(1e-3));
  LrSchedule s(cfg, {{"G", &adam}});
  EXPECT_NEAR(s.factor(0, 100), 0.1 * 1.0, 1e-12);                            // warm-up 1/10, cos(0) = 1
  EXPECT_NEAR(s.factor(50, 100), 0.5, 1e-12);                                  // cosine midpoint
  EXPECT_NEAR(s.factor(100, 100), 0.0, 1e-12);
  s.apply(25, 100);
  EXPECT_NEAR(s.current("G"), 1e-3 * 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-15);
  s.scale_base(0.5);
  s.apply(25, 100);
  EXPECT_NEAR(s.current("G"), 0.5e-3 * 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-15);
  cfg.set_from_string("optim.schedule=linear");
  cfg.set_from_string("optim.warmup=0");
  LrSchedule lin_s(cfg, {{"G", &adam}});
  EXPECT_NEAR(lin_s.factor(75, 100), 0.25, 1e-12);
}

TEST(Slerp, EndpointsNormAndOrthogonalMidpoint) {
  auto a = torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64), b = torch::tensor({0.0, 1.0, 0.0}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(slerp(a, b, 0.0), a));
  EXPECT_TRUE(torch::allclose(slerp(a, b, 1.0), b));
  auto mid = slerp(a, b, 0.5);
  EXPECT_NEAR(mid[0].item<double>(), std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(mid.norm().item<double>(), 1.0, 1e-12);  // a straight line would give 0.707
  EXPECT_TRUE(torch::allclose(slerp(a, 2 * a, 0.5), 1.5 * a));  // parallel: linear
}

namespace {
// Decodes every frame with stb_image: [frames, H, W, 4] RGBA.
std::vector<uint8_t> stb_frames(const std::string& gif, int* w, int* h, int* n) {
  int* delays = nullptr;
  int comp = 0;
  stbi_uc* p = stbi_load_gif_from_memory(reinterpret_cast<const stbi_uc*>(gif.data()), int(gif.size()), &delays, w,
                                         h, n, &comp, 4);
  EXPECT_NE(p, nullptr) << stbi_failure_reason();
  if (!p) return {};
  std::vector<uint8_t> out(p, p + size_t(*w) * size_t(*h) * size_t(*n) * 4);
  stbi_image_free(p);
  stbi_image_free(delays);
  return out;
}
}  // namespace

TEST(Gif, GreyFramesDecodeExactlyWithAnIndependentDecoder) {
  torch::manual_seed(5);
  // Random 200x150 frames overflow the 4096-code table several times (clear codes).
  std::vector<torch::Tensor> frames{torch::randint(0, 256, {1, 150, 200}, torch::kUInt8),
                                    torch::zeros({1, 150, 200}, torch::kUInt8),
                                    torch::arange(150 * 200).remainder(256).to(torch::kUInt8).reshape({1, 150, 200})};
  int w = 0, h = 0, n = 0;
  auto px = stb_frames(encode_gif(frames, 10), &w, &h, &n);
  ASSERT_EQ(w, 200);
  ASSERT_EQ(h, 150);
  ASSERT_EQ(n, 3);
  auto got = torch::from_blob(px.data(), {n, h, w, 4}, torch::kUInt8);
  for (int f = 0; f < 3; ++f) EXPECT_TRUE(torch::equal(got[f].select(2, 0), frames[size_t(f)][0])) << "frame " << f;
}

TEST(Gif, RgbFramesQuantiseWithinOneCubeStep) {
  torch::manual_seed(6);
  auto frame = torch::randint(0, 256, {3, 40, 30}, torch::kUInt8);
  int w = 0, h = 0, n = 0;
  auto px = stb_frames(encode_gif({frame}, 5), &w, &h, &n);
  ASSERT_EQ(n, 1);
  auto got = torch::from_blob(px.data(), {h, w, 4}, torch::kUInt8).slice(2, 0, 3).permute({2, 0, 1}).to(torch::kInt);
  EXPECT_LE((got - frame.to(torch::kInt)).abs().max().item<int>(), 26);  // half of 255/5
  EXPECT_THROW(encode_gif({frame, torch::zeros({3, 4, 4}, torch::kUInt8)}, 5), Error);
}

TEST(Gif, LzwRoundTrip) {
  std::vector<uint8_t> data;
  for (int i = 0; i < 20000; ++i) data.push_back(uint8_t((i * 7919) % 251 ^ (i / 300)));
  EXPECT_EQ(lzw_decode(lzw_encode(data)), data);
}
