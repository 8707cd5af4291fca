// Loader: shuffled mini-batches of an ImageSet, with a background thread that
// prepares the next batches (index, convert to float in [-1, 1]) while the
// model trains on the current one.
//
// The order of epoch e is a permutation drawn from seed + e alone, so the
// position (epoch, batch_index) is the loader's whole state: checkpoints save
// it and a resumed loader continues with exactly the batches it would have
// produced. Prefetching never changes what is produced, only when. The other
// random choices of a batch (the B images of unpaired data, crop windows and
// flips, the caption of each image) are drawn from (seed, epoch, batch) alone for the same reason.
#pragma once
#include <torch/types.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "duel/data/batch.h"
#include "duel/data/dataset.h"

namespace duel {

struct LoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = true;
  uint64_t seed = 1;
  int64_t prefetch = 2;  // batches prepared ahead; 0 = synchronous
  bool channels_last = false;  // hand out images in NHWC memory layout
  // Augmentation (data.crop, data.flip): a random crop x crop window (0: off)
  // and a random horizontal flip of each image, the same for an A image and
  // its B image when the data is paired, drawn independently when unpaired.
  int64_t crop = 0;
  bool flip = false;
  torch::Device device = torch::kCPU;
  // Data-parallel runs (docs/distributed.md): the epoch's order is cut into
  // global batches of batch_size x shards images, and shard r takes rows
  // [r x batch_size, (r + 1) x batch_size) of each, so the shards are disjoint
  // and together see exactly the batches of one process with the global
  // batch. The per-image random choices (B images of unpaired data, crops,
  // flips) are drawn for the global batch and sliced the same way. Needs drop_last.
  int64_t shard = 0;
  int64_t shards = 1;
};

// data.prefetch = -1 (auto): 2 batches ahead on CUDA, where host work hides
// behind the GPU; none on CPU, where preparing a batch costs ~0.1 ms but a
// second busy thread stalls LibTorch's OpenMP team (measured: -25% images/s
// for dcgan28 on 2 cores, docs/performance.md).
inline int64_t resolve_prefetch(int64_t configured, const torch::Device& device) {
  if (configured >= 0) return configured;
  return device.is_cuda() ? 2 : 0;
}

class Loader {
 public:
  Loader(ImageSet data, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  Batch next();
  // Position of the next batch next() will return.
  LoaderPosition position() const { return consumed_; }
  void seek(LoaderPosition pos);
  int64_t batches_per_epoch() const;
  const ImageSet& data() const { return data_; }

  // The permutation of epoch `epoch` (exposed for tests).
  static std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle);

 private:
  Batch make(LoaderPosition pos);
  LoaderPosition advance(LoaderPosition pos) const;
  void start_worker();
  void stop_worker();
  void worker_loop();

  ImageSet data_;
  LoaderOptions opt_;
  LoaderPosition consumed_;
  LoaderPosition produced_;
  int64_t order_epoch_ = -1;
  std::vector<int64_t> order_;

  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  std::exception_ptr worker_error_;
  bool stop_ = false;
};

}  // namespace duel
