// Thread configuration; see the header.
#include "duel/core/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <thread>

namespace duel {

int hardware_cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

void single_threaded_here() {
  // omp_set_num_threads sets the calling thread's own ICV; found at run time
  // so that builds without OpenMP need nothing.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) f(1);
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
  // Keep freed tensor memory in the heap instead of returning it to the
  // kernel: each training step allocates and frees the same large buffers,
  // and mmap/munmap of them costs page faults every step (measured: +8%
  // images/s for dcgan28 on 2 cores; docs/performance.md).
  static bool malloc_tuned = false;
  if (!malloc_tuned) {
    ::mallopt(M_MMAP_THRESHOLD, 256 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
    malloc_tuned = true;
  }
}

}  // namespace duel
