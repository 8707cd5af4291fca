#include "duel/io/color_font.h"

#include <cstdio>
#include <fstream>
#include <map>

#include "duel/core/error.h"

namespace duel {
namespace {

// Bounds-checked big-endian reads of the whole font file.
struct Font {
  std::string path, bytes;
  uint32_t u8(int64_t at) const { check(at, 1); return uint8_t(bytes[size_t(at)]); }
  uint32_t u16(int64_t at) const { check(at, 2); return u8(at) << 8 | u8(at + 1); }
  uint32_t u32(int64_t at) const { check(at, 4); return u16(at) << 16 | u16(at + 2); }
  void check(int64_t at, int64_t n) const {
    if (at < 0 || at + n > int64_t(bytes.size()))
      throw Error("font '" + path + "' is truncated or damaged (read of " + std::to_string(n) + " bytes at " +
                  std::to_string(at) + ")", "reinstall the font package");
  }
  // The offset of a table, or -1 when the font has none.
  int64_t table(const char* tag) const {
    const uint32_t n = u16(4);
    for (uint32_t i = 0; i < n; ++i)
      if (bytes.compare(size_t(12 + 16 * i), 4, tag) == 0) return u32(12 + 16 * i + 8);
    return -1;
  }
};

// glyph -> code point, from cmap format 12 (else format 4); the lowest code point wins.
std::map<uint32_t, uint32_t> glyph_codepoints(const Font& f) {
  const int64_t cmap = f.table("cmap");
  if (cmap < 0) throw Error("font '" + f.path + "' has no cmap table", "use a colour emoji font such as NotoColorEmoji.ttf");
  std::map<uint32_t, uint32_t> out;
  auto add = [&](uint32_t cp, uint32_t g) { if (g != 0 && !out.count(g)) out[g] = cp; };
  int64_t fmt4 = -1;
  for (uint32_t i = 0, n = f.u16(cmap + 2); i < n; ++i) {
    const int64_t sub = cmap + f.u32(cmap + 4 + 8 * i + 4);
    const uint32_t format = f.u16(sub);
    if (format == 12) {
      for (uint32_t k = 0, groups = f.u32(sub + 12); k < groups; ++k) {
        const int64_t gr = sub + 16 + 12 * int64_t(k);
        const uint32_t start = f.u32(gr), end = f.u32(gr + 4), g0 = f.u32(gr + 8);
        if (end < start || end - start > 0x10FFFF) throw Error("font '" + f.path + "' has a damaged cmap group", "reinstall the font package");
        for (uint32_t cp = start; cp <= end; ++cp) add(cp, g0 + (cp - start));
      }
      return out;
    }
    if (format == 4) fmt4 = sub;
  }
  if (fmt4 < 0) throw Error("font '" + f.path + "' has no cmap subtable of format 12 or 4", "use a colour emoji font");
  const uint32_t segs = f.u16(fmt4 + 6) / 2;
  const int64_t ends = fmt4 + 14, starts = ends + 2 * segs + 2, deltas = starts + 2 * segs, ranges = deltas + 2 * segs;
  for (uint32_t s = 0; s < segs; ++s) {
    const uint32_t end = f.u16(ends + 2 * s), start = f.u16(starts + 2 * s), delta = f.u16(deltas + 2 * s);
    const uint32_t range = f.u16(ranges + 2 * s);
    for (uint32_t cp = start; cp <= end && cp != 0xFFFF; ++cp) {
      uint32_t g = range == 0 ? (cp + delta) & 0xFFFF : f.u16(ranges + 2 * s + range + 2 * (cp - start));
      if (range != 0 && g != 0) g = (g + delta) & 0xFFFF;
      add(cp, g);
    }
  }
  return out;
}

// The glyphs a GSUB coverage table lists, in coverage order.
std::vector<uint32_t> coverage(const Font& f, int64_t at) {
  std::vector<uint32_t> out;
  const uint32_t format = f.u16(at);
  if (format == 1) {
    for (uint32_t i = 0, n = f.u16(at + 2); i < n; ++i) out.push_back(f.u16(at + 4 + 2 * i));
  } else if (format == 2) {
    for (uint32_t i = 0, n = f.u16(at + 2); i < n; ++i)
      for (uint32_t g = f.u16(at + 4 + 6 * i); g <= f.u16(at + 6 + 6 * i); ++g) out.push_back(g);
  } else {
    throw Error("font '" + f.path + "' has a GSUB coverage table of unknown format " + std::to_string(format), "reinstall the font package");
  }
  return out;
}

// ligature glyph -> its component glyphs, from every GSUB lookup of type 4 (also inside type 7 extensions).
std::map<uint32_t, std::vector<uint32_t>> ligatures(const Font& f) {
  std::map<uint32_t, std::vector<uint32_t>> out;
  const int64_t gsub = f.table("GSUB");
  if (gsub < 0) return out;
  const int64_t list = gsub + f.u16(gsub + 8);
  for (uint32_t l = 0, nl = f.u16(list); l < nl; ++l) {
    const int64_t lookup = list + f.u16(list + 2 + 2 * l);
    const uint32_t type = f.u16(lookup);
    for (uint32_t s = 0, ns = f.u16(lookup + 4); s < ns; ++s) {
      int64_t sub = lookup + f.u16(lookup + 6 + 2 * s);
      uint32_t kind = type;
      if (type == 7) kind = f.u16(sub + 2), sub += f.u32(sub + 4);
      if (kind != 4) continue;
      const auto firsts = coverage(f, sub + f.u16(sub + 2));
      const uint32_t sets = f.u16(sub + 4);
      for (uint32_t k = 0; k < sets && k < firsts.size(); ++k) {
        const int64_t set = sub + f.u16(sub + 6 + 2 * k);
        for (uint32_t j = 0, nlig = f.u16(set); j < nlig; ++j) {
          const int64_t lig = set + f.u16(set + 2 + 2 * j);
          std::vector<uint32_t> comps{firsts[k]};
          for (uint32_t c = 1, nc = f.u16(lig + 2); c < nc; ++c) comps.push_back(f.u16(lig + 4 + 2 * (c - 1)));
          out.emplace(f.u16(lig), std::move(comps));
        }
      }
    }
  }
  return out;
}

// glyph -> its PNG, from the largest strike of CBLC/CBDT.
std::map<uint32_t, std::string> glyph_pngs(const Font& f) {
  const int64_t cblc = f.table("CBLC"), cbdt = f.table("CBDT");
  if (cblc < 0 || cbdt < 0) throw Error("font '" + f.path + "' has no CBLC/CBDT colour bitmaps", "use a colour emoji font such as NotoColorEmoji.ttf");
  int64_t strike = -1;
  for (uint32_t i = 0, n = f.u32(cblc + 4); i < n; ++i)
    if (strike < 0 || f.u8(cblc + 8 + 48 * i + 44) > f.u8(strike + 44)) strike = cblc + 8 + 48 * i;
  if (strike < 0) throw Error("font '" + f.path + "' has no bitmap strike", "use a colour emoji font");
  std::map<uint32_t, std::string> out;
  const int64_t array = cblc + f.u32(strike);
  for (uint32_t i = 0, n = f.u32(strike + 8); i < n; ++i) {
    const uint32_t first = f.u16(array + 8 * i), last = f.u16(array + 8 * i + 2);
    const int64_t sub = array + f.u32(array + 8 * i + 4);
    const uint32_t index_format = f.u16(sub), image_format = f.u16(sub + 2);
    const int64_t image_data = cbdt + f.u32(sub + 4);
    if (index_format != 1 && index_format != 3)
      throw Error("font '" + f.path + "' uses CBLC index format " + std::to_string(index_format), "duel reads index formats 1 and 3");
    for (uint32_t g = first; g <= last; ++g) {
      auto offset = [&](uint32_t k) -> int64_t { return index_format == 1 ? f.u32(sub + 8 + 4 * k) : f.u16(sub + 8 + 2 * k); };
      const int64_t begin = image_data + offset(g - first), end = image_data + offset(g - first + 1);
      if (end <= begin) continue;  // no bitmap for this glyph
      int64_t png = 0;
      if (image_format == 17) png = begin + 5;
      else if (image_format == 18) png = begin + 8;
      else if (image_format == 19) png = begin;
      else throw Error("font '" + f.path + "' uses CBDT image format " + std::to_string(image_format), "duel reads formats 17, 18 and 19 (PNG)");
      const int64_t len = f.u32(png);
      f.check(png + 4, len);
      if (png + 4 + len > end) throw Error("font '" + f.path + "' has a glyph image longer than its slot", "reinstall the font package");
      out[g] = f.bytes.substr(size_t(png + 4), size_t(len));
    }
  }
  return out;
}

}  // namespace

std::string codepoints_text(const std::vector<uint32_t>& cps) {
  std::string s;
  for (uint32_t c : cps) {
    char b[12];
    std::snprintf(b, sizeof b, "%s%04X", s.empty() ? "" : " ", c);
    s += b;
  }
  return s;
}

std::vector<ColorGlyph> read_color_glyphs(const std::string& font_path) {
  Font f;
  f.path = font_path;
  {
    std::ifstream in(font_path, std::ios::binary);
    if (!in) throw Error("cannot open font '" + font_path + "'", "install fonts-noto-color-emoji (scripts/install-deps.sh) or give the font's path");
    f.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const uint32_t version = f.u32(0);
  if (version != 0x00010000 && version != 0x74727565)
    throw Error("'" + font_path + "' is not a TrueType/OpenType font", "use a colour emoji font such as NotoColorEmoji.ttf");
  const auto cps = glyph_codepoints(f);
  const auto ligs = ligatures(f);
  std::vector<ColorGlyph> out;
  for (auto& [g, png] : glyph_pngs(f)) {
    ColorGlyph c;
    c.glyph = g;
    c.png = std::move(png);
    if (auto it = cps.find(g); it != cps.end()) {
      c.codepoints = {it->second};
    } else if (auto lt = ligs.find(g); lt != ligs.end()) {
      for (uint32_t comp : lt->second)
        if (auto ct = cps.find(comp); ct != cps.end()) c.codepoints.push_back(ct->second);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace duel
