// TensorBoard event files, written without a protobuf library.
//
// An event file is a sequence of TFRecords; each record holds one serialized
// `Event` message (tensorflow/core/util/event.proto). Only the handful of
// fields duel writes are encoded, by hand, in the protobuf wire format:
//
//   Event      { double wall_time = 1; int64 step = 2;
//                oneof { string file_version = 3; Summary summary = 5; SessionLog session_log = 6; } }
//   Summary    { repeated Value value = 1; }
//   Value      { string tag = 1; float simple_value = 2; Image image = 4; }
//   Image      { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
//   SessionLog { SessionStatus status = 1; }   // START = 1
//
// A TFRecord is: uint64 length (little endian), uint32 masked CRC-32C of
// those 8 bytes, the data, uint32 masked CRC-32C of the data.
//
// The first record of a file is `file_version = "brain.Event:2"`; the second
// is a SessionLog START at the step the writer starts from, which tells
// TensorBoard to drop events of earlier files at that step or later (a resumed
// or rolled-back run rewrites them). Verified against an independent reader:
// tests/tensorboard/read_events.mjs (protobufjs), run by tests/cli/tensorboard.sh.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace duel {

namespace tensorboard {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), standard init and
// final xor: crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, size_t n);
// TensorFlow's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t mask_crc(uint32_t crc);
inline uint32_t masked_crc32c(const void* data, size_t n) { return mask_crc(crc32c(data, n)); }

// One TFRecord around `data` (length, its masked CRC, data, the data's masked CRC).
std::string frame_record(const std::string& data);

// Protobuf wire encoding. A negative int64 is a 10-byte varint (two's complement).
void put_varint(std::string& out, uint64_t v);

// Serialized Event messages. wall_time in seconds since the Unix epoch.
std::string file_version_event(double wall_time, const std::string& version = "brain.Event:2");
std::string session_start_event(double wall_time, int64_t step);
std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value);
// png: the PNG file's bytes; channels 1 (grayscale) or 3 (RGB).
std::string image_event(double wall_time, int64_t step, const std::string& tag, const std::string& png,
                        int64_t height, int64_t width, int64_t channels);

// Seconds since the Unix epoch, as TensorBoard's wall_time.
double now_seconds();

}  // namespace tensorboard

// Writes one event file of a run: <run>/tensorboard/events.out.tfevents.<unix
// seconds>.<hostname>.<pid>.duel (the folder is created). The seconds run one
// past the newest file already there when the clock has not moved on, so the
// files sort (as TensorBoard reads them) in the order they were made. Every
// write is checked; a failure throws duel::Error naming the file.
//
// Requires: run_dir is a folder that may be written. Ensures: after flush(),
// every event written so far is on disk (fflush + fsync); after push(), it is
// visible to a running TensorBoard (fflush only).
class TensorBoardWriter {
 public:
  // start_step: the step the run starts (or resumes) from; a SessionLog START
  // is written at it.
  explicit TensorBoardWriter(const std::string& run_dir, int64_t start_step = 0);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void scalar(const std::string& tag, int64_t step, double value);
  void image(const std::string& tag, int64_t step, const std::string& png, int64_t height, int64_t width,
             int64_t channels);
  // A SessionLog START at `step`: TensorBoard drops what it read at that step or later (a rollback).
  void restart(int64_t step);
  void push();   // hands buffered events to the OS
  void flush();  // push() + fsync
  const std::string& path() const { return path_; }

 private:
  void record(const std::string& event);
  [[noreturn]] void fail(const std::string& what, int e);
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace duel
