// Test helpers for the download and dataset-fetch tests: an HTTP server on
// 127.0.0.1 that serves canned answers (right files, wrong ones, truncated
// bodies, 404s, a trickle), and writers of the files a dataset mirror holds
// (tar.gz archives, CIFAR-10 python batches pickled as Python 2 wrote them).
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace duel::test {

struct CannedAnswer {
  int status = 200;
  std::string body;
  int64_t declared = -1;    // Content-Length sent (-1: body size); larger than the body = truncated
  int trickle_ms = 0;       // > 0: one byte every trickle_ms milliseconds
};

class LoopbackServer {
 public:
  LoopbackServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { loop(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  void route(const std::string& path, CannedAnswer a) { routes_[path] = std::move(a); }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int requests() const { return requests_; }

 private:
  void loop() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string req;
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, size_t(n));
    }
    ++requests_;
    const size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
    const std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    auto it = routes_.find(path);
    CannedAnswer a = it == routes_.end() ? CannedAnswer{404, "not found"} : it->second;
    const int64_t len = a.declared >= 0 ? a.declared : int64_t(a.body.size());
    std::string head = "HTTP/1.1 " + std::to_string(a.status) + " X\r\nContent-Length: " + std::to_string(len) +
                       "\r\nConnection: close\r\n\r\n";
    if (!send_all(c, head)) return;
    if (a.trickle_ms == 0) {
      send_all(c, a.body);
      return;
    }
    for (char ch : a.body) {
      if (stop_ || !send_all(c, std::string(1, ch))) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(a.trickle_ms));
    }
  }
  static bool send_all(int c, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(c, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += size_t(n);
    }
    return true;
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::map<std::string, CannedAnswer> routes_;
  std::thread thread_;
};

// A ustar archive of (name, bytes) entries, gzipped.
inline std::string tar_gz(const std::vector<std::pair<std::string, std::string>>& entries, const std::string& path) {
  std::string tar;
  for (const auto& [name, data] : entries) {
    char h[512] = {};
    std::snprintf(h, 100, "%s", name.c_str());
    std::snprintf(h + 100, 8, "0000644");
    std::snprintf(h + 108, 8, "0000000");
    std::snprintf(h + 116, 8, "0000000");
    std::snprintf(h + 124, 12, "%011llo", (unsigned long long)data.size());
    std::snprintf(h + 136, 12, "%011o", 0);
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char ch : std::string(h, 512)) sum += ch;
    std::snprintf(h + 148, 8, "%06o", sum);
    tar.append(h, 512);
    tar += data;
    tar.append((512 - data.size() % 512) % 512, '\0');
  }
  tar.append(1024, '\0');
  gzFile g = gzopen(path.c_str(), "wb");
  gzwrite(g, tar.data(), unsigned(tar.size()));
  gzclose(g);
  return tar;
}

// A CIFAR-10 python batch as Python 2's cPickle wrote them (protocol 2):
// {'data': uint8 ndarray [N, 3072], 'labels': [...], 'batch_label': ...}.
inline std::string py2_cifar_pickle(const std::vector<uint8_t>& pixels, const std::vector<int>& labels) {
  using namespace std::string_literals;
  auto u32 = [](uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  auto str = [](const std::string& s) { return "U"s + char(s.size()) + s; };
  const uint32_t n = uint32_t(labels.size());
  std::string p = "\x80\x02}q\x01("s + str("data") + "q\x02"s;
  p += "cnumpy.core.multiarray\n_reconstruct\nq\x03"s + "cnumpy\nndarray\nq\x04"s + "K\x00\x85"s + str("b") + "\x87Rq\x05"s;
  p += "(K\x01J"s + u32(n) + "M\x00\x0c\x86"s + "cnumpy\ndtype\nq\x06"s + str("u1") + "K\x00K\x01\x87Rq\x07"s;
  p += "(K\x03"s + str("|") + "NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T"s + u32(uint32_t(pixels.size()));
  p += std::string(pixels.begin(), pixels.end()) + "tb"s;
  p += str("labels") + "]q\x08("s;
  for (int l : labels) p += "K"s + char(l);
  p += "e"s + str("batch_label") + str("testing batch 1 of 1") + "u."s;
  return p;
}

}  // namespace duel::test
