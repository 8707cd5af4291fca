// The authenticated rendezvous store (include/duel/train/auth_store.h).
#include "duel/train/auth_store.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "duel/core/error.h"

namespace duel {
namespace {

constexpr char kMagic[8] = {'D', 'U', 'E', 'L', 'S', 'T', 'R', '1'};
constexpr uint32_t kMaxKey = 4096;
constexpr uint32_t kMaxValue = 64u << 20;
constexpr int kMaxUnproven = 32;  // connections still in their handshake

enum Op : uint8_t { kSet = 1, kGet, kAdd, kCheck, kErase, kSize, kWait };

// Reads exactly n bytes; false on EOF, error or the socket's receive timeout.
bool read_all(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    p += r;
    n -= size_t(r);
  }
  return true;
}

bool write_all(int fd, const void* buf, size_t n) {
  auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= size_t(w);
  }
  return true;
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
}
void put_i64(std::string& out, int64_t v) {
  for (int i = 0; i < 8; ++i) out += char((uint64_t(v) >> (8 * i)) & 0xff);
}
bool get_u32(int fd, uint32_t& v) {
  unsigned char b[4];
  if (!read_all(fd, b, 4)) return false;
  v = uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  return true;
}
bool get_i64(int fd, int64_t& v) {
  unsigned char b[8];
  if (!read_all(fd, b, 8)) return false;
  uint64_t u = 0;
  for (int i = 7; i >= 0; --i) u = (u << 8) | b[i];
  v = int64_t(u);
  return true;
}
// A length-prefixed byte string of at most `limit` bytes.
bool get_bytes(int fd, std::string& s, uint32_t limit) {
  uint32_t n = 0;
  if (!get_u32(fd, n) || n > limit) return false;
  s.resize(n);
  return n == 0 || read_all(fd, s.data(), n);
}

void set_recv_timeout(int fd, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

std::string peer_of(const sockaddr_storage& a) {
  char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
  ::getnameinfo(reinterpret_cast<const sockaddr*>(&a), sizeof a, host, sizeof host, port, sizeof port,
                NI_NUMERICHOST | NI_NUMERICSERV);
  return std::string(host) + ":" + port;
}

addrinfo* resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  require(rc == 0 && res, "cannot resolve the rendezvous host '" + host + "': " + ::gai_strerror(rc),
          "pass --dist tcp://ADDRESS:PORT with rank 0's address");
  return res;
}

bool is_wildcard(const addrinfo* a) {
  if (a->ai_family == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr.s_addr == htonl(INADDR_ANY);
  if (a->ai_family == AF_INET6)
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
  return false;
}

}  // namespace

std::vector<uint8_t> store_proof(const std::string& secret, const std::vector<uint8_t>& nonce) {
  std::vector<uint8_t> mac(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), int(secret.size()), nonce.data(), nonce.size(), mac.data(), &len);
  mac.resize(len);
  return mac;
}

// --- the server ---------------------------------------------------------------

struct AuthStoreServer::State {
  std::string secret;
  std::function<void(const std::string&)> log;
  int listen_fd = -1;
  int port = 0;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> dropped{0};
  std::atomic<int> unproven{0};
  std::mutex mutex;  // guards data, fds, threads
  std::condition_variable changed;
  std::map<std::string, std::string> data;
  std::set<int> fds;
  // Connection threads and whether each has finished (the accept loop joins those).
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads;
  std::thread acceptor;

  void drop(int fd, const std::string& peer, const std::string& why) {
    ++dropped;
    if (log) log("rendezvous store: dropped a connection from " + peer + ": " + why);
    (void)fd;
  }

  // The handshake; true when the peer proved the secret.
  bool admit(int fd, const std::string& peer) {
    std::vector<uint8_t> nonce(32);
    RAND_bytes(nonce.data(), int(nonce.size()));
    std::string hello(kMagic, sizeof kMagic);
    hello.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
    if (!write_all(fd, hello.data(), hello.size())) return false;
    set_recv_timeout(fd, kHandshakeSeconds);
    uint8_t answer[32];
    if (!read_all(fd, answer, sizeof answer)) {
      drop(fd, peer, "no proof of the shared secret within " + std::to_string(kHandshakeSeconds) + " s");
      return false;
    }
    const auto want = store_proof(secret, nonce);
    if (want.size() != sizeof answer || CRYPTO_memcmp(want.data(), answer, sizeof answer) != 0) {
      drop(fd, peer, "wrong proof of the shared secret (DUEL_DIST_SECRET differs, or not a duel rank)");
      return false;
    }
    set_recv_timeout(fd, 0);
    return write_all(fd, "K", 1);
  }

  // Serves one request; false when the connection should close.
  bool serve(int fd, const std::string& peer) {
    uint8_t op = 0;
    std::string key, value;
    int64_t arg = 0;
    if (!read_all(fd, &op, 1)) return false;
    if (!get_bytes(fd, key, kMaxKey) || !get_bytes(fd, value, kMaxValue) || !get_i64(fd, arg) || op < kSet || op > kWait) {
      drop(fd, peer, "malformed request");
      return false;
    }
    uint8_t status = 1;
    std::string out;
    int64_t number = 0;
    {
      std::unique_lock<std::mutex> lock(mutex);
      auto present = [&] { return stop || data.count(key) > 0; };
      switch (op) {
        case kSet: data[key] = value; changed.notify_all(); break;
        case kGet:
        case kWait:
          changed.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(arg, 0)), present);
          status = data.count(key) ? 1 : 0;
          if (status && op == kGet) out = data[key];
          break;
        case kAdd: {
          int64_t v = 0;
          if (auto it = data.find(key); it != data.end()) v = std::stoll(it->second.empty() ? "0" : it->second);
          number = v + arg;
          data[key] = std::to_string(number);
          changed.notify_all();
          break;
        }
        case kCheck: status = data.count(key) ? 1 : 0; break;
        case kErase: status = data.erase(key) ? 1 : 0; break;
        case kSize: number = int64_t(data.size()); break;
      }
    }
    std::string reply(1, char(status));
    put_u32(reply, uint32_t(out.size()));
    reply += out;
    put_i64(reply, number);
    return write_all(fd, reply.data(), reply.size());
  }

  void connection(int fd, std::string peer, std::shared_ptr<std::atomic<bool>> done) {
    try {
      bool proven = admit(fd, peer);
      --unproven;
      while (proven && !stop && serve(fd, peer)) {
      }
    } catch (const std::exception& e) {
      drop(fd, peer, std::string("bad request: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(mutex);
    fds.erase(fd);
    ::close(fd);
    *done = true;
  }

  // Joins the threads of closed connections (called with `mutex` held).
  void reap() {
    for (auto it = threads.begin(); it != threads.end();) {
      if (*it->second) {
        it->first.join();
        it = threads.erase(it);
      } else {
        ++it;
      }
    }
  }

  void accept_loop() {
    while (!stop) {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
      if (fd < 0) continue;
      const std::string peer = peer_of(addr);
      if (unproven >= kMaxUnproven) {
        drop(fd, peer, "too many connections still in their handshake");
        ::close(fd);
        continue;
      }
      ++unproven;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard<std::mutex> lock(mutex);
      reap();
      fds.insert(fd);
      auto done = std::make_shared<std::atomic<bool>>(false);
      threads.emplace_back(std::thread([this, fd, peer, done] { connection(fd, peer, done); }), done);
    }
  }
};

AuthStoreServer::AuthStoreServer(const std::string& host, int port, std::string secret, bool listen_all,
                                 std::function<void(const std::string&)> log)
    : state_(std::make_shared<State>()) {
  state_->secret = std::move(secret);
  state_->log = std::move(log);
  addrinfo* res = resolve(host, port, false);
  std::string why;
  for (addrinfo* a = res; a; a = a->ai_next) {
    if (is_wildcard(a) && !listen_all) {
      ::freeaddrinfo(res);
      throw Error("--dist address '" + host + "' would listen on every interface of rank 0",
                  "pass rank 0's address on the network the ranks share (the store listens there only), or set "
                  "dist.listen_all = true to accept connections on every interface");
    }
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 64) == 0) {
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      state_->port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                 : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      state_->listen_fd = fd;
      break;
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  require(state_->listen_fd >= 0,
          "rank 0 cannot listen on " + host + ":" + std::to_string(port) + ": " + (why.empty() ? "no address" : why),
          "pass one of rank 0's own addresses and a free port in --dist");
  state_->acceptor = std::thread([s = state_] { s->accept_loop(); });
}

AuthStoreServer::~AuthStoreServer() {
  auto& s = *state_;
  s.stop = true;
  s.changed.notify_all();
  if (s.acceptor.joinable()) s.acceptor.join();
  std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    for (int fd : s.fds) ::shutdown(fd, SHUT_RDWR);
    threads.swap(s.threads);
  }
  s.changed.notify_all();
  for (auto& t : threads) t.first.join();
  ::close(s.listen_fd);
}

int AuthStoreServer::port() const { return state_->port; }
int64_t AuthStoreServer::dropped() const { return state_->dropped; }

// --- the client ---------------------------------------------------------------

AuthStoreClient::AuthStoreClient(const std::string& host, int port, const std::string& secret,
                                 std::chrono::milliseconds timeout)
    : where_(host + ":" + std::to_string(port)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no attempt";
  while (fd_ < 0) {
    addrinfo* res = resolve(host, port, false);
    for (addrinfo* a = res; a && fd_ < 0; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) fd_ = fd;
      else last = std::strerror(errno), ::close(fd);
    }
    ::freeaddrinfo(res);
    if (fd_ >= 0) break;
    require(std::chrono::steady_clock::now() < deadline,
            "cannot reach rank 0's rendezvous store at " + where_ + ": " + last,
            "start rank 0 with the same --dist address, and check that the port is reachable");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_recv_timeout(fd_, kHandshakeSeconds);
  char hello[sizeof kMagic + 32];
  const bool greeted = read_all(fd_, hello, sizeof hello) && std::memcmp(hello, kMagic, sizeof kMagic) == 0;
  if (!greeted) {
    ::close(fd_);
    throw Error("the service at " + where_ + " is not a duel rendezvous store",
                "check the --dist address: it must be rank 0's, and rank 0 a duel train of the same version");
  }
  const auto proof = store_proof(secret, std::vector<uint8_t>(hello + sizeof kMagic, hello + sizeof hello));
  char ok = 0;
  if (!write_all(fd_, proof.data(), proof.size()) || !read_all(fd_, &ok, 1) || ok != 'K') {
    ::close(fd_);
    throw Error("rank 0's rendezvous store at " + where_ + " refused this rank's proof of the shared secret",
                "set the same DUEL_DIST_SECRET in the environment of every rank");
  }
  set_recv_timeout(fd_, 0);
}

AuthStoreClient::~AuthStoreClient() {
  if (fd_ >= 0) ::close(fd_);
}

AuthStoreClient::Reply AuthStoreClient::call(uint8_t op, const std::string& key, const std::vector<uint8_t>& value,
                                             int64_t arg) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string req(1, char(op));
  put_u32(req, uint32_t(key.size()));
  req += key;
  put_u32(req, uint32_t(value.size()));
  req.append(value.begin(), value.end());
  put_i64(req, arg);
  Reply r;
  std::string out;
  const bool ok = write_all(fd_, req.data(), req.size()) && read_all(fd_, &r.status, 1) &&
                  get_bytes(fd_, out, kMaxValue) && get_i64(fd_, r.number);
  require(ok, "lost the connection to rank 0's rendezvous store at " + where_,
          "rank 0 stopped or the network failed; see rank 0's messages");
  r.value.assign(out.begin(), out.end());
  return r;
}

void AuthStoreClient::set(const std::string& key, const std::vector<uint8_t>& value) { call(kSet, key, value, 0); }

std::vector<uint8_t> AuthStoreClient::get(const std::string& key, std::chrono::milliseconds timeout) {
  auto r = call(kGet, key, {}, timeout.count());
  require(r.status == 1, "rendezvous key '" + key + "' did not appear within " + std::to_string(timeout.count() / 1000) + " s",
          "start every rank within dist.timeout_s");
  return r.value;
}

int64_t AuthStoreClient::add(const std::string& key, int64_t delta) { return call(kAdd, key, {}, delta).number; }
bool AuthStoreClient::check(const std::string& key) { return call(kCheck, key, {}, 0).status == 1; }
bool AuthStoreClient::erase(const std::string& key) { return call(kErase, key, {}, 0).status == 1; }
int64_t AuthStoreClient::size() { return call(kSize, "", {}, 0).number; }
bool AuthStoreClient::wait(const std::string& key, std::chrono::milliseconds timeout) {
  return call(kWait, key, {}, timeout.count()).status == 1;
}

}  // namespace duel
