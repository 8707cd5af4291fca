// Writing a labelled image set out as a dataset (include/duel/data/dataset_writer.h):
// IDX files or an image folder per class, written to a temporary folder first
// and renamed into place, so a failed write leaves nothing behind.
#include "duel/data/dataset_writer.h"

#include <unistd.h>

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/io/image.h"

namespace duel {
namespace fs = std::filesystem;
namespace {

std::string safe_name(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "class" : out;
}

std::string padded(int64_t v, int width) {
  std::ostringstream o;
  o << std::setw(width) << std::setfill('0') << v;
  return o.str();
}

void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(char((v >> shift) & 0xff));
}

void write_idx(const ImageSet& set, const fs::path& dir) {
  const int64_t n = set.size(), h = set.images.size(2), w = set.images.size(3);
  std::string images, labels;
  put_be32(images, 0x00000803);
  put_be32(images, uint32_t(n));
  put_be32(images, uint32_t(h));
  put_be32(images, uint32_t(w));
  auto pixels = set.images.contiguous();
  images.append(reinterpret_cast<const char*>(pixels.data_ptr<uint8_t>()), size_t(n * h * w));
  put_be32(labels, 0x00000801);
  put_be32(labels, uint32_t(n));
  auto l = set.labels.to(torch::kUInt8).contiguous();
  labels.append(reinterpret_cast<const char*>(l.data_ptr<uint8_t>()), size_t(n));
  write_file_atomic((dir / "train-images-idx3-ubyte").string(), images);
  write_file_atomic((dir / "train-labels-idx1-ubyte").string(), labels);
}

void write_folder(const ImageSet& set, const fs::path& dir) {
  const int width = int(std::to_string(std::max<int64_t>(set.num_classes - 1, 0)).size());
  const int index_width = int(std::to_string(std::max<int64_t>(set.size() - 1, 0)).size());
  auto labels = set.labels.to(torch::kCPU);
  for (int64_t c = 0; c < set.num_classes; ++c) {
    const std::string name = c < int64_t(set.class_names.size()) ? set.class_names[size_t(c)] : "class";
    fs::create_directories(dir / (padded(c, width) + "-" + safe_name(name)));
  }
  for (int64_t i = 0; i < set.size(); ++i) {
    const int64_t c = labels[i].item<int64_t>();
    const std::string name = c < int64_t(set.class_names.size()) ? set.class_names[size_t(c)] : "class";
    write_png((dir / (padded(c, width) + "-" + safe_name(name)) / (padded(c, width) + "-" + padded(i, index_width) + ".png"))
                  .string(),
              set.images[i]);
  }
}

fs::path checked_target(const std::string& dir, bool replace) {
  fs::path target = fs::absolute(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "synth/" names the folder synth
  std::error_code ec;
  // An empty folder (made for the purpose with mkdir) is no data to lose.
  const bool empty_folder = fs::is_directory(target, ec) && fs::is_empty(target, ec);
  require(replace || empty_folder || !fs::exists(target, ec), "'" + dir + "' already exists",
          "choose another --out folder, or pass --force to replace it");
  require(fs::is_directory(target.parent_path(), ec), "the folder of '" + dir + "' does not exist",
          "create " + target.parent_path().string() + " first");
  return target;
}

}  // namespace

void check_dataset_target(const std::string& dir, bool replace) { checked_target(dir, replace); }

void write_labelled_set(const ImageSet& set, const std::string& dir, const std::string& format, bool replace) {
  require(format == "folder" || format == "idx", "unknown dataset format '" + format + "'", "use folder or idx");
  require(set.images.defined() && set.images.dim() == 4 && set.images.scalar_type() == torch::kUInt8 && set.size() > 0,
          "no images to write to '" + dir + "'", "generate at least one image");
  require(set.labels.defined() && set.labels.size(0) == set.size() && set.num_classes > 0,
          "the images to write to '" + dir + "' have no labels", "write labelled images (a conditional model's)");
  require(set.labels.min().item<int64_t>() >= 0 && set.labels.max().item<int64_t>() < set.num_classes,
          "labels out of range for " + std::to_string(set.num_classes) + " classes", "check the generator's classes");
  if (format == "idx") {
    require(set.images.size(1) == 1, "IDX files hold grayscale images, and these have " +
                                         std::to_string(set.images.size(1)) + " channels",
            "use --format folder for RGB");
    require(set.num_classes <= 256, "IDX labels are single bytes; " + std::to_string(set.num_classes) + " classes do not fit",
            "use --format folder");
  }
  const fs::path target = checked_target(dir, replace);
  std::error_code ec;
  const fs::path partial = target.parent_path() / ("." + target.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(partial, ec);
  try {
    fs::create_directories(partial);
    if (format == "idx") write_idx(set, partial);
    else write_folder(set, partial);
    if (fs::exists(target, ec)) {
      const fs::path old = target.parent_path() / ("." + target.filename().string() + ".old-" + std::to_string(::getpid()));
      fs::rename(target, old);
      fs::rename(partial, target);
      fs::remove_all(old, ec);
    } else {
      fs::rename(partial, target);
    }
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(partial, ec);
    throw Error("cannot write the dataset '" + dir + "': " + e.code().message(),
                "check that the folder is writable and the disk has space");
  } catch (...) {
    fs::remove_all(partial, ec);
    throw;
  }
}

}  // namespace duel
