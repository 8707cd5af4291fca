// The scoped data-parallel shard of a step (include/duel/core/shard.h): set
// while a distributed run trains, reset when its scope ends.
#include "duel/core/shard.h"

namespace duel {

BatchShard& batch_shard() {
  static BatchShard shard;
  return shard;
}

torch::Tensor draw_for_batch(int64_t n, const std::function<torch::Tensor(int64_t)>& draw) {
  const auto& s = batch_shard();
  if (s.world <= 1) return draw(n);
  return draw(n * s.world).slice(0, s.rank * n, (s.rank + 1) * n);  // [n, ...] of [n * W, ...]
}

}  // namespace duel
