// duel_fuzz: the built-in fuzz driver, for builds without libFuzzer. It
// mutates the targets' seeds at random (bit flips, interesting integers at
// random offsets, inserted, deleted, duplicated and spliced ranges, truncation)
// and feeds them to the parsers in-process, built with ASan + UBSan.
//
//   duel_fuzz [all|TARGET...] [--seconds S] [--seed N] [--max-len BYTES]
//             [--timeout S] [--artifacts DIR] [--list]
//   duel_fuzz [TARGET] --replay FILE...   (runs saved inputs once, says what each gives;
//                                          without TARGET, each file's name starts with it)
//
// --seconds is per target. A finding (a sanitizer report, a crash, a single
// allocation above 1 GiB, an exception other than duel::Error, an input
// running longer than --timeout) saves the input in DIR (<target>-crash,
// <target>-timeout or <target>-exception-<hash>) and exits non-zero;
// otherwise each target prints one line of figures.
#include <csignal>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "targets.h"

// Sanitizer defaults for this binary (ASAN_OPTIONS / UBSAN_OPTIONS still override):
// leaks are not checked because LibTorch keeps process-lifetime allocations;
// one allocation above 1 GiB is a finding (no parser may trust a size field);
// every report ends in abort(), whose handler saves the input.
extern "C" const char* __asan_default_options() {
  return "detect_leaks=0:max_allocation_size_mb=1024:allocator_may_return_null=0:abort_on_error=1";
}
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1:abort_on_error=1"; }

namespace {

using duel::fuzz::Target;

// The input under test, for the handlers that save it when the process dies.
const std::string* g_input = nullptr;
const char* g_target = "";
std::string g_artifacts = "fuzz-artifacts";
char g_timeout_path[4096], g_crash_path[4096];

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string save_artifact(const std::string& kind, const std::string& input) {
  std::filesystem::create_directories(g_artifacts);
  char name[64];
  std::snprintf(name, sizeof name, "-%016llx", (unsigned long long)fnv1a(input));
  const std::string path = g_artifacts + "/" + g_target + "-" + kind + name;
  std::ofstream(path, std::ios::binary).write(input.data(), std::streamsize(input.size()));
  return path;
}

// Saves the input under test to a name prepared before the run (only
// async-signal-safe calls), for the SIGABRT and SIGALRM handlers.
void save_from_handler(const char* path) {
  if (!g_input) return;
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, g_input->data(), g_input->size());
  (void)ignored;
  ::close(fd);
}

void say(const char* msg) {
  ssize_t ignored = ::write(2, msg, std::strlen(msg));
  (void)ignored;
}

// A sanitizer report, a crash turned into a report, or std::terminate.
void on_abort(int sig) {
  save_from_handler(g_crash_path);
  say("\nduel_fuzz: FINDING (report above); the input is saved as ");
  say(g_crash_path);
  say("\n");
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void on_alarm(int) {
  save_from_handler(g_timeout_path);
  say("\nduel_fuzz: FINDING: an input ran past --timeout (a hang); the input is saved as ");
  say(g_timeout_path);
  say("\n");
  _exit(3);
}

class Mutator {
 public:
  Mutator(uint64_t seed, size_t max_len) : rng_(seed), max_len_(max_len) {}

  std::string mutate(std::string s, const std::vector<std::string>& pool) {
    const int n = 1 + int(below(8));
    for (int i = 0; i < n; ++i) one(s, pool);
    if (s.size() > max_len_) s.resize(max_len_);
    return s;
  }
  uint64_t below(uint64_t n) { return n ? rng_() % n : 0; }

 private:
  void one(std::string& s, const std::vector<std::string>& pool) {
    static const uint32_t interesting[] = {0,          1,          0x7f,       0x80,       0xff,       0x100,
                                           0x7fff,     0x8000,     0xffff,     0x10000,    0x7fffffff, 0x80000000,
                                           0xffffffff, 0xfffffffe, 0x40000000, 0x3fffffff, 1000000,    28,
                                           32,         3073,       8192,       8193};
    const size_t len = s.size();
    switch (below(9)) {
      case 0:  // flip a bit
        if (len) s[below(len)] ^= char(1u << below(8));
        break;
      case 1:  // a random byte
        if (len) s[below(len)] = char(below(256));
        break;
      case 2: {  // an interesting integer, 1/2/4/8 bytes, either endianness
        if (!len) break;
        uint64_t v = interesting[below(sizeof interesting / sizeof interesting[0])];
        if (below(4) == 0) v = ~v;
        const size_t width = size_t(1) << below(4), at = below(len);
        const bool big = below(2);
        for (size_t i = 0; i < width && at + i < len; ++i)
          s[at + i] = char((v >> (8 * (big ? width - 1 - i : i))) & 0xff);
        break;
      }
      case 3: {  // insert random bytes
        std::string ins(1 + below(16), '\0');
        for (auto& c : ins) c = char(below(256));
        s.insert(below(len + 1), ins);
        break;
      }
      case 4:  // delete a range
        if (len) {
          const size_t at = below(len);
          s.erase(at, 1 + below(std::min<size_t>(len - at, 64)));
        }
        break;
      case 5:  // duplicate a range
        if (len) {
          const size_t at = below(len), n = 1 + below(std::min<size_t>(len - at, 256));
          s.insert(below(len + 1), s.substr(at, n));
        }
        break;
      case 6:  // truncate
        if (len) s.resize(below(len));
        break;
      case 7: {  // splice with another seed
        const std::string& other = pool[below(pool.size())];
        if (other.empty() || !len) break;
        const size_t cut = below(len), from = below(other.size());
        s = s.substr(0, cut) + other.substr(from, below(other.size() - from + 1));
        break;
      }
      case 8:  // overwrite a range with bytes copied from elsewhere in the input
        if (len > 1) {
          const size_t a = below(len), b = below(len), n = 1 + below(std::min<size_t>(len - std::max(a, b), 32));
          s.replace(a, std::min(n, len - a), s.substr(b, n));
        }
        break;
    }
  }

  std::mt19937_64 rng_;
  size_t max_len_;
};

struct Stats {
  uint64_t runs = 0, parsed = 0;
  std::set<std::string> messages;
};

// The message of a refusal without the scratch paths and numbers, so that
// distinct kinds of refusal are counted rather than distinct inputs.
std::string message_kind(std::string m) {
  std::string out;
  bool in_quote = false;
  for (char c : m) {
    if (c == '\'') {
      in_quote = !in_quote;
      out += "'…";
      continue;
    }
    if (in_quote) continue;
    if (c >= '0' && c <= '9') {
      if (out.empty() || out.back() != '#') out += '#';
      continue;
    }
    out += c;
  }
  return out.substr(0, 120);
}

int fuzz_one(const Target& t, double seconds, uint64_t seed, size_t max_len, unsigned timeout) {
  g_target = t.name;
  std::snprintf(g_timeout_path, sizeof g_timeout_path, "%s/%s-timeout", g_artifacts.c_str(), t.name);
  std::snprintf(g_crash_path, sizeof g_crash_path, "%s/%s-crash", g_artifacts.c_str(), t.name);
  std::filesystem::create_directories(g_artifacts);
  std::vector<std::string> pool = t.seeds();
  Mutator mut(seed, max_len);
  Stats st;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  // Every seed once as it is, then mutants until the time is up.
  const size_t n_seeds = pool.size();
  for (size_t i = 0; i < n_seeds || elapsed() < seconds; ++i) {
    std::string input = i < n_seeds ? pool[i] : mut.mutate(pool[mut.below(pool.size())], pool);
    g_input = &input;
    ::alarm(timeout);
    std::string refused;
    try {
      refused = t.run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    } catch (const std::exception& e) {
      ::alarm(0);
      const std::string path = save_artifact("exception", input);
      std::fprintf(stderr, "duel_fuzz: FINDING in target '%s': an exception other than duel::Error escaped: %s\n"
                           "  input saved to %s\n", t.name, e.what(), path.c_str());
      return 1;
    }
    ::alarm(0);
    g_input = nullptr;
    ++st.runs;
    if (refused.empty()) {
      ++st.parsed;
      // Inputs that parse are worth mutating further (a crude stand-in for coverage feedback).
      if (i >= n_seeds && pool.size() < 256) pool.push_back(input);
    } else {
      st.messages.insert(message_kind(refused));
    }
  }
  const double s = elapsed();
  std::printf("fuzz %-10s %8llu inputs in %5.1f s (%6.0f/s), %llu parsed, %zu distinct refusals, no findings\n", t.name,
              (unsigned long long)st.runs, s, double(st.runs) / s, (unsigned long long)st.parsed, st.messages.size());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  uint64_t seed = 1;
  size_t max_len = 1 << 16;
  unsigned timeout = 20;
  bool list = false;
  std::vector<std::string> names, replay;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "duel_fuzz: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") seconds = std::stod(value());
    else if (a == "--seed") seed = std::stoull(value());
    else if (a == "--max-len") max_len = std::stoull(value());
    else if (a == "--timeout") timeout = unsigned(std::stoul(value()));
    else if (a == "--artifacts") g_artifacts = value();
    else if (a == "--list") list = true;
    else if (a == "--replay") {
      while (i + 1 < argc) replay.push_back(argv[++i]);
    }
    else names.push_back(a);
  }
  if (list) {
    for (auto& t : duel::fuzz::targets()) std::printf("%-10s %s\n", t.name, t.what);
    return 0;
  }
  if (names.empty() || names == std::vector<std::string>{"all"}) {
    names.clear();
    for (auto& t : duel::fuzz::targets()) names.push_back(t.name);
  }
  std::signal(SIGALRM, on_alarm);
  std::signal(SIGABRT, on_abort);
  if (!replay.empty()) {
    // The target is named, or is the start of each file's name (checkpoint-..., toml-...).
    for (auto& f : replay) {
      const std::string base = std::filesystem::path(f).filename().string();
      const Target* t = names.size() == 1 ? duel::fuzz::find_target(names[0])
                                          : duel::fuzz::find_target(base.substr(0, base.find('-')));
      if (!t) {
        std::fprintf(stderr, "duel_fuzz: no target for %s (name one, or start the file name with it)\n", f.c_str());
        return 2;
      }
      g_target = t->name;
      std::ifstream in(f, std::ios::binary);
      std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      g_input = &input;
      try {
        std::string refused = t->run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
        std::printf("%s: %s\n", f.c_str(), refused.empty() ? "parsed" : ("refused: " + refused).c_str());
      } catch (const std::exception& e) {
        std::printf("%s: FINDING: an exception other than duel::Error escaped: %s\n", f.c_str(), e.what());
        return 1;
      }
    }
    return 0;
  }
  for (auto& n : names) {
    const Target* t = duel::fuzz::find_target(n);
    if (!t) {
      std::fprintf(stderr, "duel_fuzz: unknown target '%s' (see --list)\n", n.c_str());
      return 2;
    }
    if (int rc = fuzz_one(*t, seconds, seed, max_len, timeout)) return rc;
  }
  return 0;
}
