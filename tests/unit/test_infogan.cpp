// infogan: shapes at 28/32/64 px, one step changes G and D (Q included)
// while the generator update leaves D and Q alone, the mutual-information
// terms against hand-computed values, traversals (shape, what varies, what
// stays fixed), and a toy run in which Q learns to recover the codes.
#include <gtest/gtest.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/capabilities.h"
#include "duel/models/infogan.h"
#include "duel/models/model.h"
#include "test_util.h"

using namespace duel;
using namespace duel::test;
using duel::test::same;
using duel::test::scalar;
using duel::test::snapshot;

namespace {
Config info_config(const std::vector<std::string>& sets = {}) {
  Config c;
  for (const char* s : {"model.name=infogan", "model.latent_dim=8", "model.g_width=8", "model.d_width=8",
                        "model.info_q_hidden=16"})
    c.set_from_string(s);
  for (auto& s : sets) c.set_from_string(s);
  apply_model_defaults(c);
  return c;
}
Batch toy_batch(int64_t n, int64_t c, int64_t size) { return Batch{torch::rand({n, c, size, size}) * 2 - 1, {}, 0}; }
}  // namespace

class InfoganShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(InfoganShapes, NoiseSamplesAndOneStep) {
  auto [size, channels] = GetParam();
  torch::manual_seed(0);
  auto model = create_model(info_config(), DataShape{channels, size, 0});
  EXPECT_EQ(model->name(), "infogan");
  EXPECT_EQ(codes_of(*model).latent_codes(), (std::vector<std::string>{"c1", "c2", "c3"}));
  // [z 8 | one-hot 10 | 2 continuous]
  auto z = sampler_of(*model).make_noise(5, torch::kCPU);
  ASSERT_EQ(z.sizes(), torch::IntArrayRef({5, 20}));
  auto onehot = z.narrow(1, 8, 10);
  EXPECT_TRUE(torch::equal(onehot.sum(1), torch::ones({5})));
  EXPECT_TRUE(torch::equal(onehot * (1 - onehot), torch::zeros({5, 10})));
  EXPECT_LE(z.narrow(1, 18, 2).abs().max().item<float>(), 1.0f);
  auto x = sampler_of(*model).sample({z, {}});
  EXPECT_EQ(x.sizes(), torch::IntArrayRef({5, channels, size, size}));
  EXPECT_LE(x.abs().max().item<float>(), 1.0f);

  auto nets = model->nets();
  ASSERT_EQ(nets.size(), 2u);
  auto* d = nets[1].second->as<InfoganDiscriminator>();
  ASSERT_NE(d, nullptr);  // Q lives inside the net saved as "D"
  EXPECT_EQ(d->q(d->features(x)).sizes(), torch::IntArrayRef({5, 12}));
  auto g0 = snapshot(*nets[0].second), d0 = snapshot(*nets[1].second), q0 = snapshot(*d->q_head);
  StepContext ctx;
  auto s = model->step(toy_batch(4, channels, size), ctx);
  for (const char* k : {"loss_d", "loss_g", "info_loss", "info_cat", "info_cat_acc", "info_cont", "info_cont_mse"})
    EXPECT_TRUE(std::isfinite(scalar(s, k))) << k;
  // info_loss = cat + cont (cont_weight 1); a fresh Q is near chance: CE ~ log 10.
  EXPECT_NEAR(scalar(s, "info_loss"), scalar(s, "info_cat") + scalar(s, "info_cont"), 1e-5);
  EXPECT_NEAR(scalar(s, "info_cat"), std::log(10.0), 0.5);
  EXPECT_FALSE(same(g0, snapshot(*nets[0].second)));
  EXPECT_FALSE(same(d0, snapshot(*nets[1].second)));
  EXPECT_FALSE(same(q0, snapshot(*d->q_head)));
}

INSTANTIATE_TEST_SUITE_P(Sizes, InfoganShapes,
                         ::testing::Values(std::make_tuple(28, 1), std::make_tuple(32, 3), std::make_tuple(64, 3)));

TEST(Infogan, GeneratorUpdateLeavesDAndQFrozen) {
  // With d_lr = 0 the D update changes no weight, so a change would come from the G update.
  torch::manual_seed(1);
  auto model = create_model(info_config({"optim.d_lr=0"}), DataShape{1, 28, 0});
  auto nets = model->nets();
  auto* d = nets[1].second->as<InfoganDiscriminator>();
  auto d0 = snapshot(*nets[1].second);
  std::vector<torch::Tensor> d_grads;
  bool saw_g = false;
  StepContext ctx;
  ctx.after_backward = [&](const std::string& net) {
    if (net == "D") {
      // The info loss reached Q and the trunk in the D update.
      for (auto& p : d->q_head->parameters()) {
        ASSERT_TRUE(p.grad().defined());
        EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0);
      }
      for (auto& p : nets[1].second->parameters()) d_grads.push_back(p.grad().clone());
    }
    if (net == "G") {
      // G's backward (adversarial + info loss) went through D and Q without touching their gradients.
      auto params = nets[1].second->parameters();
      ASSERT_EQ(params.size(), d_grads.size());
      for (size_t i = 0; i < params.size(); ++i) {
        EXPECT_TRUE(torch::equal(params[i].grad(), d_grads[i]));
        EXPECT_TRUE(params[i].requires_grad());  // unfrozen again after the backward
      }
      for (auto& p : nets[0].second->parameters()) EXPECT_TRUE(p.grad().defined());
      saw_g = true;
    }
  };
  model->step(toy_batch(4, 1, 28), ctx);
  EXPECT_TRUE(saw_g);
  EXPECT_TRUE(same(d0, snapshot(*nets[1].second)));  // BatchNorm running stats may move; weights may not
}

TEST(Infogan, TrunkGradOffLeavesTheTrunkToTheAdversarialLoss) {
  // D's trunk gradients in the D update, with and without the info loss: equal
  // when info_trunk_grad is off (only Q learns from it), different when on.
  auto trunk_grads = [](const std::string& lambda, const std::string& trunk_grad) {
    torch::manual_seed(6);
    auto model = create_model(info_config({"model.info_lambda=" + lambda, "model.info_trunk_grad=" + trunk_grad}),
                              DataShape{1, 28, 0});
    auto nets = model->nets();
    auto* d = nets[1].second->as<InfoganDiscriminator>();
    std::vector<torch::Tensor> grads;
    StepContext ctx;
    ctx.after_backward = [&](const std::string& net) {
      if (net == "D")
        for (auto& p : d->net->parameters()) grads.push_back(p.grad().clone());
    };
    model->step(toy_batch(4, 1, 28), ctx);
    return grads;
  };
  EXPECT_TRUE(same(trunk_grads("0", "false"), trunk_grads("1", "false")));
  EXPECT_FALSE(same(trunk_grads("0", "true"), trunk_grads("1", "true")));
}

TEST(Infogan, InfoGradientReachesTheGenerator) {
  // With the adversarial loss out of the way (lambda large), G's gradient is
  // mostly the info term: it must be non-zero on the code inputs' weights.
  torch::manual_seed(2);
  auto model = create_model(info_config({"model.info_lambda=1000"}), DataShape{1, 28, 0});
  auto nets = model->nets();
  double first_layer_grad = 0;
  StepContext ctx;
  ctx.after_backward = [&](const std::string& net) {
    if (net != "G") return;
    auto w = nets[0].second->parameters()[0];        // first ConvT weight [in, out, 4, 4]
    first_layer_grad = w.grad().narrow(0, 8, 12).abs().sum().item<double>();  // rows of the code inputs
  };
  model->step(toy_batch(4, 1, 28), ctx);
  EXPECT_GT(first_layer_grad, 0.0);
}

TEST(Infogan, InfoTermsMatchHandComputedValues) {
  // One categorical code of 3 values, one continuous code; 2 samples.
  auto o = InfoCodesOptions().cat_codes(1).cat_dim(3).cont_codes(1);
  auto q = torch::tensor({{2.0f, 0.0f, 0.0f, 0.5f}, {0.0f, 1.0f, 3.0f, -0.5f}});
  auto codes = torch::tensor({{1.0f, 0.0f, 0.0f, 0.25f}, {0.0f, 1.0f, 0.0f, 0.0f}});
  auto t = info_terms(q, codes, o, 0.5);
  // CE: sample 0 picks 0 of logits (2,0,0), sample 1 picks 1 of (0,1,3).
  const double ce0 = -2.0 + std::log(std::exp(2.0) + 2.0), ce1 = -1.0 + std::log(1.0 + std::exp(1.0) + std::exp(3.0));
  EXPECT_NEAR(t.cat.item<double>(), (ce0 + ce1) / 2, 1e-5);
  EXPECT_NEAR(t.cat_acc.item<double>(), 0.5, 1e-6);  // sample 1's argmax is 2
  // Fixed std: 0.5 (c - mu)^2 -> (0.5 * 0.0625 + 0.5 * 0.25) / 2
  EXPECT_NEAR(t.cont.item<double>(), (0.5 * 0.0625 + 0.5 * 0.25) / 2, 1e-6);
  EXPECT_NEAR(t.cont_mse.item<double>(), (0.0625 + 0.25) / 2, 1e-6);
  EXPECT_NEAR(t.loss.item<double>(), t.cat.item<double>() + 0.5 * t.cont.item<double>(), 1e-6);
  // Learned std: Q's extra column is log sigma.
  auto ol = InfoCodesOptions().cat_codes(0).cont_codes(1).learned_std(true);
  EXPECT_EQ(ol.q_width(), 2);
  auto tl = info_terms(torch::tensor({{0.5f, std::log(0.5f)}}), torch::tensor({{1.0f}}), ol);
  EXPECT_FALSE(tl.cat.defined());
  EXPECT_NEAR(tl.cont.item<double>(), 0.5 * 1.0 + std::log(0.5), 1e-5);  // 0.5 (0.5 / 0.5)^2 + log 0.5
  // Two categorical codes: the sum of each code's mean cross-entropy.
  auto o2 = InfoCodesOptions().cat_codes(2).cat_dim(2).cont_codes(0);
  auto t2 = info_terms(torch::zeros({1, 4}), torch::tensor({{1.0f, 0.0f, 0.0f, 1.0f}}), o2);
  EXPECT_NEAR(t2.cat.item<double>(), 2 * std::log(2.0), 1e-6);
}

TEST(Infogan, TraversalSweepsOneCode) {
  torch::manual_seed(3);
  auto model = create_model(info_config(), DataShape{1, 28, 0});
  StepContext ctx;
  model->step(toy_batch(8, 1, 28), ctx);  // BatchNorm running stats away from their start
  // Categorical c1: one column per value, at most 10.
  torch::manual_seed(7);
  auto grid = codes_of(*model).traverse("c1", 3, 10, torch::kCPU);
  ASSERT_EQ(grid.sizes(), torch::IntArrayRef({30, 1, 28, 28}));
  EXPECT_EQ(codes_of(*model).traverse("c1", 2, 25, torch::kCPU).size(0), 20);  // clamped to the code's 10 values
  EXPECT_EQ(codes_of(*model).traverse("c1", 2, 4, torch::kCPU).size(0), 8);
  // The grid is the generator's output for the inputs a row holds fixed but for the code.
  torch::manual_seed(7);
  auto base = sampler_of(*model).make_noise(3, torch::kCPU);  // the same draw traverse() made
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t j = 0; j < 10; ++j) {
      auto in = base[r].clone();
      in.narrow(0, 8, 10).zero_();
      in[8 + j] = 1.0;
      auto want = sampler_of(*model).sample({in.unsqueeze(0), {}})[0];
      EXPECT_TRUE(torch::allclose(grid[r * 10 + j], want, 1e-5, 1e-6)) << "row " << r << " value " << j;
    }
  // Changing only the code changes the image (the untrained nets' weights are
  // small, so the change is too); the same seed gives the same grid.
  for (int64_t r = 0; r < 3; ++r) EXPECT_GT((grid[r * 10] - grid[r * 10 + 5]).abs().max().item<float>(), 1e-6);
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(codes_of(*model).traverse("c1", 3, 10, torch::kCPU), grid));

  // Continuous c3: linspace(-2, 2, steps) in its column, everything else fixed.
  torch::manual_seed(8);
  auto cont = codes_of(*model).traverse("c3", 2, 5, torch::kCPU);
  ASSERT_EQ(cont.sizes(), torch::IntArrayRef({10, 1, 28, 28}));
  torch::manual_seed(8);
  auto base2 = sampler_of(*model).make_noise(2, torch::kCPU);
  const float values[] = {-2.0f, -1.0f, 0.0f, 1.0f, 2.0f};
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t j = 0; j < 5; ++j) {
      auto in = base2[r].clone();
      in[19] = values[j];
      EXPECT_TRUE(torch::allclose(cont[r * 5 + j], sampler_of(*model).sample({in.unsqueeze(0), {}})[0], 1e-5, 1e-6));
    }
  EXPECT_GT((cont[0] - cont[4]).abs().max().item<float>(), 1e-6);
}

TEST(Infogan, UnknownCodeAndEmptyCodesAreUserErrors) {
  auto model = create_model(info_config(), DataShape{1, 28, 0});
  try {
    codes_of(*model).traverse("nope", 2, 5, torch::kCPU);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'nope'"), std::string::npos);
    EXPECT_NE(what.find("c1 (categorical, 10 values), c2 (continuous), c3 (continuous)"), std::string::npos) << what;
  }
  EXPECT_THROW(create_model(info_config({"model.info_cat_codes=0", "model.info_cont_codes=0"}), DataShape{1, 28, 0}),
               Error);
  EXPECT_THROW(sampler_of(*model).sample({torch::randn({2, 8}), {}}), Error);  // noise without the code columns
  // Other code layouts name their codes in order.
  auto m2 = create_model(info_config({"model.info_cat_codes=2", "model.info_cat_dim=4", "model.info_cont_codes=1"}),
                         DataShape{1, 28, 0});
  EXPECT_EQ(codes_of(*m2).latent_codes(), (std::vector<std::string>{"c1", "c2", "c3"}));
  EXPECT_EQ(sampler_of(*m2).make_noise(2, torch::kCPU).size(1), 8 + 8 + 1);
  EXPECT_EQ(codes_of(*m2).traverse("c2", 1, 10, torch::kCPU).size(0), 4);
}

TEST(Infogan, StabilisersAndExtraDiscriminatorSteps) {
  // The hooks read the features of the fakes even when a gradient penalty and
  // extra critic steps call the discriminator in between.
  torch::manual_seed(4);
  auto model = create_model(info_config({"train.loss=wasserstein", "train.gp_weight=10", "train.d_steps=2",
                                         "model.d_norm=layer", "model.info_cont_std=learned", "train.r1_weight=1",
                                         "train.diffaug=translation"}),
                            DataShape{1, 28, 0});
  StepContext ctx;
  ctx.next_batch = [] { return toy_batch(4, 1, 28); };
  auto s = model->step(toy_batch(4, 1, 28), ctx);
  for (const char* k : {"loss_d", "loss_g", "gp", "r1", "info_loss", "info_cont"})
    EXPECT_TRUE(std::isfinite(scalar(s, k))) << k;
}

TEST(Infogan, QLearnsToRecoverTheCodes) {
  // A toy run of 100 steps on one batch: the info loss falls and Q recovers the
  // categorical code far above chance (0.1). lambda = 10 lets the tiny nets
  // (width 8) learn it within the test's time; with lambda = 0 Q gets no
  // gradient and stays at chance.
  auto run = [](const std::string& lambda, std::vector<double>& loss, std::vector<double>& acc) {
    torch::manual_seed(5);
    auto model = create_model(info_config({"optim.g_lr=1e-3", "optim.d_lr=1e-3", "model.info_lambda=" + lambda}),
                              DataShape{1, 28, 0});
    auto data = torch::rand({16, 1, 28, 28}) * 2 - 1;
    StepContext ctx;
    for (int step = 0; step < 100; ++step) {
      auto s = model->step(Batch{data, {}, 0}, ctx);
      loss.push_back(scalar(s, "info_loss"));
      acc.push_back(scalar(s, "info_cat_acc"));
    }
  };
  auto mean = [](const std::vector<double>& v, size_t from, size_t to) {
    double m = 0;
    for (size_t i = from; i < to; ++i) m += v[i];
    return m / double(to - from);
  };
  std::vector<double> loss, acc, loss0, acc0;
  run("10", loss, acc);
  EXPECT_LT(mean(loss, 90, 100), 0.5 * mean(loss, 0, 5));
  EXPECT_GT(mean(acc, 90, 100), 0.5);
  run("0", loss0, acc0);
  EXPECT_LT(mean(acc0, 90, 100), 0.3);
  EXPECT_GT(mean(loss0, 90, 100), 0.8 * mean(loss0, 0, 5));
}
