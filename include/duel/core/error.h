// duel::Error — the one exception type for problems a user can fix (a bad
// file, key or value). It carries a hint that says what to do next; the CLI
// prints both and exits with code 2. Anything else that escapes is a bug.
#pragma once
#include <stdexcept>
#include <string>

namespace duel {

class Error : public std::runtime_error {
 public:
  Error(std::string message, std::string hint = "")
      : std::runtime_error(std::move(message)), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// Throws duel::Error(message, hint) unless cond holds.
inline void require(bool cond, const std::string& message, const std::string& hint = "") {
  if (!cond) throw Error(message, hint);
}

}  // namespace duel
