// Looking inside a trained GAN: projection recovers a known latent, latent
// files round-trip and are checked, editing decodes what projection found,
// the discriminator as a judge, the encoder's codes and their principal
// components, and class colours in scatter plots.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "duel/apps/encode.h"
#include "duel/apps/judge.h"
#include "duel/apps/latent_editing.h"
#include "duel/apps/projection.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/io/npy.h"
#include "duel/io/plot.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/nn/i2i_nets.h"
#include "test_util.h"

using namespace duel;
using namespace duel::test;
namespace fs = std::filesystem;

namespace {

Config tiny(const std::string& model) {
  Config c;
  c.set_from_string("model.name=" + model);
  c.set_from_string("model.latent_dim=8");
  c.set_from_string("model.g_width=8");
  c.set_from_string("model.d_width=8");
  return c;
}

std::string temp_path(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("duel-inspect-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

// The 8-bit image that `lp` renders from `latents` (G frozen as projection
// freezes it): a projection target with a known latent.
torch::Tensor rendered_target(LatentProjection& lp, const torch::Tensor& latents, const torch::Tensor& labels = {}) {
  auto guard = lp.render_scope();
  torch::NoGradGuard no_grad;
  return quantise(lp.render_latents(latents, labels));
}

}  // namespace

TEST(Npy, RoundTripsFloatAndIntegerArrays) {
  auto x = torch::randn({3, 4, 5});
  write_npy(temp_path("x.npy"), x);
  auto y = read_npy(temp_path("x.npy"));
  EXPECT_EQ(y.sizes(), x.sizes());
  EXPECT_TRUE(torch::equal(y, x));
  auto l = torch::tensor({3, -1, 7}, torch::kInt64);
  write_npy(temp_path("l.npy"), l);
  EXPECT_TRUE(torch::equal(read_npy(temp_path("l.npy")), l));
}

TEST(Npy, RefusesWhatItCannotRead) {
  {
    std::ofstream(temp_path("bad.npy"), std::ios::binary) << "not an npy file at all";
  }
  EXPECT_THROW(read_npy(temp_path("bad.npy")), Error);
  EXPECT_THROW(read_npy(temp_path("missing.npy")), Error);
  // A Fortran-ordered header, and a file cut short.
  auto bytes = npy_bytes(torch::ones({2, 2}));
  auto fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  std::ofstream(temp_path("f.npy"), std::ios::binary) << fortran;
  EXPECT_THROW(read_npy(temp_path("f.npy")), Error);
  std::ofstream(temp_path("short.npy"), std::ios::binary) << bytes.substr(0, bytes.size() - 4);
  EXPECT_THROW(read_npy(temp_path("short.npy")), Error);
}

TEST(Projection, RecoversTheLatentOfAFixedGenerator) {
  torch::manual_seed(3);
  auto model = create_model(tiny("dcgan"), DataShape{1, 16, 0});
  auto& lp = require_capability<LatentProjection>(*model);
  ASSERT_EQ(lp.latent_space(), "z");
  ASSERT_EQ(lp.latent_shape(), std::vector<int64_t>{8});
  auto z = torch::randn({4, 8});
  auto target = rendered_target(lp, z);
  ProjectionOptions o;
  o.steps = 400;
  o.starts = 4;
  o.latent_weight = 0;
  auto p = project_images(*model, target, {}, nullptr, o);
  ASSERT_EQ(p.latents.sizes(), z.sizes());
  // The image is matched to well below one grey level of error...
  EXPECT_GT(p.psnr.min().item<double>(), 38.0);
  // (An untrained generator is not injective, so the latent found may differ
  // from z while its image matches; the image is the known answer.)
  // The generator's weights are untouched and trainable again afterwards.
  for (auto& [name, net] : model->nets())
    for (auto& q : net->parameters()) EXPECT_TRUE(q.requires_grad()) << name;
}

TEST(Projection, RecoversTheKnownZOfAnInjectiveGenerator) {
  // The mlp generator (Linear layers widening from z, LeakyReLU, tanh) is
  // one-to-one, so the z that redraws its image is the z that drew it.
  torch::manual_seed(6);
  // z (8) -> 32 -> 64 -> 128 -> 256 pixels: wider than z from the first
  // layer, so that no direction of z is (nearly) lost; PyTorch's default
  // initialisation, since DCGAN's N(0, 0.02) leaves the image nearly blind
  // to z (every z then draws the same 8-bit image).
  Config c = tiny("mlp");
  c.set_from_string("model.g_width=32");
  c.set_from_string("model.init=default");
  auto model = create_model(c, DataShape{1, 16, 0});
  auto& lp = require_capability<LatentProjection>(*model);
  ASSERT_EQ(lp.latent_shape(), std::vector<int64_t>{8});
  auto z = torch::randn({4, 8});
  auto target = rendered_target(lp, z);
  ProjectionOptions o;
  o.steps = 400;
  o.starts = 4;
  o.latent_weight = 0;
  o.seed = 11;
  auto p = project_images(*model, target, {}, nullptr, o);
  const double err = (p.latents - z).abs().max().item<double>();
  const double mean_err = (p.latents - z).abs().mean().item<double>();
  std::printf("|z found - z|: max %.2e, mean %.2e; min PSNR %.1f dB\n", err, mean_err, p.psnr.min().item<double>());
  // Within the 8-bit quantisation of the target: z ~ N(0, 1), the starts are
  // about 1.1 away on average.
  EXPECT_LT(err, 0.06);
  EXPECT_LT(mean_err, 0.02);
  EXPECT_GT(p.psnr.min().item<double>(), 50.0);
}

TEST(Projection, ConditionalModelsProjectWithTheGivenClass) {
  torch::manual_seed(4);
  auto model = create_model(tiny("cgan"), DataShape{1, 16, 3});
  auto& lp = require_capability<LatentProjection>(*model);
  auto z = torch::randn({2, 8});
  auto labels = torch::tensor({2, 0}, torch::kInt64);
  auto target = rendered_target(lp, z, labels);
  ProjectionOptions o;
  o.steps = 300;
  o.latent_weight = 0;
  EXPECT_THROW(project_images(*model, target, {}, nullptr, o), Error);  // a class is needed
  auto p = project_images(*model, target, labels, nullptr, o);
  EXPECT_GT(p.psnr.min().item<double>(), 35.0);
  EXPECT_TRUE(torch::equal(p.labels, labels));
  // --class picks the class for every target; a class beyond the model's is refused.
  EXPECT_TRUE(torch::equal(projection_labels(*model, DataShape{1, 16, 3}, target, 1, nullptr, "x"),
                           torch::tensor({1, 1}, torch::kInt64)));
  EXPECT_THROW(projection_labels(*model, DataShape{1, 16, 3}, target, 3, nullptr, "x"), Error);
  EXPECT_THROW(projection_labels(*model, DataShape{1, 16, 3}, target, -1, nullptr, "x"), Error);
}

TEST(Projection, StyleganProjectsIntoWPlus) {
  torch::manual_seed(5);
  Config c = tiny("stylegan");
  c.set_from_string("model.style_dim=16");
  c.set_from_string("model.mapping_layers=2");
  auto model = create_model(c, DataShape{1, 16, 0});
  auto& lp = require_capability<LatentProjection>(*model);
  EXPECT_EQ(lp.latent_space(), "w+");
  const auto shape = lp.latent_shape();
  ASSERT_EQ(shape.size(), 2u);
  EXPECT_EQ(shape[1], 16);
  torch::Tensor w;
  {
    torch::NoGradGuard no_grad;
    w = lp.start_latents(2, torch::kCPU);
  }
  auto target = rendered_target(lp, w);
  EXPECT_EQ(w.size(1), shape[0]);
  ProjectionOptions o;
  o.steps = 300;
  o.lr = 0.02;
  o.seed = 9;  // starts other than the target's
  auto p = project_images(*model, target, {}, nullptr, o);
  EXPECT_GT(p.psnr.min().item<double>(), 18.0);
}

TEST(LatentEditing, DecodesChecksAndInterpolatesLatentFiles) {
  torch::manual_seed(6);
  auto model = create_model(tiny("dcgan"), DataShape{1, 16, 0});
  auto a = torch::randn({8}), b = torch::randn({8});
  write_npy(temp_path("a.npy"), a);
  write_npy(temp_path("b.npy"), b);
  write_npy(temp_path("wrong.npy"), torch::randn({9}));
  auto both = read_latent_files(*model, {temp_path("a.npy"), temp_path("b.npy")});
  EXPECT_EQ(both.sizes(), torch::IntArrayRef({2, 8}));
  EXPECT_THROW(read_latent_files(*model, {temp_path("wrong.npy")}), Error);
  auto ends = decode_latents(*model, both, {});
  auto path = interpolate_latents(*model, both.slice(0, 0, 1), both.slice(0, 1, 2), 5, {});
  ASSERT_EQ(path.images.size(0), 5);
  // The walk starts and ends at the two decoded latents.
  EXPECT_LT((path.images[0] - ends[0]).abs().max().item<double>(), 1e-5);
  EXPECT_LT((path.images[4] - ends[1]).abs().max().item<double>(), 1e-5);
  EXPECT_EQ(path.frames.size(), 8u);  // 5 there, 3 back
  // No classes to change, no styles to mix.
  EXPECT_THROW(class_change_grid(*model, both, 3), Error);
  EXPECT_THROW(latent_style_mixing_grid(*model, both, 0), Error);
}

TEST(LatentEditing, ClassChangeDecodesOneLatentWithEveryClass) {
  torch::manual_seed(7);
  auto model = create_model(tiny("cgan"), DataShape{1, 16, 3});
  auto z = torch::randn({2, 8});
  auto grid = class_change_grid(*model, z, 3);
  // 2 rows x 3 columns of 16 px images with 2 px padding.
  EXPECT_EQ(grid.size(1), 2 + 2 * 18);
  EXPECT_EQ(grid.size(2), 2 + 3 * 18);
  auto one = decode_latents(*model, z.slice(0, 1, 2), torch::tensor({2}, torch::kInt64));
  auto expected = make_grid(one, 1);
  // Row 1, column 2 of the grid is latent 1 with class 2.
  auto cell = grid.slice(1, 2 + 18, 2 + 18 + 16).slice(2, 2 + 2 * 18, 2 + 2 * 18 + 16);
  EXPECT_TRUE(torch::equal(cell, expected.slice(1, 2, 18).slice(2, 2, 18)));
}

TEST(Judge, ScoresAreTheDiscriminatorsInEvalModeBatchIndependent) {
  torch::manual_seed(8);
  auto model = create_model(tiny("dcgan"), DataShape{1, 16, 0});
  auto images = (torch::rand({6, 1, 16, 16}) * 255).to(torch::kUInt8);
  auto all = judge_scores(*model, 0, images, -1, 256, nullptr);
  auto split = judge_scores(*model, 0, images, -1, 2, nullptr);
  ASSERT_EQ(all.sizes(), torch::IntArrayRef({6}));
  EXPECT_LT((all - split).abs().max().item<double>(), 1e-5);
  // Trained with PacGAN packing, D judges packs, not images.
  auto packed_cfg = tiny("dcgan");
  packed_cfg.set_from_string("model.pack=2");
  auto packed = create_model(packed_cfg, DataShape{1, 16, 0});
  EXPECT_THROW(judge_scores(*packed, 0, images, -1, 256, nullptr), Error);
  // A model without a discriminator over images has no judge.
  auto aae = create_model(tiny("aae"), DataShape{1, 16, 0});
  EXPECT_EQ(capability<ImageJudge>(*aae), nullptr);
}

TEST(Judge, ConditionalModelsTakeTheMostRealClass) {
  torch::manual_seed(9);
  auto model = create_model(tiny("cgan"), DataShape{1, 16, 3});
  auto& judge = require_capability<ImageJudge>(*model);
  auto images = (torch::rand({5, 1, 16, 16}) * 255).to(torch::kUInt8);
  torch::Tensor classes;
  auto best = judge_scores(*model, 3, images, -1, 256, &classes);
  auto x = to_unit_range(images);
  std::vector<torch::Tensor> per;
  for (int64_t c = 0; c < 3; ++c) per.push_back(judge.judge(x, torch::full({5}, c, torch::kInt64), "").to(torch::kFloat64));
  auto [value, index] = torch::stack(per, 1).max(1);
  EXPECT_LT((best - value).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(torch::equal(classes, index));
  auto as_two = judge_scores(*model, 3, images, 2, 256, &classes);
  EXPECT_LT((as_two - per[2]).abs().max().item<double>(), 1e-6);
}

TEST(Encode, PrincipalComponentsOfPointsOnALine) {
  // Points t (1, 2, 0) + small noise in the third dimension: the first
  // component is (1, 2, 0)/sqrt(5), its coordinates t sqrt(5) (centred).
  auto t = torch::linspace(-2, 2, 41, torch::kFloat64);
  auto pts = torch::stack({t, 2 * t, 0.01 * torch::sin(7 * t)}, 1);
  double explained = 0;
  auto xy = principal_components_2d(pts, &explained);
  ASSERT_EQ(xy.sizes(), torch::IntArrayRef({41, 2}));
  EXPECT_LT((xy.select(1, 0).to(torch::kFloat64) - t * std::sqrt(5.0)).abs().max().item<double>(), 1e-4);
  EXPECT_GT(explained, 0.99999);
  EXPECT_THROW(principal_components_2d(torch::ones({1, 3}), nullptr), Error);
}

TEST(Encode, AaeEncoderIsAnImageEncoder) {
  torch::manual_seed(10);
  auto model = create_model(tiny("aae"), DataShape{1, 16, 0});
  auto& enc = require_capability<ImageEncoder>(*model);
  EXPECT_EQ(enc.code_dim(), 8);
  auto codes = enc.encode(torch::rand({3, 1, 16, 16}) * 2 - 1);
  EXPECT_EQ(codes.sizes(), torch::IntArrayRef({3, 8}));
  auto dcgan = create_model(tiny("dcgan"), DataShape{1, 16, 0});
  EXPECT_THROW(require_capability<ImageEncoder>(*dcgan), Error);
}

// D's output in eval mode, as judge() should give it, averaged over patches.
torch::Tensor eval_output(GanModel& model, const std::string& net_name, const torch::Tensor& x) {
  for (auto& [name, net] : model.nets()) {
    if (name != net_name) continue;
    torch::NoGradGuard no_grad;
    net->eval();
    torch::Tensor out;
    if (auto p = std::dynamic_pointer_cast<PatchDiscriminatorImpl>(net)) out = p->forward(x);
    if (auto d = std::dynamic_pointer_cast<SrDiscriminatorImpl>(net)) out = d->forward(x);
    net->train();
    return out.flatten(1).mean(1);
  }
  ADD_FAILURE() << "no net " << net_name;
  return {};
}

TEST(Judge, CycleganJudgesEachDomainWithItsOwnDiscriminator) {
  torch::manual_seed(7);
  Config c = tiny("cyclegan");
  c.set_from_string("model.resnet_blocks=1");
  c.set_from_string("model.identity_weight=0");
  auto model = create_model(c, DataShape{1, 32, 0, 3, false});  // A gray, B colour
  auto& judge = require_capability<ImageJudge>(*model);
  EXPECT_EQ(judge.judge_domains(), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(judge.judge_channels("A"), 1);
  EXPECT_EQ(judge.judge_channels("B"), 3);
  auto a = torch::rand({3, 1, 32, 32}) * 2 - 1, b = torch::rand({3, 3, 32, 32}) * 2 - 1;
  auto sa = judge.judge(a, {}, "A"), sb = judge.judge(b, {}, "B");
  ASSERT_EQ(sb.sizes(), torch::IntArrayRef({3}));
  EXPECT_TRUE(torch::allclose(sa, eval_output(*model, "D_A", a)));
  EXPECT_TRUE(torch::allclose(sb, eval_output(*model, "D_B", b)));
  EXPECT_FALSE(torch::allclose(sb, eval_output(*model, "D_A", b.mean(1, true))));
  EXPECT_THROW(judge.judge(b, {}, ""), Error);  // which discriminator?
  // Through the app's batching, for domain B.
  auto u8 = quantise(b);
  EXPECT_TRUE(torch::allclose(judge_scores(*model, 0, u8, -1, 2, nullptr, "B"),
                              judge_scores(*model, 0, u8, -1, 256, nullptr, "B")));
  for (auto& [name, net] : model->nets()) EXPECT_TRUE(net->is_training()) << name;
}

TEST(Judge, SrganJudgesFullSizeImagesAndSrresnetHasNoJudge) {
  torch::manual_seed(8);
  Config c = tiny("srgan");
  auto model = create_model(c, DataShape{3, 32, 0});
  auto& judge = require_capability<ImageJudge>(*model);
  EXPECT_EQ(judge.judge_domains(), (std::vector<std::string>{""}));
  EXPECT_EQ(judge.judge_channels(""), 3);
  auto x = torch::rand({4, 3, 32, 32}) * 2 - 1;
  EXPECT_TRUE(torch::allclose(judge.judge(x, {}, ""), eval_output(*model, "D", x)));
  EXPECT_THROW(judge.judge(x, {}, "B"), Error);
  auto plain = create_model(tiny("srresnet"), DataShape{3, 32, 0});
  EXPECT_THROW(require_capability<ImageJudge>(*plain).judge(x, {}, ""), Error);
}

TEST(Plot, PointsTakeTheirClassColour) {
  ScatterOptions o{1.0, 0.0, 101};
  o.classes = torch::tensor({1}, torch::kInt64);
  auto img = scatter_plot(torch::tensor({{0.5f, 0.5f}}), {}, o);
  // (0.5, 0.5) is pixel column 75, row 25; class 1 is orange (red high, blue low).
  auto px = img.index({torch::indexing::Slice(), 25, 75}).to(torch::kInt64);
  EXPECT_GT(px[0].item<int64_t>(), 200);
  EXPECT_LT(px[2].item<int64_t>(), 120);
}

TEST(Plot, DotSetsTheSizeOfEachPoint) {
  ScatterOptions o{1.0, 0.0, 101};
  auto red = [&](int64_t dot, int64_t row, int64_t col) {
    o.dot = dot;
    auto img = scatter_plot(torch::tensor({{0.5f, 0.5f}}), {}, o);  // pixel column 75, row 25
    return img.index({0, row, col}).item<int64_t>();                  // the point is blue: little red
  };
  EXPECT_EQ(red(1, 25, 77), 255);  // a 3-pixel square: two to the right is background
  EXPECT_EQ(red(1, 25, 76), 198);  // its rim: white under 25 % of blue's red 0.1
  EXPECT_EQ(red(2, 24, 76), 117);  // a 5-pixel square: opaque (60 %) one inside its rim
  EXPECT_EQ(red(2, 25, 77), 198);  // its rim
  EXPECT_EQ(red(2, 25, 78), 255);  // and nothing beyond
}
