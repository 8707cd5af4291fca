// Images in and out: grids of samples and single images as PNG (stb), written
// atomically (core/files.h) so a reader never sees half a file, and the
// 8-bit quantisation a saved PNG applies.
#pragma once
#include <torch/types.h>

#include <string>

namespace duel {

// [N, C, H, W] in [-1, 1] -> uint8 [C, rows*(H+pad)+pad, cols*(W+pad)+pad];
// nrow images per row (0: the square root rounded up).
torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow = 0, int64_t pad = 2);
// [N, C, H, W] enlarged by the largest whole factor that keeps the longer
// side at most `side` (nearest neighbour; unchanged when already that big),
// so that a grid of 28-pixel images can be told apart in any viewer.
torch::Tensor enlarge_small(const torch::Tensor& images, int64_t side = 64);
// Generated images [-1, 1] -> uint8 [N, C, H, W], rounded as a saved PNG is
// (what metrics see, so scores match images written to disk).
torch::Tensor quantise(const torch::Tensor& images);
// Writes uint8 [C, H, W] (C = 1 or 3) as PNG.
void write_png(const std::string& path, const torch::Tensor& image_chw_u8);
// The PNG file's bytes of uint8 [C, H, W] (C = 1 or 3), in memory (write_png writes these).
std::string encode_png(const torch::Tensor& image_chw_u8);
// Writes one float image [C, H, W] in [-1, 1] as PNG.
void write_image(const std::string& path, const torch::Tensor& image);
// Reads a PNG/JPEG/BMP into uint8 [C, H, W] (channels 0: as stored, 1 or 3 forced).
torch::Tensor read_image(const std::string& path, int channels = 0);

}  // namespace duel
