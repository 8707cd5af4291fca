// The GAN family built on TwoPlayerGan: cgan, wgan, wgan-gp and the
// stabilisers through the config (losses, spectral norm, EMA, DiffAugment,
// R1): shapes at 28/32/64 px, one step on a toy batch changes both nets while
// the generator update leaves D alone, registered defaults, checkpoints of
// the extra state.
#include <gtest/gtest.h>

#include <filesystem>

#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "test_util.h"

using namespace duel;
using namespace duel::test;

namespace {
Config family_config(const std::string& model, const std::vector<std::string>& sets = {}) {
  Config c;
  c.set_from_string("model.name=" + model);
  for (const char* s : {"model.latent_dim=8", "model.g_width=8", "model.d_width=8"}) c.set_from_string(s);
  for (auto& s : sets) c.set_from_string(s);
  apply_model_defaults(c);
  return c;
}
Batch toy_batch(int64_t n, int64_t c, int64_t size, int64_t classes) {
  Batch b{torch::rand({n, c, size, size}) * 2 - 1, {}, 0};
  if (classes > 0) b.labels = torch::randint(0, classes, {n}, torch::kInt64);
  return b;
}
// d_steps > 1 pulls more batches from the context.
StepContext toy_context(int64_t c, int64_t size, int64_t classes) {
  StepContext ctx;
  ctx.next_batch = [=]() { return toy_batch(4, c, size, classes); };
  return ctx;
}
}  // namespace

using FamilyCase = std::tuple<std::string, std::vector<std::string>, int64_t, int64_t>;
class FamilyStep : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(FamilyStep, ShapesAndOneStepChangesBothNets) {
  auto [name, sets, size, channels] = GetParam();
  torch::manual_seed(0);
  const int64_t classes = name == "cgan" ? 10 : 0;
  auto cfg = family_config(name, sets);
  auto model = create_model(cfg, DataShape{channels, size, classes});
  auto z = sampler_of(*model).make_noise(3, torch::kCPU);
  torch::Tensor labels = classes ? torch::tensor({0, 4, 9}, torch::kInt64) : torch::Tensor();
  auto x = sampler_of(*model).sample({z, labels});
  EXPECT_EQ(x.sizes(), torch::IntArrayRef({3, channels, size, size}));
  EXPECT_LE(x.abs().max().item<float>(), 1.0f);

  auto nets = model->nets();
  auto g0 = snapshot(*nets[0].second), d0 = snapshot(*nets[1].second);
  auto ctx = toy_context(channels, size, classes);
  auto scalars = model->step(toy_batch(4, channels, size, classes), ctx);
  EXPECT_TRUE(std::isfinite(scalar(scalars, "loss_d")));
  EXPECT_TRUE(std::isfinite(scalar(scalars, "loss_g")));
  EXPECT_FALSE(same(g0, snapshot(*nets[0].second)));
  EXPECT_FALSE(same(d0, snapshot(*nets[1].second)));
}

INSTANTIATE_TEST_SUITE_P(
    Family, FamilyStep,
    ::testing::Values(FamilyCase{"cgan", {}, 28, 1}, FamilyCase{"cgan", {"model.cgan_d=concat"}, 32, 3},
                      FamilyCase{"cgan", {}, 64, 3}, FamilyCase{"wgan", {}, 28, 1}, FamilyCase{"wgan", {}, 32, 3},
                      FamilyCase{"wgan", {}, 64, 1}, FamilyCase{"wgan-gp", {}, 28, 1},
                      FamilyCase{"wgan-gp", {}, 32, 3}, FamilyCase{"wgan-gp", {}, 64, 3},
                      FamilyCase{"dcgan", {"train.loss=hinge", "model.spectral_norm=true", "model.d_norm=none",
                                           "train.ema=0.99"}, 28, 1},
                      FamilyCase{"dcgan", {"train.loss=least-squares", "train.diffaug=translation,cutout,color",
                                           "train.r1_weight=1"}, 32, 3},
                      FamilyCase{"mlp", {"train.loss=wasserstein", "train.gp_weight=10", "model.spectral_norm=true"},
                                 28, 1}));

TEST(Family, GeneratorUpdateLeavesTheCriticAlone) {
  // d_lr = 0: D's step is a no-op, so any change to D would come from the G update.
  for (auto [name, classes] : {std::pair<std::string, int64_t>{"wgan-gp", 0}, {"cgan", 10}}) {
    auto cfg = family_config(name, {"optim.d_lr=0", "train.d_steps=1", "model.spectral_norm=true"});
    torch::manual_seed(1);
    auto model = create_model(cfg, DataShape{1, 28, classes});
    auto nets = model->nets();
    auto d0 = snapshot(*nets[1].second);
    std::vector<torch::Tensor> d_grads;
    StepContext ctx = toy_context(1, 28, classes);
    ctx.after_backward = [&](const std::string& net) {
      auto params = nets[1].second->parameters();
      if (net == "D")
        for (auto& p : params) d_grads.push_back(p.grad().clone());
      if (net == "G")
        for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i].grad(), d_grads[i])) << name;
    };
    auto s = model->step(toy_batch(4, 1, 28, classes), ctx);
    EXPECT_TRUE(same(d0, snapshot(*nets[1].second))) << name;
    if (name == "wgan-gp") {
      EXPECT_GT(scalar(s, "gp"), 0.0);
      EXPECT_NEAR(scalar(s, "w_estimate"), scalar(s, "critic_real") - scalar(s, "critic_fake"), 1e-5);
    } else {
      EXPECT_FALSE(has(s, "w_estimate"));
    }
  }
}

TEST(Family, WganDefaultsClipAndRmsprop) {
  auto cfg = family_config("wgan");
  EXPECT_EQ(cfg.get_string("train.loss"), "wasserstein");
  EXPECT_EQ(cfg.get_int("train.d_steps"), 5);
  EXPECT_EQ(cfg.get_string("optim.optimizer"), "rmsprop");
  torch::manual_seed(2);
  auto model = create_model(cfg, DataShape{1, 28, 0});
  auto ctx = toy_context(1, 28, 0);
  for (int i = 0; i < 3; ++i) model->step(toy_batch(4, 1, 28, 0), ctx);
  for (auto& p : model->nets()[1].second->parameters()) EXPECT_LE(p.abs().max().item<double>(), 0.01 + 1e-9);
  // A user's explicit setting wins over a model default; the checks keep a wgan a WGAN.
  auto mine = family_config("wgan", {"train.d_steps=2"});
  EXPECT_EQ(mine.get_int("train.d_steps"), 2);
  EXPECT_THROW(create_model(family_config("wgan", {"train.loss=hinge"}), DataShape{1, 28, 0}), Error);
  EXPECT_THROW(create_model(family_config("wgan", {"train.weight_clip=0"}), DataShape{1, 28, 0}), Error);
  EXPECT_THROW(create_model(family_config("wgan-gp", {"model.d_norm=batch"}), DataShape{1, 28, 0}), Error);
  EXPECT_THROW(create_model(family_config("cgan"), DataShape{1, 28, 0}), Error);  // no labels
}

TEST(Family, CganLabelsSteerTheGenerator) {
  torch::manual_seed(3);
  auto model = create_model(family_config("cgan"), DataShape{1, 28, 10});
  EXPECT_TRUE(model->needs_labels());
  auto z = sampler_of(*model).make_noise(2, torch::kCPU);
  auto a = sampler_of(*model).sample({z, torch::tensor({1, 1}, torch::kInt64)});
  auto b = sampler_of(*model).sample({z, torch::tensor({1, 7}, torch::kInt64)});
  EXPECT_TRUE(torch::equal(a[0], b[0]));
  EXPECT_FALSE(torch::equal(a[1], b[1]));
}

TEST(Family, EmaSamplesDifferFromLiveWeightsAndSurviveACheckpoint) {
  torch::manual_seed(4);
  auto cfg = family_config("dcgan", {"train.ema=0.5"});
  auto model = create_model(cfg, DataShape{1, 28, 0});
  auto ctx = toy_context(1, 28, 0);
  for (int i = 0; i < 3; ++i) model->step(toy_batch(4, 1, 28, 0), ctx);
  auto z = sampler_of(*model).make_noise(2, torch::kCPU);
  auto with_ema = sampler_of(*model).sample({z, {}});
  TrainState st;
  st.shape = DataShape{1, 28, 0};
  st.fixed_noise = z;
  st.rng_state = get_rng_state();
  auto path = (std::filesystem::temp_directory_path() / "duel_ema.duel").string();
  Checkpoint::write(path, *model, cfg, st);
  torch::manual_seed(9);
  auto other = create_model(cfg, DataShape{1, 28, 0});
  Checkpoint::read(path).restore(*other, true);
  EXPECT_TRUE(torch::equal(sampler_of(*other).sample({z, {}}), with_ema));
  auto no_ema_cfg = cfg;
  no_ema_cfg.set_from_string("train.ema=0");
  auto live = create_model(no_ema_cfg, DataShape{1, 28, 0});
  Checkpoint::read(path).restore(*live, true);
  EXPECT_FALSE(torch::equal(sampler_of(*live).sample({z, {}}), with_ema));
}
