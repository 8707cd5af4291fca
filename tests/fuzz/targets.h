// Fuzz targets: every parser of hostile input in duel, each wrapped as a
// function of one byte string. A target returns "" when the input parsed and
// the duel::Error message when it was refused; anything else that escapes (a
// LibTorch or standard exception), a crash, a sanitizer report, a hang or a
// huge allocation is a finding.
//
// The same targets are driven by libFuzzer (libfuzzer_main.cpp, clang) and by
// the built-in random-mutation driver (mutate_main.cpp, any compiler).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace duel::fuzz {

struct Target {
  const char* name;
  const char* what;  // the parser it reaches
  std::string (*run)(const uint8_t* data, size_t size);
  std::vector<std::string> (*seeds)();  // small valid (and a few invalid) inputs to start from
};

const std::vector<Target>& targets();
const Target* find_target(const std::string& name);

// A private scratch folder (on /dev/shm when there is one), removed at exit.
const std::string& scratch_dir();

}  // namespace duel::fuzz
