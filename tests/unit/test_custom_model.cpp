// The model interface is the extension point: a GAN defined and registered in
// this file alone (no file of the library changes) trains through the real
// trainer into a run folder, whose checkpoint then loads and samples like any
// built-in model's. It implements the core GanModel and one capability,
// NoiseSampler (docs/design.md, "How to add a model").
#include <gtest/gtest.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include "duel/apps/model_loading.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/train/trainer.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

// A 2-layer MLP GAN: G z [N, latent] -> image, D image -> logit, trained with
// the non-saturating loss.
class TinyMlpGan : public GanModel, public NoiseSampler {
 public:
  TinyMlpGan(const Config& cfg, const DataShape& shape)
      : shape_(shape), latent_(cfg.get_int("model.latent_dim")) {
    namespace nn = torch::nn;
    const int64_t pixels = shape.channels * shape.size * shape.size;
    G_ = std::make_shared<nn::SequentialImpl>(nn::Linear(latent_, 32), nn::ReLU(), nn::Linear(32, pixels), nn::Tanh());
    D_ = std::make_shared<nn::SequentialImpl>(nn::Linear(pixels, 32), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
                                              nn::Linear(32, 1));
    opt_g_ = std::make_unique<torch::optim::Adam>(
        G_->parameters(), torch::optim::AdamOptions(cfg.get_float("optim.g_lr")).betas({0.5, 0.999}));
    opt_d_ = std::make_unique<torch::optim::Adam>(
        D_->parameters(), torch::optim::AdamOptions(cfg.get_float("optim.d_lr")).betas({0.5, 0.999}));
  }

  // The core interface.
  std::string name() const override { return "tiny-mlp"; }
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override {
    return {{"G", G_}, {"D", D_}};
  }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override {
    return {{"G", opt_g_.get()}, {"D", opt_d_.get()}};
  }
  Scalars step(const Batch& batch, StepContext& ctx) override {
    namespace F = torch::nn::functional;
    auto real = batch.images.flatten(1);  // [N, C*H*W]
    auto fake = G_->forward(make_noise(real.size(0), real.device()));
    auto d_loss = F::softplus(-D_->forward(real)).mean() + F::softplus(D_->forward(fake.detach())).mean();
    opt_d_->zero_grad();
    d_loss.backward();
    if (ctx.after_backward) ctx.after_backward("D");
    opt_d_->step();
    auto g_loss = F::softplus(-D_->forward(fake)).mean();
    opt_g_->zero_grad();
    g_loss.backward();
    if (ctx.after_backward) ctx.after_backward("G");
    opt_g_->step();
    return {{"loss_d", d_loss.detach()}, {"loss_g", g_loss.detach()}};
  }

  // NoiseSampler.
  torch::Tensor sample(const SampleRequest& request) override {
    torch::NoGradGuard no_grad;
    const bool was = G_->is_training();
    G_->eval();
    auto x = G_->forward(request.noise).view({-1, shape_.channels, shape_.size, shape_.size});
    if (was) G_->train();
    return x;
  }
  torch::Tensor make_noise(int64_t n, torch::Device device) const override {
    return torch::randn({n, latent_}, torch::TensorOptions().device(device));
  }

 private:
  DataShape shape_;
  int64_t latent_;
  std::shared_ptr<torch::nn::SequentialImpl> G_, D_;
  std::unique_ptr<torch::optim::Adam> opt_g_, opt_d_;
};

std::unique_ptr<GanModel> make_tiny_mlp(const Config& cfg, const DataShape& shape) {
  return std::make_unique<TinyMlpGan>(cfg, shape);
}

}  // namespace

DUEL_REGISTER_MODEL("tiny-mlp", "test-only 2-layer MLP GAN (tests/unit/test_custom_model.cpp)", make_tiny_mlp);

namespace {

TEST(CustomModel, RegisteredFromTheTestFile) {
  bool found = false;
  for (const auto& [name, summary] : registered_models()) found = found || name == "tiny-mlp";
  EXPECT_TRUE(found);
}

TEST(CustomModel, TrainsThroughTheTrainerAndSamplesFromItsCheckpoint) {
  const fs::path run = fs::temp_directory_path() / ("duel-custom-model-" + std::to_string(::getpid()));
  const fs::path data = run.string() + "-data";
  fs::remove_all(run);
  fs::remove_all(data);
  // A raw IDX dataset of 32 random 28x28 images with labels i % 10, written here.
  fs::create_directories(data);
  auto be32 = [](std::string& b, uint32_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(char((v >> (8 * i)) & 0xff));
  };
  std::string img, lab;
  be32(img, 0x803), be32(img, 32), be32(img, 28), be32(img, 28);
  be32(lab, 0x801), be32(lab, 32);
  for (int i = 0; i < 32; ++i) {
    for (int p = 0; p < 28 * 28; ++p) img.push_back(char((i * 37 + p * 11) % 256));
    lab.push_back(char(i % 10));
  }
  for (const char* split : {"train", "t10k"}) {
    std::ofstream(data / (std::string(split) + "-images-idx3-ubyte"), std::ios::binary) << img;
    std::ofstream(data / (std::string(split) + "-labels-idx1-ubyte"), std::ios::binary) << lab;
  }

  torch::manual_seed(0);
  TrainRequest req;
  const std::vector<std::string> sets{"model.name=tiny-mlp",      "data.dataset=mnist",
                                      "data.path=" + data.string(),
                                      "train.batch_size=16",      "model.latent_dim=8",
                                      "sample.grid=16",           "train.log_every=2",
                                      "train.steps=4",            "train.checkpoint_every=2"};
  for (const auto& s : sets) req.config.set_from_string(s);
  req.run_dir = run.string();
  const TrainSummary summary = train(req, TrainerEvents{});
  EXPECT_EQ(summary.steps_done, 4);
  EXPECT_FALSE(summary.interrupted);
  EXPECT_TRUE(fs::exists(summary.final_grid)) << summary.final_grid;
  ASSERT_TRUE(fs::exists(summary.checkpoint)) << summary.checkpoint;

  // The checkpoint loads into a new model of the same registered name, which samples.
  Checkpoint ck = Checkpoint::read(summary.checkpoint);
  EXPECT_EQ(ck.model_name(), "tiny-mlp");
  EXPECT_EQ(ck.state().step, 4);
  Config cfg;
  auto model = load_model(ck, cfg);
  auto& noise = require_capability<NoiseSampler>(*model);
  auto x = noise.sample({noise.make_noise(3, torch::kCPU), {}});
  EXPECT_EQ(x.sizes(), torch::IntArrayRef({3, 1, 28, 28}));
  EXPECT_LE(x.abs().max().item<float>(), 1.0f);
  // The fixed preview noise the trainer stored is the model's own (make_noise).
  EXPECT_EQ(ck.state().fixed_noise.sizes(), torch::IntArrayRef({16, 8}));

  // Capabilities it does not claim are absent, and asking for one names the model.
  EXPECT_EQ(capability<ImageTranslator>(*model), nullptr);
  EXPECT_EQ(capability<CodeTraversal>(*model), nullptr);
  EXPECT_EQ(capability<StyleControl>(*model), nullptr);
  EXPECT_EQ(capability<AnomalyScorer>(*model), nullptr);
  try {
    require_capability<CodeTraversal>(*model);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "model 'tiny-mlp' has no latent codes to traverse");
  }
  fs::remove_all(run);
  fs::remove_all(data);
}

}  // namespace
}  // namespace duel
