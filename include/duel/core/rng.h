// The global CPU random generator's state: read it, set it, and restore it
// when a scope ends. Checkpoints save this state so a resumed run draws the
// same numbers; everything that draws beside training (building a feature
// network, evaluations, reports) holds an RngRestore so it never changes what
// training draws next. It lives in core because every layer above may need
// it, and none should include the checkpoint or the trainer for it.
#pragma once
#include <torch/types.h>

namespace duel {

// Global CPU RNG state as a tensor, and back.
torch::Tensor get_rng_state();
void set_rng_state(const torch::Tensor& state);

// Restores the global CPU RNG state when it leaves scope. Whatever runs beside
// training (building a feature network draws initial weights; evaluations and
// reports draw noise) holds one, so it never changes what training draws next:
// a resumed run, which builds those after restoring the checkpoint's RNG state,
// stays bit-exact.
struct RngRestore {
  torch::Tensor state = get_rng_state();
  ~RngRestore() { set_rng_state(state); }
};

}  // namespace duel
