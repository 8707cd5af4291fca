// Packed datasets (.dueldata): images decoded, resized and cropped once into
// fixed-size uint8 records, so that a set far larger than memory trains
// straight from the page cache (`data.dataset = "packed:FILE"`).
//
// Layout (little-endian): a 4 KiB header (magic "DUELDATA", format version,
// count, C, H, W, number of classes, the offsets below, the file size and a
// CRC-32 of the header); the records, C*H*W bytes each, in order; the labels
// (int64 each, when labelled); CRC-32s of every chunk of 1024 records, of the
// labels and of the metadata; the metadata (JSON: class names, description).
// The reader checks the header, the offsets and the file size before mapping
// anything; `duel data verify` checks every CRC.
#pragma once
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "duel/data/dataset.h"

namespace duel {

class Config;

// Writes a .dueldata file record by record, to a temporary file beside
// `path` that finish() checks, syncs and renames; a writer destroyed before
// finish() removes it, so a failed pack leaves nothing under `path`.
class PackedWriter {
 public:
  PackedWriter(const std::string& path, int64_t channels, int64_t height, int64_t width);
  ~PackedWriter();
  PackedWriter(const PackedWriter&) = delete;
  PackedWriter& operator=(const PackedWriter&) = delete;
  // images uint8 [n, C, H, W]; labels int64 [n], or undefined for unlabelled data
  // (every call must agree on whether there are labels).
  void append(const torch::Tensor& images, const torch::Tensor& labels = {});
  void finish(const std::vector<std::string>& class_names, const std::string& description);
  int64_t count() const;
  int64_t height() const;
  int64_t width() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Opens a packed file as an ImageSet whose images map the file (see
// ImageSet::gather). duel::Error naming the file when it is not a .dueldata
// file, was written by a newer duel, or is truncated or inconsistent.
ImageSet open_packed(const std::string& path);

struct PackedCheck {
  int64_t chunks_ok = 0;
  std::vector<std::string> problems;  // e.g. "records 2048-3071: CRC mismatch"
};
// Re-reads the whole file and checks every CRC.
PackedCheck verify_packed(const std::string& path);

struct PackOptions {
  int64_t size = 0;      // side after resize/crop (0: the source's size; image folders need one size then)
  int64_t channels = 0;  // 1 or 3 (0: the source's; for folders, RGB when the first images have colour)
  int64_t threads = 2;   // image decoding threads (folders)
  int64_t chunk = 512;   // images decoded per step: memory use is one chunk
  std::function<void(const std::string&)> info;
};

struct PackResult {
  int64_t count = 0, channels = 0, size = 0, classes = 0;
  int64_t bytes = 0;
  double seconds = 0;
};

// Packs the dataset `cfg` names (data.dataset, data.path, data.split,
// data.labels for folders) into `out`. Image folders stream: they are listed,
// then decoded `chunk` images at a time on `threads` threads; the other
// datasets are read whole (they fit in memory) and written in chunks.
PackResult pack_dataset(const Config& cfg, const std::string& out, const PackOptions& options);

}  // namespace duel
