// Image input and output through stb_image / stb_image_write; files are
// written through write_file_atomic (core/files.h).
#include "duel/io/image.h"
#include "duel/io/image_decode.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "duel/core/error.h"
#include "duel/core/files.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_WINDOWS_UTF8
#include <stb_image_write.h>
#include <stb_image.h>

namespace duel {

torch::Tensor enlarge_small(const torch::Tensor& images, int64_t side) {
  require(images.dim() == 4, "enlarge_small expects [N, C, H, W] images");
  const int64_t factor = std::max<int64_t>(1, side / std::max<int64_t>(1, std::max(images.size(2), images.size(3))));
  if (factor == 1) return images;
  return images.repeat_interleave(factor, 2).repeat_interleave(factor, 3);
}

torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow, int64_t pad) {
  require(images.dim() == 4, "make_grid expects [N, C, H, W] images");
  auto x = images.detach().to(torch::kCPU, torch::kFloat32);
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  if (nrow <= 0) nrow = int64_t(std::ceil(std::sqrt(double(n))));
  const int64_t rows = (n + nrow - 1) / nrow;
  auto u8 = x.add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8);
  auto grid = torch::full({c, rows * (h + pad) + pad, nrow * (w + pad) + pad}, 0, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = i / nrow, col = i % nrow;
    grid.slice(1, pad + r * (h + pad), pad + r * (h + pad) + h)
        .slice(2, pad + col * (w + pad), pad + col * (w + pad) + w)
        .copy_(u8[i]);
  }
  return grid;
}

torch::Tensor quantise(const torch::Tensor& images) {
  // [-1, 1] float -> uint8, as write_image rounds it
  return images.detach().to(torch::kCPU, torch::kFloat32).add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8);
}

std::string encode_png(const torch::Tensor& img) {
  require(img.dim() == 3 && (img.size(0) == 1 || img.size(0) == 3) && img.scalar_type() == torch::kUInt8,
          "a PNG is written from uint8 [1 or 3, H, W]");
  auto hwc = img.permute({1, 2, 0}).contiguous();
  const int h = int(hwc.size(0)), w = int(hwc.size(1)), c = int(hwc.size(2));
  std::string out;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size_t(size));
  };
  if (!stbi_write_png_to_func(sink, &out, w, h, c, hwc.data_ptr<uint8_t>(), w * c))
    throw Error("cannot encode a " + std::to_string(w) + "x" + std::to_string(h) + " PNG");
  return out;
}

void write_png(const std::string& path, const torch::Tensor& img) {
  std::string png;
  try {
    png = encode_png(img);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " for '" + path + "'", e.hint());
  }
  write_file_atomic(path, png);
}

void write_image(const std::string& path, const torch::Tensor& image) {
  write_png(path, image.detach().to(torch::kCPU, torch::kFloat32).add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8));
}

namespace {

// Checks on a PNG/JPEG/BMP file that stb_image 2.27 (the version Debian 12
// ships) does not make itself; each closes a fault the fuzzer found or an
// allocation a size field could inflate (docs/reliability.md):
//  - JPEG: a DHT segment declaring more than 256 Huffman codes makes stb write
//    past its code-size table (fixed upstream in stb_image 2.28);
//  - PNG: a chunk length beyond the end of the file makes stb allocate that
//    length (up to 1 GiB) before it finds the data missing.
// Returns "" when the file may be handed to stb, else the reason it may not.
std::string stb_precheck(const unsigned char* p, size_t n) {
  auto at = [&](size_t i) -> unsigned { return i < n ? p[i] : 0u; };
  size_t soi = 0;  // stb takes any run of 0xFF fill bytes before a JPEG's start-of-image marker
  while (soi < n && p[soi] == 0xFF) ++soi;
  if (soi > 0 && soi < n && p[soi] == 0xD8) {  // JPEG: walk the markers to the end of the file
    size_t i = soi + 1;
    while (i + 1 < n) {
      if (p[i] != 0xFF) {  // entropy-coded data between markers
        ++i;
        continue;
      }
      const unsigned m = p[i + 1];
      if (m == 0xFF) {  // fill byte
        ++i;
        continue;
      }
      if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD9)) {  // stuffed 0xFF, TEM, RSTn, SOI, EOI: no length
        i += 2;
        continue;
      }
      const size_t len = (at(i + 2) << 8) | at(i + 3);
      if (m == 0xC4) {  // DHT: tables of 1 + 16 counts + sum(counts) values, read as stb reads them
        size_t j = i + 4;
        const size_t end = i + 2 + len;
        while (j < end && j < n) {
          size_t codes = 0;
          for (size_t k = 1; k <= 16; ++k) codes += at(j + k);
          if (codes > 256) return "corrupt JPEG (a Huffman table declares " + std::to_string(codes) + " codes)";
          j += 17 + codes;
        }
      }
      i += 2 + std::max<size_t>(len, 2);
    }
  } else if (n >= 8 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {  // PNG: every chunk fits in the file
    size_t i = 8;
    while (i + 8 <= n) {
      const size_t len = (size_t(p[i]) << 24) | (size_t(p[i + 1]) << 16) | (size_t(p[i + 2]) << 8) | p[i + 3];
      if (len > n - i - 8) return "truncated or corrupt PNG (a chunk runs past the end of the file)";
      if (std::memcmp(p + i + 4, "IEND", 4) == 0) break;
      i += 12 + len;
    }
  }
  return "";
}

}  // namespace

torch::Tensor read_image(const std::string& path, int channels) {
  // The whole file is read (at most 512 MiB) and checked before stb decodes it.
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot read image '" + path + "': cannot open the file", "check the path and its permissions");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  f.seekg(0, std::ios::beg);
  if (size < 0 || size > (std::streamoff(512) << 20))
    throw Error("cannot read image '" + path + "': " + (size < 0 ? "not a readable file" : "larger than 512 MiB"),
                "use PNG, JPEG or BMP files of a sensible size");
  std::string bytes(size_t(size), '\0');
  f.read(bytes.data(), size);
  if (!f) throw Error("cannot read image '" + path + "': read error", "check the file");
  return decode_image(bytes, path, channels);
}

torch::Tensor decode_image(const std::string& bytes, const std::string& origin, int channels) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const int len = int(bytes.size());
  if (std::string why = stb_precheck(data, bytes.size()); !why.empty())
    throw Error("cannot read image '" + origin + "': " + why, "remove or replace the file");
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &c))
    throw Error("cannot read image '" + origin + "': " + stbi_failure_reason(), "remove or replace the file");
  // The header's size is checked before decoding: at most 8192x8192 pixels, and
  // no more decoded bytes than 2048 per byte of file (beyond a 64 MiB floor),
  // so a tiny hostile file cannot ask for gigabytes.
  if (w <= 0 || h <= 0 || c < 1 || c > 4)
    throw Error("cannot read image '" + origin + "': its header declares " + std::to_string(w) + "x" +
                    std::to_string(h) + " pixels of " + std::to_string(c) + " channels",
                "the file is corrupt");
  if (int64_t(w) * h > 8192LL * 8192LL)
    throw Error("image '" + origin + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                    ", larger than the 8192x8192 limit", "downscale it first");
  const int64_t decoded = int64_t(w) * h * std::max(c, channels);
  if (decoded > std::max<int64_t>(int64_t(64) << 20, int64_t(2048) * len))
    throw Error("cannot read image '" + origin + "': its header declares " + std::to_string(w) + "x" +
                    std::to_string(h) + " pixels, more than its " + std::to_string(len) + " bytes can hold",
                "the file is corrupt");
  unsigned char* px = stbi_load_from_memory(data, len, &w, &h, &c, channels);
  if (!px) throw Error("cannot read image '" + origin + "': " + stbi_failure_reason(), "remove or replace the file");
  const int cc = channels ? channels : c;
  auto t = torch::from_blob(px, {h, w, cc}, torch::kUInt8).permute({2, 0, 1}).clone();
  stbi_image_free(px);
  return t;
}

}  // namespace duel
