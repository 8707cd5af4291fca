// LibTorch modules to ONNX nodes (include/duel/nn/onnx_modules.h): the
// module types of LibTorch's C++ API that duel's nets are built from, duel's
// SyncBatchNorm2d, and any module implementing onnx::Exportable. The graph
// and file format live in io/onnx (which knows no network type); this is the
// part that knows modules, so it sits in nn beside the modules it converts.
#include "duel/nn/onnx_modules.h"

#include <torch/nn/functional/instancenorm.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/padding.h>

#include "duel/nn/sync_batch_norm.h"

namespace duel::onnx {

namespace nn = torch::nn;

namespace {

template <size_t D>
std::vector<int64_t> vec(const torch::ExpandingArray<D>& a) {
  return std::vector<int64_t>(a->begin(), a->end());
}

std::vector<int64_t> twice(const std::vector<int64_t>& v) {  // ONNX pads: all begins, then all ends
  std::vector<int64_t> out = v;
  out.insert(out.end(), v.begin(), v.end());
  return out;
}

std::string type_name(const torch::nn::Module& m) { return m.name(); }

// BatchNorm1d/2d in eval mode: the running statistics.
template <typename BN>
std::string batch_norm(Graph& g, const BN& bn, const std::string& x, const std::string& path) {
  if (!bn.options.track_running_stats())
    g.unsupported("a batch norm without running statistics (track_running_stats=false)", path);
  const int64_t c = bn.options.num_features();
  auto scale = bn.options.affine() ? bn.weight : torch::ones({c});
  auto shift = bn.options.affine() ? bn.bias : torch::zeros({c});
  return g.node("BatchNormalization",
                {x, g.constant("bn_scale", scale), g.constant("bn_bias", shift), g.constant("bn_mean", bn.running_mean),
                 g.constant("bn_var", bn.running_var)},
                {Attribute::f("epsilon", float(bn.options.eps()))});
}

}  // namespace

std::string export_module(Graph& g, const torch::nn::Module& m, const std::string& x, const std::string& path) {
  if (const auto* e = dynamic_cast<const Exportable*>(&m)) return e->export_onnx(g, x, path);
  if (const auto* seq = dynamic_cast<const nn::SequentialImpl*>(&m)) {
    std::string h = x;
    for (const auto& item : seq->named_children()) h = export_module(g, *item.value(), h, path + "." + item.key());
    return h;
  }
  if (const auto* l = dynamic_cast<const nn::LinearImpl*>(&m)) {
    // x [N, in] -> x W^T + b [N, out]
    std::vector<std::string> in{x, g.constant("linear_weight", l->weight)};
    if (l->options.bias()) in.push_back(g.constant("linear_bias", l->bias));
    return g.node("Gemm", in, {Attribute::i("transB", 1)});
  }
  if (const auto* c = dynamic_cast<const nn::Conv2dImpl*>(&m)) {
    const auto& o = c->options;
    if (!c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()))
      g.unsupported("a Conv2d with padding_mode " + torch::enumtype::get_enum_name(o.padding_mode()), path);
    const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
    if (!pad) g.unsupported("a Conv2d with 'same' or 'valid' padding", path);
    std::vector<std::string> in{x, g.constant("conv_weight", c->weight)};
    if (o.bias()) in.push_back(g.constant("conv_bias", c->bias));
    return g.node("Conv", in,
                {Attribute::ints("kernel_shape", vec(o.kernel_size())), Attribute::ints("strides", vec(o.stride())),
                 Attribute::ints("pads", twice(vec(*pad))), Attribute::ints("dilations", vec(o.dilation())),
                 Attribute::i("group", o.groups())});
  }
  if (const auto* c = dynamic_cast<const nn::ConvTranspose2dImpl*>(&m)) {
    const auto& o = c->options;
    const auto* pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
    if (!pad || !c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()))
      g.unsupported("a ConvTranspose2d with non-zero padding mode", path);
    // weight [in, out/groups, kH, kW] in both LibTorch and ONNX
    std::vector<std::string> in{x, g.constant("convt_weight", c->weight)};
    if (o.bias()) in.push_back(g.constant("convt_bias", c->bias));
    return g.node("ConvTranspose", in,
                {Attribute::ints("kernel_shape", vec(o.kernel_size())), Attribute::ints("strides", vec(o.stride())),
                 Attribute::ints("pads", twice(vec(*pad))), Attribute::ints("output_padding", vec(o.output_padding())),
                 Attribute::ints("dilations", vec(o.dilation())), Attribute::i("group", o.groups())});
  }
  if (const auto* bn = dynamic_cast<const nn::BatchNorm2dImpl*>(&m)) return batch_norm(g, *bn, x, path);
  if (const auto* bn = dynamic_cast<const nn::BatchNorm1dImpl*>(&m)) return batch_norm(g, *bn, x, path);
  if (const auto* bn = dynamic_cast<const SyncBatchNorm2dImpl*>(&m)) return batch_norm(g, *bn, x, path);
  if (const auto* in = dynamic_cast<const nn::InstanceNorm2dImpl*>(&m)) {
    // LibTorch's default (no running statistics): every image normalised by its own statistics, in eval too.
    const auto& o = in->options;
    if (o.track_running_stats()) g.unsupported("an InstanceNorm2d with running statistics", path);
    const int64_t c = o.num_features();
    auto scale = o.affine() ? in->weight : torch::ones({c});
    auto shift = o.affine() ? in->bias : torch::zeros({c});
    return g.node("InstanceNormalization", {x, g.constant("in_scale", scale), g.constant("in_bias", shift)},
                {Attribute::f("epsilon", float(o.eps()))});
  }
  if (dynamic_cast<const nn::ReLUImpl*>(&m)) return g.node("Relu", {x});
  if (const auto* l = dynamic_cast<const nn::LeakyReLUImpl*>(&m))
    return g.node("LeakyRelu", {x}, {Attribute::f("alpha", float(l->options.negative_slope()))});
  if (const auto* p = dynamic_cast<const nn::PReLUImpl*>(&m)) {
    // slope [C] -> [C, 1, 1]: broadcast over [N, C, H, W] as LibTorch's per-channel PReLU
    auto slope = p->weight.numel() == 1 ? p->weight.reshape({1}) : p->weight.reshape({-1, 1, 1});
    return g.node("PRelu", {x, g.constant("prelu_slope", slope)});
  }
  if (dynamic_cast<const nn::TanhImpl*>(&m)) return g.node("Tanh", {x});
  if (dynamic_cast<const nn::SigmoidImpl*>(&m)) return g.node("Sigmoid", {x});
  if (dynamic_cast<const nn::DropoutImpl*>(&m) || dynamic_cast<const nn::Dropout2dImpl*>(&m) ||
      dynamic_cast<const nn::IdentityImpl*>(&m))
    return x;  // identity in eval mode
  if (const auto* p = dynamic_cast<const nn::ReflectionPad2dImpl*>(&m)) {
    const auto pad = vec(p->options.padding());  // left, right, top, bottom
    return g.node("Pad", {x, g.constant("pads", torch::tensor({0L, 0L, pad[2], pad[0], 0L, 0L, pad[3], pad[1]}))},
                {Attribute::s("mode", "reflect")});
  }
  if (const auto* p = dynamic_cast<const nn::ZeroPad2dImpl*>(&m)) {
    const auto pad = vec(p->options.padding());
    return g.node("Pad", {x, g.constant("pads", torch::tensor({0L, 0L, pad[2], pad[0], 0L, 0L, pad[3], pad[1]}))});
  }
  g.unsupported("module " + type_name(m), path);
}

}  // namespace duel::onnx
