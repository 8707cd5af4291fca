// Metric functions against closed forms and known cases: the Frechet distance
// of Gaussians, FID of a set with itself, KID's unbiasedness, IS bounds,
// precision/recall/density/coverage extremes, SWD, NPY bytes, the feature
// network's file and every error a user can trigger.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "duel/apps/eval_checkpoint.h"
#include "duel/apps/feature_training.h"
#include "duel/core/error.h"
#include "duel/io/npy.h"
#include "duel/metrics/evaluate.h"
#include "duel/metrics/metrics.h"
#include "duel/nn/feature_net.h"
#include "duel/train/run_folder.h"

using namespace duel;
namespace fs = std::filesystem;

namespace {

torch::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto g = at::detail::createCPUGenerator(seed);
  return at::normal(0.0, 1.0, shape, g, torch::TensorOptions(torch::kFloat64));
}

GaussianFit fit_of(std::vector<double> mean, std::vector<double> cov) {
  const int64_t d = int64_t(mean.size());
  GaussianFit g;
  g.mean = torch::tensor(mean, torch::kFloat64);
  g.cov = torch::tensor(cov, torch::kFloat64).reshape({d, d});
  g.count = 1000;
  return g;
}

// Runs f, expects duel::Error whose message contains `what` and which has a hint.
template <class F>
void expect_user_error(F f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no duel::Error (wanted '" << what << "')";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty()) << "no hint for: " << e.what();
  }
}

}  // namespace

TEST(Frechet, DiagonalGaussiansMatchClosedForm) {
  // d^2 = |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2 for diagonal covariances
  auto a = fit_of({0, 1, 2}, {4, 0, 0, 0, 1, 0, 0, 0, 9});
  auto b = fit_of({1, 1, 0}, {1, 0, 0, 0, 1, 0, 0, 0, 16});
  const double want = (1 + 0 + 4) + (1.0 + 0.0 + 1.0);
  EXPECT_NEAR(frechet_distance(a, b), want, 1e-10);
}

TEST(Frechet, NonCommutingCovariancesMatchClosedForm) {
  // 2x2: tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2))
  std::vector<double> s1 = {2.0, 0.5, 0.5, 1.0}, s2 = {1.0, -0.3, -0.3, 3.0};
  auto a = fit_of({0.5, -1.0}, s1);
  auto b = fit_of({-0.5, 2.0}, s2);
  const double tr12 = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
  const double det1 = s1[0] * s1[3] - s1[1] * s1[2], det2 = s2[0] * s2[3] - s2[1] * s2[2];
  const double want = (1.0 + 9.0) + (3.0 + 4.0) - 2.0 * std::sqrt(tr12 + 2.0 * std::sqrt(det1 * det2));
  EXPECT_NEAR(frechet_distance(a, b), want, 1e-10);
}

TEST(Frechet, SingularCovarianceIsHandled) {
  // rank-1 covariances: sqrt via clamped eigenvalues, still the closed form
  auto a = fit_of({0, 0}, {1, 1, 1, 1});
  auto b = fit_of({0, 0}, {4, 4, 4, 4});
  // both along (1,1)/sqrt2 with variances 2 and 8: (sqrt2 - sqrt8)^2 = 2
  EXPECT_NEAR(frechet_distance(a, b), 2.0, 1e-8);
}

TEST(Fid, SetWithItselfIsZero) {
  auto x = randn({400, 16}, 1);
  EXPECT_LT(fid(x, x), 1e-6);
  auto wide = randn({50, 128}, 2).to(torch::kFloat32);  // N < D: singular covariance
  EXPECT_LT(fid(wide, wide), 1e-6);
}

TEST(Fid, InvariantToSampleOrder) {
  auto x = randn({300, 8}, 3), y = randn({300, 8}, 4) * 1.3 + 0.2;
  auto perm = torch::randperm(300, at::detail::createCPUGenerator(5), torch::kInt64);
  const double a = fid(x, y), b = fid(x.index_select(0, perm), y.flip({0}));
  EXPECT_GT(a, 0.1);
  EXPECT_NEAR(a, b, 1e-9 * a);
}

TEST(Fid, ShiftedSetsScoreTheSquaredShift) {
  auto x = randn({200, 4}, 6);
  EXPECT_NEAR(fid(x, x + 3.0), 4 * 9.0, 1e-8);
}

TEST(Kid, MatchesNaiveUnbiasedEstimate) {
  auto x = randn({7, 3}, 7), y = randn({5, 3}, 8) + 0.5;
  auto k = [](const torch::Tensor& a, const torch::Tensor& b) {
    return std::pow(torch::dot(a, b).item<double>() / 3.0 + 1.0, 3);
  };
  double sxx = 0, syy = 0, sxy = 0;
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 7; ++j)
      if (i != j) sxx += k(x[i], x[j]);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      if (i != j) syy += k(y[i], y[j]);
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 5; ++j) sxy += k(x[i], y[j]);
  const double want = sxx / 42.0 + syy / 20.0 - 2.0 * sxy / 35.0;
  EXPECT_NEAR(mmd2_unbiased(x, y), want, 1e-10);
}

TEST(Kid, UnbiasedOnAKnownCase) {
  // 1-D, X ~ N(0, 1), Y ~ N(mu, 1), k = (xy + 1)^3:
  //   E k(x,x') = 4, E k(y,y') = (mu^3 + 3mu)^2 + 3(1 + mu^2)^2 + 3mu^2 + 1, E k(x,y) = 4 + 3mu^2.
  const double mu = 0.5;
  const double truth = 4.0 + std::pow(mu * mu * mu + 3 * mu, 2) + 3 * std::pow(1 + mu * mu, 2) + 3 * mu * mu + 1 -
                       2 * (4 + 3 * mu * mu);  // 3.578125
  // Small sets (m = 16), where the biased V-statistic would be off by about
  // (E k(x,x) + E k(y,y)) / m ~ 4, far beyond the tolerance below.
  const int draws = 20000, m = 16;
  auto xs = randn({draws, m, 1}, 11), ys = randn({draws, m, 1}, 12) + mu;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < draws; ++i) {
    const double v = mmd2_unbiased(xs[i], ys[i]);
    sum += v;
    sum2 += v * v;
  }
  const double mean = sum / draws, se = std::sqrt((sum2 / draws - mean * mean) / draws);
  EXPECT_LT(se, 0.1);
  EXPECT_NEAR(mean, truth, 4 * se) << "se " << se;
}

TEST(Kid, SameDistributionIsNearZeroAndSubsetsRepeat) {
  auto x = randn({600, 8}, 13), y = randn({600, 8}, 14);
  auto a = kid(x, y, {20, 200, 3}), b = kid(x, y, {20, 200, 3});
  EXPECT_EQ(a.mean, b.mean);
  EXPECT_LT(std::abs(a.mean), 0.05);
  EXPECT_GT(kid(x, y + 1.0, {20, 200, 3}).mean, 0.5);
}

TEST(InceptionScore, ConstantPredictionsScoreOne) {
  auto p = torch::full({100, 10}, 0.1, torch::kFloat32);
  auto s = inception_score(p, 10);
  EXPECT_NEAR(s.mean, 1.0, 1e-6);
  EXPECT_NEAR(s.std, 0.0, 1e-6);
  auto one_class = torch::zeros({100, 10});
  one_class.select(1, 3).fill_(1.0);
  EXPECT_NEAR(inception_score(one_class, 10).mean, 1.0, 1e-6);
}

TEST(InceptionScore, ConfidentUniformPredictionsScoreTheClassCount) {
  auto labels = torch::arange(1000, torch::kInt64).remainder(10);
  auto p = torch::one_hot(labels, 10).to(torch::kFloat32);
  auto s = inception_score(p, 10);
  EXPECT_NEAR(s.mean, 10.0, 1e-6);
  EXPECT_NEAR(s.std, 0.0, 1e-6);
}

TEST(Manifold, IdenticalSetsHaveFullPrecisionAndRecall) {
  auto x = randn({300, 6}, 15);
  auto m = precision_recall(x, x, 3);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.coverage, 1.0);
  EXPECT_GE(m.density, 1.0 / 3.0);  // each sample is at least in its own ball
}

TEST(Manifold, DisjointClustersScoreZero) {
  auto x = randn({200, 6}, 16), y = randn({200, 6}, 17) + 50.0;
  auto m = precision_recall(x, y, 3);
  EXPECT_EQ(m.precision, 0.0);
  EXPECT_EQ(m.recall, 0.0);
  EXPECT_EQ(m.density, 0.0);
  EXPECT_EQ(m.coverage, 0.0);
}

TEST(Manifold, SameDistributionScoresHigh) {
  auto x = randn({1500, 4}, 18), y = randn({1500, 4}, 19);
  auto m = precision_recall(x, y, 3);
  EXPECT_GT(m.precision, 0.6);
  EXPECT_GT(m.recall, 0.6);
  EXPECT_NEAR(m.density, 1.0, 0.2);
  // a generator that collapsed to a small region: precise, no recall
  auto c = precision_recall(x, y * 0.05, 3);
  EXPECT_GT(c.precision, 0.9);
  EXPECT_LT(c.recall, 0.1);
}

TEST(Manifold, KnnRadiiOnALine) {
  auto x = torch::tensor({0.0, 1.0, 3.0, 6.0, 10.0}, torch::kFloat64).unsqueeze(1);
  auto r = knn_radii(x, 2);  // second-nearest other point
  std::vector<double> want = {3.0, 2.0, 3.0, 4.0, 7.0};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(r[i].item<double>(), want[i], 1e-9);
}

TEST(SlicedWasserstein, ZeroForTheSameSetAndTheShiftIn1D) {
  auto x = randn({500, 10}, 20);
  EXPECT_NEAR(sliced_wasserstein(x, x), 0.0, 1e-9);
  auto line = randn({300, 1}, 21);
  EXPECT_NEAR(sliced_wasserstein(line, line + 2.5), 2.5, 1e-9);
  EXPECT_NEAR(sliced_wasserstein(line, line.flip({0}) - 1.0), 1.0, 1e-9);  // order does not matter
  auto y = randn({250, 10}, 22);  // unequal sizes are matched by quantiles
  EXPECT_LT(sliced_wasserstein(x, y), sliced_wasserstein(x, y + 1.0));
}

TEST(ClassAccuracy, CountsRequestedClasses) {
  auto p = torch::tensor({0.9, 0.1, 0.2, 0.8, 0.6, 0.4}, torch::kFloat32).reshape({3, 2});
  EXPECT_NEAR(class_accuracy(p, torch::tensor({0, 1, 1}, torch::kInt64)), 2.0 / 3.0, 1e-12);
  expect_user_error([&] { class_accuracy(p, torch::tensor({0, 5, 1}, torch::kInt64)); }, "outside");
  expect_user_error([&] { class_accuracy(p, torch::tensor({0, 1}, torch::kInt64)); }, "one requested label");
}

TEST(MetricErrors, TooFewSamplesMismatchedSizesAndBadInputs) {
  auto x = randn({20, 4}, 23), y = randn({20, 5}, 24), one = randn({1, 4}, 25);
  expect_user_error([&] { fid(one, x); }, "at least 2");
  expect_user_error([&] { fid(x, y); }, "feature sizes differ");
  expect_user_error([&] { kid(x, one); }, "at least 2");
  expect_user_error([&] { kid(x, y); }, "feature sizes differ");
  expect_user_error([&] { precision_recall(x, x.slice(0, 0, 3), 3); }, "at least 4");
  expect_user_error([&] { precision_recall(x, y, 3); }, "feature sizes differ");
  expect_user_error([&] { sliced_wasserstein(x, y); }, "feature sizes differ");
  expect_user_error([&] { sliced_wasserstein(one, x); }, "at least 2");
  expect_user_error([&] { inception_score(torch::full({5, 10}, 0.1), 10); }, "at least 10");
  expect_user_error([&] { inception_score(randn({20, 10}, 26), 2); }, "probability");
  expect_user_error([&] { fid(x.reshape({-1}), x); }, "matrix");
  auto nan = x.clone();
  nan[0][0] = std::nan("");
  expect_user_error([&] { fid(nan, x); }, "NaN");
  GaussianFit a = fit_gaussian(x), b = fit_gaussian(y);
  expect_user_error([&] { frechet_distance(a, b); }, "feature sizes differ");
}

TEST(Npy, WritesVersion1HeaderAndData) {
  auto t = torch::arange(6, torch::kFloat32).reshape({2, 3});
  const std::string b = npy_bytes(t);
  ASSERT_GE(b.size(), 10u);
  EXPECT_EQ(b.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = uint8_t(b[8]) | (size_t(uint8_t(b[9])) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = b.substr(10, header_len);
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0), 0u) << header;
  EXPECT_EQ(header.back(), '\n');
  ASSERT_EQ(b.size(), 10 + header_len + 6 * 4);
  float v[6];
  std::memcpy(v, b.data() + 10 + header_len, sizeof v);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(v[i], float(i));
  EXPECT_NE(npy_bytes(torch::zeros({4})).find("'shape': (4,)"), std::string::npos);
}

// --- the feature network -------------------------------------------------------

namespace {

void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xff));
}

// Raw IDX files of n 28x28 images in 10 classes (a bar whose height is the class).
void write_idx(const fs::path& dir, const std::string& prefix, int n) {
  std::string img, lab;
  put32(img, 0x803), put32(img, uint32_t(n)), put32(img, 28), put32(img, 28);
  put32(lab, 0x801), put32(lab, uint32_t(n));
  for (int i = 0; i < n; ++i) {
    const int c = i % 10;
    lab.push_back(char(c));
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) img.push_back(char((y >= 26 - 2 * c && x > 10 && x < 18) ? 220 : (i * 7 + x) % 30));
  }
  std::ofstream(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary) << img;
  std::ofstream(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary) << lab;
}

fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("duel_test_metrics_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(FeatureNet, ShapesAndIdentityRoundTrip) {
  FeatureNet net(FeatureNetOptions(1, 28, 10));
  net->eval();
  auto x = torch::zeros({3, 1, 28, 28});
  EXPECT_EQ(net->features(x).sizes(), (std::vector<int64_t>{3, 128}));
  EXPECT_EQ(net->forward(x).sizes(), (std::vector<int64_t>{3, 10}));

  auto dir = temp_dir("roundtrip");
  write_idx(dir, "train", 160);
  write_idx(dir, "t10k", 40);
  FeatureTrainOptions o;
  o.dataset = "mnist";
  o.data_path = dir.string();
  o.out = (dir / "net.duelfeat").string();
  o.steps = 3;
  o.batch_size = 32;
  auto r = train_feature_net(o);
  EXPECT_EQ(r.test_images, 40);
  auto ex = load_feature_extractor(o.out);
  const auto& id = ex->identity();
  EXPECT_EQ(id.kind, "duelfeat");
  EXPECT_EQ(id.hash, r.identity.hash);
  EXPECT_EQ(id.hash.size(), 16u);
  EXPECT_EQ(id.dataset, "mnist");
  EXPECT_NEAR(id.accuracy, r.test_accuracy, 1e-12);
  auto images = torch::randint(0, 256, {7, 1, 28, 28}, torch::kInt64).to(torch::kUInt8);
  auto e = ex->extract(images, 3);  // batches of 3, 3, 1
  EXPECT_EQ(e.features.sizes(), (std::vector<int64_t>{7, 128}));
  EXPECT_EQ(e.probs.sizes(), (std::vector<int64_t>{7, 10}));
  EXPECT_TRUE(torch::allclose(e.probs.sum(1), torch::ones({7}), 1e-4, 1e-5));
  auto again = ex->extract(images, 7);
  EXPECT_TRUE(torch::allclose(e.features, again.features, 1e-4, 1e-5));  // batching does not matter
  // features of a wrong image shape are refused with a hint
  expect_user_error([&] { ex->extract(torch::zeros({2, 3, 32, 32}, torch::kUInt8)); }, "takes 1x28x28");
  // a damaged file is refused (by the archive reader or by the weights hash)
  {
    std::fstream f(o.out, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0, std::ios::end);
    const auto size = int64_t(f.tellp());
    f.seekp(size / 2);
    f << "0123456789abcdef";
  }
  EXPECT_THROW(load_feature_extractor(o.out), Error);
  fs::remove_all(dir);
}

TEST(FeatureNet, MissingNetworkSaysHowToTrainOne) {
  expect_user_error([] { load_feature_extractor("/nonexistent/fm.duelfeat"); }, "does not exist");
  try {
    load_feature_extractor("/nonexistent/fm.duelfeat");
  } catch (const Error& e) {
    EXPECT_NE(e.hint().find("duel features train"), std::string::npos) << e.hint();
  }
  try {
    find_feature_net("no-such-dataset");
    ADD_FAILURE() << "found a feature network for a dataset that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("features/no-such-dataset.duelfeat"), std::string::npos) << e.what();
    // a name duel cannot train a network for: the hint says what else to do
    EXPECT_NE(e.hint().find("--set eval.every=0"), std::string::npos) << e.hint();
  }
  try {
    find_feature_net("cifar10");
    ADD_FAILURE() << "found a feature network for cifar10, which has none";
  } catch (const Error& e) {
    EXPECT_NE(e.hint().find("run `duel features train --dataset cifar10`"), std::string::npos) << e.hint();
  }
  EXPECT_EQ(default_feature_path("folder:/a b"), "features/folder__a_b.duelfeat");
}

TEST(Evaluate, RunDirOfCheckpoint) {
  EXPECT_EQ(RunFolder::of_checkpoint("/x/runs/a/checkpoints/latest.duel"), "/x/runs/a");
  EXPECT_EQ(RunFolder::of_checkpoint("/x/elsewhere/model.duel"), "/x/elsewhere");
}
