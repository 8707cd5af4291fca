// decode_tga (io/image_decode.h): truecolour TGA, raw or run-length encoded.
#include <algorithm>

#include "duel/core/error.h"
#include "duel/io/image_decode.h"

namespace duel {

torch::Tensor decode_tga(const std::string& bytes, const std::string& origin) {
  auto bad = [&](const std::string& why) { return Error("cannot read TGA '" + origin + "': " + why, "the file is corrupt or not a truecolour TGA"); };
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 18) throw bad("shorter than its 18-byte header");
  const int id_len = p[0], cmap_type = p[1], type = p[2];
  const int64_t w = p[12] | p[13] << 8, h = p[14] | p[15] << 8;
  const int bpp = p[16], descriptor = p[17];
  if (cmap_type != 0 || (type != 2 && type != 10)) throw bad("image type " + std::to_string(type) + " is not truecolour");
  if (bpp != 24 && bpp != 32) throw bad(std::to_string(bpp) + " bits per pixel (24 or 32 are read)");
  if (w <= 0 || h <= 0 || w * h > 8192LL * 8192LL) throw bad("size " + std::to_string(w) + "x" + std::to_string(h));
  const int bytes_pp = bpp / 8;
  auto out = torch::empty({h, w, 4}, torch::kUInt8);
  uint8_t* o = out.data_ptr<uint8_t>();
  size_t at = 18 + size_t(id_len);
  auto pixel = [&](uint8_t* dst) {
    if (at + size_t(bytes_pp) > n) throw bad("truncated pixel data");
    dst[0] = p[at + 2], dst[1] = p[at + 1], dst[2] = p[at], dst[3] = bytes_pp == 4 ? p[at + 3] : 255;  // BGR(A) -> RGBA
    at += size_t(bytes_pp);
  };
  for (int64_t i = 0; i < w * h;) {
    if (type == 2) {
      pixel(o + 4 * i++);
      continue;
    }
    if (at >= n) throw bad("truncated run-length data");
    const int head = p[at++], count = (head & 0x7F) + 1;
    if (i + count > w * h) throw bad("a run past the last pixel");
    if (head & 0x80) {
      pixel(o + 4 * i);
      for (int k = 1; k < count; ++k) std::copy(o + 4 * i, o + 4 * i + 4, o + 4 * (i + k));
    } else {
      for (int k = 0; k < count; ++k) pixel(o + 4 * (i + k));
    }
    i += count;
  }
  auto img = out.permute({2, 0, 1});
  if (!(descriptor & 0x20)) img = img.flip({1});  // origin bottom-left: rows stored bottom-up
  if (descriptor & 0x10) img = img.flip({2});     // origin right
  return img.contiguous();
}

}  // namespace duel
