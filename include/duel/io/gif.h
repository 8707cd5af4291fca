// Animated GIF (GIF89a) writing for latent interpolations: frames of the
// same size, looping forever, LZW-compressed with an 8-bit palette
// (256 grey levels for 1-channel frames, a 6x7x6 colour cube for RGB).
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

namespace duel {

// frames: uint8 [C, H, W] each (C = 1 or 3, all alike); delay in 1/100 s.
// Returns the file's bytes.
std::string encode_gif(const std::vector<torch::Tensor>& frames, int delay_cs);
// Encodes and writes atomically; throws duel::Error on a bad frame or write failure.
void write_gif(const std::string& path, const std::vector<torch::Tensor>& frames, int delay_cs = 10);

// GIF LZW codes (variable width, LSB first) of 8-bit indices; exposed for tests.
std::string lzw_encode(const std::vector<uint8_t>& indices);
std::vector<uint8_t> lzw_decode(const std::string& data);

}  // namespace duel
