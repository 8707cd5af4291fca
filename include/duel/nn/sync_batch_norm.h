// Batch norm that can normalise with the statistics of the global batch of a
// distributed run (dist.sync_bn; docs/distributed.md).
//
// The same parameters and buffers as LibTorch's BatchNorm2d (weight, bias,
// running_mean, running_var, num_batches_tracked) and, unless the run
// synchronises batch statistics (batch_shard().sum_over_ranks is set) and the
// module is training, the same computation. When synchronised, the mean and
// variance are those of all ranks' images together (one all-reduce of
// [sum, sum of squares, count] per layer forward, one of the two gradient
// sums per backward), so W ranks x B images normalise exactly as one process
// with W x B images, and the running statistics stay the same on every rank.
#pragma once
#include <torch/nn/cloneable.h>
#include <torch/nn/options/batchnorm.h>
#include <torch/nn/pimpl.h>

#include <ostream>

namespace duel {

class SyncBatchNorm2dImpl : public torch::nn::Cloneable<SyncBatchNorm2dImpl> {
 public:
  explicit SyncBatchNorm2dImpl(int64_t channels) : SyncBatchNorm2dImpl(torch::nn::BatchNormOptions(channels)) {}
  explicit SyncBatchNorm2dImpl(const torch::nn::BatchNormOptions& options);
  void reset() override;
  // x [N, C, H, W] -> [N, C, H, W]
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(SyncBatchNorm2d);

}  // namespace duel
