// Winograd convolutions for the 4x4, stride-2, padding-1 layers of DCGAN-style
// nets on CPU (float32), with fewer multiplications than direct convolution.
//
// A 4x4 stride-2 convolution of x [N, C, H, W] is a 2x2 stride-1 convolution
// of the padded input rearranged space-to-depth (each 2x2 pixel block becomes
// 4C channels, in the order (dy, dx, c)), with the weight rearranged the same
// way. A 2x2 stride-1 convolution is computed tile by tile with Winograd's
// minimal filtering F(m x m, 2 x 2): an output tile of m x m pixels takes
// (m+1)^2 multiplications per channel pair instead of 4 m^2, so F(4x4, 2x2)
// needs 25/64 of the direct method's multiplications and F(2x2, 2x2) 9/16.
// In matrix form, with the transforms B^T (input), G (weight) and A^T (output):
//   V = B^T d B  per input tile and channel       [(m+1)^2, tiles, 4C]
//   U = G w G^T  per channel pair                 [(m+1)^2, 4C, O]
//   M = V U      one matrix product per position  [(m+1)^2, tiles, O]
//   y = A^T M A  per output tile
// Backward is the same algebra transposed (dV = dM U^T, dU = V^T dM), so all
// three passes (forward, input gradient, weight gradient) use the reduced
// matrix products. The transposed convolution of the same shape is the
// adjoint: its forward is the convolution's input-gradient path and its
// backward the convolution's forward and weight-gradient paths.
//
// Interpolation points: F(2,2) uses {0, -1, inf} and F(4,2) {0, 1, -1, 1/2,
// inf}; the float32 error against direct convolution is a few 1e-7 relative
// (tests/unit/test_winograd.cpp). Results do not depend on the thread count.
// Outputs are channels-last (NHWC strides). The (m+1)^2 products per pass run
// in parallel, each on one thread, on oneDNN's sgemm (from the oneDNN library
// LibTorch loads; LibTorch's at::mm where that library does not export it);
// the transforms are loops over channels compiled for AVX-512, AVX2 and the
// baseline. All of it is autograd functions: forward, input gradient and
// weight gradient (through U) are each written out.
#pragma once
#include <ATen/core/Tensor.h>

namespace duel {

// Whether the Winograd route should compute a 4x4 stride-2 padding-1
// convolution that maps [N, in_channels, 2*out_h, 2*out_w] to [N,
// out_channels, out_h, out_w]: at least 64 input and 16 output channels (with
// fewer the transforms cost more than the multiplications saved;
// bench/conv_layer.cpp times both routes) and an even output size. The
// functions below compute any even size and channel count.
bool winograd_applies(int64_t in_channels, int64_t out_channels, int64_t out_h, int64_t out_w);

// The tile size m of F(m x m, 2 x 2) used for an output of out_h x out_w.
int64_t winograd_tile(int64_t out_h, int64_t out_w);

// conv2d(x, w, stride 2, padding 1): x [N, C, H, W] float32 on CPU, w [O, C, 4, 4]
// -> [N, O, H/2, W/2]. Requires winograd_applies(C, O, H/2, W/2).
at::Tensor winograd_conv4s2(const at::Tensor& x, const at::Tensor& w);

// conv_transpose2d(x, w, stride 2, padding 1): x [N, I, h, w] float32 on CPU,
// w [I, O, 4, 4] -> [N, O, 2h, 2w]. Requires winograd_applies(O, I, h, w).
at::Tensor winograd_conv_transpose4s2(const at::Tensor& x, const at::Tensor& w);

}  // namespace duel
