// Image-to-image data: paired and unpaired A/B sets. See pairs.h.
#include "duel/data/pairs.h"

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "duel/core/config.h"
#include "duel/core/error.h"

namespace fs = std::filesystem;

namespace duel {

namespace {

// This part's config keys (include/duel/core/config.h).
const bool keys_registered = [] {
  register_string_key(
      "data.pair", "none", {"none", "paired-folders", "side-by-side", "sobel", "unpaired-folders", "classes"},
      "image-to-image data (A -> B): none; paired-folders (A in data.path, B of the same name in data.path_b); "
      "side-by-side (each image of one folder is A|B); sobel (B = the dataset's images, A = their edge maps); "
      "unpaired-folders (A in data.path, B in data.path_b); classes (A = class data.class_a, B = data.class_b)");
  register_string_key("data.path_b", "", {},
                      "folder of the B images for data.pair = paired-folders or unpaired-folders");
  register_string_key("data.side_by_side", "AB", {"AB", "BA"},
                      "data.pair = side-by-side: AB (A on the left) or BA (B on the left)");
  register_int_key("data.class_a", -1, -1, 1000, "data.pair = classes: the class whose images are domain A");
  register_int_key("data.class_b", -1, -1, 1000, "data.pair = classes: the class whose images are domain B");
  return true;
}();

}  // namespace

namespace {

std::string shape_text(const torch::Tensor& t) {
  return std::to_string(t.size(1)) + "x" + std::to_string(t.size(2)) + "x" + std::to_string(t.size(3));
}

std::string class_text(const ImageSet& s, int64_t c) {
  std::string t = std::to_string(c);
  if (c >= 0 && c < int64_t(s.class_names.size())) t += " (" + s.class_names[size_t(c)] + ")";
  return t;
}

// The image files of a folder, refusing an empty one with the key that named it.
std::vector<std::string> images_in(const std::string& dir, const std::string& key) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("image folder '" + dir + "' (" + key + ") does not exist or is not a folder", "check " + key);
  auto files = list_image_files(dir);
  if (files.empty())
    throw Error("image folder '" + dir + "' (" + key + ") holds no PNG, JPEG or BMP images",
                "point " + key + " at a folder of images");
  return files;
}

void keep_first(std::vector<std::string>& files, int64_t limit) {
  if (limit > 0 && limit < int64_t(files.size())) files.resize(size_t(limit));
}

// Relative path without the extension: the name A and B images are matched by.
std::string pair_key(const std::string& dir, const std::string& file) {
  return fs::path(file).lexically_relative(dir).replace_extension().generic_string();
}

std::map<std::string, std::string> by_key(const std::string& dir, const std::vector<std::string>& files,
                                          const std::string& key) {
  std::map<std::string, std::string> out;
  for (const auto& f : files) {
    auto [it, fresh] = out.emplace(pair_key(dir, f), f);
    if (!fresh)
      throw Error("'" + it->second + "' and '" + f + "' (" + key + ") have the same name, so which one is paired "
                  "is ambiguous",
                  "keep one image per name in each folder of a paired-folders dataset");
  }
  return out;
}

}  // namespace

std::string split_folder(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "test") return dir;
  std::error_code ec;
  const fs::path d(dir);
  if (fs::is_directory(d / "train", ec) && fs::is_directory(d / "test", ec)) return (d / split).string();
  return dir;
}

ImageSet load_paired_folders(const std::string& dir_a, const std::string& dir_b, int64_t size, int64_t channels,
                             int64_t limit) {
  const auto files_a = images_in(dir_a, "data.path"), files_b = images_in(dir_b, "data.path_b");
  const auto a = by_key(dir_a, files_a, "data.path"), b = by_key(dir_b, files_b, "data.path_b");
  // Every A needs its B and every B its A; the first one missing is named.
  for (const auto& [key, file] : a)
    if (!b.count(key))
      throw Error("A image '" + file + "' has no B image: no '" + (fs::path(dir_b) / key).string() +
                      ".png/.jpg/.jpeg/.bmp' in data.path_b",
                  "paired folders need one B image of the same name (any extension) for every A image");
  for (const auto& [key, file] : b)
    if (!a.count(key))
      throw Error("B image '" + file + "' has no A image: no '" + (fs::path(dir_a) / key).string() +
                      ".png/.jpg/.jpeg/.bmp' in data.path",
                  "paired folders need one A image of the same name (any extension) for every B image");
  std::vector<std::string> pa, pb;
  for (const auto& [key, file] : a) {  // sorted by name
    pa.push_back(file);
    pb.push_back(b.at(key));
  }
  keep_first(pa, limit);
  keep_first(pb, limit);
  ImageSet s;
  s.images = read_image_files(pa, size, channels);
  s.targets = read_image_files(pb, size, channels);
  s.paired = true;
  if (s.images.size(2) != s.targets.size(2) || s.images.size(3) != s.targets.size(3))
    throw Error("paired images differ in size: A images ('" + pa[0] + "', ...) are " +
                    std::to_string(s.images.size(3)) + "x" + std::to_string(s.images.size(2)) + " but B images ('" +
                    pb[0] + "', ...) are " + std::to_string(s.targets.size(3)) + "x" +
                    std::to_string(s.targets.size(2)),
                "set data.image_size to resize both to one size");
  s.description = "paired folders: A = " + dir_a + ", B = " + dir_b + ", " + std::to_string(s.size()) +
                  " pairs, A " + shape_text(s.images) + ", B " + shape_text(s.targets);
  return s;
}

ImageSet load_side_by_side(const std::string& dir, bool b_first, int64_t size, int64_t channels, int64_t limit) {
  auto files = images_in(dir, "data.path");
  keep_first(files, limit);
  // Each file becomes two images, A then B, cut before the resize.
  auto halves = [b_first](const torch::Tensor& img, const std::string& path) {
    const int64_t w = img.size(3), h = img.size(2);
    if (w % 2 != 0)
      throw Error("side-by-side image '" + path + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                      ": its width is odd, so it has no two equal halves",
                  "each image must be A and B side by side, two images of the same size");
    auto left = img.slice(3, 0, w / 2), right = img.slice(3, w / 2, w);
    return b_first ? torch::cat({right, left}) : torch::cat({left, right});
  };
  auto both = read_image_files(files, size, channels, halves);
  const int64_t n = both.size(0);
  ImageSet s;
  s.images = both.slice(0, 0, n, 2).contiguous();
  s.targets = both.slice(0, 1, n, 2).contiguous();
  s.paired = true;
  s.description = "side-by-side pairs in " + dir + " (" + (b_first ? "B left, A right" : "A left, B right") + "), " +
                  std::to_string(s.size()) + " pairs " + shape_text(s.images);
  return s;
}

ImageSet load_unpaired_folders(const std::string& dir_a, const std::string& dir_b, int64_t size, int64_t channels,
                               int64_t limit) {
  auto files_a = images_in(dir_a, "data.path"), files_b = images_in(dir_b, "data.path_b");
  keep_first(files_a, limit);
  keep_first(files_b, limit);
  ImageSet s;
  s.images = read_image_files(files_a, size, channels);
  s.targets = read_image_files(files_b, size, channels);
  s.paired = false;
  s.description = "unpaired folders: A = " + dir_a + " (" + std::to_string(s.size()) + " images " +
                  shape_text(s.images) + "), B = " + dir_b + " (" + std::to_string(s.targets.size(0)) + " images " +
                  shape_text(s.targets) + ")";
  return s;
}

torch::Tensor sobel_magnitude(const torch::Tensor& images) {
  require(images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3),
          "sobel edges need images [N, 1 or 3, H, W]");
  namespace F = torch::nn::functional;
  // Kernels as cross-correlation: x grows to the right, y downwards.
  const auto kernels = torch::tensor({-1.f, 0.f, 1.f, -2.f, 0.f, 2.f, -1.f, 0.f, 1.f,    // d/dx
                                      -1.f, -2.f, -1.f, 0.f, 0.f, 0.f, 1.f, 2.f, 1.f})  // d/dy
                           .reshape({2, 1, 3, 3});
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < images.size(0); i += 4096) {
    auto x = images.slice(0, i, std::min(images.size(0), i + 4096)).to(torch::kFloat32);
    if (x.size(1) == 3) x = (x.select(1, 0) * 0.299f + x.select(1, 1) * 0.587f + x.select(1, 2) * 0.114f).unsqueeze(1);
    x = F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
    auto g = F::conv2d(x, kernels);  // [n, 2, H, W]
    out.push_back(g.pow(2).sum(1, /*keepdim=*/true).sqrt());
  }
  return torch::cat(out);
}

torch::Tensor sobel_edges(const torch::Tensor& images) {
  auto mag = sobel_magnitude(images);
  auto peak = mag.amax({1, 2, 3}, /*keepdim=*/true);
  auto scaled = torch::where(peak > 0, mag * (255.0f / peak.clamp_min(1e-12f)), torch::zeros_like(mag));
  auto u8 = scaled.round().clamp(0, 255).to(torch::kUInt8);
  return u8.expand({images.size(0), images.size(1), images.size(2), images.size(3)}).contiguous();
}

ImageSet sobel_pairs(ImageSet set) {
  require(set.size() > 0, "data.pair = sobel: " + set.description + " holds no images");
  set.targets = set.images;
  set.images = sobel_edges(set.targets);
  set.paired = true;
  set.description = "sobel pairs: A = edge maps of B, B = " + set.description;
  return set;
}

ImageSet class_pairs(ImageSet set, int64_t class_a, int64_t class_b) {
  require(set.has_labels(), "data.pair = classes but " + set.description + " has no labels",
          "use a labelled dataset (fashion-mnist, mnist, cifar10, a folder with class subfolders)");
  const std::string hint = "set data.class_a and data.class_b to two classes from 0 to " +
                           std::to_string(set.num_classes - 1);
  require(class_a >= 0 && class_b >= 0,
          "data.pair = classes needs data.class_a and data.class_b (now " + std::to_string(class_a) + " and " +
              std::to_string(class_b) + ")",
          hint);
  require(class_a != class_b, "data.class_a and data.class_b are both " + class_text(set, class_a),
          "domains A and B must be two different classes");
  for (auto [key, c] : {std::pair<const char*, int64_t>{"data.class_a", class_a}, {"data.class_b", class_b}}) {
    require(c < set.num_classes,
            std::string(key) + " = " + std::to_string(c) + " is out of range: " + set.description + " has " +
                std::to_string(set.num_classes) + " classes",
            hint);
  }
  auto pick = [&](int64_t c, const char* key) {
    auto idx = set.labels.eq(c).nonzero().reshape({-1});
    require(idx.numel() > 0,
            std::string(key) + " = " + class_text(set, c) + " has no images in " + set.description,
            "choose a class present in this split, or raise data.limit");
    return set.images.index_select(0, idx).contiguous();
  };
  ImageSet s;
  s.images = pick(class_a, "data.class_a");
  s.targets = pick(class_b, "data.class_b");
  s.paired = false;
  s.class_names = set.class_names;  // names the domains (the images carry no labels)
  s.description = "unpaired classes of " + set.description + ": A = class " + class_text(set, class_a) + " (" +
                  std::to_string(s.size()) + " images), B = class " + class_text(set, class_b) + " (" +
                  std::to_string(s.targets.size(0)) + " images)";
  return s;
}

void check_pairs(const ImageSet& s, int64_t crop) {
  require(s.images.defined() && s.size() > 0, "the A images of " + s.description + " are missing");
  require(s.targets.defined() && s.targets.size(0) > 0, "the B images of " + s.description + " are missing");
  if (s.paired)
    require(s.targets.size(0) == s.size(),
            s.description + ": " + std::to_string(s.size()) + " A images but " + std::to_string(s.targets.size(0)) +
                " B images",
            "paired data needs one B image per A image");
  const int64_t h = s.images.size(2), w = s.images.size(3);
  const std::string a_size = std::to_string(w) + "x" + std::to_string(h);
  require(s.targets.size(2) == h && s.targets.size(3) == w,
          s.description + ": A images are " + a_size + " but B images are " + std::to_string(s.targets.size(3)) +
              "x" + std::to_string(s.targets.size(2)),
          "set data.image_size to resize both to one size");
  if (crop == 0)
    require(h == w, s.description + ": the images are " + a_size + ", not square",
            "set data.image_size (resize and center crop) or data.crop (random crops) to make them square");
  else
    require(crop <= h && crop <= w,
            "data.crop = " + std::to_string(crop) + " is larger than the images (" + a_size + ") of " + s.description,
            "lower data.crop or raise data.image_size");
}

ImageSet open_pairs(const Config& cfg, const std::string& split) {
  const std::string mode = cfg.get_string("data.pair");
  const int64_t size = cfg.get_int("data.image_size"), channels = cfg.get_int("data.channels"),
                limit = cfg.get_int("data.limit"), crop = cfg.get_int("data.crop");
  ImageSet s;
  if (mode == "sobel") {
    s = sobel_pairs(open_single_dataset(cfg, split));
  } else if (mode == "classes") {
    s = class_pairs(open_single_dataset(cfg, split), cfg.get_int("data.class_a"), cfg.get_int("data.class_b"));
  } else if (mode == "paired-folders" || mode == "side-by-side" || mode == "unpaired-folders") {
    require(cfg.get_int("data.exclude_class") < 0, "data.exclude_class does not apply to data.pair = " + mode,
            "image folders of pairs have no classes: set data.exclude_class = -1");
    std::string dir_a = cfg.get_string("data.path");
    const std::string dataset = cfg.get_string("data.dataset");
    if (dir_a.empty() && dataset.rfind("folder:", 0) == 0) dir_a = dataset.substr(7);
    require(!dir_a.empty(),
            "data.pair = " + mode + " needs data.path, the folder of the " +
                (mode == "side-by-side" ? std::string("side-by-side images") : std::string("A images")),
            "set data.path (or data.dataset = \"folder:<dir>\")");
    dir_a = split_folder(dir_a, split);
    if (mode == "side-by-side") {
      s = load_side_by_side(dir_a, cfg.get_string("data.side_by_side") == "BA", size, channels, limit);
    } else {
      const std::string dir_b = cfg.get_string("data.path_b");
      require(!dir_b.empty(), "data.pair = " + mode + " needs data.path_b, the folder of the B images",
              "set data.path_b");
      if (mode == "paired-folders")
        s = load_paired_folders(dir_a, split_folder(dir_b, split), size, channels, limit);
      else
        s = load_unpaired_folders(dir_a, split_folder(dir_b, split), size, channels, limit);
    }
  } else {
    throw Error("unknown data.pair '" + mode + "'",
                "use none, paired-folders, side-by-side, sobel, unpaired-folders or classes");
  }
  check_pairs(s, crop);
  return s;
}

}  // namespace duel
