// Data-parallel sharding of a step (docs/distributed.md).
//
// In a run over W processes, rank r trains on its slice of every global batch
// of W x B images. For the run to follow the same path as one process with a
// batch of W x B, the per-image random draws of a step (latent noise, label
// flips, penalty interpolation weights) must be sliced the same way: every
// rank draws for the whole global batch from the same random stream and keeps
// its B rows. Models do this by drawing through draw_for_batch(). Outside a
// distributed run (world 1) it is the plain draw.
#pragma once
#include <torch/types.h>

#include <functional>

namespace duel {

struct BatchShard {
  int64_t rank = 0;
  int64_t world = 1;
  // Sums a tensor over all ranks in place (ADA's overfitting signal,
  // synchronised batch norm); empty outside a distributed run.
  std::function<void(torch::Tensor&)> sum_over_ranks;
  // Whether batch norm layers normalise over the global batch (dist.sync_bn).
  bool sync_bn = false;
};

// The process's shard; set by the trainer of a distributed run through a
// ScopedBatchShard (outside one it is the single-process shard).
BatchShard& batch_shard();

// Sets the process's shard for its lifetime and puts the previous one back
// when it ends, so nothing is left pointing into a finished run.
class ScopedBatchShard {
 public:
  explicit ScopedBatchShard(BatchShard shard) : saved_(batch_shard()) { batch_shard() = std::move(shard); }
  ~ScopedBatchShard() { batch_shard() = std::move(saved_); }
  ScopedBatchShard(const ScopedBatchShard&) = delete;
  ScopedBatchShard& operator=(const ScopedBatchShard&) = delete;

 private:
  BatchShard saved_;
};

// draw(m) returns m rows of random values ([m, ...]). Returns this rank's n
// rows of a draw for the global batch (n x world rows).
torch::Tensor draw_for_batch(int64_t n, const std::function<torch::Tensor(int64_t)>& draw);

}  // namespace duel
