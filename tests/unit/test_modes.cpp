// Mode coverage (docs/modes.md): the mode counter against hand-counted
// answers, the 2-D mixtures and Stacked MNIST, and the remedies (packing,
// minibatch layers, feature matching) against their definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "duel/apps/mode_bench.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset_writer.h"
#include "duel/data/points.h"
#include "duel/metrics/modes.h"
#include "duel/models/model.h"
#include "duel/nn/minibatch.h"
#include "test_util.h"

using namespace duel;

namespace {

Config model_config(const std::string& model, const std::vector<std::string>& extra = {}) {
  Config c;
  for (const std::string s : {"model.latent_dim=8", "model.g_width=8", "model.d_width=8", "model.mlp_hidden=16",
                              "train.batch_size=4"})
    c.set_from_string(s);
  c.set_from_string("model.name=" + model);
  for (auto& s : extra) c.set_from_string(s);
  return c;
}

}  // namespace

TEST(ModeCounter, CountsModesQualityAndReverseKlExactly) {
  const PointMixture m = point_mixture("ring8");
  // Modes 0..3 get 10, 20, 30, 40 points 2.9 sigma from their centres; mode 4 gets
  // 5 points 3.1 sigma away (not high quality); 15 points sit at the origin (none).
  std::vector<torch::Tensor> parts;
  const int counts[4] = {10, 20, 30, 40};
  for (int k = 0; k < 4; ++k)
    parts.push_back(m.centres[k].unsqueeze(0).expand({counts[k], 2}) + torch::tensor({2.9 * m.sigma, 0.0}).to(torch::kFloat32));
  parts.push_back(m.centres[4].unsqueeze(0).expand({5, 2}) + torch::tensor({0.0, 3.1 * m.sigma}).to(torch::kFloat32));
  parts.push_back(torch::zeros({15, 2}));
  auto c = count_modes(torch::cat(parts), m.centres, m.sigma);
  EXPECT_EQ(c.modes, 8);
  EXPECT_EQ(c.samples, 120);
  EXPECT_EQ(c.captured, 4);
  EXPECT_DOUBLE_EQ(c.high_quality, 100.0 / 120.0);
  EXPECT_EQ(c.counts, (std::vector<int64_t>{10, 20, 30, 40, 0, 0, 0, 0}));
  // KL(p || uniform over 8) with p = (0.1, 0.2, 0.3, 0.4)
  double kl = 0;
  for (double p : {0.1, 0.2, 0.3, 0.4}) kl += p * std::log(p * 8);
  EXPECT_NEAR(c.reverse_kl, kl, 1e-12);
  // min_count 20 drops the mode with 10.
  EXPECT_EQ(count_modes(torch::cat(parts), m.centres, m.sigma, 20).captured, 3);
}

TEST(ModeCounter, IdsUniformIsZeroKlAndOneModeIsLogK) {
  auto uniform = coverage_of_ids(torch::arange(1000, torch::kInt64).remainder(10), 10);
  EXPECT_EQ(uniform.captured, 10);
  EXPECT_NEAR(uniform.reverse_kl, 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(uniform.high_quality, 1.0);
  auto one = coverage_of_ids(torch::full({50}, 3, torch::kInt64), 1000);
  EXPECT_EQ(one.captured, 1);
  EXPECT_NEAR(one.reverse_kl, std::log(1000.0), 1e-12);
  auto none = coverage_of_ids(torch::full({5}, -1, torch::kInt64), 8);
  EXPECT_EQ(none.captured, 0);
  EXPECT_EQ(none.high_quality, 0.0);
  EXPECT_TRUE(std::isnan(none.reverse_kl));
  EXPECT_THROW(coverage_of_ids(torch::tensor({0, 8}), 8), Error);
}

TEST(PointData, MixturesMatchTheirDefinitionAndScoreAsFullCoverage) {
  const PointMixture ring = point_mixture("ring8"), grid = point_mixture("grid25");
  EXPECT_EQ(ring.centres.size(0), 8);
  EXPECT_TRUE(torch::allclose(ring.centres.norm(2, 1), torch::ones({8})));
  EXPECT_EQ(grid.centres.size(0), 25);
  EXPECT_FLOAT_EQ(grid.centres.min().item<float>(), -4.0f);
  EXPECT_FLOAT_EQ(grid.centres.max().item<float>(), 4.0f);
  ImageSet s = draw_point_set(grid, 20000, 7);
  EXPECT_EQ(s.images.sizes(), torch::IntArrayRef({20000, 2, 1, 1}));
  EXPECT_EQ(s.images.scalar_type(), torch::kFloat32);
  auto pts = as_points(s.images);
  auto offset = pts - grid.centres.index_select(0, s.labels);
  EXPECT_NEAR(offset.std().item<double>(), 0.05, 0.002);
  auto c = count_modes(pts, grid.centres, grid.sigma);
  EXPECT_EQ(c.captured, 25);
  // A 2-D Gaussian puts 1 - exp(-4.5) = 98.9 % of its mass within 3 sigma.
  EXPECT_NEAR(c.high_quality, 1 - std::exp(-4.5), 0.003);
  EXPECT_LT(c.reverse_kl, 0.01);
  EXPECT_TRUE(torch::equal(draw_point_set(grid, 100, 7).images, draw_point_set(grid, 100, 7).images));
  EXPECT_THROW(point_mixture("ring9"), Error);
  // Floats pass through to_unit_range unchanged (the loader's conversion of uint8 pixels).
  EXPECT_TRUE(torch::equal(to_unit_range(s.images), s.images));
}

TEST(PointData, StackedMnistStacksThreeDigitsAndLabelsTheTriple) {
  const auto dir = std::filesystem::temp_directory_path() / "duel-stacked-test";
  std::filesystem::remove_all(dir);
  ImageSet base;  // digit d: every pixel 10 d + 5
  base.labels = torch::arange(40, torch::kInt64).remainder(10);
  base.images = (base.labels * 10 + 5).to(torch::kUInt8).reshape({40, 1, 1, 1}).expand({40, 1, 28, 28}).contiguous();
  base.num_classes = 10;
  write_labelled_set(base, dir.string(), "idx");
  Config cfg;
  cfg.set_from_string("data.dataset=stacked-mnist");
  cfg.set("data.path", dir.string());
  cfg.set_from_string("data.limit=300");
  ImageSet s = open_dataset(cfg, "train");
  ASSERT_EQ(s.images.sizes(), torch::IntArrayRef({300, 3, 28, 28}));
  EXPECT_EQ(s.num_classes, 1000);
  auto digits = (s.images.select(3, 0).select(2, 0).to(torch::kInt64) - 5).div(10, "floor");  // [300, 3]
  auto want = digits.select(1, 0) * 100 + digits.select(1, 1) * 10 + digits.select(1, 2);
  EXPECT_TRUE(torch::equal(s.labels, want));
  EXPECT_GT(std::get<0>(torch::_unique(s.labels)).size(0), 200);  // 300 draws of 1000 triples
  std::filesystem::remove_all(dir);
}

TEST(Minibatch, ClosenessIsSalimansSumOverOtherSamples) {
  // N = 3 samples, B = 1 kernel, C = 1: M = 0, 1, 3
  auto o = minibatch_closeness(torch::tensor({0.0, 1.0, 3.0}).reshape({3, 1, 1}));
  auto e = [](double d) { return std::exp(-d); };
  EXPECT_NEAR(o[0][0].item<double>(), e(1) + e(3), 1e-6);
  EXPECT_NEAR(o[1][0].item<double>(), e(1) + e(2), 1e-6);
  EXPECT_NEAR(o[2][0].item<double>(), e(3) + e(2), 1e-6);
  // A collapsed batch (every sample the same) is as close as it gets: N - 1.
  auto same = minibatch_closeness(torch::ones({5, 4, 3}));
  EXPECT_TRUE(torch::allclose(same, torch::full({5, 4}, 4.0)));
  MinibatchOptions opt;
  opt.kind = "discrimination";
  opt.kernels = 6;
  opt.dims = 2;
  MinibatchLayer mbd(opt, 8, 3);
  EXPECT_EQ(mbd->forward(torch::randn({4, 8, 3, 3})).sizes(), torch::IntArrayRef({4, 14, 3, 3}));
  opt.kind = "stddev";
  EXPECT_EQ(MinibatchLayer(opt, 8, 3)->forward(torch::randn({4, 8, 3, 3})).sizes(), torch::IntArrayRef({4, 9, 3, 3}));
}

TEST(Remedies, PackedDiscriminatorsTakeMSamplesAtOnce) {
  for (const std::string name : {"mlp", "dcgan"}) {
    torch::manual_seed(0);
    auto model = create_model(model_config(name, {"model.pack=2"}), DataShape{1, 28, 0});
    auto d = model->nets()[1].second;
    const auto first = d->parameters()[0];
    if (name == "mlp") EXPECT_EQ(first.size(1), 2 * 28 * 28) << name;
    else EXPECT_EQ(first.size(1), 2) << name;  // conv in_channels = 2 x 1
    StepContext ctx;
    auto s = model->step(Batch{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0}, ctx);
    EXPECT_TRUE(std::isfinite(test::scalar(s, "loss_d"))) << name;
    EXPECT_THROW(model->step(Batch{torch::rand({3, 1, 28, 28}) * 2 - 1, {}, 0}, ctx), Error) << name;
  }
  EXPECT_THROW(create_model(model_config("cgan", {"model.pack=2"}), DataShape{1, 28, 10}), Error);
  EXPECT_THROW(create_model(model_config("mlp", {"model.pack=3"}), DataShape{1, 28, 0}), Error);  // batch 4
}

TEST(Remedies, FeatureMatchingAndMinibatchLayersTrainOrAreRefused) {
  for (const std::string name : {"mlp", "dcgan", "cgan"}) {
    torch::manual_seed(0);
    auto model = create_model(model_config(name, {"train.feature_matching=1", "model.minibatch=discrimination"}),
                              DataShape{1, 28, name == "cgan" ? 10 : 0});
    StepContext ctx;
    Batch b{torch::rand({4, 1, 28, 28}) * 2 - 1, torch::tensor({0, 1, 2, 3}), 0};
    auto s = model->step(b, ctx);
    ASSERT_TRUE(test::has(s, "feature_matching")) << name;
    EXPECT_GT(test::scalar(s, "feature_matching"), 0.0) << name;
    EXPECT_TRUE(std::isfinite(test::scalar(s, "loss_g"))) << name;
  }
  try {
    create_model(model_config("infogan", {"train.feature_matching=0.5"}), DataShape{1, 28, 0});
    FAIL() << "infogan accepted train.feature_matching";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.feature_matching"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("infogan"), std::string::npos);
  }
  EXPECT_THROW(create_model(model_config("stylegan", {"model.minibatch=stddev"}), DataShape{1, 28, 0}), Error);
}

TEST(ModeBench, VariantsNameTheirSettings) {
  EXPECT_TRUE(variant_settings("gan").empty());
  EXPECT_EQ(variant_settings("pac2+fm"), (std::vector<std::string>{"model.pack=2", "train.feature_matching=1"}));
  EXPECT_EQ(variant_settings("mbd+mbstd"),
            (std::vector<std::string>{"model.minibatch=discrimination", "model.minibatch=stddev"}));
  EXPECT_THROW(variant_settings("pac"), Error);
  EXPECT_THROW(variant_settings("gan+unrolled"), Error);
}
