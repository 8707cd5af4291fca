#include "duel/io/zip.h"

#include <zlib.h>

#include <cstring>
#include <fstream>

#include "duel/core/error.h"

namespace duel {
namespace {

constexpr int64_t kMaxEntry = int64_t(256) << 20;

uint32_t le32(const unsigned char* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | p[1] << 8); }

std::string read_at(std::ifstream& f, const std::string& archive, int64_t offset, int64_t n) {
  std::string out(size_t(n), '\0');
  f.clear();
  f.seekg(offset);
  f.read(out.data(), n);
  if (!f) throw Error("zip archive '" + archive + "' is truncated (reading " + std::to_string(n) + " bytes at " +
                      std::to_string(offset) + ")", "copy or reinstall the file");
  return out;
}

std::ifstream open_archive(const std::string& archive, int64_t& size) {
  std::ifstream f(archive, std::ios::binary);
  if (!f) throw Error("cannot open zip archive '" + archive + "'", "check that the file exists and is readable");
  f.seekg(0, std::ios::end);
  size = int64_t(f.tellg());
  return f;
}

}  // namespace

std::vector<ZipEntry> list_zip(const std::string& archive) {
  int64_t size = 0;
  std::ifstream f = open_archive(archive, size);
  // The end-of-central-directory record: the last 22 bytes plus a comment of up to 65535.
  const int64_t tail_len = std::min<int64_t>(size, 22 + 65535);
  const std::string tail = read_at(f, archive, size - tail_len, tail_len);
  const auto* t = reinterpret_cast<const unsigned char*>(tail.data());
  int64_t eocd = -1;
  for (int64_t i = tail_len - 22; i >= 0; --i)
    if (le32(t + i) == 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw Error("'" + archive + "' is not a zip archive (no end-of-central-directory record)", "check the file");
  const int64_t count = le16(t + eocd + 10), dir_size = le32(t + eocd + 12), dir_offset = le32(t + eocd + 16);
  if (count == 0xFFFF || dir_offset == 0xFFFFFFFFLL)
    throw Error("zip archive '" + archive + "' is a Zip64 archive", "duel reads zip archives under 4 GiB");
  if (dir_offset + dir_size > size) throw Error("zip archive '" + archive + "' has a central directory past its end", "the file is corrupt");
  const std::string dir = read_at(f, archive, dir_offset, dir_size);
  const auto* d = reinterpret_cast<const unsigned char*>(dir.data());
  std::vector<ZipEntry> out;
  int64_t p = 0;
  for (int64_t i = 0; i < count; ++i) {
    if (p + 46 > dir_size || le32(d + p) != 0x02014b50)
      throw Error("zip archive '" + archive + "' has a damaged central directory (entry " + std::to_string(i) + ")", "the file is corrupt");
    ZipEntry e;
    const int flags = le16(d + p + 8);
    e.method = le16(d + p + 10);
    e.crc = le32(d + p + 16);
    e.compressed = le32(d + p + 20);
    e.size = le32(d + p + 24);
    const int64_t name_len = le16(d + p + 28), extra = le16(d + p + 30), comment = le16(d + p + 32);
    e.header_offset = le32(d + p + 42);
    if (p + 46 + name_len > dir_size) throw Error("zip archive '" + archive + "' has a damaged central directory", "the file is corrupt");
    e.name.assign(dir.data() + p + 46, size_t(name_len));
    if (flags & 1) throw Error("zip entry '" + e.name + "' of '" + archive + "' is encrypted", "duel reads unencrypted archives");
    p += 46 + name_len + extra + comment;
    out.push_back(std::move(e));
  }
  return out;
}

std::string read_zip_entry(const std::string& archive, const ZipEntry& e) {
  const std::string where = "zip entry '" + e.name + "' of '" + archive + "'";
  if (e.method != 0 && e.method != 8) throw Error(where + " uses compression method " + std::to_string(e.method), "duel reads stored and deflated entries");
  if (e.size > kMaxEntry) throw Error(where + " is larger than 256 MiB", "extract it with another tool");
  int64_t size = 0;
  std::ifstream f = open_archive(archive, size);
  const std::string local = read_at(f, archive, e.header_offset, 30);
  const auto* l = reinterpret_cast<const unsigned char*>(local.data());
  if (le32(l) != 0x04034b50) throw Error(where + " has no local header where the directory says", "the file is corrupt");
  const int64_t data_offset = e.header_offset + 30 + le16(l + 26) + le16(l + 28);
  if (data_offset + e.compressed > size) throw Error(where + " runs past the end of the archive", "the file is corrupt");
  const std::string packed = read_at(f, archive, data_offset, e.compressed);
  std::string out;
  if (e.method == 0) {
    out = packed;
  } else {
    out.assign(size_t(e.size), '\0');
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error("zlib init failed for " + where);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
    zs.avail_in = uInt(packed.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = uInt(out.size());
    const int ret = inflate(&zs, Z_FINISH);
    const bool whole = ret == Z_STREAM_END && zs.total_out == uLong(e.size);
    inflateEnd(&zs);
    if (!whole) throw Error(where + " does not inflate to its " + std::to_string(e.size) + " bytes", "the file is corrupt");
  }
  if (crc32(0L, reinterpret_cast<const Bytef*>(out.data()), uInt(out.size())) != e.crc)
    throw Error(where + " fails its CRC-32 check", "the file is corrupt; copy or reinstall it");
  return out;
}

}  // namespace duel
