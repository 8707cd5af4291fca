// The memorisation check and the class balance against known answers: a
// hand-computed case of nearest neighbours, a "generator" whose samples are
// training images (flagged, share 1), one that draws fresh images from the
// data's distribution (share about 0.01, not flagged), the chunked search
// against the one-chunk search, a hand-computed class histogram, and errors.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "duel/core/error.h"
#include "duel/metrics/class_balance.h"
#include "duel/metrics/memorisation.h"

using namespace duel;

namespace {

torch::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto g = at::detail::createCPUGenerator(seed);
  return at::normal(0.0, 1.0, shape, g, torch::TensorOptions(torch::kFloat32));
}

torch::Tensor points(std::vector<float> xy) { return torch::tensor(xy).reshape({-1, 2}); }

}  // namespace

TEST(Memorisation, HandComputedNeighboursAndFigures) {
  const auto train = points({0, 0, 3, 0, 0, 4});
  const auto samples = points({1, 0, 0, 3.5, 3, 4});  // nearest: (0,0) at 1, (0,4) at 0.5, (0,4) at 3 (not (3,0) at 4)
  const auto held = points({0, 1, 0, 2.5, 3, 2});     // nearest: (0,0) at 1, (0,4) at 1.5, (3,0) at 2
  for (int64_t chunk : {int64_t(1), int64_t(1) << 25}) {  // one query per chunk, and all at once
    const Nearest nn = nearest_neighbours(samples, train, chunk);
    EXPECT_EQ(nn.index[0].item<int64_t>(), 0);
    EXPECT_EQ(nn.index[1].item<int64_t>(), 2);
    EXPECT_EQ(nn.index[2].item<int64_t>(), 2);
    EXPECT_DOUBLE_EQ(nn.distance[0].item<double>(), 1.0);
    EXPECT_DOUBLE_EQ(nn.distance[1].item<double>(), 0.5);
    EXPECT_DOUBLE_EQ(nn.distance[2].item<double>(), 3.0);
  }
  MemorisationOptions o;
  o.quantile = 0.5;  // threshold: the median of {1, 1.5, 2} = 1.5
  o.warn_share = 0.5;
  o.pairs = 2;
  const Memorisation m = memorisation(samples, held, train, o);
  EXPECT_DOUBLE_EQ(m.threshold, 1.5);
  EXPECT_DOUBLE_EQ(m.share, 2.0 / 3.0);  // 1 and 0.5 are below 1.5, 3 is not
  EXPECT_DOUBLE_EQ(m.held_out_share, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.median_sample, 1.0);
  EXPECT_DOUBLE_EQ(m.median_held_out, 1.5);
  EXPECT_TRUE(m.warn);
  EXPECT_EQ(m.samples, 3);
  EXPECT_EQ(m.held_out, 3);
  EXPECT_EQ(m.train, 3);
  ASSERT_EQ(m.closest.size(), 2u);  // closest first
  EXPECT_EQ(m.closest[0].sample, 1);
  EXPECT_EQ(m.closest[0].train, 2);
  EXPECT_DOUBLE_EQ(m.closest[0].distance, 0.5);
  EXPECT_EQ(m.closest[1].sample, 0);
  EXPECT_EQ(m.closest[1].train, 0);
  EXPECT_DOUBLE_EQ(m.closest[1].distance, 1.0);
}

TEST(Memorisation, CopiedTrainingImagesAreFlagged) {
  const auto train = randn({3000, 16}, 1), held = randn({2000, 16}, 2);
  const auto samples = train.slice(0, 500, 1500);  // the "generator" returns training images
  const Memorisation m = memorisation(samples, held, train);
  EXPECT_DOUBLE_EQ(m.share, 1.0);
  EXPECT_TRUE(m.warn);
  EXPECT_DOUBLE_EQ(m.median_sample, 0.0);
  EXPECT_DOUBLE_EQ(m.exact_share, 1.0);
  EXPECT_DOUBLE_EQ(m.held_out_exact_share, 0.0);
  EXPECT_GT(m.median_held_out, 1.0);
  ASSERT_EQ(m.closest.size(), 16u);
  for (const auto& p : m.closest) {
    EXPECT_EQ(p.train, p.sample + 500);  // each sample's neighbour is the image it copies
    EXPECT_DOUBLE_EQ(p.distance, 0.0);
  }
}

TEST(Memorisation, FreshDrawsGiveAboutOnePercent) {
  const auto train = randn({5000, 8}, 3), held = randn({4000, 8}, 4), samples = randn({4000, 8}, 5);
  const Memorisation m = memorisation(samples, held, train);
  EXPECT_NEAR(m.held_out_share, 0.01, 0.001);  // the quantile's own definition
  EXPECT_GT(m.share, 0.002);
  EXPECT_LT(m.share, 0.025);
  EXPECT_FALSE(m.warn);
  EXPECT_DOUBLE_EQ(m.exact_share, 0.0);
  EXPECT_NEAR(m.median_sample / m.median_held_out, 1.0, 0.05);
}

TEST(Memorisation, DuplicatesAcrossSplitsShowAsExactShares) {
  const auto train = randn({1000, 8}, 10);
  // 30 of 1000 held-out images are training images (3 % > the 1 % quantile): the threshold is 0.
  const auto held = torch::cat({train.slice(0, 0, 30), randn({970, 8}, 11)});
  const auto samples = torch::cat({train.slice(0, 100, 150), randn({450, 8}, 12)});  // 10 % copies
  const Memorisation m = memorisation(samples, held, train);
  EXPECT_DOUBLE_EQ(m.threshold, 0.0);
  EXPECT_DOUBLE_EQ(m.share, 0.0);  // nothing is below 0: the share is blind here
  EXPECT_DOUBLE_EQ(m.held_out_exact_share, 0.03);
  EXPECT_DOUBLE_EQ(m.exact_share, 0.1);
}

TEST(Memorisation, ChunkedSearchMatchesOneChunk) {
  const auto train = randn({700, 12}, 6), q = randn({300, 12}, 7);
  const Nearest a = nearest_neighbours(q, train, 1000), b = nearest_neighbours(q, train, int64_t(1) << 30);
  EXPECT_TRUE(torch::equal(a.index, b.index));
  // against the plain double computation
  const auto d = torch::cdist(q.to(torch::kFloat64), train.to(torch::kFloat64));
  EXPECT_TRUE(torch::equal(a.index, d.argmin(1)));
  EXPECT_TRUE(torch::allclose(a.distance, std::get<0>(d.min(1)), 1e-9, 1e-9));
}

TEST(Memorisation, RefusesBadInput) {
  const auto a = randn({10, 4}, 8), b = randn({10, 5}, 9);
  EXPECT_THROW(nearest_neighbours(a, b), Error);
  EXPECT_THROW(nearest_neighbours(a, torch::Tensor()), Error);
  auto nan = a.clone();
  nan[0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(nearest_neighbours(nan, a), Error);
  MemorisationOptions o;
  o.quantile = 1.0;
  EXPECT_THROW(memorisation(a, a, a, o), Error);
  o = {};
  o.warn_share = 0;
  EXPECT_THROW(memorisation(a, a, a, o), Error);
}

TEST(ClassBalance, HandComputedHistogram) {
  auto one_hot = [](std::vector<int64_t> cls) {
    return torch::one_hot(torch::tensor(cls), 3).to(torch::kFloat32) * 0.8f + 0.1f;
  };
  const ClassBalance b = class_balance(one_hot({0, 0, 1, 2}), one_hot({0, 1, 2, 2}));
  ASSERT_EQ(b.generated.size(), 3u);
  EXPECT_DOUBLE_EQ(b.generated[0], 0.5);
  EXPECT_DOUBLE_EQ(b.generated[1], 0.25);
  EXPECT_DOUBLE_EQ(b.generated[2], 0.25);
  EXPECT_DOUBLE_EQ(b.reference[0], 0.25);
  EXPECT_DOUBLE_EQ(b.reference[2], 0.5);
  EXPECT_DOUBLE_EQ(b.total_variation, 0.25);  // 0.5 * (0.25 + 0 + 0.25)
  EXPECT_DOUBLE_EQ(class_balance(one_hot({0, 1, 2}), one_hot({2, 0, 1})).total_variation, 0.0);
  EXPECT_DOUBLE_EQ(class_balance(one_hot({0, 0}), one_hot({1, 1})).total_variation, 1.0);
  EXPECT_THROW(class_balance(one_hot({0}), torch::ones({2, 4})), Error);
}
