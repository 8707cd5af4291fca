// Downloading a file whose digest is known in advance. The bytes go to a
// temporary file beside the destination and are hashed as they arrive; only
// a file of the expected size and SHA-256 is renamed into place, so a
// failed, truncated, stalled or tampered download never leaves anything
// under the final name (and the temporary file is removed).
//
// URLs may be http://, https:// or file:// (a local copy of a mirror);
// redirects are followed over http(s) only.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace duel {

struct DownloadSpec {
  std::string url;
  std::string sha256;  // lowercase hex; empty only in tests of the transport itself
  int64_t size = -1;   // expected bytes; -1: unknown
};

struct DownloadOptions {
  long connect_timeout_s = 15;
  // A transfer slower than 1 KiB/s for this long is abandoned as stalled.
  long stall_timeout_s = 30;
  int64_t max_bytes = int64_t(4) << 30;
  // Called as bytes arrive: (received, total or -1).
  std::function<void(int64_t, int64_t)> progress;
};

// Downloads spec.url to `dest` as described above. duel::Error naming the URL
// and what went wrong (unreachable host, HTTP status, stall, truncation, size
// or digest mismatch) with a hint; `dest` is then untouched.
void download_verified(const DownloadSpec& spec, const std::string& dest, const DownloadOptions& options = {});

}  // namespace duel
