// scripted: a generator and a discriminator written in Python and saved as
// TorchScript (torch.jit.script or torch.jit.trace, then .save), trained by
// TwoPlayerGan's step like any built-in model: every loss, stabiliser,
// d_steps, EMA, checkpoint and exact resume applies (docs/library.md).
//
// The contract, checked when the model is built (check_contract):
//   G.forward(z [N, latent_dim])          -> images [N, C, H, W] in [-1, 1]
//   D.forward(x [N, C, H, W])             -> raw scores [N] or [N, 1] (logits for BCE losses)
// or, for conditional networks, both take the class as a second argument:
//   G.forward(z, labels int64 [N]), D.forward(x, labels).
// The networks keep the weights they were saved with (model.init is not
// applied). Their files travel inside every checkpoint (model_files.h).
#include <torch/script.h>
#include <torch/nn/module.h>

#include <cmath>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/onnx.h"
#include "duel/models/model_files.h"
#include "duel/models/two_player.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_string_key("model.generator", "", {},
                      "scripted: TorchScript file of the generator, G(z[, labels]) -> images in [-1, 1]");
  register_string_key("model.discriminator", "", {},
                      "scripted: TorchScript file of the discriminator, D(x[, labels]) -> raw scores [N] or [N, 1]");
  return true;
}();

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// The line of a LibTorch error that says what went wrong: a TorchScript
// interpreter error ends with the Python exception ("RuntimeError: mat1 and
// mat2 shapes cannot be multiplied ..."); other errors start with it.
std::string error_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, first, last_python;
  while (std::getline(in, line)) {
    if (first.empty() && !line.empty()) first = line;
    if (line.find("Error: ") != std::string::npos && line.rfind(" ", 0) != 0) last_python = line;
  }
  line = last_python.empty() ? first : last_python;
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

// The parameters and buffers of a TorchScript module as a LibTorch module
// tree with the same names ("main.0.weight"), sharing the same tensors: the
// optimizers, checkpoints, EMA, device moves and gradient averaging that walk
// nn::Module see exactly what the scripted forward() uses.
class MirrorModule : public torch::nn::Module {
 public:
  explicit MirrorModule(const torch::jit::Module& m) {
    for (const auto& p : m.named_parameters(/*recurse=*/false))
      register_parameter(p.name, p.value, p.value.requires_grad());
    for (const auto& b : m.named_buffers(/*recurse=*/false)) register_buffer(b.name, b.value);
    for (const auto& c : m.named_children()) register_module(c.name, std::make_shared<MirrorModule>(c.value));
  }
};

class ScriptedNet : public MirrorModule {
 public:
  ScriptedNet(torch::jit::Module module, std::string key, std::string path)
      : MirrorModule(module), module_(std::move(module)), key_(std::move(key)), path_(std::move(path)) {
    train(true);
  }

  // Loads `bytes`, the TorchScript file `path` named by config key `key`.
  static std::shared_ptr<ScriptedNet> load(const std::string& key, const std::string& path, const std::string& bytes) {
    torch::jit::Module m;
    try {
      std::istringstream in(bytes);
      m = torch::jit::load(in, torch::kCPU);
    } catch (const std::exception& e) {
      throw Error(key + " '" + path + "' is not a TorchScript file LibTorch can load: " + error_line(e.what()),
                  "save the network from Python with torch.jit.save(torch.jit.script(net), '" + path + "')");
    }
    require(m.find_method("forward").has_value(), key + " '" + path + "' has no forward() method",
            "script a torch.nn.Module whose forward() takes the inputs docs/library.md lists");
    return std::make_shared<ScriptedNet>(std::move(m), key, path);
  }

  // Inputs of forward(), not counting self.
  size_t arguments() {
    return module_.get_method("forward").function().getSchema().arguments().size() - 1;
  }

  torch::Tensor forward(std::vector<c10::IValue> inputs) {
    auto out = module_.forward(std::move(inputs));
    require(out.isTensor(), key_ + " '" + path_ + "': forward() returns a " + out.tagKind() + ", not a tensor",
            "return one tensor from forward()");
    return out.toTensor();
  }

  void train(bool on = true) override {
    module_.train(on);
    torch::nn::Module::train(on);
  }

  const std::string& key() const { return key_; }
  const std::string& path() const { return path_; }
  std::string what() const { return key_ + " '" + path_ + "'"; }

 private:
  torch::jit::Module module_;
  std::string key_, path_;
};

class ScriptedGan : public TwoPlayerGan {
 public:
  ScriptedGan(const Config& cfg, const DataShape& shape, std::shared_ptr<ScriptedNet> g, std::shared_ptr<ScriptedNet> d,
              std::map<std::string, std::string> files)
      : TwoPlayerGan(cfg, shape, g, d), g_(std::move(g)), d_(std::move(d)), files_(std::move(files)) {
    conditional_ = g_->arguments() == 2;
    check_contract();
  }

  std::string name() const override { return "scripted"; }
  bool needs_labels() const override { return conditional_; }

  std::map<std::string, torch::Tensor> extra_state() override {
    auto out = TwoPlayerGan::extra_state();
    for (const auto& [path, bytes] : files_) out[kModelFilePrefix + path] = bytes_to_tensor(bytes);
    return out;
  }

 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& labels) override {
    return conditional_ ? g_->forward({z, labels}) : g_->forward({z});
  }

  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor& labels) override {
    auto out = conditional_ ? d_->forward({x, labels}) : d_->forward({x});
    return out.reshape({x.size(0), 1});
  }

  std::string export_generate(onnx::Graph&, const std::string&, const std::string&) override {
    throw Error("model 'scripted' cannot be exported to ONNX by duel: its generator is a TorchScript program (" +
                    g_->what() + "), not a network of LibTorch modules",
                "sample and evaluate it with duel sample / duel eval; for an ONNX file, write G with LibTorch "
                "modules in a program of your own (docs/library.md)");
  }

 private:
  // Runs G and D once on fixed inputs (no random draw, eval mode, no
  // gradients) and names the first mismatch with the data and latent size.
  void check_contract() {
    const int64_t n = 2;
    require(g_->arguments() == 1 || g_->arguments() == 2,
            g_->what() + ": forward() takes " + std::to_string(g_->arguments()) + " inputs",
            "G.forward takes z [N, latent_dim], or z and the class labels int64 [N] for a conditional GAN");
    require(d_->arguments() == g_->arguments(),
            d_->what() + ": forward() takes " + std::to_string(d_->arguments()) + " input(s) but " + g_->what() +
                " takes " + std::to_string(g_->arguments()),
            "both networks take the labels (a conditional GAN) or neither does");
    require(!conditional_ || shape_.num_classes > 0,
            g_->what() + " takes class labels but the data has none",
            "train it on a labelled dataset, or drop the labels argument from forward()");
    torch::NoGradGuard no_grad;
    g_->train(false);
    d_->train(false);
    auto z = torch::linspace(-2.0, 2.0, n * latent_dim_).reshape({n, latent_dim_});
    auto labels = torch::tensor({int64_t(0), std::max<int64_t>(shape_.num_classes - 1, 0)});
    torch::Tensor x;
    try {
      x = generate(z, labels);
    } catch (const std::exception& e) {
      throw Error(g_->what() + " fails on z " + shape_of(z) + " (model.latent_dim = " + std::to_string(latent_dim_) +
                      "): " + error_line(e.what()),
                  "make G's input width match model.latent_dim, or set model.latent_dim to what G takes");
    }
    const std::vector<int64_t> want{n, shape_.channels, shape_.size, shape_.size};
    const std::string want_text = "[" + std::to_string(n) + ", " + std::to_string(shape_.channels) + ", " +
                                  std::to_string(shape_.size) + ", " + std::to_string(shape_.size) + "]";
    require(x.sizes().vec() == want,
            g_->what() + " returns " + shape_of(x) + " for z " + shape_of(z) + "; the data needs images " + want_text,
            "G must return [N, C, H, W] with the data's channels and size (data.channels, data.image_size)");
    require(x.scalar_type() == torch::kFloat32, g_->what() + " returns " + std::string(c10::toString(x.scalar_type())) +
                                                   " images", "return float32 images");
    const double peak = x.abs().max().item<double>();
    require(std::isfinite(peak) && peak <= 1.0 + 1e-4,
            g_->what() + " returns values outside [-1, 1] (largest |x| = " + std::to_string(peak) + ")",
            "end G with tanh: duel scales the data to [-1, 1]");
    torch::Tensor s;
    try {
      s = conditional_ ? d_->forward({x, labels}) : d_->forward({x});
    } catch (const std::exception& e) {
      throw Error(d_->what() + " fails on images " + want_text + ": " + error_line(e.what()),
                  "D must take the data's images [N, C, H, W] (check its flatten size for this image size)");
    }
    require(s.numel() == n && s.size(0) == n,
            d_->what() + " returns " + shape_of(s) + " for " + std::to_string(n) + " images",
            "D must return one raw score per image: [N] or [N, 1] (no sigmoid for the BCE losses)");
    g_->train(true);
    d_->train(true);
  }

  std::shared_ptr<ScriptedNet> g_, d_;
  std::map<std::string, std::string> files_;
  bool conditional_ = false;
};

std::unique_ptr<GanModel> make_scripted(const Config& cfg, const DataShape& shape) {
  const std::string gpath = cfg.get_string("model.generator"), dpath = cfg.get_string("model.discriminator");
  require(!gpath.empty() && !dpath.empty(),
          "model 'scripted' needs model.generator and model.discriminator (TorchScript files)",
          "save G and D from Python with torch.jit.save(torch.jit.script(net), 'G.pt') and set both keys");
  // Each file is read once: its bytes build the net and travel in every checkpoint.
  std::map<std::string, std::string> files{{gpath, read_model_file(gpath, "model.generator")},
                                           {dpath, read_model_file(dpath, "model.discriminator")}};
  auto g = ScriptedNet::load("model.generator", gpath, files.at(gpath));
  auto d = ScriptedNet::load("model.discriminator", dpath, files.at(dpath));
  return std::make_unique<ScriptedGan>(cfg, shape, std::move(g), std::move(d), std::move(files));
}

}  // namespace

DUEL_REGISTER_MODEL("scripted", "your own G and D from Python, as TorchScript files (model.generator, model.discriminator)",
                    make_scripted);

}  // namespace duel
