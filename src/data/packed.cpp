#include "duel/data/packed.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

constexpr char kMagic[8] = {'D', 'U', 'E', 'L', 'D', 'A', 'T', 'A'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 4096;
constexpr uint32_t kChunk = 1024;

// The fixed part of the header, as stored (the rest of the 4 KiB is zero).
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t chunk_records;
  int64_t count, channels, height, width, num_classes;
  uint64_t records_offset, labels_offset, crc_offset, meta_offset, meta_size, file_size;
  uint32_t header_crc;  // CRC-32 of every byte above
  uint32_t pad;
};
static_assert(sizeof(Header) == 112, "the header layout is part of the format");

uint32_t crc_of(const void* p, size_t n, uint32_t crc = 0) {
  const auto* b = static_cast<const Bytef*>(p);
  while (n > 0) {  // zlib takes at most 4 GiB per call
    const uInt k = uInt(std::min<size_t>(n, 1u << 30));
    crc = uint32_t(crc32(crc, b, k));
    b += k, n -= k;
  }
  return crc;
}

uint32_t header_crc(const Header& h) { return crc_of(&h, offsetof(Header, header_crc)); }

void write_at(int fd, const void* p, size_t n, uint64_t off, const std::string& path) {
  const auto* b = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, b, n, off_t(off));
    if (w <= 0) {
      const int e = errno;
      throw Error("cannot write '" + path + "': " + std::strerror(e),
                  e == ENOSPC ? "the disk is full; free space or pack to another disk" : "check the folder's permissions");
    }
    b += w, n -= size_t(w), off += uint64_t(w);
  }
}

bool read_at(int fd, void* p, size_t n, uint64_t off) {
  auto* b = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t r = ::pread(fd, b, n, off_t(off));
    if (r <= 0) return false;
    b += r, n -= size_t(r), off += uint64_t(r);
  }
  return true;
}

// An open packed file: descriptor, header, and the mapping of its records.
struct PackedFile {
  std::string path;
  int fd = -1;
  Header h{};
  void* map = nullptr;
  size_t map_bytes = 0;
  int64_t record = 0;
  ~PackedFile() {
    if (map) ::munmap(map, map_bytes);
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw Error("'" + path + "' is not a usable packed dataset: " + what, "pack it again with `duel data pack`");
}

std::shared_ptr<PackedFile> open_file(const std::string& path) {
  auto f = std::make_shared<PackedFile>();
  f->path = path;
  f->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) throw Error("cannot open packed dataset '" + path + "': " + std::strerror(errno), "check data.dataset = \"packed:FILE\"");
  struct stat st {};
  ::fstat(f->fd, &st);
  Header& h = f->h;
  if (!read_at(f->fd, &h, sizeof h, 0) || std::memcmp(h.magic, kMagic, 8) != 0) bad(path, "no DUELDATA header");
  if (h.version > kVersion)
    throw Error("'" + path + "' is packed format v" + std::to_string(h.version) + ", newer than this duel reads (v" +
                    std::to_string(kVersion) + ")", "update duel, or pack the data again with this version");
  if (header_crc(h) != h.header_crc) bad(path, "header checksum mismatch");
  if (h.count < 0 || h.channels < 1 || h.channels > 4 || h.height < 1 || h.width < 1 || h.height > 8192 || h.width > 8192)
    bad(path, "impossible sizes in the header");
  f->record = h.channels * h.height * h.width;
  const uint64_t records_end = h.records_offset + uint64_t(h.count) * uint64_t(f->record);
  const uint64_t labels_end = h.labels_offset + (h.num_classes > 0 ? uint64_t(h.count) * 8 : 0);
  if (h.records_offset != kHeaderBytes || h.labels_offset != records_end || h.crc_offset != labels_end ||
      h.meta_offset < h.crc_offset || h.meta_offset + h.meta_size != h.file_size)
    bad(path, "inconsistent offsets in the header");
  if (uint64_t(st.st_size) != h.file_size)
    bad(path, "the file is " + std::to_string(st.st_size) + " bytes, the header says " + std::to_string(h.file_size) +
                  " (truncated or still being written?)");
  return f;
}

}  // namespace

// --- writing ----------------------------------------------------------------------

struct PackedWriter::State {
  std::string path, tmp;
  int fd = -1;
  Header h{};
  std::vector<int64_t> labels;
  bool labelled = false, any = false, finished = false;
  std::vector<uint32_t> chunk_crcs;
  uint32_t running = 0;
  int64_t in_chunk = 0;
};

PackedWriter::PackedWriter(const std::string& path, int64_t channels, int64_t height, int64_t width) : s_(new State) {
  s_->path = path;
  s_->tmp = atomic_temp_path(path);
  s_->fd = ::open(s_->tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s_->fd < 0) throw Error("cannot create '" + s_->tmp + "': " + std::strerror(errno), "check that the folder exists and is writable");
  Header& h = s_->h;
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.chunk_records = kChunk;
  h.channels = channels, h.height = height, h.width = width;
  h.records_offset = kHeaderBytes;
}

PackedWriter::~PackedWriter() {
  if (s_->fd >= 0) ::close(s_->fd);
  if (!s_->finished) ::unlink(s_->tmp.c_str());
}

int64_t PackedWriter::count() const { return s_->h.count; }
int64_t PackedWriter::height() const { return s_->h.height; }
int64_t PackedWriter::width() const { return s_->h.width; }

void PackedWriter::append(const torch::Tensor& images, const torch::Tensor& labels) {
  Header& h = s_->h;
  require(images.dim() == 4 && images.size(1) == h.channels && images.size(2) == h.height && images.size(3) == h.width &&
              images.scalar_type() == torch::kUInt8,
          "images to pack must be uint8 [" + std::to_string(h.channels) + ", " + std::to_string(h.height) + ", " +
              std::to_string(h.width) + "]");
  require(!s_->any || labels.defined() == s_->labelled, "every packed chunk must agree on having labels");
  s_->any = true;
  s_->labelled = labels.defined();
  const auto x = images.contiguous();
  const int64_t rec = h.channels * h.height * h.width, n = x.size(0);
  const auto* p = x.data_ptr<uint8_t>();
  write_at(s_->fd, p, size_t(n * rec), h.records_offset + uint64_t(h.count) * uint64_t(rec), s_->tmp);
  for (int64_t i = 0; i < n; ++i) {  // CRC per chunk of kChunk records
    s_->running = crc_of(p + i * rec, size_t(rec), s_->running);
    if (++s_->in_chunk == kChunk) s_->chunk_crcs.push_back(s_->running), s_->running = 0, s_->in_chunk = 0;
  }
  if (labels.defined()) {
    auto l = labels.to(torch::kInt64).contiguous();
    s_->labels.insert(s_->labels.end(), l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + n);
  }
  h.count += n;
}

void PackedWriter::finish(const std::vector<std::string>& class_names, const std::string& description) {
  State& s = *s_;
  Header& h = s.h;
  require(h.count > 0, "nothing to pack", "the source holds no images");
  if (s.in_chunk > 0) s.chunk_crcs.push_back(s.running);
  if (s.labelled) {
    const int64_t top = *std::max_element(s.labels.begin(), s.labels.end());
    h.num_classes = std::max<int64_t>(int64_t(class_names.size()), top + 1);
  }
  h.labels_offset = h.records_offset + uint64_t(h.count * h.channels * h.height * h.width);
  h.crc_offset = h.labels_offset + (s.labelled ? uint64_t(h.count) * 8 : 0);
  if (s.labelled) write_at(s.fd, s.labels.data(), s.labels.size() * 8, h.labels_offset, s.tmp);
  const std::string meta = nlohmann::json{{"class_names", class_names}, {"description", description}}.dump();
  std::vector<uint32_t> crcs = s.chunk_crcs;
  crcs.push_back(crc_of(s.labels.data(), s.labels.size() * 8));
  crcs.push_back(crc_of(meta.data(), meta.size()));
  write_at(s.fd, crcs.data(), crcs.size() * 4, h.crc_offset, s.tmp);
  h.meta_offset = h.crc_offset + crcs.size() * 4;
  h.meta_size = meta.size();
  write_at(s.fd, meta.data(), meta.size(), h.meta_offset, s.tmp);
  h.file_size = h.meta_offset + h.meta_size;
  h.header_crc = header_crc(h);
  std::vector<char> head(kHeaderBytes, 0);
  std::memcpy(head.data(), &h, sizeof h);
  write_at(s.fd, head.data(), head.size(), 0, s.tmp);  // the header last: a torn pack has none
  if (::fsync(s.fd) != 0) throw Error("cannot sync '" + s.tmp + "': " + std::strerror(errno), "check free space");
  ::close(s.fd);
  s.fd = -1;
  std::error_code ec;
  fs::rename(s.tmp, s.path, ec);
  if (ec) throw Error("cannot move the packed file to '" + s.path + "': " + ec.message(), "check the folder's permissions");
  s.finished = true;
}

// --- reading ----------------------------------------------------------------------

ImageSet open_packed(const std::string& path) {
  auto f = open_file(path);
  const Header& h = f->h;
  ImageSet s;
  std::string meta(size_t(h.meta_size), '\0');
  if (!read_at(f->fd, meta.data(), meta.size(), h.meta_offset)) bad(path, "cannot read the metadata");
  try {
    const auto j = nlohmann::json::parse(meta);
    s.class_names = j.at("class_names").get<std::vector<std::string>>();
    s.description = "packed " + path + " (" + j.at("description").get<std::string>() + ")";
  } catch (const nlohmann::json::exception& e) {
    bad(path, std::string("damaged metadata (") + e.what() + ")");
  }
  if (h.num_classes > 0) {
    s.labels = torch::empty({h.count}, torch::kInt64);
    if (!read_at(f->fd, s.labels.data_ptr<int64_t>(), size_t(h.count) * 8, h.labels_offset)) bad(path, "cannot read the labels");
    if (h.count > 0 && (s.labels.min().item<int64_t>() < 0 || s.labels.max().item<int64_t>() >= h.num_classes))
      bad(path, "a label outside 0.." + std::to_string(h.num_classes - 1));
    s.num_classes = h.num_classes;
  }
  f->map_bytes = size_t(h.count * f->record);
  if (f->map_bytes > 0) {
    f->map = ::mmap(nullptr, f->map_bytes + kHeaderBytes, PROT_READ, MAP_SHARED, f->fd, 0);
    if (f->map == MAP_FAILED) f->map = nullptr, bad(path, std::string("cannot map it: ") + std::strerror(errno));
    f->map_bytes += kHeaderBytes;
    ::madvise(f->map, f->map_bytes, MADV_RANDOM);
  }
  auto* records = static_cast<uint8_t*>(f->map) + kHeaderBytes;
  s.images = torch::from_blob(records, {h.count, h.channels, h.height, h.width}, [f](void*) {}, torch::kUInt8);
  s.gather = [f](const torch::Tensor& idx) {
    const auto ix = idx.to(torch::kInt64).contiguous();
    const int64_t n = ix.numel(), rec = f->record;
    auto out = torch::empty({n, f->h.channels, f->h.height, f->h.width}, torch::kUInt8);
    auto* dst = out.data_ptr<uint8_t>();
    const int64_t* i = ix.data_ptr<int64_t>();
    for (int64_t k = 0; k < n; ++k) {
      if (i[k] < 0 || i[k] >= f->h.count) throw Error("record " + std::to_string(i[k]) + " is outside '" + f->path + "'");
      if (!read_at(f->fd, dst + k * rec, size_t(rec), f->h.records_offset + uint64_t(i[k]) * uint64_t(rec)))
        throw Error("cannot read record " + std::to_string(i[k]) + " of '" + f->path + "' (was it truncated?)",
                    "pack the data again");
    }
    return out;
  };
  return s;
}

PackedCheck verify_packed(const std::string& path) {
  auto f = open_file(path);
  const Header& h = f->h;
  PackedCheck r;
  const int64_t chunks = (h.count + kChunk - 1) / kChunk;
  std::vector<uint32_t> crcs(size_t(chunks + 2));
  if (!read_at(f->fd, crcs.data(), crcs.size() * 4, h.crc_offset)) bad(path, "cannot read the checksums");
  std::vector<uint8_t> buf(size_t(kChunk * f->record));
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t first = c * kChunk, n = std::min<int64_t>(kChunk, h.count - first);
    if (!read_at(f->fd, buf.data(), size_t(n * f->record), h.records_offset + uint64_t(first * f->record)) ||
        crc_of(buf.data(), size_t(n * f->record)) != crcs[size_t(c)])
      r.problems.push_back("records " + std::to_string(first) + "-" + std::to_string(first + n - 1) + ": CRC mismatch");
    else
      ++r.chunks_ok;
  }
  std::vector<uint8_t> tail(size_t(h.crc_offset - h.labels_offset));
  if (!read_at(f->fd, tail.data(), tail.size(), h.labels_offset) || crc_of(tail.data(), tail.size()) != crcs[size_t(chunks)])
    r.problems.push_back("labels: CRC mismatch");
  std::string meta(size_t(h.meta_size), '\0');
  if (!read_at(f->fd, meta.data(), meta.size(), h.meta_offset) || crc_of(meta.data(), meta.size()) != crcs[size_t(chunks + 1)])
    r.problems.push_back("metadata: CRC mismatch");
  return r;
}

}  // namespace duel
