// duel-bench-packed: writes a synthetic packed dataset (.dueldata) of N
// images through duel's PackedWriter, for the larger-than-memory benchmark
// (scripts/bench-packed.sh), and prints one JSON line with the write time.
//
//   duel-bench-packed OUT.dueldata N SIZE CHANNELS
//
// The images are one random block of 4096 images shifted by the block's
// index (so no two blocks are equal), labelled i % 10.
#include <chrono>
#include <cstdio>
#include <string>

#include "duel/core/error.h"
#include "duel/data/packed.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: duel-bench-packed OUT.dueldata N SIZE CHANNELS\n");
    return 2;
  }
  try {
    const std::string out = argv[1];
    const int64_t n = std::stoll(argv[2]), size = std::stoll(argv[3]), ch = std::stoll(argv[4]);
    const auto t0 = std::chrono::steady_clock::now();
    duel::PackedWriter w(out, ch, size, size);
    constexpr int64_t kBlock = 4096;
    const auto base = torch::randint(0, 256, {kBlock, ch, size, size}, torch::kUInt8);
    for (int64_t i = 0; i < n; i += kBlock) {
      const int64_t m = std::min(kBlock, n - i);
      const auto imgs = base.slice(0, 0, m).add(uint8_t((i / kBlock) % 251));
      w.append(imgs, torch::arange(i, i + m, torch::kInt64).remainder(10));
    }
    w.finish({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, "synthetic");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gb = double(n * ch * size * size) / 1e9;
    std::printf("{\"images\": %lld, \"gb\": %.2f, \"seconds\": %.1f, \"gb_per_s\": %.3f}\n", (long long)n, gb, s, gb / s);
    return 0;
  } catch (const duel::Error& e) {
    std::fprintf(stderr, "error: %s\nhint: %s\n", e.what(), e.hint().c_str());
    return 2;
  }
}
