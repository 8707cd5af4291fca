// The feature network: duel's compact classifier, its .duelfeat file and the
// TorchScript alternative. Training a .duelfeat is a pipeline above this
// layer (src/apps/feature_training.cpp).
//
// .duelfeat is a LibTorch serialize archive holding the net's parameters and
// buffers under "net", its options and its identity (dataset, test accuracy,
// weights hash). The hash is recomputed on load and must match the stored one,
// so a file edited by hand or damaged on disk is refused, not silently used.
//
// Images reach every network the same way: uint8 pixels (generated images
// are quantised exactly as a saved PNG would be), converted per batch to
// float in [-1, 1]. Converting per batch matters for TorchScript Inception
// exports: 10,000 images at 3x299x299 in float would be 10 GB at once.
#include "duel/nn/feature_net.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/vision.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/optim/adam.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/dataset.h"

namespace fs = std::filesystem;

namespace duel {

namespace nn = torch::nn;

// --- the network ------------------------------------------------------------

FeatureNetImpl::FeatureNetImpl(const FeatureNetOptions& o) : options(o) {
  body = nn::Sequential();
  int64_t in = o.channels(), c = o.width();
  for (int block = 0; block < 3; ++block) {
    // [N, in, s, s] -> [N, c, s/2, s/2]   (28 px: 28 -> 14 -> 7 -> 3)
    body->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1).bias(false)));
    body->push_back(nn::BatchNorm2d(c));
    body->push_back(nn::ReLU(nn::ReLUOptions(true)));
    body->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    in = c;
    c *= 2;
  }
  // [N, 4w, s/8, s/8] -> [N, 4w, 3, 3]
  body->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({3, 3})));
  embed = nn::Linear(in * 9, o.feature_dim());
  dropout = nn::Dropout(o.dropout());
  register_module("body", body);
  register_module("embed", embed);
  register_module("dropout", dropout);
  if (o.num_classes() > 0) head = register_module("head", nn::Linear(o.feature_dim(), o.num_classes()));  // 0: self-supervised, no classifier
  feature_scale = register_buffer("feature_scale", torch::ones({}));
}

torch::Tensor FeatureNetImpl::features(const torch::Tensor& x) {
  // x [N, C, S, S] -> [N, 4w, 3, 3] -> [N, 36w] -> [N, feature_dim]
  auto h = body->forward(x);
  return torch::relu(embed->forward(h.flatten(1))) * feature_scale;
}

torch::Tensor FeatureNetImpl::classify(const torch::Tensor& f) {
  require(!head.is_empty(), "this feature network was trained without labels and has no classifier",
          "use a network trained with --method classifier for class probabilities");
  // f [N, feature_dim] -> [N, num_classes]
  return head->forward(dropout->forward(f / feature_scale));  // the head learned unscaled features
}

torch::Tensor FeatureNetImpl::forward(const torch::Tensor& x) { return classify(features(x)); }

// --- hashing --------------------------------------------------------------

namespace {

struct Fnv64 {
  uint64_t h = 1469598103934665603ULL;
  void add(const void* data, size_t n) {
    auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ULL;
    }
  }
  void add(const std::string& s) { add(s.data(), s.size()); }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
    return buf;
  }
};

}  // namespace

std::string weights_hash(const torch::nn::Module& module) {
  Fnv64 f;
  auto add_tensor = [&](const std::string& name, const torch::Tensor& t) {
    f.add(name);
    for (auto s : t.sizes()) f.add(&s, sizeof s);
    auto c = t.detach().to(torch::kCPU).contiguous();
    f.add(c.data_ptr(), size_t(c.numel()) * c.element_size());
  };
  for (auto& p : module.named_parameters(true)) add_tensor(p.key(), p.value());
  for (auto& b : module.named_buffers(true)) add_tensor(b.key(), b.value());
  return f.hex();
}

// --- extractors -------------------------------------------------------------

Extracted FeatureExtractor::extract(const torch::Tensor& images, int64_t batch) {
  require(images.defined() && images.dim() == 4 && images.scalar_type() == torch::kUInt8,
          "feature extraction expects uint8 images [N, C, H, W]", "quantise images to 0..255 first");
  require(batch >= 1, "feature extraction batch must be >= 1", "use --batch 500");
  c10::InferenceMode guard;
  std::vector<torch::Tensor> feats, probs;
  for (int64_t i = 0; i < images.size(0); i += batch) {
    auto x = prepare(images.slice(0, i, i + batch));
    Extracted e = forward_batch(x);
    feats.push_back(e.features.to(torch::kCPU, torch::kFloat32));
    if (e.probs.defined()) probs.push_back(e.probs.to(torch::kCPU, torch::kFloat32));
  }
  Extracted out;
  out.features = feats.empty() ? torch::empty({0, identity().feature_dim}) : torch::cat(feats);
  if (!probs.empty()) out.probs = torch::cat(probs);
  return out;
}

namespace {

const char* kFormatKey = "duel_feature_format";
constexpr int64_t kFeatureFormat = 1;

std::string str(const c10::IValue& v) { return v.toStringRef(); }

class DuelFeatureExtractor : public FeatureExtractor {
 public:
  DuelFeatureExtractor(FeatureNet net, FeatureIdentity id) : net_(std::move(net)), id_(std::move(id)) {
    net_->eval();
    for (auto& p : net_->parameters()) p.set_requires_grad(false);  // a fixed measuring instrument
  }
  const FeatureIdentity& identity() const override { return id_; }

 protected:
  torch::Tensor prepare(const torch::Tensor& u8) override {
    require(u8.size(1) == id_.input_channels && u8.size(2) == id_.input_size && u8.size(3) == id_.input_size,
            "the feature network '" + id_.path + "' takes " + std::to_string(id_.input_channels) + "x" +
                std::to_string(id_.input_size) + "x" + std::to_string(id_.input_size) + " images, got " +
                std::to_string(u8.size(1)) + "x" + std::to_string(u8.size(2)) + "x" + std::to_string(u8.size(3)),
            "train a feature network on data of this shape with `duel features train`, or pass --features");
    return to_unit_range(u8);
  }
  Extracted forward_batch(const torch::Tensor& x) override {
    // x [B, C, S, S] -> features [B, 128], probs [B, K]
    auto f = net_->features(x);
    if (net_->head.is_empty()) return {f, torch::Tensor()};  // self-supervised: features only
    return {f, torch::softmax(net_->classify(f), 1)};
  }

 private:
  FeatureNet net_;
  FeatureIdentity id_;
};

// A user TorchScript module: forward(x [B, 3, S, S] in [-1, 1]) returns the
// features [B, D], or a tuple (features [B, D], logits [B, K]).
class TorchScriptExtractor : public FeatureExtractor {
 public:
  TorchScriptExtractor(torch::jit::Module module, FeatureIdentity id) : module_(std::move(module)), id_(std::move(id)) {
    module_.eval();
    for (auto p : module_.parameters()) p.set_requires_grad(false);
  }
  const FeatureIdentity& identity() const override { return id_; }
  void probe() {
    // One black image tells the feature size and whether there is a classifier head.
    auto out = extract(torch::zeros({1, id_.input_channels, id_.input_size, id_.input_size}, torch::kUInt8), 1);
    id_.feature_dim = out.features.size(1);
    id_.num_classes = out.probs.defined() ? out.probs.size(1) : 0;
  }

 protected:
  torch::Tensor prepare(const torch::Tensor& u8) override {
    auto x = u8.to(torch::kFloat32);
    if (x.size(1) == 1 && id_.input_channels == 3) x = x.expand({x.size(0), 3, x.size(2), x.size(3)});
    require(x.size(1) == id_.input_channels,
            "cannot feed " + std::to_string(x.size(1)) + "-channel images to '" + id_.path + "', which declares " +
                std::to_string(id_.input_channels),
            "set the module's input_channels attribute to 3, or evaluate RGB data");
    if (x.size(2) != id_.input_size || x.size(3) != id_.input_size) {
      // Bicubic on 0..255 values, then re-quantised: see docs/metrics.md on resize filters.
      namespace F = torch::nn::functional;
      x = F::interpolate(x, F::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{id_.input_size, id_.input_size})
                                .mode(torch::kBicubic)
                                .align_corners(false))
              .round()
              .clamp(0, 255);
    }
    return x.div(127.5).sub(1.0);
  }
  Extracted forward_batch(const torch::Tensor& x) override {
    auto out = module_.forward({x});
    Extracted e;
    if (out.isTuple()) {
      auto elems = out.toTuple()->elements();
      require(!elems.empty() && elems[0].isTensor(), "TorchScript feature extractor '" + id_.path +
                                                         "' returned a tuple whose first element is not a tensor",
              "return features [N, D] or (features [N, D], logits [N, K])");
      e.features = elems[0].toTensor();
      if (elems.size() > 1 && elems[1].isTensor()) e.probs = torch::softmax(elems[1].toTensor().to(torch::kFloat32), 1);
    } else {
      require(out.isTensor(), "TorchScript feature extractor '" + id_.path + "' returned neither a tensor nor a tuple",
              "return features [N, D] or (features [N, D], logits [N, K])");
      e.features = out.toTensor();
    }
    e.features = e.features.reshape({e.features.size(0), -1});
    return e;
  }

 private:
  torch::jit::Module module_;
  FeatureIdentity id_;
};

std::string file_hash(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  Fnv64 h;
  h.add(ss.str());
  return h.hex();
}

// The datasets `duel features train` has a network recipe for by name.
bool trainable_by_name(const std::string& dataset) {
  return dataset == "mnist" || dataset == "fashion-mnist" || dataset == "cifar10";
}

// What to do about a feature network that is not there: a command that works.
std::string missing_hint(const std::string& path) {
  const std::string stem = fs::path(path).stem().string();
  if (trainable_by_name(stem))
    return "run `duel features train --dataset " + stem + " --out " + path + "` first (minutes on 2 cores)";
  return "check the path; `duel features train --dataset fashion-mnist --out " + path +
         "` writes a network for 28x28 grey images (mnist, fashion-mnist; cifar10 for 32x32 colour)";
}

}  // namespace

void save_feature_net(FeatureNet& net, const FeatureIdentity& id, const std::string& path) {
  torch::serialize::OutputArchive root, sub;
  net->save(sub);
  root.write("net", sub);
  root.write(kFormatKey, c10::IValue(kFeatureFormat));
  root.write("dataset", c10::IValue(id.dataset));
  root.write("accuracy", c10::IValue(id.accuracy));
  root.write("hash", c10::IValue(id.hash));
  const auto& o = net->options;
  root.write("channels", c10::IValue(o.channels()));
  root.write("size", c10::IValue(o.size()));
  root.write("num_classes", c10::IValue(o.num_classes()));
  root.write("width", c10::IValue(o.width()));
  root.write("feature_dim", c10::IValue(o.feature_dim()));
  std::ostringstream out;
  root.save_to(out);
  auto parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  write_file_atomic(path, out.str());
}


std::unique_ptr<FeatureExtractor> make_feature_extractor(FeatureNet net, FeatureIdentity id) {
  return std::make_unique<DuelFeatureExtractor>(std::move(net), std::move(id));
}

std::unique_ptr<FeatureExtractor> load_feature_extractor(const std::string& path) {
  std::error_code ec;
  require(!path.empty(), "no feature network given", missing_hint("features/fashion-mnist.duelfeat"));
  require(fs::exists(path, ec), "feature network '" + path + "' does not exist", missing_hint(path));
  require(fs::is_regular_file(path, ec), "feature network '" + path + "' is not a file", missing_hint(path));
  torch::serialize::InputArchive root;
  try {
    root.load_from(path);
  } catch (const c10::Error& e) {
    throw Error("cannot read feature network '" + path + "': not a .duelfeat or TorchScript file",
                "pass a file written by `duel features train` or by torch.jit.save");
  }
  c10::IValue format;
  if (root.try_read(kFormatKey, format)) {
    require(format.toInt() == kFeatureFormat,
            "feature network '" + path + "' has format " + std::to_string(format.toInt()) + ", this duel reads " +
                std::to_string(kFeatureFormat),
            "retrain it with this version: duel features train");
    auto get = [&](const char* key) {
      c10::IValue v;
      if (!root.try_read(key, v))
        throw Error("feature network '" + path + "' lacks '" + key + "'", "retrain it with `duel features train`");
      return v;
    };
    FeatureNetOptions o(get("channels").toInt(), get("size").toInt(), get("num_classes").toInt());
    o.width(get("width").toInt()).feature_dim(get("feature_dim").toInt());
    FeatureNet net(o);
    torch::serialize::InputArchive sub;
    require(root.try_read("net", sub), "feature network '" + path + "' lacks its weights",
            "retrain it with `duel features train`");
    net->load(sub);
    FeatureIdentity id;
    id.kind = "duelfeat";
    id.path = path;
    id.dataset = str(get("dataset"));
    id.accuracy = get("accuracy").toDouble();
    id.hash = weights_hash(*net);
    id.feature_dim = o.feature_dim();
    id.num_classes = o.num_classes();
    id.input_channels = o.channels();
    id.input_size = o.size();
    require(id.hash == str(get("hash")),
            "feature network '" + path + "' fails its check: its weights hash to " + id.hash + " but it claims " +
                str(get("hash")),
            "the file is damaged or was altered; retrain it with `duel features train`");
    return std::make_unique<DuelFeatureExtractor>(net, id);
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw Error("cannot load TorchScript feature extractor '" + path + "': " + e.what_without_backtrace(),
                "export it with torch.jit.script/trace and torch.jit.save (see docs/metrics.md)");
  }
  FeatureIdentity id;
  id.kind = "torchscript";
  id.path = path;
  id.hash = file_hash(path);
  id.input_size = module.hasattr("input_size") ? module.attr("input_size").toInt() : 299;
  id.input_channels = module.hasattr("input_channels") ? module.attr("input_channels").toInt() : 3;
  if (module.hasattr("dataset")) id.dataset = module.attr("dataset").toStringRef();
  auto ex = std::make_unique<TorchScriptExtractor>(module, id);
  try {
    ex->probe();
  } catch (const c10::Error& e) {
    throw Error("TorchScript feature extractor '" + path + "' fails on a [1, " + std::to_string(id.input_channels) +
                    ", " + std::to_string(id.input_size) + ", " + std::to_string(id.input_size) +
                    "] input: " + e.what_without_backtrace(),
                "declare its input with integer attributes input_size / input_channels (see docs/metrics.md)");
  }
  return ex;
}

// --- where feature networks live --------------------------------------------

std::string default_feature_path(const std::string& dataset) {
  std::string stem = dataset;
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return "features/" + stem + ".duelfeat";
}

std::vector<std::string> feature_search_paths(const std::string& dataset) {
  const std::string rel = default_feature_path(dataset);
  std::vector<std::string> out;
  if (const char* dir = std::getenv("DUEL_FEATURES_DIR"); dir && *dir)
    out.push_back((fs::path(dir) / fs::path(rel).filename()).string());
  out.push_back(rel);
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path().parent_path() / rel).lexically_normal().string());
    // An installed duel: <prefix>/bin/duel and <prefix>/share/duel/features/.
    out.push_back((exe.parent_path().parent_path() / "share" / "duel" / rel).lexically_normal().string());
  }
  out.push_back(default_feature_output(dataset));
  return out;
}

std::string default_feature_output(const std::string& dataset) { return "runs/" + default_feature_path(dataset); }

std::string find_feature_net(const std::string& dataset) {
  auto paths = feature_search_paths(dataset);
  std::string tried;
  for (auto& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
    tried += (tried.empty() ? "" : ", ") + p;
  }
  if (!trainable_by_name(dataset))  // a folder's images may differ in size and carry no labels
    throw Error("no feature network for dataset '" + dataset + "' (looked for " + tried + ")",
                "name a TorchScript feature extractor that takes these images (duel eval --features FILE, "
                "duel train --set eval.features=FILE), or train without periodic evaluation (--set eval.every=0)");
  throw Error("no feature network for dataset '" + dataset + "' (looked for " + tried + ")",
              "run `duel features train --dataset " + dataset + "` first (about 5 minutes on 2 cores; it writes " +
                  default_feature_output(dataset) + ", where this search finds it), or name a network with "
                  "`duel eval --features FILE` / `--set eval.features=FILE`");
}

// --- accuracy -----------------------------------------------------------------

double classifier_accuracy(FeatureExtractor& net, const torch::Tensor& images_u8, const torch::Tensor& labels) {
  require(labels.defined() && labels.size(0) == images_u8.size(0), "accuracy needs one label per image",
          "use a labelled split");
  auto e = net.extract(images_u8);
  require(e.probs.defined(), "the feature network '" + net.identity().path + "' has no classifier head",
          "it cannot report an accuracy");
  return e.probs.argmax(1).eq(labels.to(torch::kInt64)).to(torch::kFloat64).mean().item<double>();
}

}  // namespace duel
