#include "duel/apps/dataset_tools.h"

#include <filesystem>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/fetch.h"
#include "duel/data/packed.h"
#include "duel/io/image.h"
#include "duel/io/sha256.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

std::string note_of(const Config& cfg) {
  std::string path = cfg.get_string("data.path");
  const std::string name = cfg.get_string("data.dataset");
  if (path.empty()) path = default_dataset_path(name);
  const auto m = read_manifest(path);
  return m ? m->note : "";
}

VerifyReport verify_folder(const std::string& dir) {
  VerifyReport r;
  r.what = dir;
  std::ifstream f(manifest_path(dir));
  if (!f)
    throw Error("'" + dir + "' has no " + fs::path(manifest_path(dir)).filename().string(),
                "verify checks folders written by `duel data get` and .dueldata files from `duel data pack`");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
    for (const auto& e : j.at("files")) {
      const std::string name = e.at("name").get<std::string>(), want = e.at("sha256").get<std::string>();
      const std::string p = dir + "/" + name;
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) {
        r.problems.push_back(name + ": missing");
        continue;
      }
      const std::string got = sha256_file(p);
      if (got != want) r.problems.push_back(name + ": SHA-256 " + got + ", expected " + want);
      else ++r.checked;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + manifest_path(dir) + "' is damaged: " + e.what(), "fetch the dataset again (duel data get NAME --force)");
  }
  return r;
}

}  // namespace

DatasetSummary summarize_dataset(const ImageSet& data, const Config& cfg) {
  DatasetSummary s;
  s.description = data.description;
  s.count = data.size();
  if (s.count > 0) s.channels = data.images.size(1), s.height = data.images.size(2), s.width = data.images.size(3);
  Sha256 h;
  for (int64_t i = 0; i < s.count; i += 4096) {  // in slices: a memory-mapped set is never copied whole
    auto part = data.images.slice(0, i, std::min(s.count, i + 4096)).contiguous();
    h.update(part.data_ptr<uint8_t>(), size_t(part.numel()));
  }
  if (data.has_labels()) {
    auto lab = data.labels.to(torch::kInt64).contiguous();
    h.update(lab.data_ptr<int64_t>(), size_t(lab.numel()) * sizeof(int64_t));
    const int64_t k = std::max<int64_t>(data.num_classes, lab.numel() ? lab.max().item<int64_t>() + 1 : 0);
    auto counts = torch::bincount(lab, {}, k);
    for (int64_t c = 0; c < k; ++c) {
      s.class_names.push_back(c < int64_t(data.class_names.size()) ? data.class_names[size_t(c)] : std::to_string(c));
      s.class_counts.push_back(counts[c].item<int64_t>());
    }
  }
  s.content_sha256 = h.hex();
  s.source_note = note_of(cfg);
  return s;
}

void write_contact_sheet(const ImageSet& data, const std::string& png, int64_t n, uint64_t seed) {
  require(data.size() > 0, "the dataset is empty", "nothing to show");
  n = std::min(n, data.size());
  auto gen = at::detail::createCPUGenerator(seed);
  auto idx = torch::randperm(data.size(), gen, torch::kInt64).slice(0, 0, n);
  auto imgs = data.images.index_select(0, idx);
  write_png(png, make_grid(to_unit_range(imgs)));
}

std::string summary_text(const DatasetSummary& s) {
  std::ostringstream o;
  o << "dataset:   " << s.description << "\n";
  if (!s.source_note.empty()) o << "source:    " << s.source_note << "\n";
  o << "images:    " << s.count << ", " << s.channels << " channel(s), " << s.width << "x" << s.height << " px\n";
  if (s.class_names.empty()) o << "classes:   none (unlabelled)\n";
  else o << "classes:   " << s.class_names.size() << "\n";
  for (size_t c = 0; c < s.class_names.size(); ++c) {
    char line[160];
    std::snprintf(line, sizeof line, "  %3zu %-24s %lld\n", c, s.class_names[c].c_str(), (long long)s.class_counts[c]);
    o << line;
  }
  o << "content:   sha256 " << s.content_sha256 << "\n";
  return o.str();
}

VerifyReport verify_dataset(const std::string& path_or_name) {
  std::error_code ec;
  std::string path = path_or_name;
  if (!fs::exists(path, ec)) {
    for (const auto& n : fetchable_datasets())
      if (n == path) path = dataset_home() + "/" + n;
    require(fs::exists(path, ec), "'" + path_or_name + "' is neither a file, a folder nor a fetched dataset",
            "give a dataset name (`duel data get` fetched it), its folder or a .dueldata file");
  }
  if (fs::is_directory(path, ec)) return verify_folder(path);
  if (fs::is_regular_file(path, ec)) {
    const PackedCheck c = verify_packed(path);
    return {path, c.chunks_ok, c.problems};
  }
  throw Error("'" + path + "' is not a dataset folder", "give a folder written by `duel data get` (e.g. " + dataset_home() + "/mnist)");
}

}  // namespace duel
