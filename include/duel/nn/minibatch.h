// Minibatch layers: a discriminator that sees statistics of the whole batch
// can tell a generator that draws the same thing again and again from the
// data (a remedy for mode collapse, docs/modes.md).
//
//   stddev          ProGAN's minibatch standard deviation (nn/equalized.h): one
//                   more feature map, the mean standard deviation of the
//                   features over groups of `group` samples.
//   discrimination  Salimans et al. (2016): the features f [N, A] are projected
//                   by a learned tensor T [A, B*C] to M [N, B, C]; for each of
//                   the B kernels, o_b(x_i) = sum_{j != i} exp(-||M_ib - M_jb||_1).
//                   The B closeness features are appended as constant maps.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <string>

namespace duel {

struct MinibatchOptions {
  std::string kind = "none";  // none | stddev | discrimination
  int64_t kernels = 50;       // discrimination: B
  int64_t dims = 5;           // discrimination: C
  int64_t group = 4;          // stddev: samples per group
};

class MinibatchLayerImpl : public torch::nn::Module {
 public:
  // Features [N, channels, k, k] come in.
  MinibatchLayerImpl(const MinibatchOptions& options, int64_t channels, int64_t k);
  // Feature maps added by forward(): 0, 1 or `kernels`.
  int64_t extra() const;
  // h [N, C, k, k] -> [N, C + extra(), k, k]
  torch::Tensor forward(const torch::Tensor& h);
  MinibatchOptions options;

 private:
  torch::Tensor T;  // discrimination: [C*k*k, kernels*dims]
};
TORCH_MODULE(MinibatchLayer);

// o [N, B]: Salimans' closeness of each sample's M_ib [N, B, C] to the other samples'.
torch::Tensor minibatch_closeness(const torch::Tensor& m);

}  // namespace duel
