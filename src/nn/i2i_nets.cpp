// The image-to-image nets (include/duel/nn/i2i_nets.h): U-Net and PatchGAN
// (pix2pix), ResNet-block generator (CycleGAN), SRResNet and its
// discriminator (SRGAN), pixel shuffle and the history pool of fakes.
#include "duel/nn/i2i_nets.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/instancenorm.h>
#include <torch/nn/modules/padding.h>
#include <torch/nn/modules/pooling.h>

#include <algorithm>

#include "duel/core/error.h"
#include "duel/nn/onnx_modules.h"
#include "duel/nn/sync_batch_norm.h"

namespace duel {

namespace nn = torch::nn;

torch::Tensor pixel_shuffle(const torch::Tensor& x, int64_t r) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) % (r * r) == 0, "pixel_shuffle: ", x.sizes(), " with r = ", r);
  const int64_t n = x.size(0), c = x.size(1) / (r * r), h = x.size(2), w = x.size(3);
  return x.reshape({n, c, r, r, h, w})      // [N, C, i, j, H, W]
      .permute({0, 1, 4, 2, 5, 3})          // [N, C, H, i, W, j]
      .reshape({n, c, h * r, w * r});       // [N, C, H*r, W*r]
}

namespace {

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, bool bias = true) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(bias));
}

nn::ConvTranspose2d convt(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t out_pad,
                          bool bias = true) {
  return nn::ConvTranspose2d(
      nn::ConvTranspose2dOptions(in, out, k).stride(stride).padding(pad).output_padding(out_pad).bias(bias));
}

nn::LeakyReLU lrelu() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }

nn::InstanceNorm2d inorm(int64_t c) { return nn::InstanceNorm2d(nn::InstanceNorm2dOptions(c)); }

// A pixel-shuffle stage as a module of a Sequential.
struct PixelShuffleImpl : nn::Module, onnx::Exportable {
  explicit PixelShuffleImpl(int64_t r) : r(r) {}
  torch::Tensor forward(const torch::Tensor& x) { return duel::pixel_shuffle(x, r); }
  std::string export_onnx(onnx::Graph& graph, const std::string& x, const std::string&) const override {
    return graph.pixel_shuffle(x, r);
  }
  int64_t r;
};
TORCH_MODULE(PixelShuffle);

}  // namespace

// --- U-Net -------------------------------------------------------------------

int64_t unet_depth(int64_t size, int64_t requested) {
  require(size >= 2, "image size " + std::to_string(size) + " is too small for a U-Net", "use images of 16 px or more");
  if (requested > 0) {
    require(requested <= 10 && size % (int64_t(1) << requested) == 0,
            "a U-Net of depth " + std::to_string(requested) + " needs image sides divisible by " +
                std::to_string(int64_t(1) << std::min<int64_t>(requested, 10)) + ", and the images are " +
                std::to_string(size) + " px",
            "set data.image_size (or data.crop) to a multiple of it, or lower model.unet_depth");
    return requested;
  }
  int64_t d = 0;
  while (d < 8 && size % (int64_t(2) << d) == 0) ++d;
  require(d >= 2, "image size " + std::to_string(size) + " is not divisible by 4, which a U-Net needs",
          "set data.image_size (or data.crop) to a multiple of 4, e.g. 32");
  return d;
}

UnetGeneratorImpl::UnetGeneratorImpl(const UnetOptions& o) : options(o) {
  const int64_t d = o.depth(), w = o.width();
  require(d >= 1, "a U-Net needs depth >= 1", "set model.unet_depth");
  auto ch = [&](int64_t i) { return w * std::min<int64_t>(int64_t(1) << std::min<int64_t>(i, 3), 8); };
  down = register_module("down", nn::ModuleList());
  up = register_module("up", nn::ModuleList());
  for (int64_t i = 0; i < d; ++i) {
    nn::Sequential s;
    if (i == 0) {
      s->push_back(conv(o.in_channels(), ch(0), 4, 2, 1));
    } else {
      s->push_back(lrelu());
      const bool innermost = (i == d - 1);
      s->push_back(conv(ch(i - 1), ch(i), 4, 2, 1, /*bias=*/innermost));
      if (!innermost) s->push_back(SyncBatchNorm2d(ch(i)));
    }
    down->push_back(s);
  }
  // up[i] undoes down[i]: it reads the previous up step's output (plus down[i]'s, skipped across).
  for (int64_t i = 0; i < d; ++i) {
    nn::Sequential s;
    const int64_t in = (i == d - 1) ? ch(i) : 2 * ch(i);
    s->push_back(nn::ReLU());
    if (i == 0) {
      s->push_back(convt(in, o.out_channels(), 4, 2, 1, 0));
      s->push_back(nn::Tanh());
    } else {
      s->push_back(convt(in, ch(i - 1), 4, 2, 1, 0, /*bias=*/false));
      s->push_back(SyncBatchNorm2d(ch(i - 1)));
      if (o.dropout() > 0 && i < d - 1 && i >= d - 4) s->push_back(nn::Dropout(o.dropout()));
    }
    up->push_back(s);
  }
}

std::string UnetGeneratorImpl::export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const {
  const int64_t d = options.depth();
  std::vector<std::string> skips;
  std::string h = x;
  for (int64_t i = 0; i < d; ++i) {
    h = onnx::export_module(graph, *down->ptr(i), h, path + ".down." + std::to_string(i));
    skips.push_back(h);
  }
  std::string u = onnx::export_module(graph, *up->ptr(d - 1), skips[d - 1], path + ".up." + std::to_string(d - 1));
  for (int64_t i = d - 2; i >= 0; --i)
    u = onnx::export_module(graph, *up->ptr(i), graph.cat({u, skips[i]}, 1), path + ".up." + std::to_string(i));
  return u;
}

torch::Tensor UnetGeneratorImpl::forward(const torch::Tensor& x) {
  const int64_t d = options.depth();
  TORCH_CHECK(x.size(2) % (int64_t(1) << d) == 0 && x.size(3) % (int64_t(1) << d) == 0, "U-Net of depth ", d,
              " got ", x.sizes());
  std::vector<torch::Tensor> skips;
  torch::Tensor h = x;  // [N, in, S, S]
  for (int64_t i = 0; i < d; ++i) {
    h = down[i]->as<nn::Sequential>()->forward(h);  // [N, ch(i), S / 2^(i+1), ...]
    skips.push_back(h);
  }
  torch::Tensor u = up[d - 1]->as<nn::Sequential>()->forward(skips[d - 1]);  // [N, ch(d-2), S / 2^(d-1), ...]
  for (int64_t i = d - 2; i >= 0; --i)
    u = up[i]->as<nn::Sequential>()->forward(torch::cat({u, skips[i]}, 1));  // [N, ch(i-1) | out, S / 2^i, ...]
  return u;                                                                  // [N, out, S, S]
}

// --- PatchGAN ------------------------------------------------------------------

int64_t patch_layers(int64_t size, int64_t requested) {
  auto fits = [&](int64_t n) {
    int64_t s = size;
    for (int64_t i = 0; i < n; ++i) s /= 2;
    return s >= 3;
  };
  if (requested > 0) {
    require(fits(requested),
            "a PatchGAN with " + std::to_string(requested) + " stride-2 layers does not fit " + std::to_string(size) +
                " px images",
            "lower model.patch_layers or use larger images");
    return requested;
  }
  for (int64_t n = 3; n >= 1; --n)
    if (fits(n)) return n;
  throw Error("images of " + std::to_string(size) + " px are too small for a PatchGAN", "use images of 8 px or more");
}

PatchDiscriminatorImpl::PatchDiscriminatorImpl(const PatchOptions& o) : options(o) {
  const bool instance = o.norm() == "instance";
  require(instance || o.norm() == "batch", "unknown PatchGAN norm '" + o.norm() + "'", "use batch or instance");
  auto norm = [&](int64_t c) -> nn::AnyModule {
    return instance ? nn::AnyModule(inorm(c)) : nn::AnyModule(SyncBatchNorm2d(c));
  };
  auto ch = [&](int64_t i) { return o.width() * std::min<int64_t>(int64_t(1) << std::min<int64_t>(i, 3), 8); };
  body = nn::Sequential();
  body->push_back(conv(o.in_channels(), ch(0), 4, 2, 1));
  body->push_back(lrelu());
  for (int64_t i = 1; i < o.layers(); ++i) {
    body->push_back(conv(ch(i - 1), ch(i), 4, 2, 1, /*bias=*/instance));
    body->push_back(norm(ch(i)));
    body->push_back(lrelu());
  }
  body->push_back(conv(ch(o.layers() - 1), ch(o.layers()), 4, 1, 1, /*bias=*/instance));
  body->push_back(norm(ch(o.layers())));
  body->push_back(lrelu());
  body->push_back(conv(ch(o.layers()), 1, 4, 1, 1));
  register_module("body", body);
}

torch::Tensor PatchDiscriminatorImpl::forward(const torch::Tensor& x) {
  return body->forward(x);  // [N, in, S, S] -> [N, 1, S/2^layers - 2, S/2^layers - 2]
}

// --- ResNet-block generator ------------------------------------------------------

namespace {
struct ResBlockImpl : nn::Module, onnx::Exportable {
  explicit ResBlockImpl(int64_t c) {
    body = register_module(
        "body", nn::Sequential(nn::ReflectionPad2d(1), conv(c, c, 3, 1, 0), inorm(c), nn::ReLU(),
                               nn::ReflectionPad2d(1), conv(c, c, 3, 1, 0), inorm(c)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return x + body->forward(x); }  // [N, c, h, w]
  std::string export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const override {
    return graph.add(x, onnx::export_module(graph, *body, x, path + ".body"));
  }
  nn::Sequential body{nullptr};
};
TORCH_MODULE(ResBlock);
}  // namespace

ResnetGeneratorImpl::ResnetGeneratorImpl(const ResnetGenOptions& o) : options(o) {
  const int64_t w = o.width();
  head = register_module("head", nn::Sequential(nn::ReflectionPad2d(3), conv(o.in_channels(), w, 7, 1, 0), inorm(w),
                                                nn::ReLU(), conv(w, 2 * w, 3, 2, 1), inorm(2 * w), nn::ReLU(),
                                                conv(2 * w, 4 * w, 3, 2, 1), inorm(4 * w), nn::ReLU()));
  blocks = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < o.blocks(); ++i) blocks->push_back(ResBlock(4 * w));
  tail = register_module("tail", nn::Sequential(convt(4 * w, 2 * w, 3, 2, 1, 1), inorm(2 * w), nn::ReLU(),
                                                convt(2 * w, w, 3, 2, 1, 1), inorm(w), nn::ReLU(),
                                                nn::ReflectionPad2d(3), conv(w, o.out_channels(), 7, 1, 0), nn::Tanh()));
}

std::string ResnetGeneratorImpl::export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const {
  auto h = onnx::export_module(graph, *head, x, path + ".head");
  for (size_t i = 0; i < blocks->size(); ++i) h = onnx::export_module(graph, *blocks->ptr(i), h, path + ".blocks." + std::to_string(i));
  return onnx::export_module(graph, *tail, h, path + ".tail");
}

torch::Tensor ResnetGeneratorImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.size(2) % 4 == 0 && x.size(3) % 4 == 0, "ResNet generator got ", x.sizes());
  auto h = head->forward(x);  // [N, 4w, H/4, W/4]
  for (auto& b : *blocks) h = b->as<ResBlock>()->forward(h);
  return tail->forward(h);  // [N, out, H, W]
}

// --- image pool ---------------------------------------------------------------------

torch::Tensor ImagePool::query(const torch::Tensor& images) {
  if (capacity_ <= 0) return images;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < images.size(0); ++i) {
    auto img = images[i].detach();
    if (size() < capacity_) {
      images_ = images_.defined() ? torch::cat({images_, img.unsqueeze(0).clone()}) : img.unsqueeze(0).clone();
      out.push_back(img);
    } else if (torch::rand({1}).item<double>() < 0.5) {
      const int64_t k = torch::randint(capacity_, {1}).item<int64_t>();
      out.push_back(images_[k].clone());
      images_[k].copy_(img);
    } else {
      out.push_back(img);
    }
  }
  return torch::stack(out);  // [N, C, H, W]
}

void ImagePool::save(std::map<std::string, torch::Tensor>& out, const std::string& prefix) const {
  if (images_.defined()) out[prefix] = images_.to(torch::kCPU);
}

void ImagePool::load(const std::map<std::string, torch::Tensor>& in, const std::string& prefix) {
  auto it = in.find(prefix);
  if (it == in.end()) {
    images_ = torch::Tensor();
    return;
  }
  require(it->second.dim() == 4 && it->second.size(0) <= capacity_,
          "checkpoint entry '" + prefix + "' is not a pool of at most " + std::to_string(capacity_) + " images",
          "resume with the model.pool_size the run started with");
  images_ = it->second.clone();
}

// --- SRResNet ---------------------------------------------------------------------------

namespace {
struct SrBlockImpl : nn::Module, onnx::Exportable {
  explicit SrBlockImpl(int64_t c) {
    body = register_module("body", nn::Sequential(conv(c, c, 3, 1, 1, false), SyncBatchNorm2d(c),
                                                  nn::PReLU(nn::PReLUOptions().num_parameters(c)),
                                                  conv(c, c, 3, 1, 1, false), SyncBatchNorm2d(c)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return x + body->forward(x); }  // [N, c, h, w]
  std::string export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const override {
    return graph.add(x, onnx::export_module(graph, *body, x, path + ".body"));
  }
  nn::Sequential body{nullptr};
};
TORCH_MODULE(SrBlock);
}  // namespace

SrResnetImpl::SrResnetImpl(const SrResnetOptions& o) : options(o) {
  require(o.scale() == 2 || o.scale() == 4 || o.scale() == 8,
          "super-resolution scale " + std::to_string(o.scale()) + " is not supported", "set model.sr_scale to 2 or 4");
  const int64_t w = o.width();
  head = register_module("head", nn::Sequential(conv(o.channels(), w, 9, 1, 4),
                                                nn::PReLU(nn::PReLUOptions().num_parameters(w))));
  blocks = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < o.blocks(); ++i) blocks->push_back(SrBlock(w));
  mid = register_module("mid", nn::Sequential(conv(w, w, 3, 1, 1, false), SyncBatchNorm2d(w)));
  ups = register_module("ups", nn::ModuleList());
  for (int64_t s = o.scale(); s > 1; s /= 2)
    ups->push_back(nn::Sequential(conv(w, 4 * w, 3, 1, 1), PixelShuffle(2),
                                  nn::PReLU(nn::PReLUOptions().num_parameters(w))));
  tail = register_module("tail", nn::Sequential(conv(w, o.channels(), 9, 1, 4), nn::Tanh()));
}

std::string SrResnetImpl::export_onnx(onnx::Graph& graph, const std::string& x, const std::string& path) const {
  auto h0 = onnx::export_module(graph, *head, x, path + ".head");
  auto h = h0;
  for (size_t i = 0; i < blocks->size(); ++i) h = onnx::export_module(graph, *blocks->ptr(i), h, path + ".blocks." + std::to_string(i));
  h = graph.add(h0, onnx::export_module(graph, *mid, h, path + ".mid"));
  for (size_t i = 0; i < ups->size(); ++i) h = onnx::export_module(graph, *ups->ptr(i), h, path + ".ups." + std::to_string(i));
  return onnx::export_module(graph, *tail, h, path + ".tail");
}

torch::Tensor SrResnetImpl::forward(const torch::Tensor& x) {
  auto h0 = head->forward(x);  // [N, w, h, w]
  auto h = h0;
  for (auto& b : *blocks) h = b->as<SrBlock>()->forward(h);
  h = h0 + mid->forward(h);                                        // [N, w, h, w]
  for (auto& u : *ups) h = u->as<nn::Sequential>()->forward(h);  // x2 each
  return tail->forward(h);                                         // [N, C, h*scale, w*scale]
}

SrDiscriminatorImpl::SrDiscriminatorImpl(const SrDiscOptions& o) : options(o) {
  require(o.stages() >= 1 && o.stages() <= 6, "the SRGAN discriminator needs 1-6 stages",
          "set model.sr_d_stages");
  const int64_t w = o.width();
  body = nn::Sequential();
  body->push_back(conv(o.channels(), w, 3, 1, 1));
  body->push_back(lrelu());
  int64_t c = w;
  for (int64_t s = 0; s < o.stages(); ++s) {
    const int64_t next = w << s;
    if (s > 0) {
      body->push_back(conv(c, next, 3, 1, 1, false));
      body->push_back(SyncBatchNorm2d(next));
      body->push_back(lrelu());
    }
    body->push_back(conv(next, next, 3, 2, 1, false));
    body->push_back(SyncBatchNorm2d(next));
    body->push_back(lrelu());
    c = next;
  }
  body->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
  body->push_back(conv(c, 16 * w, 1, 1, 0));
  body->push_back(lrelu());
  body->push_back(conv(16 * w, 1, 1, 1, 0));
  register_module("body", body);
}

torch::Tensor SrDiscriminatorImpl::forward(const torch::Tensor& x) {
  return body->forward(x).flatten(1);  // [N, C, H, W] -> [N, 1]
}

}  // namespace duel
