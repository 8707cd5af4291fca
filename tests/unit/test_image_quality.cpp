// Image-quality metrics and tiled translation against closed forms and
// independent computations: SSIM of an image with itself, of constant images
// (the closed form), of a 3x3 and a 4x5 image with a hand-written window, and
// of a 28x28 case computed by an independent NumPy implementation of
// scikit-image's algorithm (below); PSNR of a known MSE; area downscaling of
// block-constant images; bicubic upscaling of constants. Tiled translation
// through fake models: tiles must reproduce the untiled output exactly.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/pooling.h>

#include <cmath>
#include <vector>

#include "duel/apps/tiles.h"
#include "duel/core/error.h"
#include "duel/metrics/image_quality.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

using namespace duel;

namespace {

torch::Tensor uniform(std::vector<int64_t> shape, uint64_t seed, double lo = -1, double hi = 1) {
  auto g = at::detail::createCPUGenerator(seed);
  return at::empty(shape, torch::kFloat64).uniform_(lo, hi, g);
}

torch::Tensor normal(std::vector<int64_t> shape, uint64_t seed) {
  auto g = at::detail::createCPUGenerator(seed);
  return at::normal(0.0, 1.0, shape, g, torch::TensorOptions(torch::kFloat64));
}

template <class F>
void expect_user_error(F f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "expected duel::Error containing '" << what << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

// SSIM of one single-channel image pair computed the slow, obvious way: a
// win x win Gaussian (sigma 1.5) from its formula, every valid position, the
// five moments by explicit sums.
double ssim_by_hand(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b, int win,
                    double range) {
  const int h = int(a.size()), w = int(a[0].size()), r = win / 2;
  std::vector<double> g(static_cast<size_t>(win));
  double gs = 0;
  for (int i = 0; i < win; ++i) gs += g[size_t(i)] = std::exp(-0.5 * (i - r) * (i - r) / 2.25);
  for (auto& v : g) v /= gs;
  const double c1 = (0.01 * range) * (0.01 * range), c2 = (0.03 * range) * (0.03 * range);
  double total = 0;
  int count = 0;
  for (int y = 0; y + win <= h; ++y)
    for (int x = 0; x + win <= w; ++x) {
      double ma = 0, mb = 0, aa = 0, bb = 0, ab = 0;
      for (int i = 0; i < win; ++i)
        for (int j = 0; j < win; ++j) {
          const double wt = g[size_t(i)] * g[size_t(j)], p = a[size_t(y + i)][size_t(x + j)], q = b[size_t(y + i)][size_t(x + j)];
          ma += wt * p, mb += wt * q, aa += wt * p * p, bb += wt * q * q, ab += wt * p * q;
        }
      const double va = aa - ma * ma, vb = bb - mb * mb, cov = ab - ma * mb;
      total += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      ++count;
    }
  return total / count;
}

torch::Tensor to_tensor(const std::vector<std::vector<double>>& m) {
  std::vector<double> flat;
  for (auto& row : m) flat.insert(flat.end(), row.begin(), row.end());
  return torch::tensor(flat, torch::kFloat64).reshape({1, 1, int64_t(m.size()), int64_t(m[0].size())});
}

}  // namespace

TEST(Ssim, WindowSize) {
  EXPECT_EQ(ssim_window_size(28, 28), 11);
  EXPECT_EQ(ssim_window_size(11, 11), 11);
  EXPECT_EQ(ssim_window_size(7, 7), 7);
  EXPECT_EQ(ssim_window_size(6, 6), 5);
  EXPECT_EQ(ssim_window_size(10, 64), 9);
  EXPECT_EQ(ssim_window_size(3, 3), 3);
  EXPECT_EQ(ssim_window_size(2, 9), 1);
}

TEST(Ssim, OfAnImageWithItselfIsOne) {
  for (int64_t side : {28, 7, 3}) {
    auto x = uniform({3, 3, side, side}, 1);
    auto s = ssim(x, x);
    ASSERT_EQ(s.sizes(), torch::IntArrayRef({3}));
    EXPECT_EQ(s.scalar_type(), torch::kFloat64);
    for (int64_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(s[i].item<double>(), 1.0) << side;
  }
  // float32 input too (computed in double)
  auto xf = uniform({2, 1, 28, 28}, 2).to(torch::kFloat32);
  EXPECT_DOUBLE_EQ(ssim(xf, xf)[1].item<double>(), 1.0);
}

TEST(Ssim, ConstantImagesMatchTheClosedForm) {
  // Variances and covariance vanish, so SSIM = (2ab + C1) / (a^2 + b^2 + C1).
  const double range = 2.0, c1 = (0.01 * range) * (0.01 * range);
  const std::vector<std::pair<double, double>> pairs{{0.3, -0.5}, {0.9, 0.8}, {-1.0, 1.0}, {0.0, 0.1}};
  auto a = torch::empty({4, 2, 28, 28}, torch::kFloat64), b = torch::empty_like(a);
  for (size_t i = 0; i < pairs.size(); ++i) a[int64_t(i)].fill_(pairs[i].first), b[int64_t(i)].fill_(pairs[i].second);
  auto s = ssim(a, b, range);
  for (size_t i = 0; i < pairs.size(); ++i) {
    const double x = pairs[i].first, y = pairs[i].second;
    EXPECT_NEAR(s[int64_t(i)].item<double>(), (2 * x * y + c1) / (x * x + y * y + c1), 1e-12) << x << " " << y;
  }
  // a = 0, b = 0.1, range 2: (0 + 4e-4) / (0.01 + 4e-4) = 0.0384615...
  EXPECT_NEAR(s[3].item<double>(), 0.0004 / 0.0104, 1e-12);
}

TEST(Ssim, HandComputedTinyImages) {
  // 3x3: the window is 3x3 (weights e^(-2/9) beside a centre of 1, per
  // axis) and the map has one position.
  std::vector<std::vector<double>> a{{0.1, -0.4, 0.8}, {0.5, 0.0, -0.2}, {-0.9, 0.3, 0.6}};
  std::vector<std::vector<double>> b{{0.2, -0.3, 0.5}, {0.4, 0.1, -0.6}, {-0.7, 0.2, 0.9}};
  const double want = ssim_by_hand(a, b, 3, 2.0);
  EXPECT_NEAR(ssim(to_tensor(a), to_tensor(b), 2.0).item<double>(), want, 1e-13);
  // Written out for the 3x3 case: weights g = (e, 1, e) / (1 + 2e), e = e^(-2/9).
  {
    const double e = std::exp(-2.0 / 9.0), g[3] = {e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)};
    double ma = 0, mb = 0, aa = 0, bb = 0, ab = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        const double wt = g[i] * g[j];
        ma += wt * a[size_t(i)][size_t(j)], mb += wt * b[size_t(i)][size_t(j)];
        aa += wt * a[size_t(i)][size_t(j)] * a[size_t(i)][size_t(j)];
        bb += wt * b[size_t(i)][size_t(j)] * b[size_t(i)][size_t(j)];
        ab += wt * a[size_t(i)][size_t(j)] * b[size_t(i)][size_t(j)];
      }
    const double c1 = 0.0004, c2 = 0.0036;
    const double s = (2 * ma * mb + c1) * (2 * (ab - ma * mb) + c2) /
                     ((ma * ma + mb * mb + c1) * (aa - ma * ma + bb - mb * mb + c2));
    EXPECT_NEAR(want, s, 1e-15);
    EXPECT_GT(s, 0.5);
    EXPECT_LT(s, 1.0);
  }
  // 4x5 with data range 1: window 3, a 2x3 map averaged.
  std::vector<std::vector<double>> c{{0.1, 0.4, 0.8, 0.3, 0.0}, {0.5, 0.9, 0.2, 0.7, 0.6},
                                     {0.9, 0.3, 0.6, 0.1, 0.2}, {0.0, 1.0, 0.5, 0.4, 0.8}};
  std::vector<std::vector<double>> d{{0.2, 0.3, 0.7, 0.3, 0.1}, {0.4, 0.8, 0.3, 0.6, 0.6},
                                     {0.6, 0.4, 0.6, 0.2, 0.1}, {0.1, 0.9, 0.4, 0.5, 0.9}};
  EXPECT_EQ(ssim_window_size(4, 5), 3);
  EXPECT_NEAR(ssim(to_tensor(c), to_tensor(d), 1.0).item<double>(), ssim_by_hand(c, d, 3, 1.0), 1e-13);
}

TEST(Ssim, MatchesAnIndependentImplementationOnA28x28Case) {
  // The reference is scikit-image's algorithm written out in NumPy (float64):
  //   g = exp(-x^2 / (2 * 1.5^2)), x = -5..5, normalised;
  //   filt(I) = separable correlation with g of np.pad(I, 5, 'symmetric');
  //   ux, uy, uxx, uyy, uxy = filt(X), filt(Y), filt(X*X), filt(Y*Y), filt(X*Y)
  //   vx, vy, vxy = uxx - ux^2, uyy - uy^2, uxy - ux*uy; C1, C2 = (0.01*2)^2, (0.03*2)^2
  //   S = (2 ux uy + C1)(2 vxy + C2) / ((ux^2 + uy^2 + C1)(vx + vy + C2)); mean of S[5:-5, 5:-5]
  // on channel c of X = sin(0.3 i + 0.7 j + c),
  //   Y = clip(0.8 sin(0.3 i + 0.7 j + c) + 0.3 cos(0.45 i j / 28 - c), -1, 1):
  //   per channel 0.655867035813614, 0.578429002087621, 0.5421145137798159; mean 0.5921368505603503.
  auto i = torch::arange(28, torch::kFloat64).view({28, 1}).expand({28, 28});
  auto j = torch::arange(28, torch::kFloat64).view({1, 28}).expand({28, 28});
  std::vector<torch::Tensor> xs, ys;
  for (int c = 0; c < 3; ++c) {
    xs.push_back(torch::sin(0.3 * i + 0.7 * j + c));
    ys.push_back(torch::clamp(0.8 * torch::sin(0.3 * i + 0.7 * j + c) + 0.3 * torch::cos(0.45 * i * j / 28.0 - c), -1, 1));
  }
  auto x = torch::stack(xs).unsqueeze(0), y = torch::stack(ys).unsqueeze(0);
  EXPECT_NEAR(ssim(x, y, 2.0).item<double>(), 0.5921368505603503, 1e-12);
  EXPECT_NEAR(ssim(x.slice(1, 1, 2), y.slice(1, 1, 2), 2.0).item<double>(), 0.578429002087621, 1e-12);
}

TEST(Ssim, IsSymmetricAndFallsWithNoise) {
  auto x = uniform({2, 3, 28, 28}, 3, -0.8, 0.8);
  auto noise = normal({2, 3, 28, 28}, 4);
  auto y = (x + 0.1 * noise).clamp(-1, 1);
  auto s_xy = ssim(x, y), s_yx = ssim(y, x);
  for (int64_t k = 0; k < 2; ++k) EXPECT_NEAR(s_xy[k].item<double>(), s_yx[k].item<double>(), 1e-14);
  double last = 1.0;
  for (double sigma : {0.02, 0.1, 0.3, 0.8}) {
    auto s = ssim(x, (x + sigma * noise).clamp(-1, 1));
    for (int64_t k = 0; k < 2; ++k) {
      EXPECT_LT(s[k].item<double>(), last) << sigma;
    }
    last = s.max().item<double>();
  }
  EXPECT_LT(last, 0.5);
}

TEST(Psnr, OfAKnownMse) {
  // Image 0: every pixel off by 0.1 -> MSE 0.01; image 1: half the pixels off
  // by 0.5 -> MSE 0.125; image 2: identical -> the cap.
  auto a = torch::zeros({3, 2, 4, 4}, torch::kFloat64);
  auto b = a.clone();
  b[0].fill_(0.1);
  b[1].slice(2, 0, 2).fill_(-0.5);
  auto p = psnr(a, b, 2.0);
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({3}));
  EXPECT_NEAR(p[0].item<double>(), 10 * std::log10(4.0 / 0.01), 1e-12);  // 26.0206 dB
  EXPECT_NEAR(p[0].item<double>(), 26.0206, 1e-4);
  EXPECT_DOUBLE_EQ(p[1].item<double>(), 10 * std::log10(4.0 / 0.125));  // 15.0515 dB
  EXPECT_DOUBLE_EQ(p[2].item<double>(), kPsnrCapDb);
  // data range 255, MSE 25.
  auto u = torch::full({1, 1, 8, 8}, 100.0, torch::kFloat32), v = torch::full({1, 1, 8, 8}, 105.0, torch::kFloat32);
  EXPECT_DOUBLE_EQ(psnr(u, v, 255.0).item<double>(), 10 * std::log10(255.0 * 255.0 / 25.0));
  // symmetric
  EXPECT_DOUBLE_EQ(psnr(b, a, 2.0)[1].item<double>(), p[1].item<double>());
}

TEST(ImageQuality, RefusesBadInputs) {
  auto a = torch::zeros({2, 1, 8, 8});
  expect_user_error([&] { psnr(a, torch::zeros({2, 1, 8, 9})); }, "differ in shape");
  expect_user_error([&] { ssim(a, torch::zeros({2, 3, 8, 8})); }, "differ in shape");
  expect_user_error([&] { ssim(a[0], a[0]); }, "[N, C, H, W]");
  expect_user_error([&] { psnr(a, a, 0.0); }, "data_range");
  expect_user_error([&] { ssim(a, a, -1.0); }, "data_range");
  auto n = a.clone();
  n[0][0][0][0] = std::nan("");
  expect_user_error([&] { ssim(n, a); }, "NaN");
  expect_user_error([&] { psnr(a.to(torch::kUInt8), a.to(torch::kUInt8)); }, "floating-point");
  expect_user_error([&] { downscale_area(torch::zeros({1, 1, 6, 6}), 4); }, "not multiples");
  expect_user_error([&] { upscale_bicubic(a, 0); }, "factor");
}

TEST(Resample, DownscaleAreaOfBlockConstantImage) {
  // 4x4 made of four 2x2 blocks -> the four block values.
  auto x = torch::tensor({0.1, 0.1, -0.6, -0.6,  //
                          0.1, 0.1, -0.6, -0.6,  //
                          0.9, 0.9, 0.3, 0.3,    //
                          0.9, 0.9, 0.3, 0.3},
                         torch::kFloat64)
               .reshape({1, 1, 4, 4});
  auto y = downscale_area(x, 2);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 1, 2, 2}));
  EXPECT_DOUBLE_EQ(y[0][0][0][0].item<double>(), 0.1);
  EXPECT_DOUBLE_EQ(y[0][0][0][1].item<double>(), -0.6);
  EXPECT_DOUBLE_EQ(y[0][0][1][0].item<double>(), 0.9);
  EXPECT_DOUBLE_EQ(y[0][0][1][1].item<double>(), 0.3);
  // factor 4: the mean of all sixteen.
  EXPECT_NEAR(downscale_area(x, 4).item<double>(), (0.1 - 0.6 + 0.9 + 0.3) / 4, 1e-15);
  // factor 1: unchanged.
  EXPECT_TRUE(torch::equal(downscale_area(x, 1), x));
}

TEST(Resample, BicubicUpscalingKeepsConstantsAndRange) {
  auto c = torch::full({2, 3, 7, 5}, 0.37f);
  auto up = upscale_bicubic(c, 4);
  ASSERT_EQ(up.sizes(), torch::IntArrayRef({2, 3, 28, 20}));
  EXPECT_LT((up - 0.37f).abs().max().item<double>(), 1e-6);
  // A +-1 checkerboard overshoots under bicubic; the result is clamped to [-1, 1].
  auto board = (torch::arange(64).reshape({8, 8}).remainder(2) * 2 - 1).to(torch::kFloat32);
  board = (board * (1 - 2 * (torch::arange(8).view({8, 1}).remainder(2)))).view({1, 1, 8, 8});
  auto ub = upscale_bicubic(board, 2);
  EXPECT_LE(ub.max().item<double>(), 1.0);
  EXPECT_GE(ub.min().item<double>(), -1.0);
  // Downscaling an upscaled constant gives the constant back; factor 1 is the identity.
  EXPECT_LT((downscale_area(up, 4) - c).abs().max().item<double>(), 1e-6);
  EXPECT_TRUE(torch::equal(upscale_bicubic(c, 1), c));
}

// ---------------------------------------------------------------------------
// Tiled translation through fake translators.

namespace {

// A translator without nets: out = nearest-neighbour x scale of f(x), where
// f is per-pixel (radius 0) or a (2 radius + 1)^2 box mean with replicated
// edges (radius > 0). It refuses inputs whose sides are not multiples of
// `multiple`, and records the input sizes it was given.
class FakeModel : public GanModel {
 public:
  std::string name() const override { return "fake"; }
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override { return {}; }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override { return {}; }
  Scalars step(const Batch&, StepContext&) override { return {}; }
};

class FakeTranslator : public FakeModel, public ImageTranslator {
 public:
  FakeTranslator(int64_t scale, int64_t multiple, int64_t radius = 0)
      : scale_(scale), multiple_(multiple), radius_(radius) {}
  std::vector<std::string> directions() const override { return {"AtoB", "BtoA"}; }
  int64_t scale() const override { return scale_; }
  int64_t size_multiple() const override { return multiple_; }
  torch::Tensor translate(const torch::Tensor& x, const std::string& direction) override {
    if (x.size(2) % multiple_ || x.size(3) % multiple_) throw Error("fake: input sides not multiples");
    calls.push_back(x.sizes().vec());
    return apply(x, direction, scale_, radius_);
  }
  static torch::Tensor apply(const torch::Tensor& x, const std::string& direction, int64_t scale, int64_t radius) {
    auto y = direction == "AtoB" ? torch::tanh(2 * x) * 0.5 + 0.1 : -x;
    if (radius > 0) {
      namespace F = torch::nn::functional;
      auto p = F::pad(y, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
      y = F::avg_pool2d(p, F::AvgPool2dFuncOptions(2 * radius + 1).stride(1));
    }
    // Two output channels from one: the function and its square.
    y = torch::cat({y, y * y}, 1);
    return y.repeat_interleave(scale, 2).repeat_interleave(scale, 3);
  }
  std::vector<std::vector<int64_t>> calls;

 private:
  int64_t scale_, multiple_, radius_;
};

}  // namespace

TEST(Tiles, StartsCoverTheAxis) {
  EXPECT_EQ(tile_starts(100, 32, 16), (std::vector<int64_t>{0, 16, 32, 48, 64, 68}));
  EXPECT_EQ(tile_starts(64, 32, 16), (std::vector<int64_t>{0, 16, 32}));
  EXPECT_EQ(tile_starts(32, 32, 16), (std::vector<int64_t>{0}));
  EXPECT_EQ(tile_starts(33, 32, 24), (std::vector<int64_t>{0, 1}));
  expect_user_error([] { tile_starts(10, 11, 1); }, "tile");
}

TEST(Tiles, PadToMultipleReflectsOrRepeats) {
  auto x = torch::arange(5, torch::kFloat32).view({1, 1, 1, 5}).expand({1, 1, 2, 5}).contiguous();
  auto p = pad_to_multiple(x, 4);  // w 5 -> 8 (reflect: 3, 2, 1), h 2 -> 4 (2 >= 2: repeat the edge)
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({1, 1, 4, 8}));
  for (int64_t r = 0; r < 4; ++r)
    EXPECT_TRUE(torch::equal(p[0][0][r], torch::tensor({0.f, 1.f, 2.f, 3.f, 4.f, 3.f, 2.f, 1.f}))) << r;
  EXPECT_TRUE(torch::equal(pad_to_multiple(x, 1), x));
}

TEST(Tiles, TiledEqualsUntiledForAPerPixelModel) {
  // Sizes that are and are not multiples of the tile and of the model's multiple.
  struct Case {
    int64_t h, w, tile, overlap, scale, multiple;
  };
  const std::vector<Case> cases{{64, 64, 32, 8, 2, 4},  {37, 50, 16, 4, 2, 4}, {100, 28, 24, 4, 4, 1},
                                {5, 3, 8, 2, 2, 4},     {2, 2, 4, 0, 3, 4},    {70, 45, 20, 6, 1, 2},
                                {129, 130, 128, 8, 2, 8}};
  for (const auto& c : cases) {
    FakeTranslator model(c.scale, c.multiple);
    auto x = uniform({2, 1, c.h, c.w}, uint64_t(c.h * 1000 + c.w)).to(torch::kFloat32);
    for (const std::string dir : {"AtoB", "BtoA"}) {
      auto want = FakeTranslator::apply(x, dir, c.scale, 0);  // no padding, no tiles
      TileOptions opt;
      opt.tile = c.tile, opt.overlap = c.overlap, opt.batch = 3, opt.direction = dir;
      model.calls.clear();
      auto got = translate_tiled(model, x, opt);
      ASSERT_EQ(got.sizes(), want.sizes()) << c.h << "x" << c.w;
      EXPECT_LE((got - want).abs().max().item<double>(), 1e-6) << c.h << "x" << c.w << " tile " << c.tile;
      ASSERT_FALSE(model.calls.empty());
      for (const auto& s : model.calls) {
        EXPECT_LE(s[2], std::max(c.tile, c.multiple));
        EXPECT_LE(s[0], 2 * 3);  // batch 3 tiles of 2 images
      }
    }
  }
}

TEST(Tiles, OverlapHidesTheTileEdgesOfALocalModel) {
  // A 5x5 box filter (radius 2) sees past a tile's edge; with an overlap of
  // at least 2 the seams lie where every tile had the true neighbourhood, so
  // the tiled output is the untiled one. Without overlap the edges show.
  const int64_t h = 61, w = 90;
  auto x = uniform({1, 1, h, w}, 7).to(torch::kFloat32);
  FakeTranslator model(2, 4, /*radius=*/2);
  TileOptions whole;
  whole.tile = 1024;
  auto want = translate_tiled(model, x, whole);
  ASSERT_EQ(model.calls.size(), 1u);
  EXPECT_EQ(model.calls[0], (std::vector<int64_t>{1, 1, 64, 92}));
  // The untiled result of the padded input, cropped: away from the padded
  // bottom/right edges it equals the model applied to x itself.
  auto direct = FakeTranslator::apply(x, "AtoB", 2, 2);
  EXPECT_LE((want - direct).slice(2, 0, (h - 2) * 2).slice(3, 0, (w - 2) * 2).abs().max().item<double>(), 1e-6);

  TileOptions tiled;
  tiled.tile = 24, tiled.overlap = 4;
  model.calls.clear();
  auto got = translate_tiled(model, x, tiled);
  EXPECT_GT(model.calls.size(), 1u);
  EXPECT_LE((got - want).abs().max().item<double>(), 1e-6);

  tiled.overlap = 0;
  auto seamed = translate_tiled(model, x, tiled);
  EXPECT_GT((seamed - want).abs().max().item<double>(), 1e-3);
}

TEST(Tiles, RefusesWhatCannotWork) {
  auto x = torch::zeros({1, 1, 40, 40});
  FakeModel not_translator;  // no ImageTranslator
  expect_user_error([&] { translate_tiled(not_translator, x); }, "does not translate");
  FakeTranslator model(2, 4);
  TileOptions opt;
  opt.direction = "sideways";
  expect_user_error([&] { translate_tiled(model, x, opt); }, "no direction 'sideways'");
  opt = TileOptions{};
  opt.tile = 3;
  expect_user_error([&] { translate_tiled(model, x, opt); }, "multiples of 4");
  opt.tile = 16, opt.overlap = 8;  // 16 - 2*8 = 0 < 4: no room left
  expect_user_error([&] { translate_tiled(model, x, opt); }, "leaves no room");
  opt.tile = 64;  // one tile holds the whole image: the overlap does not matter
  EXPECT_EQ(translate_tiled(model, x, opt).sizes(), torch::IntArrayRef({1, 2, 80, 80}));
}
