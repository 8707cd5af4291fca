// Decoding an image file held in memory (an archive entry, a font's glyph):
// the same checks and stb decoder as read_image (io/image.h), which reads a
// file and calls this.
#pragma once
#include <torch/types.h>

#include <string>

namespace duel {

// PNG/JPEG/BMP/TGA bytes -> uint8 [C, H, W]; channels 0: as stored (1-4),
// else forced to 1, 2, 3 or 4 (4 keeps alpha). `origin` names the bytes in errors.
torch::Tensor decode_image(const std::string& bytes, const std::string& origin, int channels = 0);

}  // namespace duel

namespace duel {

// A truecolour TGA (types 2 and 10: raw or run-length, 24 or 32 bits per
// pixel, either origin) -> uint8 [4, H, W] RGBA (alpha 255 for 24 bits).
// The image-folder reader does not take TGA (it has no magic bytes to tell
// it from noise); game textures come as TGA, and this reads them on purpose.
torch::Tensor decode_tga(const std::string& bytes, const std::string& origin);

}  // namespace duel
