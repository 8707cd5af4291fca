// progan and stylegan: the growth schedule, shapes through every phase,
// fade-in continuity of G and D, equalised layers, minibatch stddev,
// demodulation, truncation, style mixing, ADA and lazy R1.
#include <gtest/gtest.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/models/progan.h"
#include "duel/models/stylegan.h"
#include "duel/nn/ada.h"
#include "duel/nn/equalized.h"
#include "test_util.h"

using namespace duel;
using namespace duel::test;
using duel::test::same;
using duel::test::scalar;
using duel::test::snapshot;

namespace {
Config style_config(const std::string& name, const std::vector<std::string>& sets = {}) {
  Config c;
  for (const std::string s : {"model.name=" + name, std::string("model.latent_dim=16"), std::string("model.g_width=8"),
                              std::string("model.d_width=8"), std::string("model.max_width=16"),
                              std::string("model.style_dim=16")})
    c.set_from_string(s);
  for (auto& s : sets) c.set_from_string(s);
  apply_model_defaults(c);
  return c;
}
Batch toy_batch(int64_t n, int64_t c, int64_t size) { return Batch{torch::rand({n, c, size, size}) * 2 - 1, {}, 0}; }
std::shared_ptr<torch::nn::Module> net(GanModel& m, const std::string& name) {
  for (auto& [n, p] : m.nets())
    if (n == name) return p;
  return nullptr;
}
double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }
}  // namespace

TEST(Progressive, ResolutionsAndSchedule) {
  EXPECT_EQ(progressive_resolutions(28), (std::vector<int64_t>{7, 14, 28}));
  EXPECT_EQ(progressive_resolutions(32), (std::vector<int64_t>{4, 8, 16, 32}));
  EXPECT_EQ(progressive_resolutions(128).size(), 6u);
  for (int64_t bad : {20, 30, 512, 8}) EXPECT_THROW(progressive_resolutions(bad), Error) << bad;
  EXPECT_EQ(progressive_width(32, 128, 3, 2), 32);
  EXPECT_EQ(progressive_width(32, 128, 3, 1), 64);
  EXPECT_EQ(progressive_width(32, 100, 3, 0), 100);
  // 100 images per stretch, 3 levels: [0,100) 7 px; [100,200) fade 14; [200,300) 14; [300,400) fade 28; then 28.
  struct Case { int64_t images, level; double alpha; };
  for (auto c : {Case{0, 0, 1.0}, Case{99, 0, 1.0}, Case{100, 1, 0.0}, Case{125, 1, 0.25}, Case{199, 1, 0.99},
                 Case{200, 1, 1.0}, Case{299, 1, 1.0}, Case{300, 2, 0.0}, Case{350, 2, 0.5}, Case{400, 2, 1.0},
                 Case{100000, 2, 1.0}}) {
    auto p = growth_phase(c.images, 100, 3);
    EXPECT_EQ(p.level, c.level) << c.images;
    EXPECT_DOUBLE_EQ(p.alpha, c.alpha) << c.images;
  }
}

class ProganShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(ProganShapes, EveryPhaseOfGAndD) {
  auto [size, channels] = GetParam();
  torch::manual_seed(0);
  ProganOptions o(16, channels, size);
  o.width(8).max_width(16);
  ProganGenerator G(o);
  ProganDiscriminator D(o);
  const auto res = progressive_resolutions(size);
  auto z = torch::randn({6, 16});
  for (int64_t level = 0; level < int64_t(res.size()); ++level)
    for (double alpha : {0.3, 1.0}) {
      GrowthPhase p{level, alpha};
      auto x = G->forward(z, p);
      EXPECT_EQ(x.sizes(), (std::vector<int64_t>{6, channels, res[level], res[level]}));
      EXPECT_EQ(D->forward(x, p).sizes(), (std::vector<int64_t>{6, 1}));
      // D accepts full-size images too (average-pooled to the phase's resolution).
      EXPECT_EQ(D->forward(torch::randn({6, channels, size, size}), p).sizes(), (std::vector<int64_t>{6, 1}));
    }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ProganShapes,
                         ::testing::Values(std::make_tuple(28, 1), std::make_tuple(32, 3), std::make_tuple(64, 3),
                                           std::make_tuple(128, 3)));

TEST(Progressive, FadeInStartsAtThePreviousPhase) {
  torch::manual_seed(1);
  ProganOptions o(16, 3, 32);
  o.width(8).max_width(16);
  ProganGenerator G(o);
  ProganDiscriminator D(o);
  auto z = torch::randn({5, 16});
  auto x = torch::randn({5, 3, 32, 32});
  for (int64_t level = 1; level < 4; ++level) {
    auto faded = G->forward(z, {level, 0.0});
    auto previous = upsample_nearest(G->forward(z, {level - 1, 1.0}), 2);
    EXPECT_TRUE(torch::equal(faded, previous)) << level;
    // Halfway in, the new block contributes: the output moves away from the old phase.
    EXPECT_GT(max_diff(G->forward(z, {level, 0.5}), previous), 1e-4) << level;
    // D at alpha 0 is the previous phase's D on the half-resolution image.
    const int64_t r = progressive_resolutions(32)[level];
    auto xr = downsample_avg(x, 32 / r);
    EXPECT_LT(max_diff(D->forward(xr, {level, 0.0}), D->forward(downsample_avg(xr, 2), {level - 1, 1.0})), 1e-5);
  }
}

TEST(Progressive, ModelSamplesAtFullSizeAndStepsInEveryPhase) {
  torch::manual_seed(2);
  auto model = create_model(style_config("progan", {"model.phase_images=8"}), DataShape{1, 28, 0});
  EXPECT_EQ(model->name(), "progan");
  EXPECT_EQ(capability<StyleControl>(*model), nullptr);
  for (int64_t images : {0, 12, 20, 28, 40}) {  // 7 px, fade 14, 14, fade 28, 28
    model->load_extra_state({{"progan.images", torch::tensor({images})}});
    auto state = model->extra_state();
    const auto phase = growth_phase(images, 8, 3);
    EXPECT_EQ(state["progan.resolution"].item<int64_t>(), progressive_resolutions(28)[phase.level]);
    EXPECT_DOUBLE_EQ(state["progan.alpha"].item<double>(), phase.alpha);
    auto g0 = snapshot(*net(*model, "G")), d0 = snapshot(*net(*model, "D"));
    StepContext ctx;
    ctx.step = images / 4;
    auto s = model->step(toy_batch(4, 1, 28), ctx);
    EXPECT_DOUBLE_EQ(scalar(s, "resolution"), double(progressive_resolutions(28)[phase.level])) << images;
    EXPECT_DOUBLE_EQ(scalar(s, "alpha"), phase.alpha) << images;
    EXPECT_TRUE(std::isfinite(scalar(s, "loss_d")));
    EXPECT_FALSE(same(g0, snapshot(*net(*model, "G"))));
    EXPECT_FALSE(same(d0, snapshot(*net(*model, "D"))));
    // The step counted its images: the schedule advanced by the batch.
    EXPECT_EQ(model->extra_state()["progan.images"].item<int64_t>(), images + 4);
    SampleRequest req;
    req.noise = sampler_of(*model).make_noise(3, torch::kCPU);
    auto x = sampler_of(*model).sample(req);
    EXPECT_EQ(x.sizes(), (std::vector<int64_t>{3, 1, 28, 28}));
    EXPECT_LE(x.abs().max().item<double>(), 1.0);
  }
  EXPECT_THROW(create_model(style_config("progan"), DataShape{1, 30, 0}), Error);
}

TEST(EqualizedLayers, UnitGainAndStddevFeature) {
  torch::manual_seed(3);
  EqualLinear lin(EqualLinearOptions(512, 512));
  auto y = lin(torch::randn({256, 512}));
  EXPECT_NEAR(y.std().item<double>(), 1.0, 0.05);
  EqualLinear slow(EqualLinearOptions(512, 512).lr_mul(0.01));
  EXPECT_NEAR(slow->weight.std().item<double>(), 100.0, 5.0);  // stored N(0, 1) / lr_mul
  EXPECT_NEAR(slow(torch::randn({256, 512})).std().item<double>(), 1.0, 0.05);
  EqualConv2d conv(EqualConv2dOptions(64, 64, 3));
  auto c = conv(torch::randn({8, 64, 12, 12}));
  EXPECT_NEAR(c.slice(2, 1, 11).slice(3, 1, 11).std().item<double>(), 1.0, 0.05);
  // Pixel norm: unit mean square over channels.
  auto pn = pixel_norm(torch::randn({4, 10, 3, 3}) * 5);
  EXPECT_LT(max_diff(pn.pow(2).mean(1), torch::ones({4, 3, 3})), 1e-5);
  // Minibatch stddev by hand: 4 images, groups of 2 pair image i with i + 2.
  auto x = torch::tensor({1.f, 2.f, 3.f, 6.f}).view({4, 1, 1, 1});
  auto s = minibatch_stddev(x, 2);
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{4, 2, 1, 1}));
  EXPECT_NEAR(s[0][1].item<double>(), 1.0, 1e-4);  // {1, 3}: population std 1
  EXPECT_NEAR(s[1][1].item<double>(), 2.0, 1e-4);  // {2, 6}: 2
  EXPECT_NEAR(s[2][1].item<double>(), 1.0, 1e-4);
  EXPECT_NEAR(s[3][1].item<double>(), 2.0, 1e-4);
  EXPECT_TRUE(torch::equal(s.select(1, 0), x.select(1, 0)));
  EXPECT_EQ(minibatch_stddev(torch::randn({5, 3, 2, 2}), 4).size(1), 4);  // 5 images: groups of 5
}

TEST(Stylegan, DemodulationGivesUnitStd) {
  torch::manual_seed(4);
  ModulatedConv2d conv(ModulatedConv2dOptions(64, 64, 3, 16));
  ModulatedConv2d plain(ModulatedConv2dOptions(64, 64, 3, 16).demodulate(false));
  {
    torch::NoGradGuard g;
    conv->affine->bias.fill_(3.0);  // styles around 3: without demodulation the output triples
    plain->affine->bias.fill_(3.0);
    plain->weight.copy_(conv->weight);
    plain->affine->weight.copy_(conv->affine->weight);
  }
  auto x = torch::randn({8, 64, 12, 12});
  auto w = torch::randn({8, 16});
  auto inner = [](const torch::Tensor& y) { return y.slice(2, 1, 11).slice(3, 1, 11); };
  auto y = conv(x, w);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{8, 64, 12, 12}));
  EXPECT_NEAR(inner(y).std().item<double>(), 1.0, 0.05);
  EXPECT_GT(inner(plain(x, w)).std().item<double>(), 2.5);
  ModulatedConv2d up(ModulatedConv2dOptions(64, 32, 3, 16).upsample(true));
  EXPECT_EQ(up(x, w).sizes(), (std::vector<int64_t>{8, 32, 24, 24}));
}

class StyleganShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(StyleganShapes, SamplesAndOneStep) {
  auto [size, channels] = GetParam();
  torch::manual_seed(5);
  auto model = create_model(style_config("stylegan"), DataShape{channels, size, 0});
  EXPECT_EQ(model->name(), "stylegan");
  const int64_t levels = int64_t(progressive_resolutions(size).size());
  EXPECT_EQ(style_of(*model).style_layers(), 2 * levels);
  auto g0 = snapshot(*net(*model, "G")), d0 = snapshot(*net(*model, "D"));
  StepContext ctx;
  auto s = model->step(toy_batch(4, channels, size), ctx);
  EXPECT_TRUE(std::isfinite(scalar(s, "loss_d")) && std::isfinite(scalar(s, "loss_g")));
  EXPECT_GT(scalar(s, "r1"), 0.0);  // step 0: the lazy R1 is due
  EXPECT_FALSE(same(g0, snapshot(*net(*model, "G"))));
  EXPECT_FALSE(same(d0, snapshot(*net(*model, "D"))));
  SampleRequest req;
  req.noise = sampler_of(*model).make_noise(3, torch::kCPU);
  auto x = sampler_of(*model).sample(req);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{3, channels, size, size}));
  EXPECT_LE(x.abs().max().item<double>(), 1.0);
  EXPECT_TRUE(torch::equal(x, sampler_of(*model).sample(req)));  // sampling uses the fixed noise inputs
}

INSTANTIATE_TEST_SUITE_P(Sizes, StyleganShapes,
                         ::testing::Values(std::make_tuple(28, 1), std::make_tuple(32, 3), std::make_tuple(64, 3),
                                           std::make_tuple(128, 3)));

TEST(Stylegan, TruncationAndStyleMixing) {
  torch::manual_seed(6);
  auto model = create_model(style_config("stylegan", {"train.ema=0"}), DataShape{3, 32, 0});
  auto G = std::dynamic_pointer_cast<StyleGeneratorImpl>(net(*model, "G"));
  ASSERT_TRUE(G);
  {
    torch::NoGradGuard g;
    G->w_avg.copy_(torch::randn({16}));
  }
  const int64_t L = style_of(*model).style_layers();
  SampleRequest a, b;
  a.noise = torch::randn({4, 16});
  b.noise = torch::randn({4, 16});
  // psi = 0: every latent maps to the image of the mean w.
  a.truncation = 0.0;
  auto mean_image = sampler_of(*model).sample(a);
  torch::Tensor expected;
  {
    torch::NoGradGuard g;
    G->eval();
    expected = G->synthesize(G->w_avg.view({1, 1, -1}).expand({4, L, -1}), NoiseMode::Const).clamp(-1, 1);
    G->train();
  }
  EXPECT_LT(max_diff(mean_image, expected), 1e-6);
  EXPECT_LT(max_diff(mean_image[0], mean_image[3]), 1e-6);
  a.truncation = 1.0;
  auto pure_a = sampler_of(*model).sample(a), pure_b = sampler_of(*model).sample(b);
  EXPECT_GT(max_diff(pure_a, pure_b), 1e-3);
  auto half = a;
  half.truncation = 0.5;
  EXPECT_GT(max_diff(sampler_of(*model).sample(half), pure_a), 1e-4);
  // Mixing: layers [0, crossover) from a, the rest from b.
  SampleRequest mix = a;
  mix.mix = b.noise;
  mix.crossover = 0;
  EXPECT_LT(max_diff(sampler_of(*model).sample(mix), pure_b), 1e-6);
  mix.crossover = L;
  EXPECT_LT(max_diff(sampler_of(*model).sample(mix), pure_a), 1e-6);
  mix.crossover = L / 2;
  auto mixed = sampler_of(*model).sample(mix);
  EXPECT_GT(max_diff(mixed, pure_a), 1e-4);
  EXPECT_GT(max_diff(mixed, pure_b), 1e-4);
}

TEST(Stylegan, WAvgTracksTheMappingInTrainingOnly) {
  torch::manual_seed(7);
  StyleganOptions o(16, 1, 28);
  o.w_dim(16).width(8).max_width(16);
  StyleGenerator G(o);
  auto before = G->w_avg.clone();
  G->eval();
  G->map(torch::randn({8, 16}));
  EXPECT_TRUE(torch::equal(G->w_avg, before));
  G->train();
  auto w = G->map(torch::randn({8, 16}));
  EXPECT_LT(max_diff(G->w_avg, torch::lerp(w.detach().mean(0), before, 0.995)), 1e-6);
}

TEST(Ada, IdentityAtZeroWholePixelsAndGradients) {
  torch::manual_seed(8);
  auto x = torch::arange(6 * 3 * 16 * 16, torch::kFloat32).view({6, 3, 16, 16}) / 1000.0;
  EXPECT_TRUE(torch::equal(ada_augment(x, 0.0), x));
  // p = 1: every output pixel of image i is one of image i's input pixels (no blending).
  auto g = ada_geometry(x, 1.0);
  ASSERT_EQ(g.sizes(), x.sizes());
  int moved = 0;
  for (int64_t i = 0; i < 6; ++i) {
    auto in = x[i].flatten(), out = g[i].flatten();
    auto found = (out.unsqueeze(1) == in.unsqueeze(0)).any(1);
    EXPECT_TRUE(found.all().item<bool>()) << i;
    moved += !torch::equal(g[i], x[i]);
  }
  EXPECT_GE(moved, 5);
  // Colour changes values, differentiably.
  auto xg = torch::rand({6, 3, 16, 16}).requires_grad_(true);
  auto y = ada_augment(xg, 1.0);
  EXPECT_GT(max_diff(y, xg), 1e-3);
  y.sum().backward();
  ASSERT_TRUE(xg.grad().defined());
  EXPECT_GT(xg.grad().abs().sum().item<double>(), 0.0);
}

TEST(Ada, ControllerStepsTowardTheTarget) {
  AdaController ada(0.6, 1000.0, 4);
  auto confident = torch::ones({10, 1}), unsure = -torch::ones({10, 1});
  for (int i = 0; i < 3; ++i) ada.observe(confident, 10);
  EXPECT_EQ(ada.p(), 0.0);  // adjusts every 4 updates
  ada.observe(confident, 10);
  EXPECT_DOUBLE_EQ(ada.rt(), 1.0);
  EXPECT_NEAR(ada.p(), 40.0 / 1000.0, 1e-12);
  for (int i = 0; i < 4; ++i) ada.observe(confident, 10);
  EXPECT_NEAR(ada.p(), 0.08, 1e-12);
  std::map<std::string, torch::Tensor> state;
  ada.save(state, "ada");
  for (int i = 0; i < 12; ++i) ada.observe(unsure, 10);
  EXPECT_DOUBLE_EQ(ada.rt(), -1.0);
  EXPECT_EQ(ada.p(), 0.0);  // clamped at 0
  AdaController restored(0.6, 1000.0, 4);
  restored.load(state, "ada");
  EXPECT_NEAR(restored.p(), 0.08, 1e-12);
  EXPECT_THROW(AdaController(1.5, 1000.0), Error);
  AdaController fixed(0.0, 1000.0, 4, 0.3);  // target 0: p stays where it starts
  for (int i = 0; i < 8; ++i) fixed.observe(confident, 10);
  EXPECT_DOUBLE_EQ(fixed.p(), 0.3);
  EXPECT_DOUBLE_EQ(fixed.rt(), 1.0);
  EXPECT_THROW(restored.load({}, "ada"), Error);
}

TEST(LazyR1, PenaltyEveryKthUpdate) {
  torch::manual_seed(9);
  auto model = create_model(style_config("dcgan", {"train.r1_weight=1", "train.r1_every=3"}), DataShape{1, 28, 0});
  std::vector<double> r1;
  for (int64_t step = 0; step < 4; ++step) {
    StepContext ctx;
    ctx.step = step;
    r1.push_back(scalar(model->step(toy_batch(4, 1, 28), ctx), "r1"));
  }
  EXPECT_GT(r1[0], 0.0);
  EXPECT_EQ(r1[1], r1[0]);  // not due: the last value is reported
  EXPECT_EQ(r1[2], r1[0]);
  EXPECT_NE(r1[3], r1[0]);  // due again at update 3
}

TEST(TwoPlayerOnly, OtherStepsRefuseTheNewKnobs) {
  DataShape pair{3, 32, 0, 3, true};
  for (const std::string key : {"train.ada_target=0.6", "train.ada_p=0.2", "train.r1_every=4", "train.drift_weight=0.001"}) {
    try {
      create_model(style_config("pix2pix", {key}), pair);
      ADD_FAILURE() << key;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key.substr(0, key.find('='))), std::string::npos) << e.what();
    }
  }
}
