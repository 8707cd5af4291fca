// Losses against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>

#include "duel/losses/adversarial.h"

using namespace duel;

TEST(Losses, BceWithLogitsMatchesHandComputed) {
  // l = 0: BCE = log 2 for any target. l = 2, t = 1: -log(sigmoid(2)) = log(1 + e^-2).
  auto l = torch::tensor({0.0, 2.0, -3.0});
  auto t = torch::tensor({0.3, 1.0, 0.0});
  double want = (std::log(2.0) + std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-3.0))) / 3.0;
  EXPECT_NEAR(bce_with_logits(l, t).item<double>(), want, 1e-6);
}

TEST(Losses, StableForHugeLogits) {
  auto l = torch::tensor({1000.0f, -1000.0f});
  auto v = bce_with_logits(l, torch::tensor({0.0f, 1.0f})).item<double>();
  EXPECT_NEAR(v, 1000.0, 1e-3);
  EXPECT_TRUE(std::isfinite(generator_loss(GanLoss::Minimax, l).item<double>()));
}

TEST(Losses, GeneratorObjectives) {
  auto l = torch::tensor({1.0});
  // minimax: log(1 - sigmoid(1)) = -log(1 + e)
  EXPECT_NEAR(generator_loss(GanLoss::Minimax, l).item<double>(), -std::log1p(std::exp(1.0)), 1e-6);
  // nonsaturating: -log sigmoid(1) = log(1 + e^-1)
  EXPECT_NEAR(generator_loss(GanLoss::NonSaturating, l).item<double>(), std::log1p(std::exp(-1.0)), 1e-6);
}

TEST(Losses, DiscriminatorLoss) {
  auto real = torch::tensor({0.5}), fake = torch::tensor({-0.5});
  double want = std::log1p(std::exp(-0.5)) + std::log1p(std::exp(-0.5));
  EXPECT_NEAR(discriminator_loss(GanLoss::NonSaturating, real, torch::tensor({1.0}), fake).item<double>(), want, 1e-6);
}

TEST(Losses, WassersteinHingeLeastSquaresByHand) {
  auto r = torch::tensor({2.0, 0.5}), f = torch::tensor({-1.5, 0.25}), t = torch::tensor({1.0, 0.8});
  // wasserstein: mean f - mean r = -0.625 - 1.25
  EXPECT_NEAR(discriminator_loss(GanLoss::Wasserstein, r, t, f).item<double>(), -1.875, 1e-6);
  EXPECT_NEAR(generator_loss(GanLoss::Wasserstein, f).item<double>(), 0.625, 1e-6);
  // hinge: relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25; relu(1-1.5)=0, relu(1.25) -> 0.625
  EXPECT_NEAR(discriminator_loss(GanLoss::Hinge, r, t, f).item<double>(), 0.875, 1e-6);
  EXPECT_NEAR(generator_loss(GanLoss::Hinge, f).item<double>(), 0.625, 1e-6);
  // least squares: ((1)^2 + (-0.3)^2)/2 = 0.545; (2.25 + 0.0625)/2 = 1.15625; total/2
  EXPECT_NEAR(discriminator_loss(GanLoss::LeastSquares, r, t, f).item<double>(), 0.5 * (0.545 + 1.15625), 1e-6);
  // ((-2.5)^2 + (-0.75)^2)/2 / 2
  EXPECT_NEAR(generator_loss(GanLoss::LeastSquares, f).item<double>(), 0.5 * (6.25 + 0.5625) / 2, 1e-6);
}

TEST(Losses, ParseNamesRoundTripAndRejectUnknown) {
  for (const char* n : {"minimax", "nonsaturating", "wasserstein", "hinge", "least-squares"})
    EXPECT_STREQ(loss_name(parse_loss(n)), n);
  EXPECT_THROW(parse_loss("lsgan"), std::exception);
}

TEST(Losses, RealTargetsSmoothingAndFlipStatistics) {
  torch::manual_seed(0);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  auto u = real_targets(100000, 0.2, true, 0.0, opts);
  EXPECT_GE(u.min().item<double>(), 0.8);
  EXPECT_LE(u.max().item<double>(), 1.0);
  EXPECT_NEAR(u.mean().item<double>(), 0.9, 0.002);
  auto f = real_targets(100, 0.1, false, 0.0, opts);
  EXPECT_NEAR(f.min().item<double>(), 0.9, 1e-12);
  EXPECT_NEAR(f.max().item<double>(), 0.9, 1e-12);
  auto flipped = real_targets(100000, 0.0, true, 0.1, opts);
  double frac = (flipped < 0.5).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(frac, 0.1, 0.005);  // ~5 sigma
}
