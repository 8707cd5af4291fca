// TransposedConv2d's oneDNN and matrix-product routes against LibTorch's
// ConvTranspose2d: same outputs and same gradients (to float rounding); and
// both routes (the narrow-output case, where both are LibTorch, included)
// against an independent transposed convolution written as plain loops.
#include <gtest/gtest.h>

#include "duel/core/autocast.h"
#include "duel/nn/spectral_norm.h"
#include "duel/nn/conv_transpose.h"

using namespace duel;

namespace {
struct Case {
  int64_t in, out, k, s, p, h;
  bool channels_last;
};

// The definition, in double, with plain loops: every input pixel (iy, ix)
// scatters x * W[i, o] into the output at (iy * s - p + ky, ix * s - p + kx),
// positions outside the output dropped. With an upstream gradient g it also
// returns the gradients of sum(y * g): dx, dW and db.
struct Reference {
  torch::Tensor y, dx, dw, db;
};
Reference loops(const torch::Tensor& x_in, const torch::Tensor& w_in, const torch::Tensor& b_in,
                const torch::Tensor& g_in, int64_t s, int64_t p) {
  auto x = x_in.to(torch::kFloat64).contiguous(), w = w_in.to(torch::kFloat64).contiguous();
  auto b = b_in.to(torch::kFloat64).contiguous();
  const int64_t N = x.size(0), I = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(1), K = w.size(2);
  const int64_t OH = (H - 1) * s - 2 * p + K, OW = (W - 1) * s - 2 * p + K;
  Reference r;
  r.y = torch::zeros({N, O, OH, OW}, torch::kFloat64);
  r.dx = torch::zeros_like(x);
  r.dw = torch::zeros_like(w);
  r.db = torch::zeros({O}, torch::kFloat64);
  const bool with_grad = g_in.defined();
  auto g = with_grad ? g_in.to(torch::kFloat64).contiguous() : torch::zeros({N, O, OH, OW}, torch::kFloat64);
  auto xa = x.accessor<double, 4>(), wa = w.accessor<double, 4>(), ga = g.accessor<double, 4>();
  auto ya = r.y.accessor<double, 4>(), dxa = r.dx.accessor<double, 4>(), dwa = r.dw.accessor<double, 4>();
  auto ba = b.accessor<double, 1>();
  auto dba = r.db.accessor<double, 1>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox = 0; ox < OW; ++ox) {
          ya[n][o][oy][ox] = ba[o];
          dba[o] += ga[n][o][oy][ox];
        }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t iy = 0; iy < H; ++iy)
        for (int64_t ix = 0; ix < W; ++ix)
          for (int64_t o = 0; o < O; ++o)
            for (int64_t ky = 0; ky < K; ++ky)
              for (int64_t kx = 0; kx < K; ++kx) {
                const int64_t oy = iy * s - p + ky, ox = ix * s - p + kx;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                ya[n][o][oy][ox] += xa[n][i][iy][ix] * wa[i][o][ky][kx];
                dxa[n][i][iy][ix] += ga[n][o][oy][ox] * wa[i][o][ky][kx];
                dwa[i][o][ky][kx] += ga[n][o][oy][ox] * xa[n][i][iy][ix];
              }
  return r;
}

bool close(const torch::Tensor& got, const torch::Tensor& want, double rtol, double atol) {
  return torch::allclose(got.to(torch::kFloat64), want, rtol, atol);
}
}  // namespace

class TransposedConv : public ::testing::TestWithParam<Case> {};

TEST_P(TransposedConv, MatchesLibTorch) {
  const Case c = GetParam();
  torch::manual_seed(3);
  TransposedConv2d fast(TransposedConv2dOptions(c.in, c.out, c.k).stride(c.s).padding(c.p).bias(true));
  TransposedConv2d slow(TransposedConv2dOptions(c.in, c.out, c.k).stride(c.s).padding(c.p).bias(true).fast(false));
  {
    torch::NoGradGuard g;
    slow->conv->weight.copy_(fast->conv->weight);
    slow->conv->bias.copy_(fast->conv->bias);
  }
  auto x = torch::randn({5, c.in, c.h, c.h});
  if (c.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  auto xf = x.clone().requires_grad_(true), xs = x.clone().requires_grad_(true);
  auto yf = fast->forward(xf), ys = slow->forward(xs);
  ASSERT_EQ(yf.sizes(), ys.sizes());
  EXPECT_TRUE(torch::allclose(yf, ys, 1e-4, 1e-5));
  auto g = torch::randn_like(ys);
  (yf * g).sum().backward();
  (ys * g).sum().backward();
  EXPECT_TRUE(torch::allclose(xf.grad(), xs.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(fast->conv->weight.grad(), slow->conv->weight.grad(), 1e-4, 1e-3));
  EXPECT_TRUE(torch::allclose(fast->conv->bias.grad(), slow->conv->bias.grad(), 1e-4, 1e-3));
}

// Both routes against the loops above, forward and backward. The narrow-output
// case (8 -> 3 channels) takes LibTorch's route on both sides of MatchesLibTorch,
// so this is its only independent check.
TEST_P(TransposedConv, MatchesDirectLoops) {
  const Case c = GetParam();
  torch::manual_seed(5);
  for (bool fast_route : {true, false}) {
    SCOPED_TRACE(fast_route ? "fast route" : "LibTorch route");
    TransposedConv2d m(TransposedConv2dOptions(c.in, c.out, c.k).stride(c.s).padding(c.p).bias(true).fast(fast_route));
    auto x = torch::randn({3, c.in, c.h, c.h});
    if (c.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    x.requires_grad_(true);
    auto y = m->forward(x);
    auto g = torch::randn_like(y);
    Reference r = loops(x.detach(), m->conv->weight.detach(), m->conv->bias.detach(), g, c.s, c.p);
    ASSERT_EQ(y.sizes(), r.y.sizes());
    EXPECT_TRUE(close(y, r.y, 1e-4, 1e-5)) << "max |diff| " << (y.to(torch::kFloat64) - r.y).abs().max().item<double>();
    (y * g).sum().backward();
    EXPECT_TRUE(close(x.grad(), r.dx, 1e-4, 1e-4)) << "dx max |diff| " << (x.grad().to(torch::kFloat64) - r.dx).abs().max().item<double>();
    EXPECT_TRUE(close(m->conv->weight.grad(), r.dw, 1e-4, 1e-3)) << "dW";
    EXPECT_TRUE(close(m->conv->bias.grad(), r.db, 1e-4, 1e-3)) << "db";
  }
}

INSTANTIATE_TEST_SUITE_P(DcganLayers, TransposedConv,
                         ::testing::Values(Case{16, 32, 4, 1, 0, 1, false},   // 1x1 -> 4x4 (matrix product)
                                           Case{32, 16, 3, 2, 1, 4, false},   // 4 -> 7
                                           Case{16, 8, 4, 2, 1, 7, true},     // 7 -> 14, NHWC
                                           Case{8, 3, 4, 2, 1, 14, false},    // narrow output: LibTorch path
                                           Case{12, 10, 5, 3, 2, 6, false},   // odd kernel/stride
                                           Case{16, 32, 4, 1, 0, 1, true}));

// perf.amp = bf16 on CPU: transposed convolutions run in bfloat16 (close to
// float32), narrow outputs and narrow-input convolutions stay float32, and
// the convolution keeps a Conv2d's parameter names (checkpoints load as before).
TEST(CpuAutocast, TransposedConvInBfloat16NarrowLayersInFloat32) {
  torch::manual_seed(3);
  duel::TransposedConv2d wide(duel::TransposedConv2dOptions(16, 32, 4).stride(2).padding(1));
  duel::TransposedConv2d narrow(duel::TransposedConv2dOptions(16, 3, 4).stride(2).padding(1));
  auto x = torch::randn({4, 16, 8, 8});
  const auto ref_wide = wide->forward(x), ref_narrow = narrow->forward(x);
  auto conv = duel::make_conv2d(torch::nn::Conv2dOptions(3, 8, 4).stride(2).padding(1).bias(false), false);
  auto img = torch::randn({4, 3, 16, 16});
  const auto ref_conv = conv.forward(img);
  {
    duel::AutocastScope amp(true, /*cpu=*/true);
    ASSERT_TRUE(duel::AutocastScope::cpu_enabled());
    auto y = wide->forward(x);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
    const double rel = (y.to(torch::kFloat32) - ref_wide).norm().item<double>() / ref_wide.norm().item<double>();
    EXPECT_LT(rel, 0.02);
    EXPECT_GT(rel, 0.0);  // it did run in bfloat16
    auto yn = narrow->forward(x.to(torch::kBFloat16));
    EXPECT_EQ(yn.scalar_type(), torch::kFloat32);
    EXPECT_LT((yn - ref_narrow).abs().max().item<double>(), 0.05);  // only the input's rounding to bfloat16
    auto c = conv.forward(img);
    EXPECT_EQ(c.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(c.allclose(ref_conv, 1e-5, 1e-6));
  }
  EXPECT_FALSE(duel::AutocastScope::cpu_enabled());
  std::vector<std::string> names;
  for (const auto& p : conv.ptr()->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, std::vector<std::string>{"weight"});
}
