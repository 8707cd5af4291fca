#include "duel/io/tar.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "duel/core/error.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

constexpr int64_t kBlock = 512;
constexpr int64_t kMaxEntry = int64_t(16) << 30;

struct GzReader {
  gzFile f = nullptr;
  std::string path;
  explicit GzReader(const std::string& p) : path(p) {
    f = gzopen(p.c_str(), "rb");
    if (!f) throw Error("cannot open archive '" + p + "'", "check that the file exists and is readable");
    gzbuffer(f, 1 << 17);
  }
  ~GzReader() { gzclose(f); }
  // Reads exactly n bytes; false at a clean end of data before any byte.
  bool read(void* out, int64_t n) {
    auto* p = static_cast<char*>(out);
    int64_t got = 0;
    while (got < n) {
      const unsigned chunk = unsigned(std::min<int64_t>(n - got, 1 << 30));
      const int r = gzread(f, p + got, chunk);
      if (r < 0) {
        int err = 0;
        throw Error("archive '" + path + "' is damaged (" + gzerror(f, &err) + ")", "download or copy it again");
      }
      if (r == 0) break;
      got += r;
    }
    if (got == 0) return false;
    if (got < n) throw Error("archive '" + path + "' is truncated", "download or copy it again");
    return true;
  }
};

int64_t octal(const char* field, size_t len, const std::string& archive) {
  int64_t v = 0;
  size_t i = 0;
  while (i < len && (field[i] == ' ' || field[i] == '\0')) ++i;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; ++i) {
    v = v * 8 + (field[i] - '0');
    if (v > kMaxEntry) throw Error("archive '" + archive + "' declares an entry over 16 GiB", "the archive is damaged");
  }
  return v;
}

bool checksum_ok(const unsigned char* h) {
  int64_t sum = 0;
  for (int i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum == octal(reinterpret_cast<const char*>(h) + 148, 8, "");
}

std::string field(const char* p, size_t len) { return std::string(p, strnlen(p, len)); }

// A stored name made safe to join to the destination: relative, no "..".
bool safe_name(const std::string& name) {
  if (name.empty() || name[0] == '/') return false;
  for (const auto& part : fs::path(name))
    if (part == "..") return false;
  return true;
}

void copy_out(GzReader& in, int64_t size, const fs::path& target) {
  fs::create_directories(target.parent_path());
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("cannot write '" + target.string() + "'", "check free space and permissions");
  std::vector<char> buf(1 << 20);
  for (int64_t left = size; left > 0;) {
    const int64_t n = std::min<int64_t>(left, int64_t(buf.size()));
    in.read(buf.data(), n);
    out.write(buf.data(), n);
    left -= n;
  }
  if (!out.flush()) throw Error("cannot write '" + target.string() + "'", "check free space");
}

void skip(GzReader& in, int64_t n) {
  std::vector<char> buf(1 << 16);
  for (int64_t left = n; left > 0;) {
    const int64_t k = std::min<int64_t>(left, int64_t(buf.size()));
    in.read(buf.data(), k);
    left -= k;
  }
}

int64_t padded(int64_t size) { return (size + kBlock - 1) / kBlock * kBlock; }

}  // namespace

std::vector<TarEntry> extract_tar(const std::string& archive, const std::string& dest_dir,
                                  const std::function<bool(const std::string&)>& want) {
  GzReader in(archive);
  std::vector<TarEntry> out;
  std::string long_name;
  unsigned char h[kBlock];
  while (in.read(h, kBlock)) {
    if (std::all_of(h, h + kBlock, [](unsigned char c) { return c == 0; })) break;  // end-of-archive block
    if (!checksum_ok(h))
      throw Error("archive '" + archive + "' has a damaged header (checksum mismatch)", "is it really a tar archive?");
    const char* hc = reinterpret_cast<const char*>(h);
    const int64_t size = octal(hc + 124, 12, archive);
    const char type = hc[156];
    if (type == 'L') {  // GNU long name: the next entry's name is this entry's data
      if (size > 65536) throw Error("archive '" + archive + "' has an over-long file name", "the archive is damaged");
      std::string name(size_t(padded(size)), '\0');
      in.read(name.data(), padded(size));
      long_name = field(name.data(), size_t(size));
      continue;
    }
    std::string name = long_name;
    long_name.clear();
    if (name.empty()) {
      name = field(hc, 100);
      const std::string prefix = field(hc + 345, 155);
      if (std::memcmp(hc + 257, "ustar", 5) == 0 && !prefix.empty()) name = prefix + "/" + name;
    }
    const bool regular = type == '0' || type == '\0';
    if (regular && (!want || want(name))) {
      if (!safe_name(name))
        throw Error("archive '" + archive + "' holds an unsafe path '" + name + "'", "refusing to extract it");
      copy_out(in, size, fs::path(dest_dir) / name);
      skip(in, padded(size) - size);
      out.push_back({name, size});
    } else {
      skip(in, padded(size));
    }
  }
  return out;
}

}  // namespace duel
