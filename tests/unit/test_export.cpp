// write_labelled_set: a labelled set written as an image folder or IDX files
// reads back through duel's own loaders with the same pixels and labels;
// existing folders are refused (or replaced whole), bad sets are refused.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/dataset_writer.h"

using namespace duel;
namespace fs = std::filesystem;

namespace {
ImageSet toy_set(int64_t channels) {
  ImageSet s;
  s.labels = torch::tensor({2, 0, 1, 0, 2, 1, 0}, torch::kInt64);
  s.images = torch::arange(7 * channels * 25, torch::kInt64).remainder(251).to(torch::kUInt8).reshape({7, channels, 5, 5});
  s.num_classes = 3;
  s.class_names = {"T-shirt/top", "Trouser", "Pullover"};
  return s;
}
fs::path fresh(const std::string& name) {
  auto p = fs::temp_directory_path() / ("duel_export_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}
// The set's images ordered by label, then by position (the order a folder reads back in).
std::pair<torch::Tensor, torch::Tensor> by_class(const ImageSet& s) {
  std::vector<int64_t> order;
  for (int64_t c = 0; c < s.num_classes; ++c)
    for (int64_t i = 0; i < s.size(); ++i)
      if (s.labels[i].item<int64_t>() == c) order.push_back(i);
  auto idx = torch::tensor(order, torch::kInt64);
  return {s.images.index_select(0, idx), s.labels.index_select(0, idx)};
}
}  // namespace

TEST(Export, FolderReadsBackWithLabelsAndNames) {
  for (int64_t channels : {1, 3}) {
    auto set = toy_set(channels);
    auto dir = fresh("folder" + std::to_string(channels));
    write_labelled_set(set, dir.string(), "folder");
    auto back = load_image_folder(dir.string(), 0, channels);
    auto [images, labels] = by_class(set);
    EXPECT_TRUE(torch::equal(back.labels, labels));
    EXPECT_TRUE(torch::equal(back.images, images));
    ASSERT_EQ(back.class_names.size(), 3u);
    EXPECT_EQ(back.class_names[0], "0-T-shirt_top");
    EXPECT_EQ(back.class_names[2], "2-Pullover");
    fs::remove_all(dir);
  }
}

TEST(Export, IdxReadsBackInOrder) {
  auto set = toy_set(1);
  auto dir = fresh("idx");
  write_labelled_set(set, dir.string(), "idx");
  auto back = load_idx((dir / "train-images-idx3-ubyte").string(), (dir / "train-labels-idx1-ubyte").string());
  EXPECT_TRUE(torch::equal(back.images, set.images));
  EXPECT_TRUE(torch::equal(back.labels, set.labels));
  // RGB does not fit IDX.
  EXPECT_THROW(write_labelled_set(toy_set(3), fresh("idx3").string(), "idx"), Error);
  fs::remove_all(dir);
}

TEST(Export, ExistingFolderRefusedOrReplacedWhole) {
  auto dir = fresh("exists");
  fs::create_directories(dir);
  std::ofstream(dir / "keep.txt") << "user data";
  EXPECT_THROW(write_labelled_set(toy_set(1), dir.string(), "idx"), Error);
  EXPECT_TRUE(fs::exists(dir / "keep.txt"));
  write_labelled_set(toy_set(1), dir.string(), "idx", /*replace=*/true);
  EXPECT_FALSE(fs::exists(dir / "keep.txt"));
  EXPECT_TRUE(fs::exists(dir / "train-labels-idx1-ubyte"));
  // No temporary folders are left beside it.
  for (auto& e : fs::directory_iterator(dir.parent_path()))
    EXPECT_EQ(e.path().filename().string().find("." + dir.filename().string() + ".partial"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Export, RefusesBadSets) {
  auto set = toy_set(1);
  set.labels = torch::Tensor();
  EXPECT_THROW(write_labelled_set(set, fresh("nolabels").string(), "folder"), Error);
  set = toy_set(1);
  set.labels[0] = 3;  // out of range for 3 classes
  EXPECT_THROW(write_labelled_set(set, fresh("range").string(), "folder"), Error);
  EXPECT_THROW(write_labelled_set(toy_set(1), fresh("fmt").string(), "tfrecord"), Error);
  EXPECT_THROW(write_labelled_set(toy_set(1), "/nonexistent-parent/x", "folder"), Error);
  EXPECT_FALSE(fs::exists(fresh("nolabels")));
}
