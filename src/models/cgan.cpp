// cgan: the conditional GAN (Mirza & Osindero 2014) on DCGAN nets.
//
// G: the one-hot label is concatenated with z: [N, latent + classes] -> image.
// D (model.cgan_d):
//   projection (Miyato & Koyama 2018, default): h = trunk(x) [N, c, k, k];
//       D(x, y) = head(h) + <embed(y), sum_{spatial} h>
//   concat: the one-hot label is broadcast to K constant image planes and
//       concatenated with x before the first convolution.
// Fakes are drawn with the labels of the real batch they are paired with.
#include <torch/nn/functional/embedding.h>
#include <torch/nn/modules/embedding.h>

#include <cmath>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/models/dcgan.h"
#include "duel/models/two_player.h"
#include "duel/nn/onnx_modules.h"

namespace duel {

namespace nn = torch::nn;

namespace {

const bool keys_registered = [] {
  register_key({"model.cgan_d", ConfigType::String, std::string("projection"),
                "cgan: how D sees the label: projection (inner product with trunk features) or concat (label planes)",
                {}, {}, {"projection", "concat"}});
  return true;
}();

torch::Tensor one_hot(const torch::Tensor& labels, int64_t classes, const torch::TensorOptions& opts) {
  return nn::functional::one_hot(labels, classes).to(opts.dtype());  // [N, classes]
}

}  // namespace

class CganDiscriminatorImpl : public nn::Module {
 public:
  CganDiscriminatorImpl(const DcganOptions& o, int64_t classes, bool projection)
      : classes_(classes), projection_(projection) {
    DcganOptions d = o;
    if (!projection) d.extra_in(classes);
    net = register_module("net", DcganDiscriminator(d));
    if (projection) embed = register_module("embed", nn::Embedding(classes, net->feature_channels()));
  }
  // x [N, C, S, S], labels [N] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& labels) {
    if (!projection_) return net->forward(with_planes(x, labels));  // [N, C + K, S, S] -> [N, 1]
    auto h = net->features(x);                                            // [N, c, k, k]
    auto proj = (embed->forward(labels) * h.sum({2, 3})).sum(1, true);  // [N, 1]
    return net->head(h) + proj;
  }
  // x [N, C, S, S], labels [N] -> the trunk's features [N, c, k, k]
  torch::Tensor features(const torch::Tensor& x, const torch::Tensor& labels) {
    return net->features(projection_ ? x : with_planes(x, labels));
  }
  DcganDiscriminator net{nullptr};
  nn::Embedding embed{nullptr};

 private:
  // Concat conditioning: one constant plane per class, 1 for the image's label.
  torch::Tensor with_planes(const torch::Tensor& x, const torch::Tensor& labels) const {
    auto planes = one_hot(labels, classes_, x.options()).reshape({x.size(0), classes_, 1, 1})
                      .expand({x.size(0), classes_, x.size(2), x.size(3)});
    return torch::cat({x, planes}, 1);
  }
  int64_t classes_;
  bool projection_;
};
TORCH_MODULE(CganDiscriminator);

namespace {

class Cgan : public TwoPlayerGan {
 public:
  Cgan(const Config& cfg, const DataShape& shape, DcganGenerator g, CganDiscriminator d)
      : TwoPlayerGan(cfg, shape, g.ptr(), d.ptr(), {/*packs=*/false, /*features=*/true, /*minibatch=*/true}),
        g_(g),
        d_(d) {}
  std::string name() const override { return "cgan"; }
  bool needs_labels() const override { return true; }
  // The preview grid shows one class per row (the grid is ceil(sqrt(n)) images wide).
 protected:
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& labels) override {
    require(labels.defined(), "cgan needs class labels to generate", "pass --class to duel sample");
    // [N, latent] ++ [N, classes] -> [N, C, S, S]
    return g_->forward(torch::cat({z, one_hot(labels, shape_.num_classes, z.options())}, 1));
  }
  torch::Tensor discriminate(const torch::Tensor& x, const torch::Tensor& labels) override {
    return d_->forward(x, labels);
  }
  torch::Tensor discriminator_features(const torch::Tensor& x, const torch::Tensor& labels) override {
    return d_->features(x, labels).flatten(1);
  }
  std::string export_generate(onnx::Graph& graph, const std::string& z, const std::string& label) override {
    // one-hot: rows of the identity [K, K] picked by label [N] -> [N, K]; [N, latent] ++ [N, K] -> image
    auto one_hot = graph.gather_rows(graph.constant("one_hot_table", torch::eye(shape_.num_classes)), label);
    return onnx::export_module(graph, *g_, graph.cat({z, one_hot}, 1), "G");
  }

 private:
  DcganGenerator g_;
  CganDiscriminator d_;
};

std::unique_ptr<GanModel> make_cgan(const Config& cfg, const DataShape& shape) {
  require(shape.num_classes > 1, "model 'cgan' needs labelled data with at least 2 classes",
          "use fashion-mnist, mnist, cifar10 or an image folder with one subfolder per class");
  DcganOptions g(cfg.get_int("model.latent_dim"), shape.channels, shape.size);
  dcgan_stages(shape.size);  // validates the size before any allocation
  g.winograd(cfg.get_bool("perf.winograd"));
  DcganOptions d = g;
  g.width(cfg.get_int("model.g_width")).fast_convt(cfg.get_bool("perf.fast_convt")).extra_in(shape.num_classes);
  d.width(cfg.get_int("model.d_width")).spectral_norm(cfg.get_bool("model.spectral_norm")).norm(cfg.get_string("model.d_norm"))
      .dropout(cfg.get_float("model.d_dropout")).minibatch(minibatch_options(cfg));
  return std::make_unique<Cgan>(cfg, shape, DcganGenerator(g),
                                CganDiscriminator(d, shape.num_classes, cfg.get_string("model.cgan_d") == "projection"));
}

}  // namespace

DUEL_REGISTER_MODEL("cgan", "conditional GAN: label-conditioned DCGAN, projection or concat discriminator", make_cgan,
                    ModelDefaults{{"sample.grid", int64_t(100)}});

}  // namespace duel
