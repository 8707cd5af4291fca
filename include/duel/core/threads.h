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

}  // namespace duel
