// The feature network every sample-quality metric looks through.
//
// FID, KID and precision/recall compare images in the feature space of a
// pretrained classifier, and the Inception Score reads its class
// probabilities. Pretrained Inception weights cannot be downloaded here, so
// duel trains its own compact classifier per dataset (`duel features train`)
// and saves it with its identity: the dataset it learned, its test accuracy
// and a hash of its weights. Every result records that hash, because metrics
// from two different feature networks are not comparable.
//
// A FeatureExtractor hides which network is used: duel's own FeatureNet
// (.duelfeat files) or any user TorchScript module (e.g. an Inception-v3
// pool3 export); see docs/metrics.md for the TorchScript contract.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>
#include <string>

namespace duel {

struct FeatureNetOptions {
  FeatureNetOptions(int64_t channels, int64_t size, int64_t num_classes)
      : channels_(channels), size_(size), num_classes_(num_classes) {}
  TORCH_ARG(int64_t, channels);          // input channels (1 or 3)
  TORCH_ARG(int64_t, size);              // input side in pixels
  TORCH_ARG(int64_t, num_classes);       // classifier outputs
  TORCH_ARG(int64_t, width) = 32;        // channels of the first block (doubled per block)
  TORCH_ARG(int64_t, feature_dim) = 128; // penultimate layer: the metric features
  TORCH_ARG(double, dropout) = 0.3;      // before the classifier head
};

// Three conv blocks (3x3 conv-BN-ReLU, 2x2 max-pool; ~7.5 M multiply-adds per
// 28 px image, so 30,000 images take seconds on 2 cores) -> adaptive pool to 3x3 ->
// linear to feature_dim (+ReLU, times feature_scale) = the features -> dropout -> linear to classes.
class FeatureNetImpl : public torch::nn::Module {
 public:
  explicit FeatureNetImpl(const FeatureNetOptions& options);
  // x [N, C, S, S] in [-1, 1] -> features [N, feature_dim]
  torch::Tensor features(const torch::Tensor& x);
  // features [N, feature_dim] -> logits [N, num_classes]
  torch::Tensor classify(const torch::Tensor& features);
  // x [N, C, S, S] -> logits [N, num_classes]
  torch::Tensor forward(const torch::Tensor& x);

  FeatureNetOptions options;
  torch::nn::Sequential body{nullptr};
  torch::nn::Linear embed{nullptr}, head{nullptr};
  torch::nn::Dropout dropout{nullptr};
  // Set after training so the features' mean square per dimension is 1 on the train images.
  torch::Tensor feature_scale;
};
TORCH_MODULE(FeatureNet);

// Who a feature network is; written into every metric result.
struct FeatureIdentity {
  std::string kind;      // "duelfeat" or "torchscript"
  std::string path;      // where it was loaded from
  std::string hash;      // 16 hex digits: FNV-1a 64 of the weights (duelfeat) or of the file (torchscript)
  std::string dataset;   // what it was trained on ("" if unknown)
  double accuracy = -1;  // its test accuracy (-1 if unknown)
  int64_t feature_dim = 0, num_classes = 0;
  int64_t input_channels = 0, input_size = 0;  // what it is fed (images are converted to this)
};

struct Extracted {
  torch::Tensor features;  // float [N, D]
  torch::Tensor probs;     // float [N, K] softmax outputs; undefined when the net has no classifier
};

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  virtual const FeatureIdentity& identity() const = 0;
  // images uint8 [N, C, H, W] (the quantised pixels a person would save) ->
  // features (+ probabilities), computed in batches under InferenceMode.
  // Channels and size are converted to what the network declares; duel's own
  // nets only accept their training size.
  Extracted extract(const torch::Tensor& images, int64_t batch = 500);
  // x float [B, C, H, W] in [-1, 1] with the network's input channels and
  // size -> features [B, D], differentiable in x (content losses such as
  // SRGAN's; the network's own weights are not trained).
  torch::Tensor differentiable_features(const torch::Tensor& x) { return forward_batch(x).features; }

 protected:
  // x float [B, C, H, W] in [-1, 1], already converted -> features, probs
  virtual Extracted forward_batch(const torch::Tensor& x) = 0;
  // uint8 [B, C, H, W] -> the float input forward_batch expects
  virtual torch::Tensor prepare(const torch::Tensor& images_u8) = 0;
};

// Loads a .duelfeat file or a TorchScript module (told apart by content).
// Throws duel::Error with a hint to run `duel features train` when it is missing.
std::unique_ptr<FeatureExtractor> load_feature_extractor(const std::string& path);

// The default location of the feature network for a dataset, and the search
// that finds it: $DUEL_FEATURES_DIR, ./features/, features/ beside the
// build folder that holds the running binary (the repository root), then
// runs/features/, where `duel features train` writes by default.
std::string default_feature_path(const std::string& dataset);
// Where `duel features train` writes without --out: runs/features/<dataset>.duelfeat,
// never the committed features/ file every documented FID depends on.
std::string default_feature_output(const std::string& dataset);
std::vector<std::string> feature_search_paths(const std::string& dataset);
// The first existing path of feature_search_paths, or throws duel::Error naming
// every place it looked, with a HINT to run `duel features train`.
std::string find_feature_net(const std::string& dataset);

// FNV-1a 64 over the names, shapes and bytes of a module's parameters and buffers.
std::string weights_hash(const torch::nn::Module& module);

// Writes net + identity as a .duelfeat file (atomically); load_feature_extractor reads it.
void save_feature_net(FeatureNet& net, const FeatureIdentity& id, const std::string& path);
// An extractor over a net in memory (what load_feature_extractor returns for a .duelfeat).
std::unique_ptr<FeatureExtractor> make_feature_extractor(FeatureNet net, FeatureIdentity id);

// Accuracy of an extractor's classifier on labelled uint8 images.
double classifier_accuracy(FeatureExtractor& net, const torch::Tensor& images_u8, const torch::Tensor& labels);

}  // namespace duel
