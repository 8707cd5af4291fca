// A GAN of this project's own, registered with duel as model "my-gan".
//
// G and D are plain LibTorch modules. Deriving the model from duel::TwoPlayerGan
// gives it duel's whole adversarial step (train.loss, label smoothing and
// flipping, d_steps, gradient penalties, EMA, ...), the optimizers of the
// optim.* keys, sampling and checkpoints: the model only says how G and D are
// called. Everything else (data, run folder, logs, exact resume, metrics,
// report) is duel's trainer.
#include <duel/core/config.h>
#include <duel/models/model.h>
#include <duel/models/two_player.h>
#include <torch/torch.h>

namespace my {

namespace nn = torch::nn;

// z [N, latent] -> Linear -> 64 x 7 x 7 -> ConvT -> 32 x 14 x 14 -> ConvT -> C x 28 x 28, tanh.
struct GeneratorImpl : nn::Module {
  GeneratorImpl(int64_t latent, int64_t channels, int64_t width) : width(width) {
    fc = register_module("fc", nn::Linear(latent, 2 * width * 7 * 7));
    up = register_module("up", nn::Sequential(
        nn::BatchNorm2d(2 * width), nn::ReLU(),
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(2 * width, width, 4).stride(2).padding(1)),
        nn::BatchNorm2d(width), nn::ReLU(),
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(width, channels, 4).stride(2).padding(1)), nn::Tanh()));
  }
  torch::Tensor forward(const torch::Tensor& z) { return up->forward(fc->forward(z).view({-1, 2 * width, 7, 7})); }
  int64_t width;
  nn::Linear fc{nullptr};
  nn::Sequential up{nullptr};
};
TORCH_MODULE(Generator);

// x [N, C, 28, 28] -> two strided convolutions -> one logit per image.
struct DiscriminatorImpl : nn::Module {
  DiscriminatorImpl(int64_t channels, int64_t width) {
    body = register_module("body", nn::Sequential(
        nn::Conv2d(nn::Conv2dOptions(channels, width, 4).stride(2).padding(1)),
        nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
        nn::Conv2d(nn::Conv2dOptions(width, 2 * width, 4).stride(2).padding(1)),
        nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)), nn::Flatten(),
        nn::Linear(2 * width * 7 * 7, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return body->forward(x); }
  nn::Sequential body{nullptr};
};
TORCH_MODULE(Discriminator);

class MyGan : public duel::TwoPlayerGan {
 public:
  MyGan(const duel::Config& cfg, const duel::DataShape& shape, Generator g, Discriminator d)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr()), g_(g), d_(d) {}
  std::string name() const override { return "my-gan"; }

 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor&) override { return g_->forward(z); }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor&) override { return d_->forward(x); }

 private:
  Generator g_;
  Discriminator d_;
};

std::unique_ptr<duel::GanModel> make_my_gan(const duel::Config& cfg, const duel::DataShape& shape) {
  duel::require(shape.size == 28, "my-gan makes 28 px images, not " + std::to_string(shape.size) + " px",
                "train it on 28 px data (Fashion-MNIST, MNIST) or set data.image_size = 28");
  const int64_t latent = cfg.get_int("model.latent_dim"), width = cfg.get_int("model.g_width");
  return std::make_unique<MyGan>(cfg, shape, Generator(latent, shape.channels, width),
                                 Discriminator(shape.channels, cfg.get_int("model.d_width")));
}

// Registers "my-gan" (with a summary for `train --list-models` and defaults
// for keys the user leaves unset) when the program starts.
DUEL_REGISTER_MODEL("my-gan", "this project's own GAN (Linear + ConvT G, conv D; 28 px)", make_my_gan,
                    duel::ModelDefaults{{"model.g_width", duel::ConfigValue(int64_t(32))},
                                        {"model.d_width", duel::ConfigValue(int64_t(32))}});

}  // namespace my
