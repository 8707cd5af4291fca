// The training monitor's warnings and the sample grid layout.
#include <gtest/gtest.h>

#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/train/monitor.h"

using namespace duel;

TEST(Monitor, WarnsWhenDiscriminatorWinsOutright) {
  TrainingMonitor m(10);
  std::vector<std::string> all;
  for (int s = 1; s <= 30; ++s) {
    auto w = m.observe({s, {{"d_real", 0.99}, {"d_fake", 0.01}, {"loss_d", 0.02}}});
    all.insert(all.end(), w.begin(), w.end());
  }
  ASSERT_FALSE(all.empty());
  EXPECT_NE(all[0].find("discriminator is winning"), std::string::npos);
  EXPECT_LE(all.size(), 3u);  // throttled to once per window
}

TEST(Monitor, QuietOnHealthyTraining) {
  TrainingMonitor m(10);
  for (int s = 1; s <= 50; ++s) EXPECT_TRUE(m.observe({s, {{"d_real", 0.7}, {"d_fake", 0.3}}}).empty());
  EXPECT_FALSE(m.observe_diversity(500, 0.8).has_value());
  EXPECT_TRUE(m.observe_diversity(500, 0.1).has_value());
  EXPECT_FALSE(m.observe_diversity(20, 0.01).has_value());  // too early to judge
}

TEST(Monitor, DetectsNonFinite) {
  EXPECT_FALSE(TrainingMonitor::non_finite({1, {{"a", 1.0}}}).has_value());
  auto bad = TrainingMonitor::non_finite({1, {{"loss_g", std::nan("")}}});
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->find("loss_g"), std::string::npos);
}

TEST(Grid, LayoutAndValues) {
  auto imgs = torch::full({5, 1, 3, 4}, 1.0f);  // white
  imgs[4].fill_(-1.0f);                          // black
  auto g = make_grid(imgs, 3, 2);
  // 3 per row -> 2 rows: height 2*(3+2)+2 = 12, width 3*(4+2)+2 = 20
  EXPECT_EQ(g.sizes(), torch::IntArrayRef({1, 12, 20}));
  EXPECT_EQ(g[0][2][2].item<int>(), 255);  // first image
  EXPECT_EQ(g[0][0][0].item<int>(), 0);    // padding
  EXPECT_EQ(g[0][7][8].item<int>(), 0);    // fifth image (black)
  EXPECT_EQ(g[0][7][2].item<int>(), 255);  // fourth image
}

TEST(Grid, EnlargeSmallByAWholeFactor) {
  auto imgs = torch::arange(2 * 3 * 28 * 20, torch::kFloat32).reshape({2, 3, 28, 20});
  auto big = enlarge_small(imgs, 64);  // 64 / 28 -> factor 2
  EXPECT_EQ(big.sizes(), torch::IntArrayRef({2, 3, 56, 40}));
  EXPECT_EQ(big[1][2][55][39].item<float>(), imgs[1][2][27][19].item<float>());
  EXPECT_EQ(big[0][1][3][2].item<float>(), imgs[0][1][1][1].item<float>());
  EXPECT_EQ(enlarge_small(imgs, 100).size(2), 84);     // factor 3
  EXPECT_TRUE(enlarge_small(imgs, 40).equal(imgs));    // 40 / 28 -> 1: unchanged
  EXPECT_THROW(enlarge_small(imgs[0], 64), duel::Error);
}
