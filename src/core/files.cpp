// The atomic file writer of include/duel/core/files.h: a temporary file in
// the target folder, every write checked, fsync, rename over the final name,
// fsync of the folder.
#include "duel/core/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "duel/core/error.h"

namespace duel {

namespace {
// "the disk may be full" for the errors a full disk or a size limit gives.
std::string write_failure_hint(int e) {
  if (e == ENOSPC || e == EDQUOT || e == EFBIG)
    return "the disk may be full (or a file-size limit was hit): free space and try again; the previous file is intact";
  return "check that the folder exists and is writable; the previous file is intact";
}
}  // namespace

std::string atomic_temp_path(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  return (dir / ("." + p.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  // Temp file in the same folder, every write checked, fsync, rename over the
  // final name, fsync of the folder. On any failure the temp file is removed
  // and the final name still holds the previous file, whole.
  namespace fs = std::filesystem;
  fs::path p(path);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::string tmp = atomic_temp_path(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int e = errno;
    throw Error("cannot write '" + path + "': " + std::strerror(e), write_failure_hint(e));
  }
  auto fail = [&](const std::string& what, int e) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error("cannot write '" + path + "' (" + what + "): " + std::strerror(e) +
                    (e == ENOSPC || e == EDQUOT || e == EFBIG ? "; the disk may be full" : ""),
                write_failure_hint(e));
  };
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t k = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) fail("write", errno);
    if (k == 0) fail("write", ENOSPC);
    off += size_t(k);
  }
  if (::fsync(fd) != 0) fail("fsync", errno);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot write '" + path + "' (close): " + std::strerror(e), write_failure_hint(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot rename into '" + path + "': " + std::strerror(e), write_failure_hint(e));
  }
  // Make the rename itself durable (a folder that cannot be opened is no error).
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace duel
