// The rendezvous store of multi-machine runs (docs/distributed.md): a
// key-value server on rank 0 that listens on one address only and admits a
// connection only after it proves knowledge of the run's shared secret.
//
// Handshake: the server sends "DUELSTR1" and a 32-byte random nonce; the
// client answers HMAC-SHA256(secret, nonce); the server compares in constant
// time and answers 'K', or logs the peer and closes. A peer that sends
// nothing, garbage, an oversized frame or the wrong answer is dropped without
// disturbing the ranks (each connection has its own thread, an unproven one
// at most kHandshakeSeconds). After the handshake, frames are
//   request:  u8 op | u32 key length | key | u32 value length | value | i64 arg
//   response: u8 status | u32 value length | value | i64 number
// (little-endian). The traffic after the handshake is neither encrypted nor
// authenticated per message: the secret keeps strangers out of the store; the
// network must still be trusted (the gradient traffic is plain Gloo).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace duel {

constexpr int kHandshakeSeconds = 10;

// Rank 0's server. Binds host:port (a numeric address or a name that resolves
// to one of this machine's addresses); refuses the wildcard addresses
// (0.0.0.0, ::) unless listen_all. Throws duel::Error when it cannot listen.
class AuthStoreServer {
 public:
  AuthStoreServer(const std::string& host, int port, std::string secret, bool listen_all,
                  std::function<void(const std::string&)> log);
  ~AuthStoreServer();
  AuthStoreServer(const AuthStoreServer&) = delete;
  AuthStoreServer& operator=(const AuthStoreServer&) = delete;
  int port() const;
  // Connections dropped so far (wrong secret, garbage, silence).
  int64_t dropped() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// One rank's connection. Connects (retrying until `timeout`, as rank 0 may
// start later) and proves the secret; throws duel::Error when rank 0 cannot
// be reached in time or refuses the secret.
class AuthStoreClient {
 public:
  AuthStoreClient(const std::string& host, int port, const std::string& secret, std::chrono::milliseconds timeout);
  ~AuthStoreClient();
  AuthStoreClient(const AuthStoreClient&) = delete;
  AuthStoreClient& operator=(const AuthStoreClient&) = delete;

  void set(const std::string& key, const std::vector<uint8_t>& value);
  // Waits up to `timeout` for the key; throws duel::Error when it does not appear.
  std::vector<uint8_t> get(const std::string& key, std::chrono::milliseconds timeout);
  int64_t add(const std::string& key, int64_t delta);
  bool check(const std::string& key);
  bool erase(const std::string& key);
  int64_t size();
  // Whether the key appeared within `timeout`.
  bool wait(const std::string& key, std::chrono::milliseconds timeout);

 private:
  struct Reply {
    uint8_t status = 0;
    std::vector<uint8_t> value;
    int64_t number = 0;
  };
  Reply call(uint8_t op, const std::string& key, const std::vector<uint8_t>& value, int64_t arg);
  int fd_ = -1;
  std::string where_;
  std::mutex mutex_;
};

// HMAC-SHA256(secret, message): the handshake's proof (exposed for tests).
std::vector<uint8_t> store_proof(const std::string& secret, const std::vector<uint8_t>& nonce);

}  // namespace duel
