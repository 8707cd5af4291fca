// Thread settings: LibTorch's intra-op pool sized explicitly, and BLAS kept
// single-threaded so the two pools never oversubscribe the cores.
#pragma once

namespace duel {

// n <= 0 means the machine's cores. Sets LibTorch intra-op threads to n, one
// inter-op thread, and OpenBLAS/OpenMP-in-BLAS to one thread (at run time
// through openblas_set_num_threads when present, and through the environment
// for any child process).
void configure_threads(int n);
int hardware_cores();
// Limits LibTorch's OpenMP parallelism in the calling thread to one thread.
// Helper threads (the loader's prefetcher) call it so that their small
// tensor ops never start a second OpenMP team that competes with the
// training thread's for the same cores.
void single_threaded_here();

}  // namespace duel
