// Reading tar archives, gzipped or not (ustar and GNU long names): the
// regular files whose names a filter accepts are written under a folder,
// keeping their relative paths. Nothing in an archive can write outside that
// folder: absolute names, "..", links and devices are refused or skipped.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace duel {

struct TarEntry {
  std::string name;  // as stored, e.g. "cifar-10-batches-py/data_batch_1"
  int64_t size = 0;
};

// Extracts into dest_dir (which must exist) every regular file for which
// `want` returns true (all when empty). Returns the entries written.
// duel::Error naming the archive on a bad header checksum, a truncated
// archive, an unsafe name or a file that cannot be written.
std::vector<TarEntry> extract_tar(const std::string& archive, const std::string& dest_dir,
                                  const std::function<bool(const std::string&)>& want = {});

}  // namespace duel
