// Datasets made from package files: the zip, TGA and colour-font readers,
// sprite cutting, and the self-supervised feature pieces (NT-Xent, k-NN,
// blur, patch shuffle, k-means) against known answers.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "duel/apps/contrastive.h"
#include "duel/apps/feature_check.h"
#include "duel/core/error.h"
#include "duel/data/package_sets.h"
#include "duel/io/color_font.h"
#include "duel/io/image.h"
#include "duel/io/image_decode.h"
#include "duel/io/zip.h"

namespace fs = std::filesystem;
using namespace duel;

namespace {

void put16(std::string& s, uint32_t v) { s += char(v & 0xFF), s += char(v >> 8 & 0xFF); }
void put32(std::string& s, uint32_t v) { put16(s, v & 0xFFFF), put16(s, v >> 16); }

// A zip of (name, data, deflate?) entries, written as PKZIP lays it out.
std::string make_zip(const std::vector<std::tuple<std::string, std::string, bool>>& entries, bool break_crc = false) {
  std::string body, dir;
  for (const auto& [name, data, deflated] : entries) {
    std::string packed = data;
    if (deflated) {
      z_stream zs{};
      deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      packed.assign(compressBound(uLong(data.size())) + 64, '\0');
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      zs.avail_in = uInt(data.size());
      zs.next_out = reinterpret_cast<Bytef*>(packed.data());
      zs.avail_out = uInt(packed.size());
      deflate(&zs, Z_FINISH);
      packed.resize(zs.total_out);
      deflateEnd(&zs);
    }
    uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())));
    if (break_crc) crc ^= 1;
    const uint32_t offset = uint32_t(body.size());
    std::string local;
    put32(local, 0x04034b50), put16(local, 20), put16(local, 0), put16(local, deflated ? 8 : 0), put32(local, 0);
    put32(local, crc), put32(local, uint32_t(packed.size())), put32(local, uint32_t(data.size()));
    put16(local, uint16_t(name.size())), put16(local, 0);
    body += local + name + packed;
    put32(dir, 0x02014b50), put16(dir, 20), put16(dir, 20), put16(dir, 0), put16(dir, deflated ? 8 : 0), put32(dir, 0);
    put32(dir, crc), put32(dir, uint32_t(packed.size())), put32(dir, uint32_t(data.size()));
    put16(dir, uint16_t(name.size())), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0), put32(dir, 0);
    put32(dir, offset);
    dir += name;
  }
  std::string end;
  put32(end, 0x06054b50), put16(end, 0), put16(end, 0), put16(end, uint16_t(entries.size())), put16(end, uint16_t(entries.size()));
  put32(end, uint32_t(dir.size())), put32(end, uint32_t(body.size())), put16(end, 0);
  return body + dir + end;
}

fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("duel-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_bytes(const fs::path& p, const std::string& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(b.data(), std::streamsize(b.size()));
}

// An RGBA PNG of uint8 [4, H, W], written by hand (filter 0 rows, zlib, CRCs).
std::string rgba_png(const torch::Tensor& rgba) {
  auto hwc = rgba.permute({1, 2, 0}).contiguous();
  const uint32_t h = uint32_t(hwc.size(0)), w = uint32_t(hwc.size(1));
  std::string raw;
  for (uint32_t y = 0; y < h; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(hwc.data_ptr<uint8_t>()) + size_t(y) * w * 4, size_t(w) * 4);
  }
  std::string z(compressBound(uLong(raw.size())), '\0');
  uLongf zlen = uLongf(z.size());
  compress(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()));
  z.resize(zlen);
  auto be32 = [](uint32_t v) { return std::string{char(v >> 24), char(v >> 16 & 0xFF), char(v >> 8 & 0xFF), char(v & 0xFF)}; };
  auto chunk = [&](const std::string& type, const std::string& data) {
    const std::string td = type + data;
    return be32(uint32_t(data.size())) + td + be32(uint32_t(crc32(0, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size()))));
  };
  const std::string ihdr = be32(w) + be32(h) + std::string("\x08\x06\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", "");
}

}  // namespace

TEST(Zip, ReadsStoredAndDeflatedEntriesAndRefusesABadCrc) {
  const auto dir = temp_dir("zip");
  std::string text(5000, 'a');
  for (size_t i = 0; i < text.size(); ++i) text[i] = char('a' + (i * 7) % 26);
  write_bytes(dir / "a.zip", make_zip({{"x/stored.txt", "hello", false}, {"x/deflated.txt", text, true}}));
  const auto entries = list_zip((dir / "a.zip").string());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "x/stored.txt");
  EXPECT_EQ(entries[1].method, 8);
  EXPECT_LT(entries[1].compressed, 5000);
  EXPECT_EQ(read_zip_entry((dir / "a.zip").string(), entries[0]), "hello");
  EXPECT_EQ(read_zip_entry((dir / "a.zip").string(), entries[1]), text);
  write_bytes(dir / "bad.zip", make_zip({{"x", "hello", true}}, true));
  const auto bad = list_zip((dir / "bad.zip").string());
  EXPECT_THROW(read_zip_entry((dir / "bad.zip").string(), bad[0]), Error);
  write_bytes(dir / "not.zip", "not a zip at all");
  EXPECT_THROW(list_zip((dir / "not.zip").string()), Error);
  fs::remove_all(dir);
}

TEST(Tga, DecodesRawAndRunLengthBottomUp) {
  // 2x2, 24 bpp, bottom-left origin: stored rows bottom then top, pixels BGR.
  std::string h(18, '\0');
  h[2] = 2, h[12] = 2, h[14] = 2, h[16] = 24;
  const std::string raw = h + std::string("\x00\x00\xff" "\x00\xff\x00" "\xff\x00\x00" "\x10\x20\x30", 12);
  auto img = decode_tga(raw, "raw");
  ASSERT_EQ(img.sizes(), (std::vector<int64_t>{4, 2, 2}));
  // top row (stored second): blue (0,0,255), then (0x30,0x20,0x10)
  EXPECT_EQ(img[0][0][0].item<int>(), 0);
  EXPECT_EQ(img[2][0][0].item<int>(), 255);
  EXPECT_EQ(img[0][0][1].item<int>(), 0x30);
  EXPECT_EQ(img[0][1][0].item<int>(), 255);  // bottom-left: red
  EXPECT_EQ(img[3].min().item<int>(), 255);  // 24 bpp: opaque
  // Run-length, 32 bpp, top-left origin: one run of 4 identical pixels.
  std::string r(18, '\0');
  r[2] = 10, r[12] = 2, r[14] = 2, r[16] = 32, r[17] = 0x28;
  r += std::string("\x83\x01\x02\x03\x80", 5);
  auto rle = decode_tga(r, "rle");
  EXPECT_EQ(rle[0].min().item<int>(), 3);
  EXPECT_EQ(rle[2].max().item<int>(), 1);
  EXPECT_EQ(rle[3].max().item<int>(), 0x80);
  EXPECT_THROW(decode_tga(r.substr(0, 20), "short"), Error);
  std::string paletted = h;
  paletted[1] = 1, paletted[2] = 1;
  EXPECT_THROW(decode_tga(paletted + std::string(20, '\0'), "paletted"), Error);
}

TEST(CrawlTiles, CutsSpritesDropsMergedOnesAndSplitsBySource) {
  const auto src = temp_dir("crawl-src"), out = temp_dir("crawl-out");
  // A sprite sheet 128x64: a 20x16 sprite, a 10x30 sprite, a 40x10 bar (too wide: dropped), a 3x3 speck.
  auto sprites = torch::zeros({4, 64, 128}, torch::kUInt8);
  sprites.index_put_({torch::indexing::Slice(), torch::indexing::Slice(2, 18), torch::indexing::Slice(2, 22)}, 200);
  sprites.index_put_({torch::indexing::Slice(), torch::indexing::Slice(30, 60), torch::indexing::Slice(5, 15)}, 100);
  sprites.index_put_({torch::indexing::Slice(), torch::indexing::Slice(40, 50), torch::indexing::Slice(50, 90)}, 150);
  sprites.index_put_({torch::indexing::Slice(), torch::indexing::Slice(5, 8), torch::indexing::Slice(100, 103)}, 250);
  sprites[3] = sprites[3].gt(0).to(torch::kUInt8) * 255;  // opaque, so the composite keeps the colour
  for (const char* f : {"player.png", "main.png", "feat.png"}) write_bytes(src / f, rgba_png(sprites));
  // Cell sheets 64x32: one opaque cell, one empty.
  auto cells = torch::zeros({4, 32, 64}, torch::kUInt8);
  cells.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(0, 32)}, 90);
  for (const char* f : {"floor.png", "wall.png"}) write_bytes(src / f, rgba_png(cells));
  const PackageSet* set = find_package_set("crawl-tiles");
  ASSERT_NE(set, nullptr);
  std::vector<std::string> lines;
  const auto r = prepare_package_set(*set, src.string(), out.string(), [&](const std::string& s) { lines.push_back(s); });
  // 3 sprite sheets x 2 sprites + 2 cell sheets x 1 cell = 8 tiles.
  EXPECT_EQ(r.train + r.test, 8);
  EXPECT_NE(r.note.find("characters 2 (1 merged or oversized cut-outs dropped)"), std::string::npos) << r.note;
  // A kept sprite is centred on black: the 20x16 one fills columns 6..25, rows 8..23 of its 32x32 tile.
  std::vector<torch::Tensor> tiles;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.path().extension() == ".png" && e.path().parent_path().filename() == "characters") tiles.push_back(read_image(e.path().string(), 3));
  ASSERT_EQ(tiles.size(), 2u);
  bool found = false;
  for (const auto& t : tiles) {
    if (t.sum().item<int64_t>() != int64_t(3) * 20 * 16 * 200) continue;
    found = true;
    EXPECT_EQ(t[0][8][6].item<int>(), 200);
    EXPECT_EQ(t[0][7][6].item<int>(), 0);
    EXPECT_EQ(t[0][23][25].item<int>(), 200);
    EXPECT_EQ(t[0][23][26].item<int>(), 0);
  }
  EXPECT_TRUE(found);
  // A missing sheet names itself and the package.
  fs::remove(src / "wall.png");
  try {
    prepare_package_set(*set, src.string(), temp_dir("crawl-out2").string(), {});
    ADD_FAILURE() << "no error for a missing sheet";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wall.png"), std::string::npos);
    EXPECT_NE(std::string(e.hint()).find("crawl-tiles-data"), std::string::npos);
  }
  fs::remove_all(src), fs::remove_all(out);
}

TEST(ColorFont, ReadsNotoColorEmojiWithSkinToneSequences) {
  const std::string font = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";
  if (!fs::exists(font)) GTEST_SKIP() << "fonts-noto-color-emoji is not installed (scripts/install-deps.sh installs it)";
  const auto glyphs = read_color_glyphs(font);
  EXPECT_GT(glyphs.size(), 3000u);
  int64_t grinning = -1, light = 0, dark = 0;
  for (size_t i = 0; i < glyphs.size(); ++i) {
    const auto& c = glyphs[i].codepoints;
    if (c == std::vector<uint32_t>{0x1F600}) grinning = int64_t(i);
    for (uint32_t cp : c) light += cp == 0x1F3FB, dark += cp == 0x1F3FF;
  }
  ASSERT_GE(grinning, 0);
  const auto img = decode_image(glyphs[size_t(grinning)].png, "U+1F600", 4);
  EXPECT_EQ(img.size(0), 4);
  EXPECT_GE(img.size(1), 100);
  // The face is yellow: over its opaque pixels red and green are high on average, blue low.
  auto opaque = img[3].gt(200);
  EXPECT_GT(img[0].index({opaque}).to(torch::kFloat32).mean().item<double>(), 180);
  EXPECT_GT(img[1].index({opaque}).to(torch::kFloat32).mean().item<double>(), 140);
  EXPECT_LT(img[2].index({opaque}).to(torch::kFloat32).mean().item<double>(), 100);
  // Every toned figure exists in the light and the dark tone.
  EXPECT_GT(light, 300);
  EXPECT_EQ(light, dark);
  EXPECT_EQ(codepoints_text({0x1F469, 0x1F3FD}), "1F469 1F3FD");
  EXPECT_THROW(read_color_glyphs("/nonexistent.ttf"), Error);
}

TEST(Contrastive, NtXentHasItsClosedForm) {
  // Two images whose views agree exactly and are orthogonal to the other image:
  // each row's positive has similarity 1/t, two negatives 0 -> -log(e^(1/t) / (e^(1/t) + 2)).
  auto z = torch::eye(2);
  const double t = 0.5, want = -std::log(std::exp(1 / t) / (std::exp(1 / t) + 2));
  EXPECT_NEAR(nt_xent(z, z, t).item<double>(), want, 1e-6);
  // Swapped views (each matched with the other image) score worse.
  EXPECT_GT(nt_xent(z, z.flip({0}), t).item<double>(), want + 1);
}

TEST(Contrastive, ViewsKeepShapeAndRange) {
  auto gen = at::detail::createCPUGenerator(3);
  auto x = torch::rand({8, 3, 16, 16}) * 2 - 1;
  auto v = contrastive_view(x, gen);
  EXPECT_EQ(v.sizes(), x.sizes());
  EXPECT_LE(v.max().item<double>(), 1.0);
  EXPECT_GE(v.min().item<double>(), -1.0);
  EXPECT_GT((v - x).abs().mean().item<double>(), 0.01);  // it does change the images
}

TEST(FeatureCheck, KnnAccuracyBlurShuffleAndKmeans) {
  auto train = torch::tensor({0.0f, 0.1f, 0.2f, 10.0f, 10.1f, 10.2f}).view({6, 1});
  auto ty = torch::tensor({0, 0, 0, 1, 1, 1}, torch::kInt64);
  auto test = torch::tensor({0.05f, 9.9f, 10.3f, 5.2f}).view({4, 1});
  EXPECT_DOUBLE_EQ(knn_accuracy(train, ty, test, torch::tensor({0, 1, 1, 0}, torch::kInt64), 3), 0.75);  // 5.2 is nearer the 1s
  // Blur keeps a constant image and the mean of any image.
  auto flat = torch::full({1, 2, 8, 8}, 0.3);
  EXPECT_NEAR((gaussian_blur(flat, 1.0) - 0.3).abs().max().item<double>(), 0.0, 1e-6);
  auto noise = torch::rand({1, 1, 16, 16});
  EXPECT_LT(gaussian_blur(noise, 1.5).std().item<double>(), noise.std().item<double>() * 0.6);
  // Shuffling all 16 cells moves every cell and keeps the multiset of cells.
  auto cells = torch::arange(16, torch::kFloat32).view({1, 1, 4, 4}).repeat_interleave(2, 2).repeat_interleave(2, 3);
  auto gen = at::detail::createCPUGenerator(5);
  auto s = shuffle_patches(cells, 16, gen);
  EXPECT_EQ(std::get<0>(s.flatten().sort()).equal(std::get<0>(cells.flatten().sort())), true);
  EXPECT_EQ(s.ne(cells).sum().item<int64_t>(), 64);
  auto two = shuffle_patches(cells, 2, gen);
  EXPECT_EQ(two.ne(cells).sum().item<int64_t>(), 8);  // exactly two 2x2 cells swapped
  // k-means separates two far blobs.
  auto pts = torch::cat({torch::randn({50, 2}) * 0.1, torch::randn({50, 2}) * 0.1 + 5});
  auto a = kmeans(pts, 2, gen);
  EXPECT_TRUE(a.slice(0, 0, 50).eq(a[0]).all().item<bool>());
  EXPECT_TRUE(a.slice(0, 50).eq(a[50]).all().item<bool>());
  EXPECT_NE(a[0].item<int64_t>(), a[50].item<int64_t>());
}
