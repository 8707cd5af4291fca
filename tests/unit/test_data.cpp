// Data: IDX parsing (raw, gzip, corrupt), resizing, and the loader's order,
// determinism and resumable position.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"

using namespace duel;

namespace {
std::vector<uint8_t> idx_images(uint32_t n, uint32_t h, uint32_t w, size_t payload) {
  std::vector<uint8_t> b = {0, 0, 8, 3};
  for (uint32_t v : {n, h, w})
    for (int i = 3; i >= 0; --i) b.push_back(uint8_t(v >> (8 * i)));
  for (size_t i = 0; i < payload; ++i) b.push_back(uint8_t(i * 7));
  return b;
}
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
ImageSet toy(int64_t n) {
  ImageSet s;
  s.images = torch::arange(n, torch::kInt64).to(torch::kUInt8).reshape({n, 1, 1, 1}).expand({n, 1, 2, 2}).contiguous();
  s.labels = torch::arange(n, torch::kInt64);
  return s;
}
}  // namespace

TEST(Idx, ParsesImagesAndValues) {
  auto b = idx_images(2, 3, 4, 24);
  auto t = parse_idx_images(b, "mem");
  EXPECT_EQ(t.sizes(), torch::IntArrayRef({2, 1, 3, 4}));
  EXPECT_EQ(t[1][0][0][1].item<int>(), uint8_t(13 * 7));
}

TEST(Idx, RejectsCorruptHeaders) {
  auto b = idx_images(2, 3, 4, 24);
  b[3] = 9;
  EXPECT_NE(error_of([&] { parse_idx_images(b, "bad.idx"); }).find("bad IDX magic"), std::string::npos);
  auto t = idx_images(2, 3, 4, 23);
  EXPECT_NE(error_of([&] { parse_idx_images(t, "t.idx"); }).find("truncated"), std::string::npos);
  // A huge declared count must not allocate: it is rejected from the file size.
  auto h = idx_images(0xFFFFFFFF, 28, 28, 10);
  EXPECT_NE(error_of([&] { parse_idx_images(h, "h.idx"); }).find("truncated"), std::string::npos);
  std::vector<uint8_t> tiny = {0, 0, 8};
  EXPECT_NE(error_of([&] { parse_idx_images(tiny, "tiny.idx"); }).find("too short"), std::string::npos);
  std::vector<uint8_t> labels = {0, 0, 8, 1, 0, 0, 0, 5, 1, 2};
  EXPECT_NE(error_of([&] { parse_idx_labels(labels, "l.idx"); }).find("truncated"), std::string::npos);
}

TEST(Idx, ReadsGzipAndRejectsBrokenGzip) {
  auto dir = std::filesystem::temp_directory_path() / "duel_test_idx";
  std::filesystem::create_directories(dir);
  auto b = idx_images(1, 2, 2, 4);
  auto path = (dir / "x.gz").string();
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, b.data(), unsigned(b.size()));
  gzclose(f);
  EXPECT_EQ(read_file_maybe_gz(path), b);
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(dir / "cut.gz", std::ios::binary) << all.substr(0, all.size() / 2);
  EXPECT_NE(error_of([&] { read_file_maybe_gz((dir / "cut.gz").string()); }).find("truncated gzip"), std::string::npos);
  EXPECT_NE(error_of([&] { read_file_maybe_gz((dir / "missing").string()); }).find("does not exist"), std::string::npos);
}

TEST(Data, ResizeAndChannels) {
  auto x = torch::full({2, 1, 28, 28}, 100, torch::kUInt8);
  auto y = resize_images(x, 32, 3);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 32, 32}));
  EXPECT_EQ(y.min().item<int>(), 100);
  EXPECT_EQ(y.max().item<int>(), 100);
  auto u = to_unit_range(torch::tensor({0, 255}, torch::kUInt8));
  EXPECT_FLOAT_EQ(u[0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(u[1].item<float>(), 1.0f);
}

TEST(Loader, EpochIsAPermutationAndSeedDeterministic) {
  auto a = Loader::epoch_order(100, 5, 0, true), b = Loader::epoch_order(100, 5, 0, true);
  auto c = Loader::epoch_order(100, 5, 1, true);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
}

TEST(Loader, PrefetchDoesNotChangeBatchesAndSeekResumes) {
  LoaderOptions o;
  o.batch_size = 4;
  o.seed = 3;
  o.prefetch = 0;
  Loader sync(toy(10), o);
  o.prefetch = 3;
  Loader pre(toy(10), o);
  EXPECT_EQ(sync.batches_per_epoch(), 2);  // drop_last
  std::vector<torch::Tensor> seen;
  for (int i = 0; i < 7; ++i) {
    auto a = sync.next(), b = pre.next();
    EXPECT_TRUE(torch::equal(a.labels, b.labels));
    EXPECT_EQ(a.epoch, i / 2);
    seen.push_back(a.labels);
  }
  // A fresh loader seeked to (epoch 1, batch 1) continues exactly.
  Loader resumed(toy(10), o);
  resumed.seek({1, 1});
  auto r = resumed.next();
  EXPECT_TRUE(torch::equal(r.labels, seen[3]));
  EXPECT_NE(error_of([&] { resumed.seek({0, 5}); }).find("outside"), std::string::npos);
  // Images are normalised to [-1, 1] and carry the same order as labels.
  auto batch = sync.next();
  EXPECT_TRUE(torch::allclose(batch.images.select(1, 0).select(1, 0).select(1, 0),
                              batch.labels.to(torch::kFloat32) / 127.5 - 1));
}

TEST(Loader, RejectsDatasetSmallerThanABatch) {
  LoaderOptions o;
  o.batch_size = 64;
  EXPECT_NE(error_of([&] { Loader l(toy(10), o); }).find("fewer than one batch"), std::string::npos);
}
