// The global CPU generator's state as a uint8 tensor (include/duel/core/rng.h),
// read and written under the generator's own lock.
#include "duel/core/rng.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace duel {

torch::Tensor get_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace duel
