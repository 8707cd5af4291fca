// CIFAR-10 in both of its published versions. The binary batches are
// records of one label byte and 3x32x32 pixels (red plane, green, blue); the
// python batches hold the same pixels as a NumPy uint8 [N, 3072] array in the
// same plane order, and the labels as a list, so both give identical tensors.
#include <cstring>
#include <filesystem>

#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/pickle.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

ImageSet parse_binary_batch(const std::vector<uint8_t>& b, const std::string& f) {
  constexpr int64_t rec = 1 + kPixels;
  if (b.empty() || b.size() % rec != 0)
    throw Error("CIFAR-10 file '" + f + "' has " + std::to_string(b.size()) +
                    " bytes, not a whole number of 3073-byte records",
                "the file is truncated or not the binary version");
  const int64_t n = int64_t(b.size()) / rec;
  auto raw = torch::from_blob(const_cast<uint8_t*>(b.data()), {n, rec}, torch::kUInt8).clone();
  ImageSet s;
  s.labels = raw.select(1, 0).to(torch::kInt64);
  s.images = raw.slice(1, 1).reshape({n, 3, 32, 32}).contiguous();
  return s;
}

std::vector<std::string> batch_names(const std::string& split) {
  std::vector<std::string> names;
  if (split == "train" || split == "all")
    for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i));
  if (split == "test" || split == "all") names.push_back("test_batch");
  return names;
}

}  // namespace

const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

ImageSet parse_cifar10_python_batch(const std::vector<uint8_t>& bytes, const std::string& origin) {
  const auto root = parse_pickle(bytes, origin);
  const PickleValue* data = pickle_get(*root, "data");
  const PickleValue* labels = pickle_get(*root, "labels");
  const std::string hint = "is this a batch of CIFAR-10's python version (cifar-10-batches-py)?";
  if (!data || !labels) throw Error("CIFAR-10 file '" + origin + "' has no 'data' and 'labels' entries", hint);
  if (data->kind != PickleValue::Kind::Array || (data->dtype != "|u1" && data->dtype != "<u1") ||
      data->shape.size() != 2 || data->shape[1] != kPixels)
    throw Error("CIFAR-10 file '" + origin + "': 'data' is not a uint8 array of shape [N, 3072]", hint);
  const int64_t n = data->shape[0];
  if (labels->kind != PickleValue::Kind::List || int64_t(labels->items.size()) != n)
    throw Error("CIFAR-10 file '" + origin + "': 'labels' is not a list of " + std::to_string(n) + " labels", hint);
  std::vector<int64_t> lab(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    const auto& v = *labels->items[size_t(i)];
    if (v.kind != PickleValue::Kind::Int || v.i < 0 || v.i > 9)
      throw Error("CIFAR-10 file '" + origin + "': label " + std::to_string(i) + " is not in 0..9", "the file is corrupt");
    lab[size_t(i)] = v.i;
  }
  ImageSet s;
  s.images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
  if (n > 0) std::memcpy(s.images.data_ptr<uint8_t>(), data->data.data(), size_t(n * kPixels));
  s.labels = torch::tensor(lab, torch::kInt64);
  return s;
}

ImageSet load_cifar10(const std::string& dir, const std::string& split) {
  const bool binary = exists(dir + "/data_batch_1.bin") || exists(dir + "/test_batch.bin");
  const bool python = exists(dir + "/data_batch_1") || exists(dir + "/test_batch");
  if (!binary && !python)
    throw Error("'" + dir + "' holds neither version of CIFAR-10 (data_batch_1.bin or data_batch_1)",
                "run `duel data get cifar10`, or set data.path to a cifar-10-batches-bin or cifar-10-batches-py folder");
  std::vector<torch::Tensor> imgs, labs;
  for (const auto& name : batch_names(split)) {
    const std::string f = dir + "/" + name + (binary ? ".bin" : "");
    if (!exists(f))
      throw Error("CIFAR-10 file '" + f + "' does not exist", "the folder is incomplete: run `duel data get cifar10` again");
    const auto bytes = read_file_maybe_gz(f);
    ImageSet part = binary ? parse_binary_batch(bytes, f) : parse_cifar10_python_batch(bytes, f);
    if (part.size() > 0 && part.labels.max().item<int64_t>() > 9)
      throw Error("CIFAR-10 file '" + f + "' has a label above 9", "the file is corrupt");
    imgs.push_back(part.images);
    labs.push_back(part.labels);
  }
  ImageSet s;
  s.images = torch::cat(imgs);
  s.labels = torch::cat(labs);
  s.num_classes = 10;
  s.class_names = cifar10_class_names();
  s.description = std::string("cifar10 ") + (binary ? "binary" : "python") + " " + split + " (" + dir + ")";
  return s;
}

}  // namespace duel
