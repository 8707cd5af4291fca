// Images out: grids of samples and single images as PNG (stb), written
// atomically (temporary file + rename) so a reader never sees half a file.
#pragma once
#include <torch/types.h>

#include <string>

namespace duel {

// [N, C, H, W] in [-1, 1] -> uint8 [C, rows*(H+pad)+pad, cols*(W+pad)+pad];
// nrow images per row (0: the square root rounded up).
torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow = 0, int64_t pad = 2);
// Writes uint8 [C, H, W] (C = 1 or 3) as PNG.
void write_png(const std::string& path, const torch::Tensor& image_chw_u8);
// The PNG file's bytes of uint8 [C, H, W] (C = 1 or 3), in memory (write_png writes these).
std::string encode_png(const torch::Tensor& image_chw_u8);
// Writes one float image [C, H, W] in [-1, 1] as PNG.
void write_image(const std::string& path, const torch::Tensor& image);
// Reads a PNG/JPEG/BMP into uint8 [C, H, W] (channels 0: as stored, 1 or 3 forced).
torch::Tensor read_image(const std::string& path, int channels = 0);

// Writes bytes to path atomically: temp file in the same folder, fsync, rename.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace duel
