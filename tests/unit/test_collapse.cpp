// CollapseProbe on real Fashion-MNIST images through the committed feature
// network: real images read as diverse and class-balanced, a collapsed set
// (one image repeated, or one class) raises the warning; the probe leaves the
// global RNG as it found it.
#include <gtest/gtest.h>

#include <cstdlib>

#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/rng.h"
#include "duel/data/dataset.h"
#include "duel/train/collapse.h"

using namespace duel;

namespace {
ImageSet fashion_test(int64_t limit) {
  setenv("DUEL_FEATURES_DIR", DUEL_SOURCE_DIR "/features", /*overwrite=*/0);
  Config cfg;
  cfg.set_from_string("data.split=test");
  cfg.set_from_string("data.limit=" + std::to_string(limit));
  return open_dataset(cfg);
}
torch::Tensor to_pm1(const torch::Tensor& u8) { return u8.to(torch::kFloat32) / 127.5 - 1; }
}  // namespace

TEST(CollapseProbe, RealImagesPassCollapsedOnesWarn) {
  auto data = fashion_test(2000);
  Config cfg;
  std::string why;
  const auto rng = get_rng_state();
  auto probe = CollapseProbe::create(cfg, data, &why);
  ASSERT_TRUE(probe) << why;
  // 64 other real images: as diverse as the reference and all classes present.
  auto real = to_pm1(data.images.slice(0, 1000, 1064));
  auto r = probe->observe(real, 10);
  // Training draws what it would without the probe (a resume builds it after restoring the RNG).
  EXPECT_TRUE(torch::equal(get_rng_state(), rng));
  EXPECT_GT(r.feature_diversity, 0.8);
  EXPECT_LT(r.feature_diversity, 1.25);
  EXPECT_GT(r.class_entropy, 0.85);
  EXPECT_FALSE(r.warning.has_value());
  ASSERT_EQ(r.histogram.size(), 10u);
  // One image 64 times: no diversity, one class.
  auto same = real.slice(0, 0, 1).repeat({64, 1, 1, 1});
  // Before 10 x monitor.window steps (the pixel check's warm-up) a reading warns of nothing.
  EXPECT_FALSE(probe->observe(same, 999).warning.has_value());
  auto c = probe->observe(same, 1000);
  EXPECT_LT(c.feature_diversity, 1e-3);
  EXPECT_NEAR(c.top_fraction, 1.0, 1e-12);
  EXPECT_NEAR(c.class_entropy, 0.0, 1e-12);
  ASSERT_TRUE(c.warning.has_value());
  EXPECT_NE(c.warning->find("feature diversity"), std::string::npos);
  EXPECT_NE(c.warning->find("is 100% of the samples"), std::string::npos) << *c.warning;
  EXPECT_EQ(c.warning->find('\n'), c.warning->find("\nhint: "));  // one line, then the hint
  // Sixty-four different images of one class: varied pixels, but one class.
  auto cls = data.labels.slice(0, 0, 2000);
  auto idx = torch::nonzero(cls == 7).reshape({-1}).slice(0, 0, 64);
  auto one_class = probe->observe(to_pm1(data.images.index_select(0, idx)), 1030);
  EXPECT_GT(one_class.top_fraction, 0.9);
  EXPECT_EQ(one_class.top_class, 7);
  ASSERT_TRUE(one_class.warning.has_value());
}

TEST(CollapseProbe, OffOrWithoutANetworkThereIsNoProbe) {
  auto data = fashion_test(100);
  Config off;
  off.set_from_string("monitor.collapse_probe=false");
  std::string why;
  EXPECT_FALSE(CollapseProbe::create(off, data, &why));
  Config cifar;
  cifar.set_from_string("data.dataset=cifar10");  // no committed network for it
  EXPECT_FALSE(CollapseProbe::create(cifar, data, &why));
  EXPECT_FALSE(why.empty());
}

TEST(CollapseProbe, Helpers) {
  EXPECT_NEAR(entropy({0.5, 0.5}), std::log(2.0), 1e-12);
  EXPECT_NEAR(entropy({1.0, 0.0}), 0.0, 1e-12);
  auto x = torch::tensor({{0.0, 0.0}, {3.0, 4.0}}, torch::kFloat64);
  EXPECT_NEAR(mean_pairwise_distance(x), 5.0, 1e-12);
}
