// Packed datasets (.dueldata): round trip, reading by pread and by the
// mapping, damage found by verify, refusals of bad files, CSV labels.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "error_of.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"
#include "duel/data/packed.h"
#include "duel/io/image.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("duel_packed_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

using test::error_of;

// n images of 3x5x4 whose bytes depend on the index; labels i % 7.
ImageSet patterned(int64_t n) {
  ImageSet s;
  s.images = (torch::arange(n * 60, torch::kInt64).reshape({n, 3, 5, 4}) * 7 % 251).to(torch::kUInt8);
  s.labels = torch::arange(n, torch::kInt64) % 7;
  return s;
}

std::string pack(const ImageSet& s, const fs::path& file, int64_t piece = 700) {
  PackedWriter w(file.string(), 3, 5, 4);
  for (int64_t i = 0; i < s.size(); i += piece)
    w.append(s.images.slice(0, i, std::min(s.size(), i + piece)),
             s.labels.defined() ? s.labels.slice(0, i, std::min(s.size(), i + piece)) : torch::Tensor());
  w.finish({"a", "b", "c", "d", "e", "f", "g"}, "patterned");
  return file.string();
}

void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(offset));
  char c = 0;
  f.read(&c, 1);
  c ^= 0x5a;
  f.seekp(std::streamoff(offset));
  f.write(&c, 1);
}

TEST(Packed, RoundTripThroughTheMappingAndPread) {
  const auto dir = fresh("rt");
  const ImageSet src = patterned(2500);  // three CRC chunks, appended in pieces across chunk borders
  const ImageSet p = open_packed(pack(src, dir / "a.dueldata"));
  EXPECT_TRUE(torch::equal(p.images, src.images));
  EXPECT_TRUE(torch::equal(p.labels, src.labels));
  EXPECT_EQ(p.num_classes, 7);
  EXPECT_EQ(p.class_names.at(6), "g");
  ASSERT_TRUE(bool(p.gather));
  const auto idx = torch::tensor(std::vector<int64_t>{2499, 0, 1024, 7}, torch::kInt64);
  EXPECT_TRUE(torch::equal(p.rows(idx), src.images.index_select(0, idx)));
  const PackedCheck c = verify_packed((dir / "a.dueldata").string());
  EXPECT_EQ(c.chunks_ok, 3);
  EXPECT_TRUE(c.problems.empty());
  // A loader over the packed file hands out exactly the in-memory loader's batches.
  LoaderOptions o;
  o.batch_size = 32;
  o.seed = 5;
  Loader a(src, o), b(p, o);
  for (int i = 0; i < 5; ++i) {
    const Batch x = a.next(), y = b.next();
    EXPECT_TRUE(torch::equal(x.images, y.images));
    EXPECT_TRUE(torch::equal(x.labels, y.labels));
  }
}

TEST(Packed, VerifyNamesTheDamagedRecords) {
  const auto dir = fresh("damage");
  const std::string f = pack(patterned(2500), dir / "a.dueldata");
  flip_byte(f, 4096 + 60 * 1500 + 3);  // inside record 1500: the second chunk
  const PackedCheck c = verify_packed(f);
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0], "records 1024-2047: CRC mismatch");
  EXPECT_EQ(c.chunks_ok, 2);
  flip_byte(f, 4096 + 60 * 2500 + 8 * 3);  // a label
  EXPECT_EQ(verify_packed(f).problems.back(), "labels: CRC mismatch");
}

TEST(Packed, RefusesBadFilesWithTheirNameAndCause) {
  const auto dir = fresh("bad");
  const std::string f = pack(patterned(50), dir / "a.dueldata");
  fs::copy_file(f, dir / "cut.dueldata");
  fs::resize_file(dir / "cut.dueldata", fs::file_size(f) - 10);
  EXPECT_NE(error_of([&] { open_packed((dir / "cut.dueldata").string()); }).find("truncated or still being written"),
            std::string::npos);
  fs::copy_file(f, dir / "hdr.dueldata");
  flip_byte((dir / "hdr.dueldata").string(), 20);
  EXPECT_NE(error_of([&] { open_packed((dir / "hdr.dueldata").string()); }).find("header checksum mismatch"), std::string::npos);
  // A newer format version is named as such (the header CRC made valid again).
  fs::copy_file(f, dir / "new.dueldata");
  {
    std::fstream io(dir / "new.dueldata", std::ios::in | std::ios::out | std::ios::binary);
    char h[112];
    io.read(h, 112);
    const uint32_t v = 2;
    std::memcpy(h + 8, &v, 4);
    const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(h), 104));
    std::memcpy(h + 104, &crc, 4);
    io.seekp(0);
    io.write(h, 112);
  }
  EXPECT_NE(error_of([&] { open_packed((dir / "new.dueldata").string()); }).find("packed format v2, newer than this duel reads"),
            std::string::npos);
  std::ofstream(dir / "junk.dueldata") << "not a packed file at all";
  EXPECT_NE(error_of([&] { open_packed((dir / "junk.dueldata").string()); }).find("no DUELDATA header"), std::string::npos);
  // A writer dropped before finish() leaves nothing behind.
  {
    PackedWriter w((dir / "unfinished.dueldata").string(), 3, 5, 4);
    w.append(patterned(10).images);
  }
  EXPECT_FALSE(fs::exists(dir / "unfinished.dueldata"));
  size_t left = 0;
  for (const auto& e : fs::directory_iterator(dir)) left += e.path().filename().string()[0] == '.';
  EXPECT_EQ(left, 0u) << "a temporary file was left";
}

TEST(Packed, CsvLabelsCountTheUnlabelledAndRefuseOrSkipThem) {
  const auto dir = fresh("csv");
  fs::create_directories(dir / "img/sub");
  const auto px = torch::zeros({3, 6, 6}, torch::kUInt8);
  for (const char* n : {"a.png", "b.png", "sub/c.png", "d.png"}) write_png((dir / "img" / n).string(), px);
  std::ofstream(dir / "labels.csv") << "path,label\na.png,cat\nsub/c.png,dog\r\nb.png,cat\n";
  const std::string csv = (dir / "labels.csv").string(), img = (dir / "img").string();
  EXPECT_NE(error_of([&] { list_labelled_images(img, csv, false); }).find("found 2 classes, 1 files without a label (e.g. 'd.png')"),
            std::string::npos);
  const LabelledFiles lf = list_labelled_images(img, csv, true);
  ASSERT_EQ(lf.paths.size(), 3u);
  EXPECT_EQ(lf.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(lf.labels, (std::vector<int64_t>{0, 0, 1}));  // a.png, b.png, sub/c.png
  std::ofstream(dir / "bad.csv") << "a.png\n";
  EXPECT_NE(error_of([&] { list_labelled_images(img, (dir / "bad.csv").string()); }).find("line 1 of"), std::string::npos);
}

}  // namespace
}  // namespace duel
