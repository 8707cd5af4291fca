// Image-to-image nets and models: pixel shuffle against a hand-computed
// rearrangement, shapes of every net at several sizes, the U-Net's skip
// connections, the history pool's probabilities, the cycle loss of identity
// generators, one training step of pix2pix / cyclegan / srgan / srresnet
// that changes every net, translation shapes and the errors for bad sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/losses/cycle.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/nn/i2i_nets.h"
#include "duel/nn/init.h"
#include "duel/train/schedule.h"
#include "test_util.h"

using namespace duel;
using namespace duel::test;

TEST(PixelShuffle, MatchesHandRearrangement) {
  const int64_t r = 2, c = 3, h = 2, w = 3;
  auto x = torch::arange(c * r * r * h * w, torch::kFloat32).reshape({1, c * r * r, h, w});
  auto y = duel::pixel_shuffle(x, r);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, c, h * r, w * r}));
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < h * r; ++i)
      for (int64_t j = 0; j < w * r; ++j) {
        // Output (ch, i, j) comes from input channel ch*r*r + (i%r)*r + (j%r) at (i/r, j/r).
        const float want = x[0][ch * r * r + (i % r) * r + (j % r)][i / r][j / r].item<float>();
        ASSERT_EQ(y[0][ch][i][j].item<float>(), want) << ch << " " << i << " " << j;
      }
  // The first output row of channel 0 interleaves input channels 0 and 1: 0, 6, 1, 7, 2, 8.
  EXPECT_TRUE(torch::equal(y[0][0][0], torch::tensor({0.f, 6.f, 1.f, 7.f, 2.f, 8.f})));
  EXPECT_TRUE(torch::equal(y, torch::pixel_shuffle(x, r)));
}

TEST(I2INets, UnetShapesAndDepth) {
  EXPECT_EQ(unet_depth(32, 0), 5);
  EXPECT_EQ(unet_depth(28, 0), 2);
  EXPECT_EQ(unet_depth(256, 0), 8);
  EXPECT_EQ(unet_depth(64, 3), 3);
  EXPECT_THROW(unet_depth(30, 0), Error);
  EXPECT_THROW(unet_depth(28, 3), Error);
  for (auto [size, in, out] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{32, 1, 1}, {28, 1, 3}, {64, 3, 3}}) {
    UnetGenerator g(UnetOptions(in, out).width(8).depth(unet_depth(size, 0)));
    auto y = g->forward(torch::randn({2, in, size, size}));
    EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, out, size, size}));
    EXPECT_LE(y.abs().max().item<float>(), 1.0f);
  }
}

// With every weight of the innermost (bottleneck) steps zeroed, no information
// crosses the bottleneck; the output must still follow the input through the
// skip connections, pixel by pixel.
TEST(I2INets, UnetSkipConnectionsCarryTheInput) {
  torch::manual_seed(0);
  UnetGenerator g(UnetOptions(1, 1).width(8).depth(3).dropout(0));
  init_weights(*g, "normal");
  g->eval();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : g->down[2]->parameters()) p.zero_();
  }
  auto x = torch::randn({1, 1, 16, 16}).requires_grad_();  // not zeros: ReLU passes no gradient at 0
  auto y = g->forward(x);
  y[0][0][5][5].backward();
  auto grad = x.grad()[0][0];
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);
  // The two shallow paths reach output row 5 from input rows -1..14 at most
  // (4x4 kernels, stride 2); row 15 only through the dead bottleneck.
  EXPECT_GT(grad.slice(0, 3, 9).slice(1, 3, 9).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grad.slice(0, 15, 16).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grad.slice(1, 15, 16).abs().sum().item<double>(), 0.0);
}

TEST(I2INets, PatchGanMapSizes) {
  EXPECT_EQ(patch_layers(28, 0), 3);
  EXPECT_EQ(patch_layers(16, 0), 2);
  EXPECT_THROW(patch_layers(4, 0), Error);
  EXPECT_THROW(patch_layers(16, 3), Error);
  // 256 px with 3 layers: the 70 x 70 PatchGAN's 30 x 30 map.
  for (auto [size, map] : std::vector<std::pair<int64_t, int64_t>>{{28, 1}, {32, 2}, {64, 6}, {256, 30}}) {
    PatchDiscriminator d(PatchOptions(2).width(8).layers(3));
    EXPECT_EQ(d->forward(torch::randn({2, 2, size, size})).sizes(), torch::IntArrayRef({2, 1, map, map})) << size;
  }
}

TEST(I2INets, ResnetAndSrNetShapes) {
  ResnetGenerator g(ResnetGenOptions(1, 3).width(8).blocks(2));
  EXPECT_EQ(g->forward(torch::randn({2, 1, 28, 28})).sizes(), torch::IntArrayRef({2, 3, 28, 28}));
  EXPECT_EQ(g->forward(torch::randn({1, 1, 32, 48})).sizes(), torch::IntArrayRef({1, 3, 32, 48}));
  SrResnet sr4(SrResnetOptions(1).scale(4).width(8).blocks(2));
  EXPECT_EQ(sr4->forward(torch::randn({2, 1, 7, 7})).sizes(), torch::IntArrayRef({2, 1, 28, 28}));
  SrResnet sr2(SrResnetOptions(3).scale(2).width(8).blocks(1));
  EXPECT_EQ(sr2->forward(torch::randn({1, 3, 10, 13})).sizes(), torch::IntArrayRef({1, 3, 20, 26}));
  EXPECT_THROW(SrResnet(SrResnetOptions(1).scale(3)), Error);
  SrDiscriminator d(SrDiscOptions(3).width(8).stages(3));
  EXPECT_EQ(d->forward(torch::randn({2, 3, 28, 28})).sizes(), torch::IntArrayRef({2, 1}));
  EXPECT_EQ(d->forward(torch::randn({2, 3, 96, 96})).sizes(), torch::IntArrayRef({2, 1}));
}

// Image k is filled with the value k, so every returned image tells where it came from.
TEST(ImagePool, FillsThenSwapsWithProbabilityHalf) {
  torch::manual_seed(3);
  const int64_t cap = 50;
  ImagePool pool(cap);
  auto img = [](int64_t k) { return torch::full({1, 1, 2, 2}, double(k)); };
  for (int64_t k = 0; k < cap; ++k) EXPECT_EQ(pool.query(img(k))[0][0][0][0].item<double>(), double(k));
  EXPECT_EQ(pool.size(), cap);
  std::set<int64_t> held;
  for (int64_t k = 0; k < cap; ++k) held.insert(k);
  const int64_t n = 4000;
  int64_t from_pool = 0;
  for (int64_t k = cap; k < cap + n; ++k) {
    const auto v = int64_t(pool.query(img(k))[0][0][0][0].item<double>());
    if (v == k) continue;  // returned as is
    ++from_pool;
    ASSERT_TRUE(held.count(v)) << "returned image " << v << " was not in the pool";
    held.erase(v);
    held.insert(k);  // the query image took its place
  }
  // Binomial(4000, 1/2): sd 31.6, so +-160 is five standard deviations.
  EXPECT_NEAR(double(from_pool), n / 2.0, 160.0);
  EXPECT_EQ(pool.size(), cap);
  // Checkpointed state round-trips.
  std::map<std::string, torch::Tensor> state;
  pool.save(state, "pool");
  ImagePool copy(cap);
  copy.load(state, "pool");
  EXPECT_EQ(copy.size(), cap);
  ImagePool small(10);
  EXPECT_THROW(small.load(state, "pool"), Error);
}

TEST(CycleLoss, ZeroForInverseGenerators) {
  auto a = torch::rand({3, 1, 8, 8}), b = torch::rand({3, 1, 8, 8});
  ImageMap id = [](const torch::Tensor& x) { return x; };
  auto t = cycle_consistency(id, id, a, b);
  EXPECT_EQ(t.loss.item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(t.fake_b, a));
  ImageMap plus = [](const torch::Tensor& x) { return x + 0.25; }, minus = [](const torch::Tensor& x) { return x - 0.25; };
  EXPECT_NEAR(cycle_consistency(plus, minus, a, b).loss.item<double>(), 0.0, 1e-7);
  // A shift by 0.1 one way only: |0.1| in each cycle term.
  ImageMap shift = [](const torch::Tensor& x) { return x + 0.1; };
  EXPECT_NEAR(cycle_consistency(shift, id, a, b).loss.item<double>(), 0.2, 1e-6);
  EXPECT_NEAR(identity_loss(shift, id, a, b).item<double>(), 0.1, 1e-6);
}

TEST(Schedule, DecayStartHoldsThenDecaysLinearly) {
  Config c;
  c.set_from_string("optim.schedule=linear");
  c.set_from_string("optim.decay_start=0.5");
  auto p = torch::zeros({1}, torch::requires_grad());
  auto opt = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{p}, torch::optim::AdamOptions(1.0));
  LrSchedule s(c, {{"G", opt.get()}});
  EXPECT_DOUBLE_EQ(s.factor(0, 100), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(50, 100), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(75, 100), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(100, 100), 0.0);
}

namespace {
Config i2i_config(const std::string& model, const std::vector<std::string>& sets = {}) {
  Config c;
  c.set_from_string("model.name=" + model);
  for (const char* s : {"model.g_width=8", "model.d_width=8"}) c.set_from_string(s);
  for (auto& s : sets) c.set_from_string(s);
  apply_model_defaults(c);
  return c;
}
Batch pair_batch(int64_t n, int64_t ca, int64_t cb, int64_t size) {
  Batch b{torch::rand({n, ca, size, size}) * 2 - 1, {}, 0};
  b.targets = torch::rand({n, cb, size, size}) * 2 - 1;
  return b;
}
}  // namespace

using I2ICase = std::tuple<std::string, std::vector<std::string>, DataShape>;
class I2IStep : public ::testing::TestWithParam<I2ICase> {};

TEST_P(I2IStep, OneStepChangesEveryNetAndTranslates) {
  auto [name, sets, shape] = GetParam();
  torch::manual_seed(0);
  auto model = create_model(i2i_config(name, sets), shape);
  ASSERT_NE(capability<ImageTranslator>(*model), nullptr);
  std::vector<std::vector<torch::Tensor>> before;
  for (auto& [n, net] : model->nets()) before.push_back(snapshot(*net));
  StepContext ctx;
  auto batch = pair_batch(4, shape.channels, shape.target_channels ? shape.target_channels : shape.channels, shape.size);
  auto scalars = model->step(batch, ctx);
  EXPECT_TRUE(std::isfinite(scalar(scalars, "loss_g")));
  size_t i = 0;
  for (auto& [n, net] : model->nets()) EXPECT_FALSE(same(before[i++], snapshot(*net))) << name << " net " << n;

  // Translation: shape, range, scale.
  const int64_t in = shape.size / translator_of(*model).scale();
  auto x = torch::rand({2, shape.channels, in, in}) * 2 - 1;
  auto y = translator_of(*model).translate(x, "AtoB");
  const int64_t out_c = shape.target_channels ? shape.target_channels : shape.channels;
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, out_c, shape.size, shape.size}));
  EXPECT_LE(y.abs().max().item<float>(), 1.0f);
  EXPECT_THROW(translator_of(*model).translate(x, "sideways"), Error);
  EXPECT_THROW(translator_of(*model).translate(torch::rand({1, shape.channels + 1, in, in}), "AtoB"), Error);
  if (translator_of(*model).size_multiple() > 1)
    EXPECT_THROW(translator_of(*model).translate(torch::rand({1, shape.channels, in + 1, in + 1}), "AtoB"), Error);
  EXPECT_EQ(capability<NoiseSampler>(*model), nullptr);  // translators draw nothing from noise
  EXPECT_THROW(require_capability<NoiseSampler>(*model), Error);  // NoiseSampler::missing
  Batch fixed = batch;
  fixed.images = fixed.images.slice(0, 0, 2);
  fixed.targets = fixed.targets.slice(0, 0, 2);
  // The preview's columns share one size (cyclegan shows both domains with the wider one's channels).
  const int64_t show_c = name == "cyclegan" ? std::max(shape.channels, out_c) : out_c;
  for (auto& col : model->preview(fixed)) EXPECT_EQ(col.sizes(), torch::IntArrayRef({2, show_c, shape.size, shape.size}));
}

INSTANTIATE_TEST_SUITE_P(
    Models, I2IStep,
    ::testing::Values(I2ICase{"pix2pix", {}, DataShape{1, 32, 0, 1, true}},
                      I2ICase{"pix2pix", {"model.patch_norm=instance"}, DataShape{1, 28, 0, 3, true}},
                      I2ICase{"cyclegan", {"model.resnet_blocks=2", "model.pool_size=3"}, DataShape{1, 28, 0, 1, false}},
                      I2ICase{"cyclegan", {"model.resnet_blocks=1", "model.identity_weight=0"}, DataShape{3, 32, 0, 1, false}},
                      I2ICase{"srgan", {"model.sr_blocks=2", "model.sr_scale=4"}, DataShape{1, 28, 0, 0, false}},
                      I2ICase{"srgan", {"model.sr_blocks=1", "model.sr_scale=2", "model.sr_d_stages=2"}, DataShape{3, 32, 0, 0, false}},
                      I2ICase{"srresnet", {"model.sr_blocks=2"}, DataShape{1, 28, 0, 0, false}}));

TEST(I2IModels, RefuseDataTheyCannotUse) {
  // pix2pix needs pairs; cyclegan's identity loss needs equal channels; sizes must fit the strides.
  EXPECT_THROW(create_model(i2i_config("pix2pix"), DataShape{1, 32, 0, 1, false}), Error);
  EXPECT_THROW(create_model(i2i_config("pix2pix"), DataShape{1, 32, 0, 0, false}), Error);
  EXPECT_THROW(create_model(i2i_config("pix2pix"), DataShape{1, 30, 0, 1, true}), Error);
  EXPECT_THROW(create_model(i2i_config("cyclegan"), DataShape{1, 28, 0, 3, false}), Error);
  EXPECT_THROW(create_model(i2i_config("cyclegan"), DataShape{1, 30, 0, 1, false}), Error);
  EXPECT_THROW(create_model(i2i_config("srgan"), DataShape{1, 30, 0, 0, false}), Error);
  EXPECT_THROW(create_model(i2i_config("srresnet", {"model.sr_pixel_weight=0"}), DataShape{1, 28, 0, 0, false}), Error);
  // Registered defaults: CycleGAN's least-squares loss and half-run decay.
  auto c = i2i_config("cyclegan");
  EXPECT_EQ(c.get_string("train.loss"), "least-squares");
  EXPECT_DOUBLE_EQ(c.get_float("optim.decay_start"), 0.5);
}

// The srgan pre-training phase trains G alone: D is untouched until sr_pretrain_steps.
TEST(I2IModels, SrganPretrainPhaseLeavesDAlone) {
  torch::manual_seed(1);
  auto model = create_model(i2i_config("srgan", {"model.sr_blocks=1", "model.sr_pretrain_steps=2"}), DataShape{1, 28, 0, 0, false});
  auto nets = model->nets();
  auto d0 = snapshot(*nets[1].second);
  StepContext ctx;
  ctx.step = 1;
  auto s = model->step(pair_batch(4, 1, 1, 28), ctx);
  EXPECT_TRUE(same(d0, snapshot(*nets[1].second)));
  EXPECT_EQ(scalar(s, "loss_d"), 0.0);
  ctx.step = 2;
  s = model->step(pair_batch(4, 1, 1, 28), ctx);
  EXPECT_FALSE(same(d0, snapshot(*nets[1].second)));
  EXPECT_GT(scalar(s, "loss_d"), 0.0);
  // The input is the mean of each 4 x 4 block of the target.
  Batch b{torch::rand({1, 1, 28, 28}), {}, 0};
  auto [lr, hr] = translator_of(*model).io_of(b);
  EXPECT_EQ(lr.sizes(), torch::IntArrayRef({1, 1, 7, 7}));
  EXPECT_NEAR(lr[0][0][1][2].item<double>(), b.images[0][0].slice(0, 4, 8).slice(1, 8, 12).mean().item<double>(), 1e-6);
}

// The content loss's feature network is loaded for training only: a checkpoint
// translates without it, training without it is refused before any step.
TEST(I2IModels, FeatureNetworkIsATrainingResource) {
  const DataShape shape{1, 28, 0, 0, false};
  auto missing = create_model(i2i_config("srresnet", {"model.sr_blocks=1", "model.sr_feature_weight=0.01",
                                                      "model.sr_features=/nonexistent/vgg.pt"}),
                              shape);
  EXPECT_EQ(translator_of(*missing).translate(torch::zeros({1, 1, 7, 7}), "AtoB").sizes(), torch::IntArrayRef({1, 1, 28, 28}));
  EXPECT_THROW(missing->prepare_training(), Error);
  StepContext ctx;
  EXPECT_THROW(missing->step(pair_batch(2, 1, 1, 28), ctx), Error);

  const std::string net = std::string(DUEL_SOURCE_DIR) + "/features/fashion-mnist.duelfeat";
  auto model = create_model(i2i_config("srresnet", {"model.sr_blocks=1", "model.sr_feature_weight=0.01",
                                                    "model.sr_features=" + net}),
                            shape);
  model->prepare_training();
  auto s = model->step(pair_batch(2, 1, 1, 28), ctx);
  EXPECT_GT(scalar(s, "feature_mse"), 0.0);
  EXPECT_NEAR(scalar(s, "loss_g"), scalar(s, "pixel_mse") + 0.01 * scalar(s, "feature_mse"), 1e-5);
}
