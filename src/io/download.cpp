#include "duel/io/download.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <mutex>

#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/io/sha256.h"

namespace duel {
namespace {

struct Sink {
  FILE* file = nullptr;
  Sha256 hash;
  int64_t received = 0;
  int64_t limit = 0;
  int64_t total = -1;
  bool over_limit = false;
  bool write_failed = false;
  const DownloadOptions* options = nullptr;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const size_t bytes = size * n;
  if (s->received + int64_t(bytes) > s->limit) {
    s->over_limit = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  if (std::fwrite(data, 1, bytes, s->file) != bytes) {
    s->write_failed = true;
    return 0;
  }
  s->hash.update(data, bytes);
  s->received += int64_t(bytes);
  if (s->options->progress) s->options->progress(s->received, s->total);
  return bytes;
}

std::string megabytes(int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(n) / 1e6);
  return buf;
}

// The duel::Error for a transfer that curl ended with `code`.
Error transfer_error(const std::string& url, CURLcode code, long status, const Sink& sink, const DownloadOptions& o) {
  const std::string other = "try again later, or another --mirror";
  if (sink.write_failed)
    return Error("cannot write the download of " + url + " to disk", "check free space and permissions of the folder");
  if (sink.over_limit)
    return Error(url + " sent more than the expected " + std::to_string(sink.limit) + " bytes",
                 "the mirror serves a different file; nothing was kept. " + other);
  switch (code) {
    case CURLE_HTTP_RETURNED_ERROR:
      return Error(url + " answered HTTP " + std::to_string(status), "the file is not at that address; " + other);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Error("cannot resolve the host of " + url + " (no network?)", "connect to the internet, or use the offline source");
    case CURLE_COULDNT_CONNECT:
      return Error("cannot connect to " + url, "the server is down or unreachable; " + other);
    case CURLE_OPERATION_TIMEDOUT:
      return Error("download of " + url + " stalled: under 1 KiB/s for " + std::to_string(o.stall_timeout_s) +
                       " s after " + megabytes(sink.received),
                   "the server or network is too slow; " + other);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return Error("download of " + url + " broke off after " + std::to_string(sink.received) + " bytes" +
                       (sink.total > 0 ? " of " + std::to_string(sink.total) : std::string()),
                   "the connection was closed early; nothing was kept. " + other);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error("cannot download '" + url + "': only http://, https:// and file:// addresses are supported",
                   "give the address of a mirror, e.g. https://host/path/");
    case CURLE_FILE_COULDNT_READ_FILE:
      return Error("cannot read '" + url + "'", "check that the local mirror holds the file");
    default:
      return Error("download of " + url + " failed: " + curl_easy_strerror(code), other);
  }
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Runs the transfer into sink; returns curl's result and the HTTP status.
CURLcode transfer(const std::string& url, Sink& sink, const DownloadOptions& o, long& status) {
  init_curl_once();
  CURL* c = curl_easy_init();
  if (!c) throw Error("cannot start a download (libcurl init failed)", "");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o.stall_timeout_s);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "duel-data/1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode code = curl_easy_perform(c);
  status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t length = -1;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length >= 0) sink.total = length;
  curl_easy_cleanup(c);
  return code;
}

}  // namespace

void download_verified(const DownloadSpec& spec, const std::string& dest, const DownloadOptions& o) {
  const std::string tmp = atomic_temp_path(dest);
  Sink sink;
  sink.options = &o;
  sink.total = spec.size;
  sink.limit = spec.size >= 0 ? spec.size : o.max_bytes;
  sink.file = std::fopen(tmp.c_str(), "wb");
  if (!sink.file)
    throw Error("cannot create '" + tmp + "' for the download of " + spec.url, "check that the folder exists and is writable");
  long status = 0;
  CURLcode code = CURLE_OK;
  try {
    code = transfer(spec.url, sink, o, status);
  } catch (...) {
    std::fclose(sink.file);
    std::remove(tmp.c_str());
    throw;
  }
  const bool flushed = std::fflush(sink.file) == 0 && fsync(fileno(sink.file)) == 0;
  std::fclose(sink.file);
  auto fail = [&](const Error& e) {
    std::remove(tmp.c_str());
    throw e;
  };
  if (code != CURLE_OK) fail(transfer_error(spec.url, code, status, sink, o));
  if (!flushed) fail(Error("cannot write the download of " + spec.url + " to disk", "check free space"));
  if (spec.size >= 0 && sink.received != spec.size)
    fail(Error(spec.url + " gave " + std::to_string(sink.received) + " bytes, expected " + std::to_string(spec.size),
               "the file is truncated or a different file; nothing was kept. Try again, or another --mirror"));
  const std::string digest = sink.hash.hex();
  if (!spec.sha256.empty() && digest != spec.sha256)
    fail(Error(spec.url + " has SHA-256 " + digest + ", expected " + spec.sha256,
               "the mirror serves a different or damaged file; nothing was kept. Try another --mirror"));
  std::error_code ec;
  std::filesystem::rename(tmp, dest, ec);
  if (ec) fail(Error("cannot move the download to '" + dest + "': " + ec.message(), "check the folder's permissions"));
}

}  // namespace duel
