// The Winograd 4x4 stride-2 convolution and transposed convolution against
// LibTorch's direct ones computed in float64: outputs, input gradients and
// weight gradients, for both tile sizes, square and non-square images; and
// the same bits on one thread as on two.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "duel/nn/winograd.h"

using namespace duel;

namespace {

// Largest |a - b| over the largest |b|.
double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b).abs().max().item<double>() / b.abs().max().item<double>();
}

struct Grads {
  torch::Tensor y, dx, dw;
};

// y = f(x, w) and the gradients of sum(y * g).
template <typename F>
Grads run(F f, const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& g) {
  auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
  auto y = f(x, w);
  (y * g.to(y.scalar_type())).sum().backward();
  return {y.detach(), x.grad(), w.grad()};
}

void expect_close(const Grads& got, const Grads& want, double tol) {
  EXPECT_LT(rel_err(got.y, want.y), tol);
  EXPECT_LT(rel_err(got.dx, want.dx), tol);
  EXPECT_LT(rel_err(got.dw, want.dw), tol);
}

struct Case {
  int64_t n, c, o, h, w;
};

}  // namespace

TEST(Winograd, ConvolutionMatchesDirectForBothTileSizes) {
  // out 8x8 (F(4,2)), 4x4 (F(2,2); with 32 tiles, so the 9 products are cut in halves), 8x4 and 2x2
  for (const Case& k : {Case{3, 16, 24, 16, 16}, Case{2, 20, 16, 8, 8}, Case{8, 16, 24, 8, 8}, Case{2, 16, 17, 16, 8},
                        Case{1, 32, 16, 4, 4}}) {
    torch::manual_seed(k.c + k.h);
    const auto x = torch::randn({k.n, k.c, k.h, k.w}), w = torch::randn({k.o, k.c, 4, 4}) * 0.1;
    const auto g = torch::randn({k.n, k.o, k.h / 2, k.w / 2}, torch::kFloat64);
    const Grads want = run([](auto x, auto w) { return torch::conv2d(x, w, {}, 2, 1); }, x.to(torch::kFloat64),
                           w.to(torch::kFloat64), g);
    const Grads got = run([](auto x, auto w) { return winograd_conv4s2(x, w); }, x, w, g);
    SCOPED_TRACE("conv " + std::to_string(k.h) + "x" + std::to_string(k.w) + " tile " +
                 std::to_string(winograd_tile(k.h / 2, k.w / 2)));
    expect_close(got, want, 1e-5);
  }
}

TEST(Winograd, TransposedConvolutionMatchesDirect) {
  // x [n, c, h, w] -> [n, o, 2h, 2w]; the tile follows the input size
  for (const Case& k : {Case{2, 24, 16, 8, 8}, Case{3, 16, 20, 4, 4}, Case{2, 16, 16, 4, 8}}) {
    torch::manual_seed(k.c * k.h);
    const auto x = torch::randn({k.n, k.c, k.h, k.w}), w = torch::randn({k.c, k.o, 4, 4}) * 0.1;
    const auto g = torch::randn({k.n, k.o, 2 * k.h, 2 * k.w}, torch::kFloat64);
    const Grads want = run([](auto x, auto w) { return torch::conv_transpose2d(x, w, {}, 2, 1); },
                           x.to(torch::kFloat64), w.to(torch::kFloat64), g);
    const Grads got = run([](auto x, auto w) { return winograd_conv_transpose4s2(x, w); }, x, w, g);
    SCOPED_TRACE("conv transpose " + std::to_string(k.h) + "x" + std::to_string(k.w));
    expect_close(got, want, 1e-5);
  }
}

TEST(Winograd, TileSizesAndEligibility) {
  EXPECT_EQ(winograd_tile(16, 16), 4);
  EXPECT_EQ(winograd_tile(8, 8), 4);
  EXPECT_EQ(winograd_tile(4, 4), 2);
  EXPECT_EQ(winograd_tile(12, 8), 4);
  EXPECT_EQ(winograd_tile(6, 6), 2);
  EXPECT_TRUE(winograd_applies(128, 256, 8, 8));
  EXPECT_TRUE(winograd_applies(256, 128, 4, 4));
  EXPECT_FALSE(winograd_applies(3, 64, 32, 32));    // an RGB input
  EXPECT_TRUE(winograd_applies(64, 128, 16, 16));
  EXPECT_FALSE(winograd_applies(32, 64, 32, 32));   // too few input channels to pay off
  EXPECT_FALSE(winograd_applies(128, 8, 32, 32));   // a narrow output
  EXPECT_FALSE(winograd_applies(128, 256, 7, 7));   // an odd output
}

TEST(Winograd, SameBitsOnOneThreadAsOnTwo) {
  torch::manual_seed(3);
  const auto x = torch::randn({4, 16, 16, 16}), w = torch::randn({32, 16, 4, 4}) * 0.1;
  const auto g = torch::randn({4, 32, 8, 8});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const Grads one = run([](auto x, auto w) { return winograd_conv4s2(x, w); }, x, w, g);
  at::set_num_threads(2);
  const Grads two = run([](auto x, auto w) { return winograd_conv4s2(x, w); }, x, w, g);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.y, two.y));
  EXPECT_TRUE(torch::equal(one.dx, two.dx));
  EXPECT_TRUE(torch::equal(one.dw, two.dw));
}
