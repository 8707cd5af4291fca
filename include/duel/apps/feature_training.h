// Training duel's compact feature network (`duel features train`, and the
// classifiers of the augmentation experiment): options, result, and the two
// entry points. The network itself, its file format and loading live in
// nn/feature_net.h; this is the pipeline that produces a .duelfeat.
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>

#include "duel/data/loader.h"
#include "duel/nn/feature_net.h"

namespace duel {

struct FeatureTrainOptions {
  std::string dataset = "fashion-mnist";
  std::string data_path;     // empty: the dataset's default location
  std::string out;           // .duelfeat to write
  bool force = false;        // overwrite an existing `out` (refused otherwise)
  int64_t epochs = 4;
  int64_t steps = 0;         // > 0: stop after this many batches (tests)
  int64_t batch_size = 128;
  int64_t limit = 0;         // > 0: train on the first N images only
  double lr = 3e-3;          // Adam, cosine-decayed to 0 over the run
  bool augment = false;      // random horizontal flips and +-2 px shifts (helps longer runs)
  uint64_t seed = 1;
  // "classifier": supervised on the labels; "contrastive": self-supervised
  // (SimCLR's NT-Xent over two augmented views; apps/contrastive.h), for
  // data without labels. Its accuracy is that of a 5-NN classifier on the
  // features where the data has labels, else -1.
  std::string method = "classifier";
  double temperature = 0.2;  // contrastive: NT-Xent temperature
  int64_t image_size = 0;    // resize the data to this side first (0: as stored)
  int64_t channels = 0;      // 1 or 3 (0: as stored)
};

struct FeatureTrainResult {
  FeatureIdentity identity;
  int64_t steps = 0;
  double seconds = 0;
  double test_accuracy = 0;
  int64_t test_images = 0;
};

struct ImageSet;

// What both feature trainers share: a shuffled loader over `train`, the number
// of steps (options.steps, else epochs x batches per epoch; > 0 is required),
// Adam's learning rate decayed to 0 on a cosine over them, and the generator
// of their augmentations.
struct FeatureSchedule {
  std::unique_ptr<Loader> loader;
  int64_t total = 0;
  at::Generator gen;
  // Sets every parameter group of `opt` to the rate for `step`.
  void set_lr(torch::optim::Optimizer& opt, const FeatureTrainOptions& options, int64_t step) const;
};
FeatureSchedule feature_schedule(const ImageSet& train, const FeatureTrainOptions& options);
// Trains a FeatureNet classifier on labelled uint8 images (options: batch_size,
// epochs or steps, lr with cosine decay, augment, seed); dataset/out/limit
// are not used. Returns the net in eval mode (feature_scale not set).
FeatureNet fit_classifier(const ImageSet& train, const FeatureTrainOptions& options,
                          const std::function<void(const std::string&)>& info = {});

// Trains a FeatureNet on the dataset's train split, measures its accuracy on
// the test split and writes it to options.out. `info` receives progress lines.
FeatureTrainResult train_feature_net(const FeatureTrainOptions& options,
                                     const std::function<void(const std::string&)>& info = {});

}  // namespace duel
