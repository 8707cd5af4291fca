// libFuzzer entry points (clang -fsanitize=fuzzer,address,undefined). One
// binary serves every target: DUEL_FUZZ_TARGET names it. When
// DUEL_FUZZ_SEEDS names a folder, the target's generated seeds are written
// there first (pass the same folder as the corpus).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "targets.h"

namespace {
const duel::fuzz::Target* g_target = nullptr;
}

extern "C" const char* __asan_default_options() { return "detect_leaks=0:allocator_may_return_null=0"; }
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("DUEL_FUZZ_TARGET");
  g_target = name ? duel::fuzz::find_target(name) : nullptr;
  if (!g_target) {
    std::fprintf(stderr, "set DUEL_FUZZ_TARGET to one of:");
    for (auto& t : duel::fuzz::targets()) std::fprintf(stderr, " %s", t.name);
    std::fprintf(stderr, "\n");
    std::exit(2);
  }
  if (const char* dir = std::getenv("DUEL_FUZZ_SEEDS")) {
    std::filesystem::create_directories(dir);
    int i = 0;
    for (auto& s : g_target->seeds())
      std::ofstream(std::string(dir) + "/seed-" + std::to_string(i++), std::ios::binary)
          .write(s.data(), std::streamsize(s.size()));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g_target->run(data, size);  // a duel::Error is a clean refusal; anything else escapes and is reported
  return 0;
}
