// The message of the duel::Error a call throws, or "(no error)": for tests
// that check what a refusal says.
#pragma once
#include <functional>
#include <string>

#include "duel/core/error.h"

namespace duel::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace duel::test
