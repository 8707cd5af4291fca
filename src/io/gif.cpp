// GIF89a writer; see the header. Reference: the GIF89a specification (1990),
// sections 18-26 (screen descriptor, colour table, image data, LZW).
#include "duel/io/gif.h"

#include <array>

#include "duel/core/error.h"
#include "duel/core/files.h"

namespace duel {
namespace {

constexpr int kMinCodeSize = 8;  // 8-bit pixel indices
constexpr int kClear = 1 << kMinCodeSize, kEnd = kClear + 1, kMaxCode = 4095;

void put16(std::string& s, int v) {
  s.push_back(char(v & 0xff));
  s.push_back(char((v >> 8) & 0xff));
}

class BitWriter {
 public:
  void put(int code, int width) {
    acc_ |= uint32_t(code) << bits_;
    bits_ += width;
    while (bits_ >= 8) {
      out.push_back(char(acc_ & 0xff));
      acc_ >>= 8;
      bits_ -= 8;
    }
  }
  void flush() {
    if (bits_ > 0) out.push_back(char(acc_ & 0xff));
    acc_ = 0;
    bits_ = 0;
  }
  std::string out;

 private:
  uint32_t acc_ = 0;
  int bits_ = 0;
};

// The palette index of each pixel of a [C, H, W] uint8 frame.
std::vector<uint8_t> to_indices(const torch::Tensor& frame) {
  auto f = frame.to(torch::kCPU).contiguous();
  const int64_t c = f.size(0), hw = f.size(1) * f.size(2);
  const uint8_t* p = f.data_ptr<uint8_t>();
  std::vector<uint8_t> idx(static_cast<size_t>(hw));
  if (c == 1) {
    std::copy(p, p + hw, idx.begin());
  } else {
    for (int64_t i = 0; i < hw; ++i) {
      // 6 x 7 x 6 cube: 252 entries, green resolved finest.
      int r = (p[i] * 5 + 127) / 255, g = (p[hw + i] * 6 + 127) / 255, b = (p[2 * hw + i] * 5 + 127) / 255;
      idx[size_t(i)] = uint8_t((r * 7 + g) * 6 + b);
    }
  }
  return idx;
}

std::string palette(int64_t channels) {
  std::string s;
  for (int i = 0; i < 256; ++i) {
    int r, g, b;
    if (channels == 1) {
      r = g = b = i;
    } else if (i < 252) {
      r = (i / 42) * 255 / 5;
      g = ((i / 6) % 7) * 255 / 6;
      b = (i % 6) * 255 / 5;
    } else {
      r = g = b = 0;
    }
    s.push_back(char(r));
    s.push_back(char(g));
    s.push_back(char(b));
  }
  return s;
}

}  // namespace

std::string lzw_encode(const std::vector<uint8_t>& indices) {
  BitWriter w;
  // next[code][byte]: the code of string(code) + byte, 0 when absent.
  std::vector<std::array<uint16_t, 256>> next(kMaxCode + 1);
  auto reset = [&]() {
    for (auto& row : next) row.fill(0);
  };
  reset();
  int width = kMinCodeSize + 1, next_code = kEnd + 1;
  w.put(kClear, width);
  if (indices.empty()) {
    w.put(kEnd, width);
    w.flush();
    return w.out;
  }
  int cur = indices[0];
  for (size_t i = 1; i < indices.size(); ++i) {
    const uint8_t k = indices[i];
    if (uint16_t n = next[size_t(cur)][k]) {
      cur = n;
      continue;
    }
    w.put(cur, width);
    if (next_code <= kMaxCode) {
      next[size_t(cur)][k] = uint16_t(next_code);
      // The decoder widens its codes one code later than it adds the entry.
      if (next_code == (1 << width) && width < 12) ++width;
      ++next_code;
    } else {
      w.put(kClear, width);
      reset();
      width = kMinCodeSize + 1;
      next_code = kEnd + 1;
    }
    cur = k;
  }
  w.put(cur, width);
  w.put(kEnd, width);
  w.flush();
  return w.out;
}

std::vector<uint8_t> lzw_decode(const std::string& data) {
  std::vector<uint8_t> out;
  std::vector<std::vector<uint8_t>> table;
  auto reset = [&]() {
    table.assign(size_t(kEnd + 1), {});
    for (int i = 0; i < kClear; ++i) table[size_t(i)] = {uint8_t(i)};
  };
  reset();
  int width = kMinCodeSize + 1, prev = -1;
  uint32_t acc = 0;
  int bits = 0;
  size_t pos = 0;
  while (true) {
    while (bits < width && pos < data.size()) {
      acc |= uint32_t(uint8_t(data[pos++])) << bits;
      bits += 8;
    }
    if (bits < width) break;
    int code = int(acc & ((1u << width) - 1));
    acc >>= width;
    bits -= width;
    if (code == kClear) {
      reset();
      width = kMinCodeSize + 1;
      prev = -1;
      continue;
    }
    if (code == kEnd) break;
    std::vector<uint8_t> entry;
    if (code < int(table.size()) && (code < kClear || !table[size_t(code)].empty())) {
      entry = table[size_t(code)];
    } else if (prev >= 0 && code == int(table.size())) {
      entry = table[size_t(prev)];
      entry.push_back(table[size_t(prev)][0]);
    } else {
      throw Error("corrupt LZW stream", "");
    }
    out.insert(out.end(), entry.begin(), entry.end());
    if (prev >= 0 && table.size() <= size_t(kMaxCode)) {
      auto e = table[size_t(prev)];
      e.push_back(entry[0]);
      table.push_back(std::move(e));
      if (int(table.size()) == (1 << width) && width < 12) ++width;
    }
    prev = code;
  }
  return out;
}

std::string encode_gif(const std::vector<torch::Tensor>& frames, int delay_cs) {
  require(!frames.empty(), "no frames to write into a GIF", "");
  const auto& f0 = frames[0];
  require(f0.dim() == 3 && (f0.size(0) == 1 || f0.size(0) == 3) && f0.scalar_type() == torch::kUInt8,
          "GIF frames must be uint8 [C, H, W] with C = 1 or 3", "");
  const int64_t c = f0.size(0), h = f0.size(1), w = f0.size(2);
  require(h > 0 && w > 0 && h <= 65535 && w <= 65535, "GIF frames must be 1 to 65535 pixels on a side",
          "use fewer images per frame");
  std::string s = "GIF89a";
  put16(s, int(w));
  put16(s, int(h));
  s.push_back(char(0xF7));  // global colour table, 8 bits of colour resolution, 256 entries
  s.push_back(0);           // background colour index
  s.push_back(0);           // pixel aspect ratio: unspecified
  s += palette(c);
  // NETSCAPE2.0 application extension: loop forever.
  s += std::string("\x21\xFF\x0B", 3) + "NETSCAPE2.0" + std::string("\x03\x01\x00\x00\x00", 5);
  for (const auto& f : frames) {
    require(f.sizes() == f0.sizes() && f.scalar_type() == torch::kUInt8, "GIF frames must all have the same size", "");
    s += std::string("\x21\xF9\x04\x00", 4);  // graphic control: no disposal, no transparency
    put16(s, delay_cs);
    s += std::string("\x00\x00", 2);
    s.push_back(0x2C);  // image descriptor at (0, 0), no local colour table
    put16(s, 0);
    put16(s, 0);
    put16(s, int(w));
    put16(s, int(h));
    s.push_back(0);
    s.push_back(char(kMinCodeSize));
    const std::string data = lzw_encode(to_indices(f));
    for (size_t i = 0; i < data.size(); i += 255) {
      const size_t n = std::min<size_t>(255, data.size() - i);
      s.push_back(char(n));
      s.append(data, i, n);
    }
    s.push_back(0);  // block terminator
  }
  s.push_back(0x3B);  // trailer
  return s;
}

void write_gif(const std::string& path, const std::vector<torch::Tensor>& frames, int delay_cs) {
  write_file_atomic(path, encode_gif(frames, delay_cs));
}

}  // namespace duel
