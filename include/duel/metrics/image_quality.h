// Full-reference image quality: PSNR and SSIM between an output and its
// target, per image, plus the two resampling helpers the super-resolution
// baseline and its low-resolution inputs are made with.
//
// Every function takes float images [N, C, H, W] (any floating dtype, any
// device; the arithmetic is done in double on the tensors' device) and checks
// its preconditions at the boundary: mismatched shapes, non-4-D tensors,
// non-finite values and bad parameters throw duel::Error with a hint.
//
// References:
//   SSIM  Wang, Bovik, Sheikh, Simoncelli 2004, "Image quality assessment:
//         from error visibility to structural similarity" (IEEE TIP). The
//         variant computed here is the one of scikit-image's
//         structural_similarity(gaussian_weights=True, sigma=1.5,
//         use_sample_covariance=False, data_range=R): an 11x11 Gaussian window
//         (sigma 1.5, truncated at 3.5 sigma), K1 = 0.01, K2 = 0.03, means,
//         variances and covariance as Gaussian-weighted population moments,
//         the SSIM map only where the window fits inside the image ('valid'
//         filtering, no padding), averaged over the map and the channels.
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace duel {

// PSNR values are capped here: identical images (MSE 0) and near-identical
// ones report 100 dB instead of +inf, so means over a set stay finite.
constexpr double kPsnrCapDb = 100.0;

// Per-image PSNR in dB: 10 log10(R^2 / MSE) with MSE the mean over C, H, W of
// the squared difference and R = data_range (2 for images in [-1, 1]).
// Requires a, b [N, C, H, W] of one shape, finite; data_range > 0.
// Ensures a double tensor [N] with values <= kPsnrCapDb.
torch::Tensor psnr(const torch::Tensor& a, const torch::Tensor& b, double data_range = 2.0);

// Side of the SSIM window for images of h x w pixels: 11, or for images
// smaller than 11 px the largest odd side that fits (7 for 7x7, 5 for 6x6).
// The window stays a Gaussian of sigma 1.5, truncated to that side and
// renormalised to sum 1. Requires h, w >= 1.
int64_t ssim_window_size(int64_t h, int64_t w);

// Per-image SSIM (see above), double [N]; SSIM(x, x) = 1, symmetric in a and b.
// Requires a, b [N, C, H, W] of one shape, finite; data_range > 0.
torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b, double data_range = 2.0);

// [N, C, h, w] in [-1, 1] -> [N, C, h*factor, w*factor]: bicubic
// (align_corners = false, A = -0.75 as torch's interpolate), clamped to
// [-1, 1]. The classic super-resolution baseline. Requires factor >= 1.
torch::Tensor upscale_bicubic(const torch::Tensor& x, int64_t factor);

// [N, C, H, W] -> [N, C, H/factor, W/factor]: the mean of each factor x factor
// block (area resampling, no aliasing). Makes the low-resolution input of a
// super-resolution pair. Requires factor >= 1 dividing H and W.
torch::Tensor downscale_area(const torch::Tensor& x, int64_t factor);

}  // namespace duel
