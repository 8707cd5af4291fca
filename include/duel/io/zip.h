// Reading zip archives (PKZIP; Quake 3 .pk3 files are zips): the central
// directory lists the entries, and an entry's bytes are read stored or
// inflated (deflate) and checked against its CRC-32. Zip64 and encrypted
// entries are refused by name. Every problem is a duel::Error naming the
// archive (and the entry).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace duel {

struct ZipEntry {
  std::string name;            // as stored, '/'-separated; folders end in '/'
  int64_t compressed = 0, size = 0;
  int method = 0;              // 0 stored, 8 deflate
  uint32_t crc = 0;
  int64_t header_offset = 0;   // of the entry's local header
};

// The entries of a zip file, in central-directory order.
std::vector<ZipEntry> list_zip(const std::string& archive);
// The bytes of one entry (at most 256 MiB uncompressed).
std::string read_zip_entry(const std::string& archive, const ZipEntry& entry);

}  // namespace duel
