// Thread configuration; see the header.
#include "duel/core/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <cstdlib>
#include <thread>

namespace duel {

int hardware_cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

void configure_threads(int n) {
  if (n <= 0) n = hardware_cores();
  ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
  ::setenv("MKL_NUM_THREADS", "1", 1);
  // OpenBLAS reads its environment once at load time; tell it directly too.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(1);
  static bool interop_set = false;
  if (!interop_set) {
    try {
      at::set_num_interop_threads(1);
    } catch (...) {
      // Already started (a second call in one process): keep what it has.
    }
    interop_set = true;
  }
  at::set_num_threads(n);
}

}  // namespace duel
