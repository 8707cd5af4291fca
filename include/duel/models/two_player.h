// TwoPlayerGan: the base of every model with one generator and one
// discriminator trained by alternating updates (mlp, dcgan, ...).
//
// step(): d_steps discriminator updates on real + detached fakes (with
// one-sided label smoothing, label flipping and instance noise as the config
// asks), then one generator update through a frozen discriminator, reusing
// the last fakes (one G forward per iteration). Subclasses supply the nets.
#pragma once
#include <torch/nn/modules/container/any.h>
#include <torch/optim/adam.h>

#include "duel/losses/adversarial.h"
#include "duel/models/model.h"

namespace duel {

struct AdversarialKnobs {
  GeneratorObjective objective = GeneratorObjective::NonSaturating;
  double label_smoothing = 0.0;
  bool smoothing_uniform = true;
  double label_flip = 0.0;
  double instance_noise = 0.0;
  int64_t d_steps = 1;
  static AdversarialKnobs from_config(const Config& cfg);
};

class TwoPlayerGan : public GanModel {
 public:
  TwoPlayerGan(const Config& cfg, const DataShape& shape, std::shared_ptr<torch::nn::Module> generator,
               std::shared_ptr<torch::nn::Module> discriminator);

  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override;
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override;
  Scalars step(const Batch& batch, StepContext& ctx) override;
  torch::Tensor sample(const SampleRequest& request) override;
  torch::Tensor make_noise(int64_t n, torch::Device device) const override;

 protected:
  // z [N, latent] (+ labels) -> images [N, C, H, W] in [-1, 1]
  virtual torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& labels) = 0;
  // images [N, C, H, W] (+ labels) -> logits [N, 1]
  virtual torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor& labels) = 0;

  int64_t latent_dim_;
  DataShape shape_;
  AdversarialKnobs knobs_;
  std::shared_ptr<torch::nn::Module> G_, D_;
  std::unique_ptr<torch::optim::Adam> opt_g_, opt_d_;
};

}  // namespace duel
