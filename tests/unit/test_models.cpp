// Models: shapes at every supported size, the exact DCGAN-28 layout of the
// reference, one training step (both nets change, the frozen one stays
// frozen), and checkpoint round trips.
#include <gtest/gtest.h>

#include <filesystem>

#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/models/capabilities.h"
#include "duel/models/dcgan.h"
#include "duel/models/model.h"
#include "test_util.h"

using namespace duel;
using namespace duel::test;

namespace {
Config tiny_config(const std::string& model) {
  Config c;
  c.set_from_string("model.name=" + model);
  c.set_from_string("model.latent_dim=8");
  c.set_from_string("model.g_width=8");
  c.set_from_string("model.d_width=8");
  c.set_from_string("model.mlp_hidden=16");
  return c;
}
}  // namespace

class ModelShapes : public ::testing::TestWithParam<std::tuple<std::string, int64_t, int64_t>> {};

TEST_P(ModelShapes, GenerateAndDiscriminate) {
  auto [name, size, channels] = GetParam();
  torch::manual_seed(0);
  auto model = create_model(tiny_config(name), DataShape{channels, size, 0});
  auto z = sampler_of(*model).make_noise(3, torch::kCPU);
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({3, 8}));
  auto x = sampler_of(*model).sample({z, {}});
  EXPECT_EQ(x.sizes(), torch::IntArrayRef({3, channels, size, size}));
  EXPECT_LE(x.abs().max().item<float>(), 1.0f);
  // One step on a toy batch: both nets change.
  auto nets = model->nets();
  auto g0 = snapshot(*nets[0].second), d0 = snapshot(*nets[1].second);
  Batch b{torch::rand({4, channels, size, size}) * 2 - 1, {}, 0};
  StepContext ctx;
  auto scalars = model->step(b, ctx);
  ASSERT_EQ(scalars.size(), 4u);
  EXPECT_EQ(scalars[0].first, "loss_d");
  EXPECT_TRUE(std::isfinite(scalars[0].second.item<double>()));
  EXPECT_FALSE(same(g0, snapshot(*nets[0].second)));
  EXPECT_FALSE(same(d0, snapshot(*nets[1].second)));
}

INSTANTIATE_TEST_SUITE_P(AllSizes, ModelShapes,
                         ::testing::Values(std::make_tuple("dcgan", 28, 1), std::make_tuple("dcgan", 32, 3),
                                           std::make_tuple("dcgan", 64, 3), std::make_tuple("dcgan", 64, 1),
                                           std::make_tuple("dcgan", 16, 1), std::make_tuple("mlp", 28, 1),
                                           std::make_tuple("mlp", 32, 3)));

TEST(Dcgan, Reference28Layout) {
  // The reference's nets: G 100->256@4->128@7->64@14->1@28, D 1->64->128->256->1, no biases.
  DcganGenerator g(DcganOptions(100, 1, 28));
  DcganDiscriminator d(DcganOptions(100, 1, 28));
  int64_t gp = 0, dp = 0;
  for (auto& p : g->parameters()) gp += p.numel();
  for (auto& p : d->parameters()) dp += p.numel();
  // ConvT weights 100*256*16 + 256*128*9 + 128*64*16 + 64*1*16, BN 2*(256+128+64)
  EXPECT_EQ(gp, 100 * 256 * 16 + 256 * 128 * 9 + 128 * 64 * 16 + 64 * 16 + 2 * (256 + 128 + 64));
  EXPECT_EQ(dp, 64 * 16 + 64 * 128 * 16 + 128 * 256 * 16 + 256 * 9 + 2 * (128 + 256));
  auto h = g->forward(torch::randn({2, 100}));
  EXPECT_EQ(h.sizes(), torch::IntArrayRef({2, 1, 28, 28}));
  EXPECT_EQ(d->forward(h).sizes(), torch::IntArrayRef({2, 1}));
}

TEST(Dcgan, RejectsUnsupportedSizes) {
  EXPECT_THROW(create_model(tiny_config("dcgan"), DataShape{1, 30, 0}), Error);
  EXPECT_THROW(create_model(tiny_config("nosuchgan"), DataShape{1, 28, 0}), Error);
}

TEST(TwoPlayer, GeneratorStepLeavesDiscriminatorUntouched) {
  // With d_lr = 0 the D update is a no-op, so any change in D would come from the G step.
  auto cfg = tiny_config("dcgan");
  cfg.set_from_string("optim.d_lr=0");
  torch::manual_seed(1);
  auto model = create_model(cfg, DataShape{1, 28, 0});
  auto nets = model->nets();
  auto d0 = snapshot(*nets[1].second);
  StepContext ctx;
  bool saw_g_grads = false;
  std::vector<torch::Tensor> d_grads;
  ctx.after_backward = [&](const std::string& net) {
    if (net == "D")
      for (auto& p : nets[1].second->parameters()) d_grads.push_back(p.grad().clone());
    if (net == "G") {
      // The generator's backward went through D without adding to D's gradients.
      auto params = nets[1].second->parameters();
      ASSERT_EQ(params.size(), d_grads.size());
      for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i].grad(), d_grads[i]));
      for (auto& p : nets[0].second->parameters()) EXPECT_TRUE(p.grad().defined());
      saw_g_grads = true;
    }
  };
  model->step(Batch{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0}, ctx);
  EXPECT_TRUE(saw_g_grads);
  // BatchNorm running stats change in D's forward; its weights must not.
  auto d1 = snapshot(*nets[1].second);
  EXPECT_TRUE(same(d0, d1));
}

TEST(Checkpoint, RoundTripRestoresEverything) {
  torch::manual_seed(2);
  auto cfg = tiny_config("dcgan");
  auto model = create_model(cfg, DataShape{1, 28, 0});
  StepContext ctx;
  model->step(Batch{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0}, ctx);
  TrainState st;
  st.step = 7;
  st.loader = {1, 3};
  st.shape = DataShape{1, 28, 0};
  st.fixed_noise = torch::randn({5, 8});
  st.rng_state = get_rng_state();
  auto path = (std::filesystem::temp_directory_path() / "duel_test.duel").string();
  Checkpoint::write(path, *model, cfg, st);
  auto ck = Checkpoint::read(path);
  EXPECT_EQ(ck.state().step, 7);
  EXPECT_EQ(ck.state().loader.epoch, 1);
  EXPECT_EQ(ck.state().loader.batch, 3);
  EXPECT_TRUE(torch::equal(ck.state().fixed_noise, st.fixed_noise));
  EXPECT_EQ(ck.model_name(), "dcgan");
  torch::manual_seed(99);
  auto other = create_model(cfg, DataShape{1, 28, 0});
  ck.restore(*other, true);
  auto a = model->nets(), b = other->nets();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(same(snapshot(*a[i].second), snapshot(*b[i].second)));
    auto ba = a[i].second->buffers(), bb = b[i].second->buffers();
    for (size_t j = 0; j < ba.size(); ++j) EXPECT_TRUE(torch::equal(ba[j], bb[j]));
  }
  // Same optimizer state: one more identical step gives identical weights.
  torch::manual_seed(5);
  Batch batch{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0};
  torch::manual_seed(6);
  model->step(batch, ctx);
  torch::manual_seed(6);
  other->step(batch, ctx);
  EXPECT_TRUE(same(snapshot(*model->nets()[0].second), snapshot(*other->nets()[0].second)));
}

TEST(Checkpoint, RejectsDamagedFiles) {
  auto cfg = tiny_config("mlp");
  auto model = create_model(cfg, DataShape{1, 28, 0});
  TrainState st;
  st.fixed_noise = torch::randn({2, 8});
  st.rng_state = get_rng_state();
  st.shape = DataShape{1, 28, 0};
  auto path = (std::filesystem::temp_directory_path() / "duel_dmg.duel").string();
  Checkpoint::write(path, *model, cfg, st);
  auto size = std::filesystem::file_size(path);
  auto expect_error = [&](const std::string& what) {
    try {
      Checkpoint::read(path);
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  std::filesystem::resize_file(path, size - 100);
  expect_error("truncated");
  Checkpoint::write(path, *model, cfg, st);
  {
    FILE* f = std::fopen(path.c_str(), "r+b");
    std::fseek(f, long(size / 2), SEEK_SET);
    int c = std::fgetc(f);
    std::fseek(f, long(size / 2), SEEK_SET);
    std::fputc(c ^ 0xff, f);
    std::fclose(f);
  }
  expect_error("checksum");
  {
    FILE* f = std::fopen(path.c_str(), "r+b");
    std::fputs("NOTADUEL", f);
    std::fclose(f);
  }
  expect_error("not a duel checkpoint");
}
