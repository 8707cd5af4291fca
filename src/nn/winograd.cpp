// Winograd F(m x m, 2 x 2) for 4x4 stride-2 convolutions: see the header for
// the algebra. Images are channels-last (NHWC) throughout; the transformed
// tensors are [(m+1)^2 positions, tiles, channels], so each position's
// product is one row-major matrix product.
#include "duel/nn/winograd.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

// at::parallel_for is a serial loop in a file compiled without OpenMP: the kernels below would run on
// one thread whatever the thread count (CMakeLists.txt compiles this file with OpenMP).
#ifndef _OPENMP
#error "src/nn/winograd.cpp must be compiled with OpenMP (-fopenmp)"
#endif
#include <torch/autograd.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <vector>

// The transform loops are plain C++ whose inner loops run over channels;
// on x86-64 they are compiled for AVX-512, AVX2 and the baseline, and the
// loader picks the best the CPU has.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define DUEL_X86_GCC 1
#include <immintrin.h>
#else
#define DUEL_X86_GCC 0
#endif
#if DUEL_X86_GCC
#define DUEL_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DUEL_VECTOR_CLONES
#endif

namespace duel {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// F(m, 2) in one dimension: y = A^T [(G g) * (B^T d)] for d of m+1 inputs and
// g of 2 taps. Rows of B^T are scaled to integers (the scale moves into G).
struct Transforms {
  int64_t n;        // inputs per tile (m + 1)
  const float* at;  // A^T [m][n]
  const float* g;   // G   [n][2]
  const float* bt;  // B^T [n][n]
};
// Points 0, -1, infinity.
constexpr float kAt2[] = {1, 1, 0, 0, -1, 1};
constexpr float kG2[] = {1, 0, 1, -1, 0, 1};
constexpr float kBt2[] = {1, 1, 0, 0, -1, 0, 0, 1, 1};
// Points 0, 1, -1, 1/2, infinity.
constexpr float kAt4[] = {1, 1, 1, 1, 0, 0, 1, -1, 0.5f, 0, 0, 1, 1, 0.25f, 0, 0, 1, -1, 0.125f, 1};
constexpr float kG4[] = {1, 0, 0.5f, 0.5f, 1.0f / 6, -1.0f / 6, 8.0f / 3, 4.0f / 3, 0, 0.5f};
constexpr float kBt4[] = {1, -2, -1, 2, 0, 0, -1, 1, 2, 0, 0, -1, 3, -2, 0, 0, 1, 0, -1, 0, 0, 1, -2, -1, 2};

const Transforms& transforms(int64_t m) {
  static const Transforms t2{3, kAt2, kG2, kBt2}, t4{5, kAt4, kG4, kBt4};
  return m == 4 ? t4 : t2;
}

// The convolution's shapes: input [N, H, W, C] (NHWC), output [N, Ho, Wo, O],
// Ho x Wo cut into th x tw tiles of m x m.
struct Geometry {
  int64_t N, C, H, W, O, Ho, Wo, m, n, th, tw;
  int64_t vstride, mstride;  // between positions of V, dV [n^2, tiles, 4C] and of M, dM [n^2, tiles, O]
  int64_t tiles() const { return N * th * tw; }
  int64_t positions() const { return n * n; }
  int64_t cp() const { return 4 * C; }  // space-to-depth channels, order (dy, dx, c)
};

Geometry geometry(int64_t N, int64_t C, int64_t H, int64_t W, int64_t O, int64_t m) {
  TORCH_CHECK(H % 2 == 0 && W % 2 == 0 && (H / 2) % m == 0 && (W / 2) % m == 0,
              "winograd: input ", H, "x", W, " does not tile by ", m);
  Geometry g{N, C, H, W, O, H / 2, W / 2, m, m + 1, H / 2 / m, W / 2 / m, 0, 0};
  // Padded by a cache line: with power-of-two sizes the (m+1)^2 rows that a tile reads or writes
  // would otherwise all map to the same cache sets.
  g.vstride = g.tiles() * g.cp() + 16;
  g.mstride = g.tiles() * O + 16;
  return g;
}

constexpr int64_t kChunk = 64;  // channels per pass, so a tile's temporaries stay in L1
using Tmp = float[5][5][kChunk];

// The input pixels of a tile: row a, column b of the (m+1) x (m+1) block of
// phase (dy, dx) of the padded, space-to-depth input, or null for padding.
// A tile's image and its row and column among the image's th x tw tiles.
struct TilePos {
  int64_t img, ti, tj;
};
inline TilePos tile_pos(const Geometry& g, int64_t tile) { return {tile / (g.th * g.tw), tile / g.tw % g.th, tile % g.tw}; }

template <typename T>
void tile_rows(T* x, const Geometry& g, int64_t tile, int64_t ph, T* rows[5][5]) {
  const auto [img, ti, tj] = tile_pos(g, tile);
  for (int64_t a = 0; a < g.n; ++a)
    for (int64_t b = 0; b < g.n; ++b) {
      const int64_t iy = 2 * (g.m * ti + a) + ph / 2 - 1, ix = 2 * (g.m * tj + b) + ph % 2 - 1;
      const bool inside = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
      rows[a][b] = inside ? x + ((img * g.H + iy) * g.W + ix) * g.C : nullptr;
    }
}

// Offset of pixel (i, j) of a tile's m x m output block in the NHWC output [N, Ho, Wo, O].
inline int64_t out_pixel(const Geometry& g, int64_t tile, int64_t i, int64_t j) {
  const auto [img, ti, tj] = tile_pos(g, tile);
  return ((img * g.Ho + g.m * ti + i) * g.Wo + g.m * tj + j) * g.O;
}

// o[0..len) += k * s[0..len)
inline void axpy(float* __restrict o, const float* __restrict s, float k, int64_t len) {
  for (int64_t c = 0; c < len; ++c) o[c] += k * s[c];
}

// dst[0..len) = src[0..len). Rows of the transformed tensors are written once and read only by
// the next pass, after many more megabytes: on AVX-512 they bypass the cache (non-temporal stores),
// which leaves the cache to the rows being read and saves reading each line before writing it.
#if DUEL_X86_GCC
__attribute__((target("avx512f"))) void stream_row_avx512(float* dst, const float* src, int64_t len) {
  int64_t c = 0;
  for (; c + 16 <= len; c += 16) _mm512_stream_ps(dst + c, _mm512_loadu_ps(src + c));
  for (; c < len; ++c) dst[c] = src[c];
}
const bool kStream = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f"));
inline void store_row(float* dst, const float* src, int64_t len) {
  if (kStream && (reinterpret_cast<uintptr_t>(dst) & 63) == 0) stream_row_avx512(dst, src, len);
  else std::copy_n(src, len, dst);
}
inline void store_fence() { _mm_sfence(); }
#else
inline void store_row(float* dst, const float* src, int64_t len) { std::copy_n(src, len, dst); }
inline void store_fence() {}
#endif

// V[alpha, beta][tile][ph*C + c] = sum_ab B^T[alpha][a] B^T[beta][b] d[a][b][c] for tiles [t0, t1).
DUEL_VECTOR_CLONES void input_transform(const float* x, float* v, const Geometry& g, const Transforms& t, int64_t t0,
                                        int64_t t1) {
  Tmp tmp;
  const float* rows[5][5];
  const int64_t n = g.n, cp = g.cp();
  for (int64_t tile = t0; tile < t1; ++tile)
    for (int64_t ph = 0; ph < 4; ++ph) {
      tile_rows(x, g, tile, ph, rows);
      for (int64_t c0 = 0; c0 < g.C; c0 += kChunk) {
        const int64_t len = std::min(kChunk, g.C - c0);
        for (int64_t a = 0; a < n; ++a)
          for (int64_t be = 0; be < n; ++be) {
            std::fill_n(tmp[a][be], len, 0.0f);
            for (int64_t b = 0; b < n; ++b)
              if (t.bt[be * n + b] != 0 && rows[a][b]) axpy(tmp[a][be], rows[a][b] + c0, t.bt[be * n + b], len);
          }
        for (int64_t al = 0; al < n; ++al)
          for (int64_t be = 0; be < n; ++be) {
            float o[kChunk] = {};
            for (int64_t a = 0; a < n; ++a)
              if (t.bt[al * n + a] != 0) axpy(o, tmp[a][be], t.bt[al * n + a], len);
            store_row(v + (al * n + be) * g.vstride + tile * cp + ph * g.C + c0, o, len);
          }
      }
    }
  store_fence();
}

// The adjoint of input_transform: dx[a][b][c] += sum_{alpha,beta} B^T[alpha][a] B^T[beta][b] dV[...],
// for the images [i0, i1) (tiles overlap within an image, so one thread owns each image).
DUEL_VECTOR_CLONES void input_scatter(const float* dv, float* dx, const Geometry& g, const Transforms& t, int64_t i0,
                                      int64_t i1) {
  Tmp tmp;
  float* rows[5][5];
  const int64_t n = g.n, cp = g.cp();
  for (int64_t tile = i0 * g.th * g.tw; tile < i1 * g.th * g.tw; ++tile) {
    // Each image's gradient is cleared just before its tiles add into it, while it is in cache.
    if (tile % (g.th * g.tw) == 0) std::fill_n(dx + tile / (g.th * g.tw) * g.H * g.W * g.C, g.H * g.W * g.C, 0.0f);
    for (int64_t ph = 0; ph < 4; ++ph) {
      tile_rows(dx, g, tile, ph, rows);
      for (int64_t c0 = 0; c0 < g.C; c0 += kChunk) {
        const int64_t len = std::min(kChunk, g.C - c0);
        for (int64_t al = 0; al < n; ++al)
          for (int64_t b = 0; b < n; ++b) {
            std::fill_n(tmp[al][b], len, 0.0f);
            for (int64_t be = 0; be < n; ++be)
              if (t.bt[be * n + b] != 0)
                axpy(tmp[al][b], dv + (al * n + be) * g.vstride + tile * cp + ph * g.C + c0, t.bt[be * n + b], len);
          }
        for (int64_t a = 0; a < n; ++a)
          for (int64_t b = 0; b < n; ++b)
            if (rows[a][b])
              for (int64_t al = 0; al < n; ++al)
                if (t.bt[al * n + a] != 0) axpy(rows[a][b] + c0, tmp[al][b], t.bt[al * n + a], len);
      }
    }
  }
}

// y[i][j][o] = sum_{alpha,beta} A^T[i][alpha] A^T[j][beta] M[alpha, beta][tile][o] for tiles [t0, t1).
DUEL_VECTOR_CLONES void output_transform(const float* mm, float* y, const Geometry& g, const Transforms& t, int64_t t0,
                                         int64_t t1) {
  Tmp tmp;
  const int64_t n = g.n, m = g.m;
  for (int64_t tile = t0; tile < t1; ++tile) {
    for (int64_t o0 = 0; o0 < g.O; o0 += kChunk) {
      const int64_t len = std::min(kChunk, g.O - o0);
      for (int64_t al = 0; al < n; ++al)
        for (int64_t j = 0; j < m; ++j) {
          std::fill_n(tmp[al][j], len, 0.0f);
          for (int64_t be = 0; be < n; ++be)
            if (t.at[j * n + be] != 0)
              axpy(tmp[al][j], mm + (al * n + be) * g.mstride + tile * g.O + o0, t.at[j * n + be], len);
        }
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < m; ++j) {
          float o[kChunk] = {};
          for (int64_t al = 0; al < n; ++al)
            if (t.at[i * n + al] != 0) axpy(o, tmp[al][j], t.at[i * n + al], len);
          std::copy_n(o, len, y + out_pixel(g, tile, i, j) + o0);
        }
    }
  }
}

// The adjoint of output_transform: dM[alpha, beta][tile][o] = sum_ij A^T[i][alpha] A^T[j][beta] dy[i][j][o].
DUEL_VECTOR_CLONES void output_gather(const float* dy, float* dm, const Geometry& g, const Transforms& t, int64_t t0,
                                      int64_t t1) {
  Tmp tmp;
  const int64_t n = g.n, m = g.m;
  for (int64_t tile = t0; tile < t1; ++tile) {
    for (int64_t o0 = 0; o0 < g.O; o0 += kChunk) {
      const int64_t len = std::min(kChunk, g.O - o0);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t be = 0; be < n; ++be) {
          std::fill_n(tmp[i][be], len, 0.0f);
          for (int64_t j = 0; j < m; ++j)
            if (t.at[j * n + be] != 0)
              axpy(tmp[i][be], dy + out_pixel(g, tile, i, j) + o0, t.at[j * n + be], len);
        }
      for (int64_t al = 0; al < n; ++al)
        for (int64_t be = 0; be < n; ++be) {
          float o[kChunk] = {};
          for (int64_t i = 0; i < m; ++i)
            if (t.at[i * n + al] != 0) axpy(o, tmp[i][be], t.at[i * n + al], len);
          store_row(dm + (al * n + be) * g.mstride + tile * g.O + o0, o, len);
        }
    }
  }
  store_fence();
}

// [positions, rows, cols] with row-major matrices `stride` floats apart.
at::Tensor positions_empty(int64_t positions, int64_t rows, int64_t cols, int64_t stride, const at::TensorOptions& o) {
  return at::empty({positions * stride}, o).as_strided({positions, rows, cols}, {stride, cols, 1});
}

// The tensor-level passes. Images are [N, channels, H, W] with channels-last strides.
at::Tensor to_tiles(const at::Tensor& x, const Geometry& g) {  // x [N, C, H, W] -> V [n^2, tiles, 4C]
  const auto xc = x.contiguous(at::MemoryFormat::ChannelsLast);
  auto v = positions_empty(g.positions(), g.tiles(), g.cp(), g.vstride, x.options());
  const float* src = xc.data_ptr<float>();
  float* dst = v.data_ptr<float>();
  at::parallel_for(0, g.tiles(), 1, [&](int64_t t0, int64_t t1) { input_transform(src, dst, g, transforms(g.m), t0, t1); });
  return v;
}

at::Tensor from_tiles(const at::Tensor& dv, const Geometry& g) {  // dV [n^2, tiles, 4C] -> dx [N, C, H, W]
  TORCH_CHECK(dv.stride(0) == g.vstride, "winograd: unexpected layout");
  auto dx = at::empty({g.N, g.C, g.H, g.W}, dv.options().memory_format(at::MemoryFormat::ChannelsLast));
  const float* src = dv.data_ptr<float>();
  float* dst = dx.data_ptr<float>();
  at::parallel_for(0, g.N, 1, [&](int64_t i0, int64_t i1) { input_scatter(src, dst, g, transforms(g.m), i0, i1); });
  return dx;
}

at::Tensor to_image(const at::Tensor& mm, const Geometry& g) {  // M [n^2, tiles, O] -> y [N, O, Ho, Wo]
  TORCH_CHECK(mm.stride(0) == g.mstride, "winograd: unexpected layout");
  auto y = at::empty({g.N, g.O, g.Ho, g.Wo}, mm.options().memory_format(at::MemoryFormat::ChannelsLast));
  const float* src = mm.data_ptr<float>();
  float* dst = y.data_ptr<float>();
  at::parallel_for(0, g.tiles(), 1, [&](int64_t t0, int64_t t1) { output_transform(src, dst, g, transforms(g.m), t0, t1); });
  return y;
}

at::Tensor from_image(const at::Tensor& dy, const Geometry& g) {  // dy [N, O, Ho, Wo] -> dM [n^2, tiles, O]
  const auto dyc = dy.contiguous(at::MemoryFormat::ChannelsLast);
  auto dm = positions_empty(g.positions(), g.tiles(), g.O, g.mstride, dy.options());
  const float* src = dyc.data_ptr<float>();
  float* dst = dm.data_ptr<float>();
  at::parallel_for(0, g.tiles(), 1, [&](int64_t t0, int64_t t1) { output_gather(src, dst, g, transforms(g.m), t0, t1); });
  return dm;
}

// oneDNN's row-major single-precision GEMM, from the oneDNN library that LibTorch loads (its C API:
// dnnl_sgemm(transa, transb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)); null where that library
// does not export it, and then LibTorch's matrix product serves. Inside a parallel region it runs on the
// calling thread. It is the faster of the two here: the 25 products of a 64-channel layer at 64 px ran at
// 190-204 GFLOP/s on 2 threads against OpenBLAS's 160-163 (docs/performance.md); and OpenBLAS built with
// threads of its own serialises concurrent calls unless OPENBLAS_NUM_THREADS=1.
using Sgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
                      float*, int64_t);
Sgemm onednn_sgemm() {
  static const auto f = reinterpret_cast<Sgemm>(::dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  return f;
}

// out[p] = op(a[p]) op(b[p]) for every position p, each product single-threaded, the products spread
// over the threads. An odd number of positions is cut into twice as many half-height products, which
// two threads share evenly; the cut does not depend on the thread count, nor then does the result.
at::Tensor batched_mm(const at::Tensor& a_in, bool ta, const at::Tensor& b_in, bool tb, int64_t out_stride = 0) {
  const auto rowwise = [](const at::Tensor& t) { return t.stride(2) == 1 && t.stride(1) == t.size(2) ? t : t.contiguous(); };
  const at::Tensor a = rowwise(a_in), b = rowwise(b_in);
  const int64_t rows = ta ? a.size(2) : a.size(1), cols = tb ? b.size(1) : b.size(2), inner = ta ? a.size(1) : a.size(2);
  if (out_stride == 0) out_stride = rows * cols;
  auto out = positions_empty(a.size(0), rows, cols, out_stride, a.options());
  const int64_t parts = a.size(0) % 2 == 1 && rows >= 32 ? 2 : 1;
  const Sgemm sgemm = onednn_sgemm();
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, a.size(0) * parts, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t p = i / parts, r0 = rows * (i % parts) / parts, r1 = rows * (i % parts + 1) / parts;
      if (sgemm) {
        // rows r0.. of op(a): rows of a, or columns of a when transposed
        const float* ap = pa + p * a.stride(0) + (ta ? r0 : r0 * a.size(2));
        const int status = sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', r1 - r0, cols, inner, 1.0f, ap, a.size(2),
                                 pb + p * b.stride(0), b.size(2), 0.0f, po + p * out_stride + r0 * cols, cols);
        TORCH_CHECK(status == 0, "winograd: dnnl_sgemm failed with status ", status);
      } else {
        const at::Tensor ap = ta ? a.select(0, p).t() : a.select(0, p), bp = b.select(0, p);
        at::Tensor op = out.select(0, p).narrow(0, r0, r1 - r0);
        at::mm_out(op, ap.narrow(0, r0, r1 - r0), tb ? bp.t() : bp);
      }
    }
  });
  return out;
}

// The weight transform's coefficients: row (alpha, beta), column (ky, kx) holds G[alpha][ky] G[beta][kx].
std::vector<float> weight_matrix(int64_t m) {
  const Transforms& t = transforms(m);
  std::vector<float> k(t.n * t.n * 4);
  for (int64_t al = 0; al < t.n; ++al)
    for (int64_t be = 0; be < t.n; ++be)
      for (int64_t ky = 0; ky < 2; ++ky)
        for (int64_t kx = 0; kx < 2; ++kx) k[(al * t.n + be) * 4 + ky * 2 + kx] = t.g[al * 2 + ky] * t.g[be * 2 + kx];
  return k;
}

// Tap (2ky + dy, 2kx + dx) of the 4x4 kernel, as an index 0..15, for kk = (ky, kx) and ph = (dy, dx).
inline int64_t kernel_tap(int64_t kk, int64_t ph) { return (2 * (kk / 2) + ph / 2) * 4 + 2 * (kk % 2) + ph % 2; }

// U[p][ph*C + c][o] = sum_k K[p][k] w[o][c][2ky + dy][2kx + dx] for input channels [c0, c1), where
// ph = (dy, dx) and k = (ky, kx): tap (2ky + dy, 2kx + dx) of the 4x4 kernel is tap (ky, kx) of the
// 2x2 kernel on space-to-depth channel (dy, dx, c).
DUEL_VECTOR_CLONES void weight_forward(const float* w, float* u, const float* k, int64_t P, int64_t O, int64_t C,
                                       int64_t c0, int64_t c1) {
  std::vector<float> taps(16 * O);  // [tap of the 4x4 kernel][o] of one input channel
  for (int64_t c = c0; c < c1; ++c) {
    for (int64_t o = 0; o < O; ++o)
      for (int64_t tap = 0; tap < 16; ++tap) taps[tap * O + o] = w[(o * C + c) * 16 + tap];
    for (int64_t ph = 0; ph < 4; ++ph)
      for (int64_t p = 0; p < P; ++p) {
        float* out = u + (p * 4 * C + ph * C + c) * O;
        std::fill_n(out, O, 0.0f);
        for (int64_t kk = 0; kk < 4; ++kk)
          if (k[p * 4 + kk] != 0) axpy(out, taps.data() + kernel_tap(kk, ph) * O, k[p * 4 + kk], O);
      }
  }
}

// The adjoint: dw[o][c][2ky + dy][2kx + dx] = sum_p K[p][k] dU[p][ph*C + c][o].
DUEL_VECTOR_CLONES void weight_backward(const float* du, float* dw, const float* k, int64_t P, int64_t O, int64_t C,
                                        int64_t c0, int64_t c1) {
  std::vector<float> taps(16 * O);
  for (int64_t c = c0; c < c1; ++c) {
    std::fill(taps.begin(), taps.end(), 0.0f);
    for (int64_t ph = 0; ph < 4; ++ph)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t kk = 0; kk < 4; ++kk)
          if (k[p * 4 + kk] != 0)
            axpy(taps.data() + kernel_tap(kk, ph) * O, du + (p * 4 * C + ph * C + c) * O, k[p * 4 + kk], O);
    for (int64_t o = 0; o < O; ++o)
      for (int64_t tap = 0; tap < 16; ++tap) dw[(o * C + c) * 16 + tap] = taps[tap * O + o];
  }
}

// U = G w G^T: w [O, C, 4, 4] -> U [n^2, 4C, O].
class WeightTransform : public torch::autograd::Function<WeightTransform> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& w_in, int64_t m) {
    const auto w = w_in.contiguous();
    const int64_t P = (m + 1) * (m + 1), O = w.size(0), C = w.size(1);
    ctx->saved_data["m"] = m;
    ctx->saved_data["shape"] = std::vector<int64_t>{O, C};
    auto ut = at::empty({P, 4 * C, O}, w.options());
    const auto k = weight_matrix(m);
    const float* src = w.data_ptr<float>();
    float* dst = ut.data_ptr<float>();
    at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) { weight_forward(src, dst, k.data(), P, O, C, c0, c1); });
    return ut;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const int64_t m = ctx->saved_data["m"].toInt();
    const auto shape = ctx->saved_data["shape"].toIntVector();
    const int64_t P = (m + 1) * (m + 1), O = shape[0], C = shape[1];
    const auto dut = grads[0].contiguous();
    auto dw = at::empty({O, C, 4, 4}, dut.options());
    const auto k = weight_matrix(m);
    const float* src = dut.data_ptr<float>();
    float* dst = dw.data_ptr<float>();
    at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) { weight_backward(src, dst, k.data(), P, O, C, c0, c1); });
    return {dw, at::Tensor()};
  }
};

Geometry saved_geometry(AutogradContext* ctx) {
  const auto s = ctx->saved_data["geometry"].toIntVector();
  return geometry(s[0], s[1], s[2], s[3], s[4], s[5]);
}

void save_geometry(AutogradContext* ctx, const Geometry& g) {
  ctx->saved_data["geometry"] = std::vector<int64_t>{g.N, g.C, g.H, g.W, g.O, g.m};
}

class WinogradConv : public torch::autograd::Function<WinogradConv> {
 public:
  // x [N, C, H, W], u [n^2, 4C, O] -> y [N, O, H/2, W/2]
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& u, int64_t m) {
    const Geometry g = geometry(x.size(0), x.size(1), x.size(2), x.size(3), u.size(2), m);
    auto v = to_tiles(x, g);
    ctx->save_for_backward({v, u});
    save_geometry(ctx, g);
    return to_image(batched_mm(v, false, u, false, g.mstride), g);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Geometry g = saved_geometry(ctx);
    const auto dm = from_image(grads[0], g);
    at::Tensor dx, du;
    if (ctx->needs_input_grad(0)) dx = from_tiles(batched_mm(dm, false, saved[1], true, g.vstride), g);
    if (ctx->needs_input_grad(1)) du = batched_mm(saved[0], true, dm, false);
    return {dx, du, at::Tensor()};
  }
};

class WinogradConvTranspose : public torch::autograd::Function<WinogradConvTranspose> {
 public:
  // x [N, I, h, w], u [n^2, 4C, I] -> y [N, C, 2h, 2w]: the adjoint of WinogradConv
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& u, int64_t m) {
    const Geometry g = geometry(x.size(0), u.size(1) / 4, 2 * x.size(2), 2 * x.size(3), x.size(1), m);
    auto dm = from_image(x, g);
    ctx->save_for_backward({dm, u});
    save_geometry(ctx, g);
    return from_tiles(batched_mm(dm, false, u, true, g.vstride), g);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Geometry g = saved_geometry(ctx);
    const auto v = to_tiles(grads[0], g);
    at::Tensor dx, du;
    if (ctx->needs_input_grad(0)) dx = to_image(batched_mm(v, false, saved[1], false, g.mstride), g);
    if (ctx->needs_input_grad(1)) du = batched_mm(v, true, saved[0], false);
    return {dx, du, at::Tensor()};
  }
};

void check_input(const at::Tensor& x, const at::Tensor& w) {
  TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat,
              "winograd: float32 CPU tensors only");
  TORCH_CHECK(x.dim() == 4 && w.dim() == 4 && w.size(2) == 4 && w.size(3) == 4, "winograd: 4x4 kernels on NCHW input");
}

}  // namespace

bool winograd_applies(int64_t in_channels, int64_t out_channels, int64_t out_h, int64_t out_w) {
  // Below 64 input channels the matrix products are too small to pay for the transforms
  // (docs/performance.md has the per-layer timings behind the threshold).
  return in_channels >= 64 && out_channels >= 16 && out_h >= 2 && out_w >= 2 && out_h % 2 == 0 && out_w % 2 == 0;
}

int64_t winograd_tile(int64_t out_h, int64_t out_w) {
  return out_h % 4 == 0 && out_w % 4 == 0 && std::min(out_h, out_w) >= 8 ? 4 : 2;
}

at::Tensor winograd_conv4s2(const at::Tensor& x, const at::Tensor& w) {
  check_input(x, w);
  TORCH_CHECK(x.size(1) == w.size(1), "winograd: input has ", x.size(1), " channels, weight expects ", w.size(1));
  const int64_t m = winograd_tile(x.size(2) / 2, x.size(3) / 2);
  return WinogradConv::apply(x, WeightTransform::apply(w, m), m);
}

at::Tensor winograd_conv_transpose4s2(const at::Tensor& x, const at::Tensor& w) {
  check_input(x, w);
  TORCH_CHECK(x.size(1) == w.size(0), "winograd: input has ", x.size(1), " channels, weight expects ", w.size(0));
  const int64_t m = winograd_tile(x.size(2), x.size(3));
  return WinogradConvTranspose::apply(x, WeightTransform::apply(w, m), m);
}

}  // namespace duel
