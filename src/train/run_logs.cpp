// metrics.csv and events.jsonl of a run (include/duel/train/run_logs.h):
// appending through checked descriptors, the CSV header and row format, and
// cutting both files back to a checkpoint's step on a resume or rollback.
#include "duel/train/run_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/io/image.h"  // write_file_atomic
#include "duel/train/run_folder.h"

namespace fs = std::filesystem;

namespace duel {

// Appends lines to a log file through a plain descriptor: every write is
// checked (a full disk stops the run with a clear message) and sync() makes
// the rows durable before a checkpoint that covers them is written.
class TrainLogs::Appender {
 public:
  explicit Appender(const std::string& path) : path_(path) { open(); }
  ~Appender() {
    if (fd_ >= 0) ::close(fd_);
  }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  void line(const std::string& s) {
    const std::string text = s + "\n";
    size_t off = 0;
    while (off < text.size()) {
      ssize_t k = ::write(fd_, text.data() + off, text.size() - off);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) fail(k < 0 ? errno : ENOSPC);
      off += size_t(k);
    }
  }
  void sync() {
    if (::fsync(fd_) != 0) fail(errno);
  }
  // After the file was replaced (a cut writes a new file), append to the new one.
  void reopen() {
    ::close(fd_);
    open();
  }

 private:
  void open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error("cannot open '" + path_ + "' for writing: " + std::strerror(errno), "check the run folder");
  }
  [[noreturn]] void fail(int e) {
    throw Error("cannot write '" + path_ + "': " + std::strerror(e),
                "the disk may be full or the file too large; the last checkpoint is intact: free space and resume");
  }
  std::string path_;
  int fd_ = -1;
};

namespace {

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Keeps a log's rows up to `step` (a resumed run rewrites what came after its checkpoint).
void truncate_log(const std::string& path, int64_t step, bool csv) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  std::istringstream in(read_text(path));
  std::string line, out;
  bool header = csv;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (header) {
      out += line + "\n";
      header = false;
      continue;
    }
    int64_t row_step = -1;
    try {
      if (csv) row_step = std::stoll(line.substr(0, line.find(',')));
      else row_step = nlohmann::json::parse(line).value("step", int64_t(-1));
    } catch (...) {
      break;  // a torn last line from a kill: drop it and what follows
    }
    if (row_step > step) break;
    out += line + "\n";
  }
  write_file_atomic(path, out);
}

bool empty_file(const std::string& path) { return !(fs::exists(path) && fs::file_size(path) > 0); }

std::string format_double(double v) {
  std::ostringstream o;
  o << std::setprecision(6) << v;
  return o.str();
}

}  // namespace

TrainLogs::TrainLogs(const RunFolder& run, bool enabled, std::optional<int64_t> cut_to_step)
    : csv_path_(run.metrics()), events_path_(run.events()) {
  if (!enabled) return;
  if (cut_to_step) {
    truncate_log(csv_path_, *cut_to_step, true);
    truncate_log(events_path_, *cut_to_step, false);
  }
  csv_needs_header_ = empty_file(csv_path_);
  csv_ = std::make_unique<Appender>(csv_path_);
  events_ = std::make_unique<Appender>(events_path_);
}

TrainLogs::~TrainLogs() = default;

void TrainLogs::event(const nlohmann::json& j) {
  if (events_) events_->line(j.dump());
}

void TrainLogs::row(const LogRow& r, const std::string& extra_header, const std::string& extra_cells) {
  if (!csv_) return;
  if (csv_needs_header_) {
    std::string h = "step,epoch";
    for (auto& [k, v] : r.scalars) h += "," + k;
    csv_->line(h + ",img_per_s,elapsed_s" + (r.comm_share ? ",comm_share" : "") + extra_header);
    csv_needs_header_ = false;
  }
  std::string line = std::to_string(r.step) + "," + std::to_string(r.epoch);
  nlohmann::json j{{"event", "log"}, {"step", r.step}, {"epoch", r.epoch}};
  for (auto& [k, v] : r.scalars) {
    j[k] = v;
    line += "," + format_double(v);
  }
  line += "," + format_double(r.img_per_s) + "," + format_double(r.elapsed_s) +
          (r.comm_share ? "," + format_double(*r.comm_share) : "") + extra_cells;
  j["img_per_s"] = r.img_per_s;
  j["elapsed_s"] = r.elapsed_s;
  if (r.comm_share) j["comm_share"] = *r.comm_share;  // fraction of the interval spent in collectives (rank 0)
  csv_->line(line);
  event(j);
}

void TrainLogs::cut_to(int64_t step) {
  if (!csv_) return;
  truncate_log(csv_path_, step, true);
  truncate_log(events_path_, step, false);
  csv_->reopen();
  events_->reopen();
  csv_needs_header_ = empty_file(csv_path_);
}

void TrainLogs::sync() {
  if (csv_) csv_->sync();
  if (events_) events_->sync();
}

}  // namespace duel
