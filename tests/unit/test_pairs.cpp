// Image-to-image data (data.pair): Sobel edge maps, paired folders matched by
// name, side-by-side halves, class domains, the loader's targets (paired
// crops/flips, unpaired draws, resume) and the errors for bad inputs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

#include <stb_image_write.h>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"
#include "duel/data/pairs.h"
#include "duel/io/image.h"

using namespace duel;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A fresh folder for one test, removed when it ends.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("duel-pairs-" + std::to_string(::getpid()) + "-" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& rel) const { return (path / rel).string(); }
};

// A constant c-channel w x h image of `value` as PNG (or BMP when the name ends in .bmp).
void write_const(const std::string& path, int64_t c, int64_t h, int64_t w, int value) {
  fs::create_directories(fs::path(path).parent_path());
  auto img = torch::full({c, h, w}, value, torch::kUInt8);
  if (fs::path(path).extension() == ".bmp") {
    auto hwc = img.permute({1, 2, 0}).contiguous();
    ASSERT_NE(stbi_write_bmp(path.c_str(), int(w), int(h), int(c), hwc.data_ptr<uint8_t>()), 0);
  } else {
    write_png(path, img);
  }
}

int value_of(const torch::Tensor& img) {  // the value of a constant image
  EXPECT_EQ(img.min().item<int>(), img.max().item<int>());
  return img.max().item<int>();
}

// A gray image [1, 1, h, w] whose columns take the given values.
torch::Tensor columns(std::vector<int> cols, int64_t h) {
  auto row = torch::tensor(std::vector<int64_t>(cols.begin(), cols.end()), torch::kInt64).to(torch::kUInt8);
  return row.reshape({1, 1, 1, -1}).expand({1, 1, h, int64_t(cols.size())}).contiguous();
}

}  // namespace

TEST(Sobel, VerticalStepsGiveEdgesExactlyAlongThem) {
  // Columns 0 0 0 120 120 120 150 150: for a vertically constant image the
  // Sobel x response at column c is (1+2+1) * (I[c+1] - I[c-1]) (borders
  // replicated) and the y response is 0, so the magnitude is
  // 0 0 480 480 0 120 120 0 in every row.
  auto img = columns({0, 0, 0, 120, 120, 120, 150, 150}, 5);
  auto mag = sobel_magnitude(img);
  ASSERT_EQ(mag.sizes(), torch::IntArrayRef({1, 1, 5, 8}));
  const std::vector<float> want = {0, 0, 480, 480, 0, 120, 120, 0};
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t x = 0; x < 8; ++x) EXPECT_FLOAT_EQ(mag[0][0][y][x].item<float>(), want[size_t(x)]) << y << "," << x;
  // Edge maps are scaled per image so the strongest edge is 255: 120 * 255 / 480 = 63.75 -> 64.
  auto flat = torch::full({1, 1, 5, 8}, 77, torch::kUInt8);  // no edges: stays all zero
  auto edges = sobel_edges(torch::cat({img, flat}));
  ASSERT_EQ(edges.scalar_type(), torch::kUInt8);
  const std::vector<int> want_u8 = {0, 0, 255, 255, 0, 64, 64, 0};
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t x = 0; x < 8; ++x) EXPECT_EQ(edges[0][0][y][x].item<int>(), want_u8[size_t(x)]);
  EXPECT_EQ(edges[1].max().item<int>(), 0);
  // Colour images: the edges of their grayscale, with as many channels.
  auto rgb = img.expand({1, 3, 5, 8}).contiguous();
  auto e3 = sobel_edges(rgb);
  ASSERT_EQ(e3.sizes(), torch::IntArrayRef({1, 3, 5, 8}));
  for (int64_t c = 0; c < 3; ++c) EXPECT_TRUE(torch::equal(e3[0][c], edges[0][0])) << c;
}

TEST(Sobel, PairsAreEdgesToImages) {
  ImageSet s;
  s.images = torch::cat({columns({0, 0, 200, 200}, 4), columns({9, 9, 9, 9}, 4)});
  s.labels = torch::tensor({3, 5}, torch::kInt64);
  s.description = "toy";
  auto p = sobel_pairs(s);
  EXPECT_TRUE(p.paired);
  EXPECT_TRUE(torch::equal(p.targets, s.images));
  EXPECT_TRUE(torch::equal(p.images, sobel_edges(s.images)));
  EXPECT_EQ(p.images[0][0][2][1].item<int>(), 255);
  EXPECT_EQ(p.images[1].max().item<int>(), 0);
  EXPECT_NE(p.description.find("edge maps"), std::string::npos);
}

TEST(PairedFolders, MatchByNameAcrossExtensionsAndSubfolders) {
  TempDir t("paired");
  // A: names out of value order; B: the same names (b.bmp for b.png), B = A + 100, in colour.
  write_const(t / "A/b.png", 1, 8, 8, 20);
  write_const(t / "A/a.png", 1, 8, 8, 10);
  write_const(t / "A/sub/c.png", 1, 8, 8, 30);
  write_const(t / "B/a.png", 3, 8, 8, 110);
  write_const(t / "B/b.bmp", 3, 8, 8, 120);
  write_const(t / "B/sub/c.png", 3, 8, 8, 130);
  auto s = load_paired_folders(t / "A", t / "B", 0, 0);
  ASSERT_EQ(s.size(), 3);
  ASSERT_EQ(s.targets.size(0), 3);
  EXPECT_TRUE(s.paired);
  EXPECT_EQ(s.images.size(1), 1);  // channel counts may differ
  EXPECT_EQ(s.targets.size(1), 3);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(value_of(s.images[i]), 10 * (i + 1));  // sorted by name: a, b, sub/c
    EXPECT_EQ(value_of(s.targets[i]), value_of(s.images[i]) + 100) << i;
  }
  check_pairs(s, 0);
  // Resized together; data.limit keeps the first pairs.
  auto r = load_paired_folders(t / "A", t / "B", 4, 3, 2);
  EXPECT_EQ(r.images.sizes(), torch::IntArrayRef({2, 3, 4, 4}));
  EXPECT_EQ(value_of(r.targets[1]), 120);

  // Every A needs its B and every B its A: the error names the file.
  write_const(t / "A/d.png", 1, 8, 8, 40);
  auto e = error_of([&] { load_paired_folders(t / "A", t / "B", 0, 0); });
  EXPECT_NE(e.find("A/d.png"), std::string::npos) << e;
  EXPECT_NE(e.find("no B image"), std::string::npos) << e;
  fs::remove(t / "A/d.png");
  write_const(t / "B/zz.png", 3, 8, 8, 40);
  e = error_of([&] { load_paired_folders(t / "A", t / "B", 0, 0); });
  EXPECT_NE(e.find("B/zz.png"), std::string::npos) << e;
  EXPECT_NE(e.find("no A image"), std::string::npos) << e;
  fs::remove(t / "B/zz.png");
  // Two B images of one name are ambiguous.
  write_const(t / "B/a.bmp", 3, 8, 8, 1);
  e = error_of([&] { load_paired_folders(t / "A", t / "B", 0, 0); });
  EXPECT_NE(e.find("ambiguous"), std::string::npos) << e;
  fs::remove(t / "B/a.bmp");
  // A and B of different sizes are refused unless data.image_size resizes both.
  write_const(t / "B/a.png", 3, 16, 16, 110);
  write_const(t / "B/b.bmp", 3, 16, 16, 120);
  write_const(t / "B/sub/c.png", 3, 16, 16, 130);
  e = error_of([&] { load_paired_folders(t / "A", t / "B", 0, 0); });
  EXPECT_NE(e.find("differ in size"), std::string::npos) << e;
  EXPECT_EQ(load_paired_folders(t / "A", t / "B", 8, 0).targets.size(2), 8);
}

TEST(PairedFolders, ThroughTheConfigWithSplitsAndMissingKeys) {
  TempDir t("config");
  for (std::string split : {"train", "test"})
    for (int i = 0; i < (split == "train" ? 3 : 2); ++i) {
      write_const(t / ("A/" + split + "/" + std::to_string(i) + ".png"), 1, 6, 6, i);
      write_const(t / ("B/" + split + "/" + std::to_string(i) + ".png"), 1, 6, 6, 50 + i);
    }
  Config cfg;
  cfg.set("data.pair", std::string("paired-folders"));
  cfg.set("data.path", t / "A");
  auto e = error_of([&] { open_dataset(cfg); });
  EXPECT_NE(e.find("data.path_b"), std::string::npos) << e;
  cfg.set("data.path_b", t / "B");
  auto train = open_dataset(cfg);
  auto test = open_dataset(cfg, "test");
  auto all = open_dataset(cfg, "all");
  EXPECT_EQ(train.size(), 3);  // train/ and test/ subfolders split the data
  EXPECT_EQ(test.size(), 2);
  EXPECT_EQ(all.size(), 5);
  EXPECT_EQ(value_of(test.targets[1]), 51);
  EXPECT_NE(train.description.find("A = "), std::string::npos);
  cfg.set("data.path_b", t / "nowhere");
  e = error_of([&] { open_dataset(cfg); });
  EXPECT_NE(e.find("nowhere"), std::string::npos) << e;
  // Unpaired folders: any counts, no names matched.
  write_const(t / "B/train/extra.png", 1, 6, 6, 99);
  cfg.set("data.pair", std::string("unpaired-folders"));
  cfg.set("data.path_b", t / "B");
  auto u = open_dataset(cfg);
  EXPECT_FALSE(u.paired);
  EXPECT_EQ(u.size(), 3);
  EXPECT_EQ(u.targets.size(0), 4);
  // data.crop larger than the images is refused before training.
  cfg.set("data.crop", int64_t(7));
  e = error_of([&] { open_dataset(cfg); });
  EXPECT_NE(e.find("data.crop = 7"), std::string::npos) << e;
  // An unknown mode is refused by the config itself.
  EXPECT_NE(error_of([&] { cfg.set_from_string("data.pair=mirror"); }).find("data.pair"), std::string::npos);
}

TEST(SideBySide, SplitsHalvesAndRefusesOddWidths) {
  TempDir t("sbs");
  fs::create_directories(t / "ab");
  for (int i = 0; i < 2; ++i) {
    auto img = torch::empty({1, 4, 8}, torch::kUInt8);
    img.slice(2, 0, 4).fill_(50 + i);
    img.slice(2, 4, 8).fill_(200 + i);
    write_png(t / ("ab/" + std::to_string(i) + ".png"), img);
  }
  auto ab = load_side_by_side(t / "ab", false, 0, 0);
  ASSERT_EQ(ab.images.sizes(), torch::IntArrayRef({2, 1, 4, 4}));
  ASSERT_EQ(ab.targets.sizes(), torch::IntArrayRef({2, 1, 4, 4}));
  EXPECT_TRUE(ab.paired);
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(value_of(ab.images[i]), 50 + i);
    EXPECT_EQ(value_of(ab.targets[i]), 200 + i);
  }
  auto ba = load_side_by_side(t / "ab", true, 2, 3);
  ASSERT_EQ(ba.images.sizes(), torch::IntArrayRef({2, 3, 2, 2}));
  EXPECT_EQ(value_of(ba.images[1]), 201);
  EXPECT_EQ(value_of(ba.targets[1]), 51);
  // Through the config: data.dataset = folder:<dir> names the folder too.
  Config cfg;
  cfg.set("data.pair", std::string("side-by-side"));
  cfg.set("data.dataset", "folder:" + (t / "ab"));
  cfg.set("data.side_by_side", std::string("BA"));
  EXPECT_EQ(value_of(open_dataset(cfg).targets[0]), 50);
  write_const(t / "ab/odd.png", 1, 4, 7, 0);
  auto e = error_of([&] { load_side_by_side(t / "ab", false, 0, 0); });
  EXPECT_NE(e.find("odd.png"), std::string::npos) << e;
  EXPECT_NE(e.find("odd"), std::string::npos) << e;
}

TEST(Classes, SplitsALabelledSetIntoTwoDomains) {
  ImageSet s;
  s.images = torch::arange(6, torch::kInt64).to(torch::kUInt8).reshape({6, 1, 1, 1}).expand({6, 1, 2, 2}).contiguous();
  s.labels = torch::tensor({0, 1, 2, 1, 0, 1}, torch::kInt64);
  s.num_classes = 4;
  s.class_names = {"zero", "one", "two", "three"};
  s.description = "toy";
  auto p = class_pairs(s, 1, 0);
  EXPECT_FALSE(p.paired);
  ASSERT_EQ(p.size(), 3);
  ASSERT_EQ(p.targets.size(0), 2);
  EXPECT_EQ(value_of(p.images[0]), 1);
  EXPECT_EQ(value_of(p.images[1]), 3);
  EXPECT_EQ(value_of(p.images[2]), 5);
  EXPECT_EQ(value_of(p.targets[0]), 0);
  EXPECT_EQ(value_of(p.targets[1]), 4);
  EXPECT_FALSE(p.has_labels());
  EXPECT_NE(p.description.find("class 1 (one)"), std::string::npos) << p.description;
  auto e = error_of([&] { class_pairs(s, 1, 3); });
  EXPECT_NE(e.find("data.class_b = 3 (three) has no images"), std::string::npos) << e;
  e = error_of([&] { class_pairs(s, 9, 0); });
  EXPECT_NE(e.find("data.class_a = 9 is out of range"), std::string::npos) << e;
  e = error_of([&] { class_pairs(s, -1, 0); });
  EXPECT_NE(e.find("needs data.class_a and data.class_b"), std::string::npos) << e;
  ImageSet unlabelled = s;
  unlabelled.labels = torch::Tensor();
  e = error_of([&] { class_pairs(unlabelled, 1, 0); });
  EXPECT_NE(e.find("has no labels"), std::string::npos) << e;
}

TEST(Classes, ThroughTheConfigFromAFolderWithClasses) {
  TempDir t("classes");
  for (int i = 0; i < 3; ++i) write_const(t / ("cat/" + std::to_string(i) + ".png"), 1, 4, 4, 10 + i);
  for (int i = 0; i < 2; ++i) write_const(t / ("dog/" + std::to_string(i) + ".png"), 1, 4, 4, 20 + i);
  Config cfg;
  cfg.set("data.dataset", "folder:" + t.path.string());
  cfg.set("data.pair", std::string("classes"));
  cfg.set("data.class_a", int64_t(1));
  cfg.set("data.class_b", int64_t(0));
  auto s = open_dataset(cfg);
  EXPECT_EQ(s.size(), 2);
  EXPECT_EQ(s.targets.size(0), 3);
  EXPECT_EQ(value_of(s.images[1]), 21);
  EXPECT_NE(s.description.find("class 1 (dog)"), std::string::npos) << s.description;
}

TEST(PairLoader, PairedCropAndFlipCutTheSameWindowFromAAndB) {
  torch::manual_seed(4);
  const int64_t n = 12;
  ImageSet s;
  s.images = torch::randint(0, 256, {n, 2, 8, 8}, torch::kInt64).to(torch::kUInt8);
  s.targets = s.images.clone();
  s.labels = torch::arange(n, torch::kInt64);  // to find each batch image's source
  s.paired = true;
  LoaderOptions o;
  o.batch_size = 4;
  o.prefetch = 0;
  o.crop = 5;
  o.flip = true;
  Loader l(s, o);
  int flipped = 0, offset = 0, found = 0;
  for (int k = 0; k < 9; ++k) {
    auto b = l.next();
    ASSERT_EQ(b.images.sizes(), torch::IntArrayRef({4, 2, 5, 5}));
    EXPECT_TRUE(torch::equal(b.images, b.targets));  // the same window and flip for A and B
    for (int64_t i = 0; i < 4; ++i) {
      auto src = to_unit_range(s.images[b.labels[i].item<int64_t>()]);
      for (int64_t top = 0; top <= 3; ++top)
        for (int64_t left = 0; left <= 3; ++left)
          for (bool f : {false, true}) {
            auto win = src.slice(1, top, top + 5).slice(2, left, left + 5);
            if (f) win = win.flip({2});
            if (torch::equal(win, b.images[i])) {
              ++found;
              flipped += f;
              offset += (top || left);
            }
          }
    }
  }
  EXPECT_EQ(found, 36);  // every image is a window of its source
  EXPECT_GT(flipped, 5);
  EXPECT_LT(flipped, 31);
  EXPECT_GT(offset, 18);
  // Unpaired data draws A's and B's windows independently.
  s.paired = false;
  Loader u(s, o);
  auto ub = u.next();
  EXPECT_FALSE(torch::equal(ub.images, ub.targets));
  // A crop larger than the images is refused.
  o.crop = 9;
  auto e = error_of([&] { Loader bad(s, o); });
  EXPECT_NE(e.find("data.crop = 9"), std::string::npos) << e;
}

TEST(PairLoader, TargetsResumeExactlyAfterSeek) {
  for (bool paired : {true, false}) {
    ImageSet s;
    s.images = torch::arange(10, torch::kInt64).to(torch::kUInt8).reshape({10, 1, 1, 1}).expand({10, 1, 4, 4}).contiguous();
    s.targets = (torch::arange(7, torch::kInt64) + 100).to(torch::kUInt8).reshape({7, 1, 1, 1}).expand({7, 3, 4, 4}).contiguous();
    if (paired) s.targets = (s.images + 100).expand({10, 3, 4, 4}).contiguous();
    s.paired = paired;
    LoaderOptions o;
    o.batch_size = 4;
    o.seed = 11;
    o.prefetch = 2;
    o.crop = 3;
    o.flip = true;
    Loader l(s, o);
    std::vector<Batch> seen;
    for (int i = 0; i < 6; ++i) seen.push_back(l.next());
    for (auto& b : seen) {
      ASSERT_TRUE(b.targets.defined());
      EXPECT_EQ(b.targets.sizes(), torch::IntArrayRef({4, 3, 3, 3}));
      if (paired) {  // B image i belongs to A image i
        EXPECT_TRUE(torch::allclose(b.targets.select(1, 0), b.images.select(1, 0) + 100 / 127.5, 1e-5, 1e-5));
      }
    }
    Loader resumed(s, o);
    resumed.seek({1, 1});  // batch 3 of the run
    for (int i = 3; i < 6; ++i) {
      auto r = resumed.next();
      EXPECT_TRUE(torch::equal(r.images, seen[size_t(i)].images)) << paired << i;
      EXPECT_TRUE(torch::equal(r.targets, seen[size_t(i)].targets)) << paired << i;
    }
  }
}

TEST(PairLoader, UnpairedBIndicesAreDrawnApartFromA) {
  const int64_t n = 20, m = 13;
  ImageSet s;
  s.images = torch::arange(n, torch::kInt64).to(torch::kUInt8).reshape({n, 1, 1, 1}).expand({n, 1, 2, 2}).contiguous();
  s.targets = (torch::arange(m, torch::kInt64) + 100).to(torch::kUInt8).reshape({m, 1, 1, 1}).expand({m, 1, 2, 2}).contiguous();
  s.paired = false;
  LoaderOptions o;
  o.batch_size = 5;
  o.seed = 2;
  o.prefetch = 0;
  auto indices = [](const torch::Tensor& x, int64_t base) {
    auto v = ((x.select(1, 0).select(1, 0).select(1, 0) + 1) * 127.5).round().to(torch::kInt64) - base;
    return std::vector<int64_t>(v.data_ptr<int64_t>(), v.data_ptr<int64_t>() + v.numel());
  };
  Loader a(s, o), b(s, o);
  std::vector<int64_t> ia, ib;
  for (int k = 0; k < 8; ++k) {  // two epochs
    auto x = a.next(), y = b.next();
    EXPECT_TRUE(torch::equal(x.targets, y.targets));  // deterministic
    for (auto i : indices(x.images, 0)) ia.push_back(i);
    for (auto j : indices(x.targets, 100)) ib.push_back(j);
  }
  ASSERT_EQ(ib.size(), ia.size());
  EXPECT_NE(ia, ib);
  int same = 0;
  for (size_t k = 0; k < ia.size(); ++k) {
    EXPECT_GE(ib[k], 0);
    EXPECT_LT(ib[k], m);
    same += ia[k] == ib[k];
  }
  EXPECT_LT(same, 15);
  std::sort(ib.begin(), ib.end());
  EXPECT_GT(std::unique(ib.begin(), ib.end()) - ib.begin(), 8);  // B images spread over the domain
  LoaderOptions other = o;  // another seed draws other B images
  other.seed = 3;
  Loader c(s, other), d(s, o);
  EXPECT_FALSE(torch::equal(c.next().targets, d.next().targets));
}

TEST(PairChecks, RefuseMismatchedOrNonSquarePairs) {
  ImageSet s;
  s.description = "toy";
  s.images = torch::zeros({3, 1, 4, 6}, torch::kUInt8);
  s.targets = torch::zeros({3, 3, 4, 6}, torch::kUInt8);
  s.paired = true;
  auto e = error_of([&] { check_pairs(s, 0); });
  EXPECT_NE(e.find("not square"), std::string::npos) << e;
  EXPECT_EQ(error_of([&] { check_pairs(s, 4); }), "");  // random square crops make them square
  s.targets = torch::zeros({2, 3, 4, 6}, torch::kUInt8);
  e = error_of([&] { check_pairs(s, 4); });
  EXPECT_NE(e.find("3 A images but 2 B images"), std::string::npos) << e;
  s.targets = torch::zeros({3, 3, 6, 6}, torch::kUInt8);
  e = error_of([&] { check_pairs(s, 4); });
  EXPECT_NE(e.find("A images are 6x4 but B images are 6x6"), std::string::npos) << e;
}
