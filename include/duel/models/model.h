// The model interface: the one extension point of duel.
//
// A model is a named object that owns its nets and optimizers and runs one
// full adversarial iteration in step(). The trainer does everything else
// (data, cadence, checkpoints, monitoring, preview grids) through this small
// core interface; what only some models can do (draw from noise, translate
// images, score anomalies, ...) is a capability interface of
// duel/models/capabilities.h that a model implements only when true. Adding a
// GAN is one new file under src/models/ that ends with DUEL_REGISTER_MODEL.
#pragma once
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "duel/core/config.h"
#include "duel/data/batch.h"

namespace duel {

struct ImageSet;  // duel/data/dataset.h

// Named scalars a step reports, in a stable order (they become CSV columns).
// Detached 0-dim tensors: the trainer reads them only when it logs, so a GPU
// step never waits for the host.
using Scalars = std::vector<std::pair<std::string, torch::Tensor>>;

// What the trainer lends a step.
struct StepContext {
  // Pulls another batch (for d_steps > 1 and the like).
  std::function<Batch()> next_batch;
  // Called after every backward with the net whose gradients are ready and
  // before its optimizer steps: gradient averaging, clipping, checks.
  std::function<void(const std::string& net)> after_backward;
  int64_t step = 0;       // generator updates done before this one
  double progress = 0.0;  // step / total steps, in [0, 1]
};

// What NoiseSampler::sample draws (duel/models/capabilities.h).
struct SampleRequest {
  torch::Tensor noise;   // [N, latent] (models may reshape)
  torch::Tensor labels;  // int64 [N] for conditional models, else undefined
  // Text-conditioned models: token ids int64 [N, L] (DataShape::vocabulary).
  // With text_to and text_mix (float [N] in [0, 1]) as well, image i is drawn
  // for the blend (1 - m) * embed(text) + m * embed(text_to) of the two
  // sentence embeddings (text interpolation).
  torch::Tensor text{}, text_to{}, text_mix{};
  // Style-based models (StyleControl::style_layers() > 0): the truncation psi (1: none;
  // w_avg + psi (w - w_avg)), and style mixing: with `mix` [N, latent] given,
  // layers [crossover, style_layers()) take their styles from it instead.
  double truncation = 1.0;
  torch::Tensor mix{};
  int64_t crossover = 0;
  // Models that keep a moving average of G's weights (train.ema) draw with
  // it unless this is false (the live weights).
  bool average = true;
};

// Facts about the data a model is built for.
struct DataShape {
  int64_t channels = 1;
  int64_t size = 28;
  int64_t num_classes = 0;  // 0: unlabelled
  // Image-to-image data (data.pair): channels of the B images (0: the data
  // has no B images) and whether A and B are pairs (image i of A belongs to
  // image i of B) or two unpaired domains.
  int64_t target_channels = 0;
  bool paired = false;
  // Captioned data (data.captions): the vocabulary of the training captions
  // ([0] = "<pad>") and the tokens per caption; empty / 0 without captions.
  std::vector<std::string> vocabulary{};
  int64_t text_length = 0;
};

// The fixed inputs of the trainer's preview grid (GanModel::preview_inputs).
struct PreviewInputs {
  SampleRequest request;  // noise (+ labels, captions) drawn through sample(); kept in checkpoints
  Batch batch;            // image-to-image models: images previewed through preview(batch) instead
};

class GanModel {
 public:
  virtual ~GanModel() = default;

  virtual std::string name() const = 0;
  // Named nets, in a fixed order ("G", "D", ...).
  virtual std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() = 0;
  // Named optimizers, in a fixed order.
  virtual std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() = 0;
  // One full adversarial iteration on `batch`.
  virtual Scalars step(const Batch& batch, StepContext& ctx) = 0;
  // Whether batches must carry labels.
  virtual bool needs_labels() const { return false; }
  // Whether batches must carry captions (Batch::text) and samples need text.
  virtual bool needs_captions() const { return false; }
  // Extra state the checkpoint must hold (power iterations, pools, phases).
  virtual std::map<std::string, torch::Tensor> extra_state() { return {}; }
  virtual void load_extra_state(const std::map<std::string, torch::Tensor>&) {}

  // Columns of a preview grid for a fixed batch (input, output, target, ...),
  // each [N, C, H, W] in [-1, 1] at one common size. Called only when
  // preview_inputs() filled PreviewInputs::batch; the default throws
  // duel::Error. Translator's: input | AtoB output | target (inputs of
  // another size are resized with nearest).
  virtual std::vector<torch::Tensor> preview(const Batch& fixed);
  // The fixed inputs of the trainer's preview grid of `n` images, made once
  // when a run starts from `data` (its images at the training `size`).
  // Default: request.noise = make_noise(n) for a NoiseSampler (else nothing).
  // Conditional models add one class per grid row, text models a caption per
  // image; image-to-image models fill `batch` with the first images of the
  // data, which the trainer previews through preview(batch) rather than
  // NoiseSampler::sample(request).
  virtual PreviewInputs preview_inputs(const ImageSet& data, int64_t n, int64_t size, torch::Device device) const;

  // Loads what only training needs (srgan's feature network). The trainer
  // calls it before it creates the run folder, so a missing resource fails
  // cleanly; inference (sample, translate, upscale, eval) never calls it.
  virtual void prepare_training() {}

  // Moves nets to a device. Optimizer state follows the parameters.
  void to(torch::Device device);
  // Puts every 4-D parameter (conv weights) in channels-last layout, in place.
  void set_channels_last();
  int64_t parameter_count(const std::string& net);
};

using ModelFactory = std::function<std::unique_ptr<GanModel>(const Config&, const DataShape&)>;

// Config values a model needs unless the user set them (wgan-gp's 5 critic
// steps, Adam(0, 0.9), ...). They are applied to the config before the run
// starts, so the run's config.toml records them.
using ModelDefaults = std::vector<std::pair<std::string, ConfigValue>>;

struct ModelRegistration {
  ModelRegistration(const std::string& name, const std::string& summary, ModelFactory factory,
                    ModelDefaults defaults = {});
};

// Sets the registered defaults of model.name on every key the user did not set.
void apply_model_defaults(Config& cfg);

// Builds the model the config names (model.name); throws duel::Error listing
// the registered names when it is unknown, or when the data does not fit.
std::unique_ptr<GanModel> create_model(const Config& cfg, const DataShape& shape);
std::vector<std::pair<std::string, std::string>> registered_models();  // name, summary

#define DUEL_REGISTER_MODEL(name, summary, factory, ...) \
  static const ::duel::ModelRegistration duel_model_registration_##factory(name, summary, factory, ##__VA_ARGS__)

}  // namespace duel
