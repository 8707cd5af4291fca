// TransposedConv2d's oneDNN and matrix-product routes against LibTorch's
// ConvTranspose2d: same outputs and same gradients (to float rounding).
#include <gtest/gtest.h>

#include "duel/nn/conv_transpose.h"

using namespace duel;

namespace {
struct Case {
  int64_t in, out, k, s, p, h;
  bool channels_last;
};
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

INSTANTIATE_TEST_SUITE_P(DcganLayers, TransposedConv,
                         ::testing::Values(Case{16, 32, 4, 1, 0, 1, false},   // 1x1 -> 4x4 (matrix product)
                                           Case{32, 16, 3, 2, 1, 4, false},   // 4 -> 7
                                           Case{16, 8, 4, 2, 1, 7, true},     // 7 -> 14, NHWC
                                           Case{8, 3, 4, 2, 1, 14, false},    // narrow output: LibTorch path
                                           Case{12, 10, 5, 3, 2, 6, false},   // odd kernel/stride
                                           Case{16, 32, 4, 1, 0, 1, true}));
