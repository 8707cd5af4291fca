// AutocastScope: mixed precision for everything run inside it (perf.amp =
// "bf16"): matrix products and convolutions run in bfloat16, reductions and
// the optimizer stay in float32. On CUDA, and on CPU (oneDNN's bfloat16
// kernels; fast where the CPU has AVX-512 BF16 or AMX, emulated and slow
// elsewhere). A no-op when off.
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace duel {

class AutocastScope {
 public:
  explicit AutocastScope(bool enabled, bool cpu = false) : enabled_(enabled), cpu_(cpu) {
    if (!enabled_) return;
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4 || TORCH_VERSION_MAJOR >= 3
    const auto type = cpu_ ? at::kCPU : at::kCUDA;
    at::autocast::set_autocast_dtype(type, at::kBFloat16);
    at::autocast::set_autocast_enabled(type, true);
#else
    if (cpu_) {
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    } else {
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    }
#endif
  }
  ~AutocastScope() {
    if (!enabled_) return;
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4 || TORCH_VERSION_MAJOR >= 3
    at::autocast::set_autocast_enabled(cpu_ ? at::kCPU : at::kCUDA, false);
#else
    if (cpu_) at::autocast::set_cpu_enabled(false);
    else at::autocast::set_enabled(false);
#endif
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

  // Whether CPU autocast is on now (custom kernels that bypass the dispatcher cast themselves).
  static bool cpu_enabled() {
#if TORCH_VERSION_MAJOR >= 2 && TORCH_VERSION_MINOR >= 4 || TORCH_VERSION_MAJOR >= 3
    return at::autocast::is_autocast_enabled(at::kCPU);
#else
    return at::autocast::is_cpu_enabled();
#endif
  }

 private:
  bool enabled_, cpu_;
};

}  // namespace duel
