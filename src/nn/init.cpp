// Weight initialisation and gradient helpers.
#include "duel/nn/init.h"

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/init.h>

#include "duel/core/error.h"
#include "duel/nn/sync_batch_norm.h"

namespace duel {

void init_weights(torch::nn::Module& net, const std::string& scheme) {
  if (scheme == "default") return;
  require(scheme == "normal", "unknown init scheme '" + scheme + "'", "model.init is normal or default");
  torch::NoGradGuard no_grad;
  for (auto& m : net.modules(/*include_self=*/true)) {
    auto name = m->name();
    // Embeddings too (class projections): LibTorch's N(0, 1) would make a
    // projection discriminator's logits explode at the first step.
    bool is_weight_layer = m->as<torch::nn::Conv2d>() || m->as<torch::nn::ConvTranspose2d>() ||
                           m->as<torch::nn::Linear>() || m->as<torch::nn::Embedding>();
    bool is_norm = m->as<torch::nn::BatchNorm2d>() || m->as<torch::nn::BatchNorm1d>() || m->as<SyncBatchNorm2d>();
    for (auto& p : m->named_parameters(/*recurse=*/false)) {
      if (is_weight_layer) {
        if (p.key() == "weight") p.value().normal_(0.0, 0.02);
        else if (p.key() == "bias") p.value().zero_();
      } else if (is_norm) {
        if (p.key() == "weight") p.value().normal_(1.0, 0.02);
        else if (p.key() == "bias") p.value().zero_();
      }
    }
  }
}

void clear_grads(torch::nn::Module& net) {
  for (auto& p : net.parameters()) p.mutable_grad() = torch::Tensor();
}

void set_requires_grad(torch::nn::Module& net, bool on) {
  for (auto& p : net.parameters()) p.set_requires_grad(on);
}

}  // namespace duel
