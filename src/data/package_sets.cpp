// Preparing datasets from Debian package files; see package_sets.h.
#include "duel/data/package_sets.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "duel/core/error.h"
#include "duel/io/color_font.h"
#include "duel/io/image.h"
#include "duel/io/image_decode.h"
#include "duel/io/zip.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

using Info = std::function<void(const std::string&)>;

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}
// One source in ten goes to the test split, chosen by a hash of its key.
bool is_test(const std::string& key) { return fnv1a(key) % 10 == 0; }

// A folder's images as numbered PNGs: dir/split[/class]/00001.png.
struct Writer {
  fs::path dir;
  std::map<std::string, int64_t> counts;  // "split/class" -> images
  int64_t train = 0, test = 0;
  void add(bool test_split, const std::string& cls, const torch::Tensor& chw_u8) {
    const std::string sub = std::string(test_split ? "test" : "train") + (cls.empty() ? "" : "/" + cls);
    const int64_t n = ++counts[sub];
    const fs::path folder = dir / sub;
    if (n == 1) fs::create_directories(folder);
    char name[32];
    std::snprintf(name, sizeof name, "%05lld.png", (long long)n);
    const std::string png = encode_png(chw_u8.contiguous());
    std::ofstream f(folder / name, std::ios::binary);
    f.write(png.data(), std::streamsize(png.size()));
    if (!f) throw Error("cannot write '" + (folder / name).string() + "'", "check free space and permissions");
    (test_split ? test : train) += 1;
  }
};

void require_source(const PackageSet& set, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error("'" + path + "', the source of dataset " + set.name + ", does not exist",
                "install the Debian package " + set.package + " (scripts/install-deps.sh does; or apt-get install " +
                    set.package + "), or give its path with --source");
}

// RGBA [4, H, W] uint8 composited over a grey level -> RGB [3, H, W] uint8.
torch::Tensor over(const torch::Tensor& rgba, double background) {
  auto a = rgba.slice(0, 3, 4).to(torch::kFloat32) / 255.0;
  auto rgb = rgba.slice(0, 0, 3).to(torch::kFloat32);
  return (rgb * a + background * (1 - a)).round().clamp(0, 255).to(torch::kUInt8);
}

// ---- crawl-tiles -------------------------------------------------------------------

struct Box { int64_t x0, y0, x1, y1, pixels; };  // inclusive bounds

// 8-connected components of alpha > 0; `label` receives each pixel's component + 1.
std::vector<Box> components(const torch::Tensor& alpha, std::vector<int32_t>& label) {
  const int64_t h = alpha.size(0), w = alpha.size(1);
  const uint8_t* a = alpha.data_ptr<uint8_t>();
  label.assign(size_t(h * w), 0);
  std::vector<Box> boxes;
  std::vector<int64_t> stack;
  for (int64_t start = 0; start < h * w; ++start) {
    if (a[start] == 0 || label[size_t(start)] != 0) continue;
    const int32_t id = int32_t(boxes.size()) + 1;
    Box b{w, h, -1, -1, 0};
    stack.assign(1, start);
    label[size_t(start)] = id;
    while (!stack.empty()) {
      const int64_t p = stack.back(), y = p / w, x = p % w;
      stack.pop_back();
      b.x0 = std::min(b.x0, x), b.x1 = std::max(b.x1, x), b.y0 = std::min(b.y0, y), b.y1 = std::max(b.y1, y);
      ++b.pixels;
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx) {
          const int64_t ny = y + dy, nx = x + dx;
          if (ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
          const int64_t q = ny * w + nx;
          if (a[q] != 0 && label[size_t(q)] == 0) label[size_t(q)] = id, stack.push_back(q);
        }
    }
    boxes.push_back(b);
  }
  return boxes;
}

// The sprites of a trimmed sheet: components that fit 32x32, are at least 12 px
// on their longer side and cover 64 px, centred on black. Returns {kept, dropped}.
std::pair<int64_t, int64_t> cut_sprites(const torch::Tensor& rgba, const std::string& sheet, const std::string& cls, Writer& out) {
  std::vector<int32_t> label;
  auto alpha = rgba[3].contiguous();
  const auto boxes = components(alpha, label);
  const int64_t w = rgba.size(2);
  int64_t kept = 0, dropped = 0;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Box& b = boxes[i];
    const int64_t bw = b.x1 - b.x0 + 1, bh = b.y1 - b.y0 + 1;
    if (bw > 32 || bh > 32 || std::max(bw, bh) < 12 || b.pixels < 64) {
      dropped += std::max(bw, bh) >= 12;  // fragments below 12 px are specks, not sprites
      continue;
    }
    auto crop = rgba.slice(1, b.y0, b.y1 + 1).slice(2, b.x0, b.x1 + 1).clone();
    auto mine = torch::from_blob(label.data(), {rgba.size(1), w}, torch::kInt32)
                    .slice(0, b.y0, b.y1 + 1).slice(1, b.x0, b.x1 + 1).eq(int32_t(i + 1));
    crop[3].mul_(mine.to(torch::kUInt8));  // only this sprite's pixels
    auto tile = torch::zeros({4, 32, 32}, torch::kUInt8);
    const int64_t oy = (32 - bh) / 2, ox = (32 - bw) / 2;
    tile.slice(1, oy, oy + bh).slice(2, ox, ox + bw).copy_(crop);
    out.add(is_test(sheet + ":" + std::to_string(b.x0) + "," + std::to_string(b.y0)), cls, over(tile, 0));
    ++kept;
  }
  return {kept, dropped};
}

// A sheet of whole 32x32 cells (floors, walls): cells at least 90 % opaque.
std::pair<int64_t, int64_t> cut_cells(const torch::Tensor& rgba, const std::string& sheet, const std::string& cls, Writer& out) {
  int64_t kept = 0, dropped = 0;
  for (int64_t y = 0; y + 32 <= rgba.size(1); y += 32)
    for (int64_t x = 0; x + 32 <= rgba.size(2); x += 32) {
      auto cell = rgba.slice(1, y, y + 32).slice(2, x, x + 32);
      const double opaque = cell[3].gt(0).sum().item<double>() / 1024.0;
      if (opaque == 0) continue;
      if (opaque < 0.9) { ++dropped; continue; }
      out.add(is_test(sheet + ":" + std::to_string(x) + "," + std::to_string(y)), cls, over(cell.contiguous(), 0));
      ++kept;
    }
  return {kept, dropped};
}

PreparedSet prepare_crawl(const PackageSet& set, const std::string& src, Writer& out, const Info& info) {
  struct Sheet { const char* file; const char* cls; bool cells; };
  const Sheet sheets[] = {{"player.png", "characters", false}, {"main.png", "items", false}, {"feat.png", "features", false},
                          {"floor.png", "floors", true}, {"wall.png", "walls", true}};
  PreparedSet r;
  for (const auto& s : sheets) {
    const std::string path = (fs::path(src) / s.file).string();
    require_source(set, path);
    auto rgba = read_image(path, 4);  // RGBA
    const auto [kept, dropped] = s.cells ? cut_cells(rgba, s.file, s.cls, out) : cut_sprites(rgba, s.file, s.cls, out);
    r.note += std::string(r.note.empty() ? "" : "; ") + s.cls + " " + std::to_string(kept) + " (" + std::to_string(dropped) +
              (s.cells ? " partly transparent cells dropped)" : " merged or oversized cut-outs dropped)");
    if (info) info(std::string(s.file) + ": " + std::to_string(kept) + " tiles of class " + s.cls);
  }
  r.note = "Dungeon Crawl Stone Soup tiles, 32x32 on black: " + r.note;
  return r;
}

// ---- emoji -------------------------------------------------------------------------

bool in(uint32_t c, std::initializer_list<std::pair<uint32_t, uint32_t>> ranges) {
  for (auto [a, b] : ranges)
    if (c >= a && c <= b) return true;
  return false;
}

// duel's grouping of an emoji by its code points (an approximation of Unicode's
// emoji groups, by ranges): skin tone first, then the first code point's range.
std::string emoji_class(const std::vector<uint32_t>& cps) {
  static const char* tones[] = {"02-tone-light", "03-tone-medium-light", "04-tone-medium", "05-tone-medium-dark", "06-tone-dark"};
  for (uint32_t c : cps)
    if (c >= 0x1F3FB && c <= 0x1F3FF) return tones[c - 0x1F3FB];
  if (cps.empty()) return "10-other";
  const uint32_t c = cps[0];
  if (in(c, {{0x1F1E6, 0x1F1FF}}) || (c == 0x1F3F4 && cps.size() > 1) || (c == 0x1F3F3 && cps.size() > 1)) return "09-flags";
  if (in(c, {{0x1F600, 0x1F644}, {0x1F910, 0x1F917}, {0x1F920, 0x1F925}, {0x1F927, 0x1F92F}, {0x1F970, 0x1F976},
             {0x1F978, 0x1F97A}, {0x1F9D0, 0x1F9D0}, {0x1FAE0, 0x1FAE8}, {0x263A, 0x263A}, {0x2639, 0x2639}, {0x1F47B, 0x1F47F},
             {0x1F480, 0x1F480}, {0x1F4A9, 0x1F4A9}, {0x1F648, 0x1F64A}}))
    return "00-faces";
  if (in(c, {{0x1F466, 0x1F478}, {0x1F481, 0x1F487}, {0x1F440, 0x1F450}, {0x1F645, 0x1F647}, {0x1F64B, 0x1F64F},
             {0x1F918, 0x1F91F}, {0x1F926, 0x1F926}, {0x1F930, 0x1F93E}, {0x1F9B0, 0x1F9BB}, {0x1F9CD, 0x1F9DF},
             {0x1F574, 0x1F57A}, {0x1F590, 0x1F596}, {0x1F6A3, 0x1F6A3}, {0x1F6B4, 0x1F6B6}, {0x1F6C0, 0x1F6C0},
             {0x1F6CC, 0x1F6CC}, {0x1F3C2, 0x1F3CC}, {0x26F9, 0x26F9}, {0x261D, 0x261D}, {0x270A, 0x270D}, {0x1F4AA, 0x1F4AA},
             {0x1FAC3, 0x1FAC5}, {0x1FAF0, 0x1FAF8}, {0x1F90C, 0x1F90F}, {0x1F977, 0x1F977}}))
    return "01-people";
  if (in(c, {{0x1F400, 0x1F43F}, {0x1F980, 0x1F9AE}, {0x1F330, 0x1F344}, {0x1F490, 0x1F490}, {0x1F4AE, 0x1F4AE},
             {0x1F940, 0x1F940}, {0x1F54A, 0x1F54A}, {0x1F577, 0x1F578}, {0x1FAB0, 0x1FABF}}))
    return "07-animals-nature";
  if (in(c, {{0x1F345, 0x1F37F}, {0x1F950, 0x1F96F}, {0x1F9C0, 0x1F9CB}, {0x1FAD0, 0x1FADB}, {0x2615, 0x2615}}))
    return "08-food";
  return "10-other";
}

PreparedSet prepare_emoji(const PackageSet& set, const std::string& src, Writer& out, const Info& info) {
  require_source(set, src);
  const auto glyphs = read_color_glyphs(src);
  std::map<std::string, int64_t> per_class;
  for (const auto& g : glyphs) {
    auto rgba = decode_image(g.png, src + " glyph " + std::to_string(g.glyph), 4);
    const int64_t h = rgba.size(1), w = rgba.size(2), side = std::max(h, w);
    auto square = torch::zeros({4, side, side}, torch::kUInt8);  // transparent padding
    square.slice(1, (side - h) / 2, (side - h) / 2 + h).slice(2, (side - w) / 2, (side - w) / 2 + w).copy_(rgba);
    auto rgb = over(square, 255).to(torch::kFloat32).unsqueeze(0);
    auto small = torch::adaptive_avg_pool2d(rgb, {set.image_size, set.image_size}).round().clamp(0, 255).to(torch::kUInt8)[0];
    std::vector<uint32_t> base;  // the figure without its skin tone: all its tones share a split
    for (uint32_t c : g.codepoints)
      if (c < 0x1F3FB || c > 0x1F3FF) base.push_back(c);
    const std::string cls = emoji_class(g.codepoints);
    out.add(is_test(base.empty() ? "glyph " + std::to_string(g.glyph) : codepoints_text(base)), cls, small);
    ++per_class[cls];
  }
  PreparedSet r;
  r.note = "Noto Color Emoji, " + std::to_string(glyphs.size()) + " glyphs on white at " + std::to_string(set.image_size) + " px:";
  for (const auto& [cls, n] : per_class) r.note += " " + cls + " " + std::to_string(n);
  if (info) info(r.note);
  return r;
}

// ---- textures ----------------------------------------------------------------------

PreparedSet prepare_textures(const PackageSet& set, const std::string& src, Writer& out, const Info& info) {
  require_source(set, src);
  const int64_t p = set.image_size, max_patches = 16;
  int64_t textures = 0, skipped = 0, flat = 0, whole = 0, undecodable = 0;
  for (const auto& e : list_zip(src)) {
    const std::string& n = e.name;
    const std::string ext = n.size() > 4 ? n.substr(n.size() - 4) : "";
    if (n.rfind("textures/", 0) != 0 || (ext != ".jpg" && ext != ".tga")) continue;
    torch::Tensor rgba;
    try {
      const std::string bytes = read_zip_entry(src, e);
      rgba = ext == ".tga" ? decode_tga(bytes, src + ":" + n) : decode_image(bytes, src + ":" + n, 4);
    } catch (const Error&) {  // image variants the decoders do not read
      ++undecodable;
      continue;
    }
    const int64_t h = rgba.size(1), w = rgba.size(2);
    // Decals and sprites (more than 2 % transparent) and textures under one patch are not surfaces.
    if (h < p || w < p || rgba[3].lt(255).sum().item<double>() > 0.02 * double(h * w)) { ++skipped; continue; }
    auto rgb = rgba.slice(0, 0, 3).contiguous();
    const bool test = is_test(n);
    ++textures;
    // Up to 16 patches on a regular grid, spread over the texture; flat ones (std < 3 grey levels) dropped.
    const int64_t rows = h / p, cols = w / p, cells = rows * cols, stride = std::max<int64_t>(1, cells / max_patches);
    for (int64_t k = 0; k < cells; k += stride) {
      auto patch = rgb.slice(1, (k / cols) * p, (k / cols) * p + p).slice(2, (k % cols) * p, (k % cols) * p + p);
      if (patch.to(torch::kFloat32).std().item<double>() < 3.0) { ++flat; continue; }
      out.add(test, "", patch.contiguous());
    }
    if (test) {  // the whole texture, for `duel upscale`
      const fs::path full = out.dir / "full";
      fs::create_directories(full);
      std::string stem = n.substr(9, n.size() - 13);
      std::replace(stem.begin(), stem.end(), '/', '_');
      const std::string png = encode_png(rgb);
      std::ofstream f(full / (stem + ".png"), std::ios::binary);
      f.write(png.data(), std::streamsize(png.size()));
      ++whole;
    }
  }
  PreparedSet r;
  r.note = "OpenArena textures: " + std::to_string(p) + "x" + std::to_string(p) + " patches of " + std::to_string(textures) +
           " textures (" + std::to_string(skipped) + " decals or small images skipped, " + std::to_string(flat) +
           " flat patches dropped, " + std::to_string(undecodable) +
           " files the image decoder cannot read); the " + std::to_string(whole) + " test textures whole in full/";
  if (info) info(r.note);
  return r;
}

}  // namespace

const std::vector<PackageSet>& package_sets() {
  static const std::vector<PackageSet> sets{
      {"crawl-tiles", "crawl-tiles-data", "/usr/share/crawl/dat/tiles", 32},
      {"emoji", "fonts-noto-color-emoji", "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf", 64},
      {"textures", "openarena-081-textures", "/usr/share/games/openarena/baseoa/pak4-textures.pk3", 64}};
  return sets;
}

const PackageSet* find_package_set(const std::string& name) {
  for (const auto& s : package_sets())
    if (s.name == name) return &s;
  return nullptr;
}

PreparedSet prepare_package_set(const PackageSet& set, const std::string& source, const std::string& dir, const Info& info) {
  Writer out;
  out.dir = dir;
  const std::string src = source.empty() ? set.source : source;
  PreparedSet r = set.name == "crawl-tiles" ? prepare_crawl(set, src, out, info)
                  : set.name == "emoji"     ? prepare_emoji(set, src, out, info)
                                            : prepare_textures(set, src, out, info);
  r.train = out.train, r.test = out.test;
  require(r.train > 0 && r.test > 0, "'" + src + "' gave " + std::to_string(r.train) + " train and " +
                                         std::to_string(r.test) + " test images for dataset " + set.name,
          "check that it is the file " + set.package + " ships");
  return r;
}

}  // namespace duel
