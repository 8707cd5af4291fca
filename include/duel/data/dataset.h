// Datasets: whole image sets held in memory as uint8 tensors, read from IDX
// files (MNIST family, gzipped or raw), CIFAR-10 binary batches or an image
// folder. Every reader checks what it reads and throws duel::Error naming the
// file and the problem (missing, bad magic, truncated, count mismatch, ...).
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "duel/data/text.h"

namespace duel {

class Config;

struct ImageSet {
  torch::Tensor images;  // uint8 [N, C, H, W]
  torch::Tensor labels;  // int64 [N], undefined when the data has none
  int64_t num_classes = 0;
  std::vector<std::string> class_names;
  std::string description;  // e.g. "fashion-mnist train (60000 images, /usr/share/...)"
  // Image-to-image data (data.pair): the B images, uint8 [M, C', H, W].
  // paired: M == N and targets[i] belongs to images[i]; unpaired: two
  // domains of any sizes M and N.
  torch::Tensor targets;
  bool paired = false;
  // Captions of the images (data.captions, duel/data/text.h); undefined when none.
  CaptionSet captions;
  // Image folders: each image's path relative to the folder, in order (as read; not narrowed by data.limit).
  std::vector<std::string> files;
  // Packed files (data/packed.h): `images` maps the file, and gather(idx)
  // copies rows [idx] with pread instead, so that a loader's resident memory
  // stays flat however large the file. Empty for sets held in memory; whatever
  // re-indexes `images` must clear it.
  std::function<torch::Tensor(const torch::Tensor& idx)> gather;

  // Rows [idx] of `images` as a new uint8 tensor (through gather when set).
  torch::Tensor rows(const torch::Tensor& idx) const { return gather ? gather(idx) : images.index_select(0, idx); }

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  bool has_labels() const { return labels.defined(); }
  bool has_captions() const { return captions.defined(); }
};

// Reads a whole file, transparently gunzipping it when it starts with the gzip magic.
std::vector<uint8_t> read_file_maybe_gz(const std::string& path);

// IDX (LeCun) image file: magic 0x00000803, [N, H, W] uint8 -> [N, 1, H, W].
torch::Tensor parse_idx_images(const std::vector<uint8_t>& bytes, const std::string& origin);
// IDX label file: magic 0x00000801, [N] uint8 -> int64 [N].
torch::Tensor parse_idx_labels(const std::vector<uint8_t>& bytes, const std::string& origin);
// An images + labels pair of IDX files (either may be .gz); labels_path may be empty.
ImageSet load_idx(const std::string& images_path, const std::string& labels_path);

// CIFAR-10 from a folder of either version (src/data/cifar.cpp): the binary
// one (data_batch_1.bin ... test_batch.bin: records of 1 label byte +
// 3x32x32) or the python one torchvision downloads (cifar-10-batches-py:
// data_batch_1 ... test_batch, pickled dicts with `data` uint8 [N, 3072] and
// `labels`, read by the strict reader of io/pickle.h). Both give the same tensors.
ImageSet load_cifar10(const std::string& dir, const std::string& split);
// One batch of the python version, as bytes: images uint8 [N, 3, 32, 32] and labels.
ImageSet parse_cifar10_python_batch(const std::vector<uint8_t>& bytes, const std::string& origin);
// The ten CIFAR-10 class names in label order.
const std::vector<std::string>& cifar10_class_names();

// The images of a folder and their labels, without decoding them: one
// subfolder per class gives labels, or a CSV of `path,label` lines (paths
// relative to the folder; data.labels) does; files the CSV does not label
// are an error naming how many and one of them, or with skip_unlabelled left
// out (the note says how many). labels are empty when the folder has none.
struct LabelledFiles {
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  std::vector<std::string> classes;
  std::string note;  // "labels from X.csv: found 10 classes, 3 files without a label, skipped"
};
LabelledFiles list_labelled_images(const std::string& dir, const std::string& labels_csv = "", bool skip_unlabelled = false);

// A folder of PNG/JPEG/BMP images, labelled as list_labelled_images says.
// Images are resized (shorter side to `size`) and center-cropped to size x size,
// converted to `channels` (1 or 3; 0: RGB when any image has colour, and the
// description says how many grayscale ones were read as RGB). size 0 keeps
// the first image's size and requires every image to have it.
ImageSet load_image_folder(const std::string& dir, int64_t size, int64_t channels, const std::string& labels_csv = "",
                           bool skip_unlabelled = false);

// The two halves of load_image_folder, for readers of other layouts (image
// pairs, src/data/pairs.cpp). list_image_files: the PNG/JPEG/BMP files under
// dir and its subfolders, sorted. read_image_files: decodes them in order to
// uint8 [N, C, size, size] as load_image_folder does (channels 0: RGB when
// any image has colour, else gray; `note`, when given, receives a sentence
// saying so when grayscale images were read as RGB). `split`, when given,
// turns each decoded [1, C, h, w] into [k, C, h', w'] before the resize (k
// images per file, e.g. the halves of a side-by-side pair); size 0 then
// requires every piece to have one size.
using ImageSplitter = std::function<torch::Tensor(const torch::Tensor& image, const std::string& path)>;
std::vector<std::string> list_image_files(const std::string& dir);
torch::Tensor read_image_files(const std::vector<std::string>& files, int64_t size, int64_t channels,
                               const ImageSplitter& split = {}, std::string* note = nullptr);

// The dataset a config names (data.dataset, data.path, data.split,
// data.image_size, data.channels, data.limit), resized/converted as asked.
ImageSet open_dataset(const Config& cfg);
// Same with an explicit split (used by evaluation for the held-out split).
// With data.pair set it returns A and B images (src/data/pairs.cpp).
ImageSet open_dataset(const Config& cfg, const std::string& split);
// open_dataset ignoring data.pair: the one image set data.dataset names.
ImageSet open_single_dataset(const Config& cfg, const std::string& split);

// Where `duel data get` keeps datasets: $DUEL_DATA, else
// $XDG_DATA_HOME/duel/datasets, else ~/.local/share/duel/datasets.
std::string dataset_home();
// Default location of a named dataset (data.path empty): <dataset_home>/<name>
// when `duel data get` put it there, else the Debian package's folder
// (fashion-mnist, mnist), else <dataset_home>/<name> (for the error message).
std::string default_dataset_path(const std::string& name);

// Resizes (bilinear) and converts channels of a uint8 [N,C,H,W] tensor.
torch::Tensor resize_images(const torch::Tensor& images, int64_t size, int64_t channels);

// The central size x size window of [N, C, H, W] images (a view; H, W >= size).
torch::Tensor centre_crop(const torch::Tensor& images, int64_t size);

// uint8 [N,C,H,W] -> float in [-1, 1].
torch::Tensor to_unit_range(const torch::Tensor& images);

}  // namespace duel
