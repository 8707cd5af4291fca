// SHA-256 of bytes, streams and files (OpenSSL's libcrypto), as lowercase
// hex. Downloads are checked against published digests with it and
// `duel data verify` re-checks a dataset's files.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace duel {

// Incremental digest: update() as bytes arrive, hex() once at the end.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  std::string hex();  // finishes the digest; call once

 private:
  struct State;
  std::unique_ptr<State> s_;
};

std::string sha256_hex(const void* data, size_t n);
// The digest of a whole file, read in blocks; duel::Error naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace duel
