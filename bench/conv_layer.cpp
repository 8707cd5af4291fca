// duel-bench-conv: one 4x4 stride-2 padding-1 layer of the dcgan family timed
// on both CPU routes, direct (oneDNN: LibTorch's convolution, and duel's
// transposed convolution on oneDNN, nn/conv_transpose.h) and Winograd
// (src/nn/winograd.cpp), as the convolution and as its transpose, forward
// alone and forward plus backward (both gradients). Prints one JSON line of
// milliseconds (best of --reps after a warm-up run) and whether
// winograd_applies() picks the Winograd route for the layer.
//
//   duel-bench-conv --in 64 --out 128 --size 32 [--batch 64] [--threads 2] [--reps 5]
//
// --size is the convolution's input side (the transpose's output side).
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "duel/core/threads.h"
#include "duel/nn/conv_transpose.h"
#include "duel/nn/winograd.h"

namespace {

double best_ms(int reps, const std::function<void()>& f) {
  f();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

at::Tensor nhwc(const at::Tensor& t) { return t.contiguous(at::MemoryFormat::ChannelsLast); }

}  // namespace

int main(int argc, char** argv) {
  int64_t in = 0, out = 0, size = 0, batch = 64;
  int threads = 2, reps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
      return 2;
    }
    const long long v = std::atoll(argv[++i]);
    if (a == "--in") in = v;
    else if (a == "--out") out = v;
    else if (a == "--size") size = v;
    else if (a == "--batch") batch = v;
    else if (a == "--threads") threads = int(v);
    else if (a == "--reps") reps = int(v);
    else {
      std::fprintf(stderr, "usage: duel-bench-conv --in C --out O --size S [--batch N] [--threads T] [--reps R]\n");
      return 2;
    }
  }
  if (in < 1 || out < 1 || batch < 1 || reps < 1 || threads < 1 || size < 4 || size % 4 != 0) {
    std::fprintf(stderr, "error: --in, --out, --batch, --reps and --threads must be positive and --size a multiple of 4 (got %lld)\n",
                 (long long)size);
    return 2;
  }
  duel::configure_threads(threads);
  torch::manual_seed(0);
  const int64_t half = size / 2;
  const auto x = nhwc(torch::randn({batch, in, size, size})).requires_grad_(true);
  const auto w = (torch::randn({out, in, 4, 4}) * 0.02).requires_grad_(true);
  const auto dy = nhwc(torch::randn({batch, out, half, half}));
  const auto xt = nhwc(torch::randn({batch, out, half, half})).requires_grad_(true);
  const auto wt = (torch::randn({out, in, 4, 4}) * 0.02).requires_grad_(true);  // [I, O, 4, 4] of the transpose
  const auto dyt = nhwc(torch::randn({batch, in, size, size}));
  auto conv = [&](bool wino) { return wino ? duel::winograd_conv4s2(x, w) : at::conv2d(x, w, {}, 2, 1); };
  auto convt = [&](bool wino) {
    return wino ? duel::winograd_conv_transpose4s2(xt, wt) : duel::conv_transpose2d_onednn(xt, wt, 2, 1);
  };
  double ms[2][4];
  for (int wino = 0; wino < 2; ++wino) {
    ms[wino][0] = best_ms(reps, [&] { torch::NoGradGuard g; conv(wino); });
    ms[wino][1] = best_ms(reps, [&] { conv(wino).backward(dy); });
    ms[wino][2] = best_ms(reps, [&] { torch::NoGradGuard g; convt(wino); });
    ms[wino][3] = best_ms(reps, [&] { convt(wino).backward(dyt); });
  }
  std::printf(
      "{\"in\": %lld, \"out\": %lld, \"size\": %lld, \"batch\": %lld, \"threads\": %d, \"winograd_applies\": %s, "
      "\"conv_fwd_ms\": [%.2f, %.2f], \"conv_fwd_bwd_ms\": [%.2f, %.2f], \"convt_fwd_ms\": [%.2f, %.2f], "
      "\"convt_fwd_bwd_ms\": [%.2f, %.2f], \"order\": [\"direct\", \"winograd\"]}\n",
      (long long)in, (long long)out, (long long)size, (long long)batch, threads,
      duel::winograd_applies(in, out, half, half) ? "true" : "false", ms[0][0], ms[1][0], ms[0][1], ms[1][1], ms[0][2],
      ms[1][2], ms[0][3], ms[1][3]);
  return 0;
}
