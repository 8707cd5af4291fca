// TensorBoard event files (log.tensorboard): CRC-32C, TFRecord framing and the
// few Event/Summary protobuf messages duel writes, encoded by hand in the
// protobuf wire format (varints, length-delimited fields, fixed64 double,
// fixed32 float, from io/protobuf.h). The format is described in
// include/duel/io/tensorboard.h.
#include "duel/io/tensorboard.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/protobuf.h"

namespace duel {

namespace {
const bool keys_registered = [] {
  register_key({"log.tensorboard", ConfigType::Bool, false,
                "also write TensorBoard event files under <run>/tensorboard/ (scalars of every log row, sample "
                "grids, eval results): `tensorboard --logdir runs`",
                {}, {}, {}});
  return true;
}();
}  // namespace

namespace tensorboard {

namespace {
// Byte-at-a-time table of the reflected Castagnoli polynomial.
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

// The wire-format primitives are shared with the ONNX writer (io/protobuf.h).
using protobuf::put_bytes;
using protobuf::put_double;
using protobuf::put_fixed;
using protobuf::put_float;
using protobuf::put_int;

// Event { wall_time = 1; step = 2; } followed by the caller's oneof field.
// As proto3 serializers do, a field at its default (0) is left out.
std::string event_head(double wall_time, int64_t step) {
  std::string e;
  uint64_t bits;
  std::memcpy(&bits, &wall_time, 8);
  if (bits != 0) put_double(e, 1, wall_time);
  if (step != 0) put_int(e, 2, step);
  return e;
}
// Event with summary = 5 holding one Summary.Value (value = 1).
std::string summary_event(double wall_time, int64_t step, const std::string& value) {
  std::string summary;
  put_bytes(summary, 1, value);
  std::string e = event_head(wall_time, step);
  put_bytes(e, 5, summary);
  return e;
}
}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  const auto& t = crc_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::string frame_record(const std::string& data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_fixed(out, uint64_t(data.size()), 8);
  put_fixed(out, masked_crc32c(out.data(), 8), 4);
  out += data;
  put_fixed(out, masked_crc32c(data.data(), data.size()), 4);
  return out;
}

void put_varint(std::string& out, uint64_t v) { protobuf::put_varint(out, v); }

std::string file_version_event(double wall_time, const std::string& version) {
  std::string e = event_head(wall_time, 0);
  put_bytes(e, 3, version);
  return e;
}

std::string session_start_event(double wall_time, int64_t step) {
  std::string log;
  put_int(log, 1, 1);  // SessionLog.status = START
  std::string e = event_head(wall_time, step);
  put_bytes(e, 6, log);
  return e;
}

std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value) {
  std::string v;
  put_bytes(v, 1, tag);
  put_float(v, 2, value);  // a oneof member: written even when 0
  return summary_event(wall_time, step, v);
}

std::string image_event(double wall_time, int64_t step, const std::string& tag, const std::string& png,
                        int64_t height, int64_t width, int64_t channels) {
  require(channels == 1 || channels == 3, "a TensorBoard image must have 1 or 3 channels, not " +
                                              std::to_string(channels));
  std::string img;
  put_int(img, 1, height);
  put_int(img, 2, width);
  put_int(img, 3, channels);  // colorspace: 1 grayscale, 3 RGB
  put_bytes(img, 4, png);
  std::string v;
  put_bytes(v, 1, tag);
  put_bytes(v, 4, img);
  return summary_event(wall_time, step, v);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace tensorboard

namespace {
std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string s(buf);
  for (char& c : s)  // a file name component
    if (c == '/' || c == '\0') c = '_';
  return s;
}
}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::string& run_dir, int64_t start_step) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(run_dir) / "tensorboard";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw Error("cannot create the TensorBoard folder '" + dir.string() + "'" + (ec ? ": " + ec.message() : ""),
                "check that the run folder is writable, or set log.tensorboard = false");
  // TensorBoard reads a folder's event files in name order, and a SessionLog
  // START purges what it read before at that step or later; so a new file must
  // sort after every file already there. Its time is the clock's, or one
  // second past the newest file's when that is not later (a resume within the
  // same second as the run it continues).
  const std::string prefix = "events.out.tfevents.";
  long long secs = static_cast<long long>(std::time(nullptr));
  for (auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string digits = name.substr(prefix.size(), name.find('.', prefix.size()) - prefix.size());
    if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    secs = std::max(secs, std::stoll(digits) + 1);
  }
  const std::string stem =
      prefix + std::to_string(secs) + "." + host_name() + "." + std::to_string(static_cast<long>(::getpid()));
  // Should two writers still meet on a name, the later one gets a numbered name.
  int fd = -1;
  for (int n = 0; n < 1000 && fd < 0; ++n) {
    path_ = (dir / (stem + (n ? "." + std::to_string(n) : std::string()) + ".duel")).string();
    fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    const int e = errno;
    throw Error("cannot create '" + path_ + "': " + std::strerror(e),
                "check that the run folder is writable, or set log.tensorboard = false");
  }
  file_ = ::fdopen(fd, "wb");
  if (!file_) {
    const int e = errno;
    ::close(fd);
    fail("fdopen", e);
  }
  const double t = tensorboard::now_seconds();
  record(tensorboard::file_version_event(t));
  record(tensorboard::session_start_event(t, start_step));
  push();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);  // errors here were reported by the last flush()/push()
}

void TensorBoardWriter::scalar(const std::string& tag, int64_t step, double value) {
  record(tensorboard::scalar_event(tensorboard::now_seconds(), step, tag, float(value)));
}

void TensorBoardWriter::image(const std::string& tag, int64_t step, const std::string& png, int64_t height,
                              int64_t width, int64_t channels) {
  record(tensorboard::image_event(tensorboard::now_seconds(), step, tag, png, height, width, channels));
}

void TensorBoardWriter::restart(int64_t step) {
  record(tensorboard::session_start_event(tensorboard::now_seconds(), step));
}

void TensorBoardWriter::record(const std::string& event) {
  const std::string rec = tensorboard::frame_record(event);
  errno = 0;
  if (std::fwrite(rec.data(), 1, rec.size(), file_) != rec.size()) fail("write", errno ? errno : EIO);
}

void TensorBoardWriter::push() {
  errno = 0;
  if (std::fflush(file_) != 0) fail("write", errno ? errno : EIO);
}

void TensorBoardWriter::flush() {
  push();
  if (::fsync(::fileno(file_)) != 0) fail("fsync", errno);
}

void TensorBoardWriter::fail(const std::string& what, int e) {
  const bool full = e == ENOSPC || e == EDQUOT || e == EFBIG;
  throw Error("cannot write the TensorBoard event file '" + path_ + "' (" + what + "): " + std::strerror(e),
              std::string(full ? "the disk may be full or the file too large; " : "") +
                  "the last checkpoint is intact: free space and resume, or set log.tensorboard = false");
}

}  // namespace duel
