// TensorBoard event files: CRC-32C and its mask, TFRecord framing and the
// hand-encoded protobuf bytes, each against values assembled independently
// here (a bitwise CRC, byte strings written out by hand from the field tags).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/io/tensorboard.h"

namespace fs = std::filesystem;
using namespace duel;

namespace {

// Bit-at-a-time CRC-32C, independent of the table-driven one under test.
uint32_t slow_crc32c(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}
uint32_t slow_mask(uint32_t c) { return uint32_t(((c >> 15) | (c << 17)) + 0xa282ead8u); }

uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(uint8_t(s[at + i])) << (8 * i);
  return v;
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(char(x));
  return s;
}

std::string varint(uint64_t v) {
  std::string s;
  tensorboard::put_varint(s, v);
  return s;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("duel-tb-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(TensorBoard, Crc32cKnownValues) {
  const std::string digits = "123456789";
  EXPECT_EQ(tensorboard::crc32c(digits.data(), digits.size()), 0xE3069283u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(tensorboard::crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(slow_crc32c(digits), 0xE3069283u);  // the test's own CRC agrees on the check value
  EXPECT_EQ(tensorboard::crc32c("", 0), 0u);
  const std::string text = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(tensorboard::crc32c(text.data(), text.size()), slow_crc32c(text));
}

TEST(TensorBoard, MaskedCrcFormula) {
  // ((crc >> 15) | (crc << 17)) + 0xa282ead8 in uint32 arithmetic.
  EXPECT_EQ(tensorboard::mask_crc(0xE3069283u), uint32_t(((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u));
  EXPECT_EQ(tensorboard::mask_crc(0x8A9136AAu), slow_mask(0x8A9136AAu));
  const std::string digits = "123456789";
  EXPECT_EQ(tensorboard::masked_crc32c(digits.data(), digits.size()), slow_mask(0xE3069283u));
  EXPECT_EQ(tensorboard::mask_crc(0), 0xa282ead8u);
  EXPECT_EQ(tensorboard::mask_crc(0xFFFFFFFFu), uint32_t(0xFFFFFFFFu + 0xa282ead8u));  // wraps
}

TEST(TensorBoard, RecordFraming) {
  const std::string payload = "hello, tensorboard";
  const std::string rec = tensorboard::frame_record(payload);
  ASSERT_EQ(rec.size(), 8 + 4 + payload.size() + 4);
  EXPECT_EQ(le(rec, 0, 8), payload.size());
  EXPECT_EQ(rec.substr(0, 8), bytes({18, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(le(rec, 8, 4), slow_mask(slow_crc32c(rec.substr(0, 8))));
  EXPECT_EQ(rec.substr(12, payload.size()), payload);
  EXPECT_EQ(le(rec, 12 + payload.size(), 4), slow_mask(slow_crc32c(payload)));
  // An empty record is framed too.
  const std::string empty = tensorboard::frame_record("");
  ASSERT_EQ(empty.size(), 16u);
  EXPECT_EQ(le(empty, 12, 4), slow_mask(0));
}

TEST(TensorBoard, ScalarEventBytes) {
  // Event{wall_time=1.5, step=7, summary{value{tag="loss_d", simple_value=0.5}}}
  const std::string want = bytes({0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,  // 1: double 1.5
                                  0x10, 0x07,                          // 2: varint 7
                                  0x2a, 15,                            // 5: Summary, 15 bytes
                                  0x0a, 13,                            //   1: Value, 13 bytes
                                  0x0a, 6, 'l', 'o', 's', 's', '_', 'd',  //     1: tag
                                  0x15, 0, 0, 0, 0x3F});               //     2: float 0.5
  EXPECT_EQ(tensorboard::scalar_event(1.5, 7, "loss_d", 0.5f), want);
  // A zero value is still written (simple_value is a oneof member).
  const std::string zero = tensorboard::scalar_event(1.5, 7, "x", 0.0f);
  EXPECT_EQ(zero.substr(zero.size() - 5), bytes({0x15, 0, 0, 0, 0}));
  // Step 0 and wall time 0 are proto3 defaults, left out as protobuf's own serializers do.
  EXPECT_EQ(tensorboard::scalar_event(0.0, 0, "x", 2.0f),
            bytes({0x2a, 10, 0x0a, 8, 0x0a, 1, 'x', 0x15, 0, 0, 0, 0x40}));
  EXPECT_EQ(tensorboard::scalar_event(1.5, 0, "x", 2.0f).substr(9, 1), bytes({0x2a}));
}

TEST(TensorBoard, FileVersionAndSessionStartBytes) {
  EXPECT_EQ(tensorboard::file_version_event(1.5),
            bytes({0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x1a, 13}) + "brain.Event:2");
  // Event{wall_time=1.5, step=300, session_log{status=START}}
  EXPECT_EQ(tensorboard::session_start_event(1.5, 300),
            bytes({0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x10, 0xAC, 0x02, 0x32, 2, 0x08, 1}));
}

TEST(TensorBoard, ImageEventBytes) {
  const std::string png = "\x89PNG fake";
  const std::string ev = tensorboard::image_event(1.5, 2, "samples", png, 122, 61, 3);
  const std::string image = bytes({0x08, 122, 0x10, 61, 0x18, 3, 0x22, int(png.size())}) + png;
  const std::string value = bytes({0x0a, 7}) + "samples" + bytes({0x22, int(image.size())}) + image;
  const std::string summary = bytes({0x0a, int(value.size())}) + value;
  EXPECT_EQ(ev, bytes({0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x10, 2, 0x2a, int(summary.size())}) + summary);
  EXPECT_THROW(tensorboard::image_event(1.5, 2, "samples", png, 1, 1, 4), Error);
}

TEST(TensorBoard, Varints) {
  EXPECT_EQ(varint(0), bytes({0}));
  EXPECT_EQ(varint(1), bytes({1}));
  EXPECT_EQ(varint(127), bytes({0x7F}));
  EXPECT_EQ(varint(128), bytes({0x80, 0x01}));
  EXPECT_EQ(varint(300), bytes({0xAC, 0x02}));
  EXPECT_EQ(varint(1234567890123ULL), bytes({0xCB, 0x89, 0xEC, 0x8F, 0xF7, 0x23}));
  // int64 -1: two's complement, 10 bytes.
  EXPECT_EQ(varint(uint64_t(int64_t(-1))), bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  EXPECT_EQ(varint(uint64_t(INT64_MIN)), bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}));
  EXPECT_EQ(varint(UINT64_MAX).size(), 10u);
  // A negative step inside an event.
  const std::string ev = tensorboard::scalar_event(1.5, -2, "t", 1.0f);
  EXPECT_EQ(ev.substr(9, 11), bytes({0x10, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  // A large step (2^40 + 5).
  const std::string big = tensorboard::scalar_event(1.5, (int64_t(1) << 40) + 5, "t", 1.0f);
  EXPECT_EQ(big.substr(9, 7), bytes({0x10, 0x85, 0x80, 0x80, 0x80, 0x80, 0x20}));
}

TEST(TensorBoard, WriterFileLayout) {
  const fs::path run = fresh_dir("writer");
  std::string path;
  {
    TensorBoardWriter w(run.string(), 12);
    path = w.path();
    w.scalar("loss_d", 14, 0.25);
    const auto grid = torch::zeros({1, 4, 6}, torch::kUInt8);
    w.image("samples", 14, encode_png(grid), 4, 6, 1);
    w.flush();
  }
  const std::string name = fs::path(path).filename().string();
  EXPECT_EQ(fs::path(path).parent_path(), run / "tensorboard");
  EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
  EXPECT_EQ(name.substr(name.size() - 5), ".duel");
  EXPECT_NE(name.find("." + std::to_string(::getpid()) + ".duel"), std::string::npos) << name;
  // Walk the records: every length and CRC checks, and the events come in order.
  const std::string f = read_all(path);
  std::vector<std::string> events;
  size_t at = 0;
  while (at < f.size()) {
    ASSERT_LE(at + 12, f.size());
    const uint64_t n = le(f, at, 8);
    EXPECT_EQ(le(f, at + 8, 4), slow_mask(slow_crc32c(f.substr(at, 8))));
    ASSERT_LE(at + 12 + n + 4, f.size());
    const std::string data = f.substr(at + 12, n);
    EXPECT_EQ(le(f, at + 12 + n, 4), slow_mask(slow_crc32c(data)));
    events.push_back(data);
    at += 12 + n + 4;
  }
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].substr(9), bytes({0x1a, 13}) + "brain.Event:2");
  EXPECT_EQ(events[1].substr(9), bytes({0x10, 12, 0x32, 2, 0x08, 1}));
  EXPECT_EQ(events[2].substr(9), tensorboard::scalar_event(1.5, 14, "loss_d", 0.25f).substr(9));
  EXPECT_NE(events[3].find("\x89PNG\r\n\x1a\n"), std::string::npos);
  // wall_time is now, in seconds since the epoch.
  double t;
  std::memcpy(&t, events[2].data() + 1, 8);
  EXPECT_NEAR(t, tensorboard::now_seconds(), 60.0);
  // A second writer, even within the same second, gets a file of its own that
  // sorts after the first (TensorBoard reads them in name order).
  TensorBoardWriter again(run.string());
  EXPECT_GT(fs::path(again.path()).filename().string(), name);
  TensorBoardWriter third(run.string());
  EXPECT_GT(fs::path(third.path()).filename().string(), fs::path(again.path()).filename().string());
  fs::remove_all(run);
}

TEST(TensorBoard, UnwritableFolderThrows) {
  const fs::path base = fresh_dir("unwritable");
  std::ofstream(base / "file") << "not a folder";
  try {
    TensorBoardWriter w((base / "file" / "run").string());
    FAIL() << "expected duel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensorboard"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.hint()).find("log.tensorboard"), std::string::npos) << e.hint();
  }
  if (::geteuid() != 0) {  // root writes into read-only folders
    fs::create_directories(base / "ro" / "tensorboard");
    fs::permissions(base / "ro" / "tensorboard", fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_THROW(TensorBoardWriter((base / "ro").string()), Error);
    fs::permissions(base / "ro" / "tensorboard", fs::perms::owner_all);
  }
  fs::remove_all(base);
}

TEST(TensorBoard, FailedWriteThrowsNamingTheFile) {
  // A file-size limit makes writes fail with EFBIG, as a full disk would with
  // ENOSPC; SIGXFSZ is ignored (as duel does) so the write returns the error.
  const fs::path run = fresh_dir("full");
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  std::string message, hint;
  {
    TensorBoardWriter w(run.string());
    struct rlimit small = old_limit;
    small.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    try {
      for (int i = 0; i < 100; ++i) {
        w.image("samples", i, std::string(3000, 'x'), 1, 1, 1);
        w.push();
      }
      w.flush();
    } catch (const Error& e) {
      message = e.what();
      hint = e.hint();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
  }
  std::signal(SIGXFSZ, old_handler);
  EXPECT_NE(message.find("cannot write the TensorBoard event file '" + (run / "tensorboard").string()),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_NE(hint.find("the disk may be full"), std::string::npos) << hint;
  fs::remove_all(run);
}

TEST(TensorBoard, KeyIsRegisteredOffByDefault) {
  Config cfg;
  EXPECT_FALSE(cfg.get_bool("log.tensorboard"));
  cfg.set_from_string("log.tensorboard=true");
  EXPECT_TRUE(cfg.get_bool("log.tensorboard"));
}
