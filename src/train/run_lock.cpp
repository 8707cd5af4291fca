#include "duel/train/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "duel/core/error.h"

namespace duel {
namespace {
namespace fs = std::filesystem;

// Closes `fd`, whose lock could not be taken (errno `e`), and throws the error naming the holder.
[[noreturn]] void refuse(int fd, int e, const std::string& run_dir, const std::string& path) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  const std::string pid = n > 0 ? std::string(buf, size_t(n)) : "unknown";
  if (e == EWOULDBLOCK)
    throw Error("run folder '" + run_dir + "' is in use by another duel train (PID " + pid + ")",
                "a run folder takes one trainer at a time: wait for it to finish, or stop it (kill " + pid +
                    ") and then --resume");
  throw Error("cannot lock '" + path + "': " + std::strerror(e), "check that the file system supports locks");
}
}  // namespace

void RunLock::ensure_free(const std::string& run_dir) {
  const std::string path = (fs::path(run_dir) / ".lock").string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // no lock file: no trainer has used the folder
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) refuse(fd, errno, run_dir, path);
  ::close(fd);  // releases the probe
}

RunLock::RunLock(const std::string& run_dir) {
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  const std::string path = (fs::path(run_dir) / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw Error("cannot open '" + path + "': " + std::strerror(errno), "check that the run folder is writable");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    refuse(fd_, e, run_dir, path);
  }
  const std::string me = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != ssize_t(me.size())) {
    // The lock holds without the PID; only the message of a refused trainer loses it.
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace duel
