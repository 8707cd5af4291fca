// `duel data info` and `duel data verify`: what a dataset holds, a contact
// sheet of it, and whether a fetched or packed dataset is still intact.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace duel {

struct ImageSet;
class Config;

struct DatasetSummary {
  std::string description;
  int64_t count = 0, channels = 0, height = 0, width = 0;
  std::vector<std::string> class_names;  // empty when unlabelled
  std::vector<int64_t> class_counts;     // images per class, in label order
  // SHA-256 of the decoded images (uint8, [N, C, H, W] in C order) followed by
  // the labels (int64 little-endian, when labelled): two copies of a dataset
  // in different file formats decode to the same tensors exactly when these match.
  std::string content_sha256;
  std::string source_note;  // the fetched folder's manifest note, e.g. that it is a subset
};

DatasetSummary summarize_dataset(const ImageSet& data, const Config& cfg);
// The summary as `duel data info` prints it.
std::string summary_text(const DatasetSummary& s);

// A PNG grid of `n` images drawn at random (seeded) from the set.
void write_contact_sheet(const ImageSet& data, const std::string& png, int64_t n, uint64_t seed);

struct VerifyReport {
  std::string what;                   // the folder or file checked
  int64_t checked = 0;                // files (folder) or records (packed file) found intact
  std::vector<std::string> problems;  // one line per missing, changed or damaged part
};

// A folder `duel data get` wrote (its duel-dataset.json lists each file's
// SHA-256), a dataset name it fetched (its folder under dataset_home()), or a
// packed .dueldata file (its own checksums). duel::Error when it is none.
VerifyReport verify_dataset(const std::string& path);

}  // namespace duel
