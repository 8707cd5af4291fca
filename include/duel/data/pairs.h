// Image-to-image data (data.pair): two sets of images, A (ImageSet.images,
// the model's input) and B (ImageSet.targets, what it should produce),
// either paired (image i of A belongs to image i of B, as pix2pix needs) or
// two unpaired domains of any sizes (as CycleGAN needs).
//
//   paired-folders    A under data.path, B under data.path_b, matched by
//                     relative path without the extension
//   side-by-side      one folder of A|B images (data.side_by_side AB or BA)
//   sobel             B = any dataset's images, A = their Sobel edge maps
//   unpaired-folders  A under data.path, B under data.path_b
//   classes           A = the images of class data.class_a, B = data.class_b
//
// Folders with both train/ and test/ subfolders are split by them
// (split_folder); sobel and classes use the dataset's own split. Every
// reader throws duel::Error naming the file, key or value at fault.
#pragma once
#include <torch/types.h>

#include <string>

#include "duel/data/dataset.h"

namespace duel {

class Config;

// The data the config's data.pair names (called by open_dataset).
ImageSet open_pairs(const Config& cfg, const std::string& split);

// dir/<split> when dir holds both a train/ and a test/ subfolder and split
// is "train" or "test"; dir otherwise.
std::string split_folder(const std::string& dir, const std::string& split);

// The readers behind open_pairs; size and channels as for load_image_folder
// (0: the images' own). `limit` > 0 keeps the first that many images (pairs).
ImageSet load_paired_folders(const std::string& dir_a, const std::string& dir_b, int64_t size, int64_t channels,
                             int64_t limit = 0);
ImageSet load_side_by_side(const std::string& dir, bool b_first, int64_t size, int64_t channels, int64_t limit = 0);
ImageSet load_unpaired_folders(const std::string& dir_a, const std::string& dir_b, int64_t size, int64_t channels,
                               int64_t limit = 0);

// Sobel gradient magnitude of the images' grayscale (0.299 R + 0.587 G +
// 0.114 B), 3x3 kernels, borders replicated: uint8 [N, C, H, W] -> float
// [N, 1, H, W].
torch::Tensor sobel_magnitude(const torch::Tensor& images);
// Edge maps: the magnitude divided by each image's largest and scaled to
// [0, 255] (an image without edges stays 0), as uint8 [N, C, H, W] with the
// images' channel count.
torch::Tensor sobel_edges(const torch::Tensor& images);

// Paired: A = sobel_edges(set.images), B = set.images.
ImageSet sobel_pairs(ImageSet set);
// Unpaired: A = the images of class_a, B = the images of class_b.
ImageSet class_pairs(ImageSet set, int64_t class_a, int64_t class_b);

// What training needs of pair data: B present, as many B as A when paired,
// A and B of one height and width, square (crop 0) or at least crop x crop.
void check_pairs(const ImageSet& set, int64_t crop);

}  // namespace duel
