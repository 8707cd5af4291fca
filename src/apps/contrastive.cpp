// SimCLR on FeatureNet; see apps/contrastive.h.
#include "duel/apps/contrastive.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"

namespace duel {

namespace F = torch::nn::functional;

torch::Tensor contrastive_view(const torch::Tensor& x, at::Generator& gen) {
  const int64_t b = x.size(0);
  auto u = [&](double lo, double hi) { return torch::rand({b}, gen) * (hi - lo) + lo; };
  // Random resized crop: a window of 40-100 % of the area, aspect 3/4 to 4/3, anywhere inside; flipped half the time.
  auto area = u(0.4, 1.0), log_aspect = u(std::log(3.0 / 4.0), std::log(4.0 / 3.0));
  auto sx = torch::sqrt(area * torch::exp(log_aspect)).clamp_max(1.0), sy = torch::sqrt(area / torch::exp(log_aspect)).clamp_max(1.0);
  auto tx = (u(-1, 1)) * (1 - sx), ty = (u(-1, 1)) * (1 - sy);
  auto flip = torch::where(torch::rand({b}, gen) < 0.5, torch::full({b}, -1.0), torch::ones({b}));
  auto zero = torch::zeros({b});
  auto theta = torch::stack({torch::stack({sx * flip, zero, tx}, 1), torch::stack({zero, sy, ty}, 1)}, 1);  // [B, 2, 3]
  auto grid = F::affine_grid(theta, x.sizes().vec(), false);
  auto v = F::grid_sample(x, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kReflection).align_corners(false));
  // Colour jitter in [0, 1]: brightness and contrast +-40 %, saturation +-40 % (colour), then grayscale for 20 % (colour).
  v = (v + 1) * 0.5;
  auto per = [&](const torch::Tensor& t) { return t.view({b, 1, 1, 1}); };
  v = v * per(u(0.6, 1.4));
  auto mean = v.mean({1, 2, 3}, true);
  v = (v - mean) * per(u(0.6, 1.4)) + mean;
  if (x.size(1) == 3) {
    auto grey = (v.select(1, 0) * 0.299 + v.select(1, 1) * 0.587 + v.select(1, 2) * 0.114).unsqueeze(1);
    v = (v - grey) * per(u(0.6, 1.4)) + grey;
    auto to_grey = per((torch::rand({b}, gen) < 0.2).to(torch::kFloat32));
    v = v * (1 - to_grey) + grey.expand_as(v) * to_grey;
  }
  return v.clamp(0, 1) * 2 - 1;
}

torch::Tensor nt_xent(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  const int64_t b = z1.size(0);
  auto z = F::normalize(torch::cat({z1, z2}), F::NormalizeFuncOptions().dim(1));
  auto sim = torch::mm(z, z.t()) / temperature;
  sim = sim.masked_fill(torch::eye(2 * b, torch::kBool), -1e9);  // a view is not its own pair
  auto target = torch::cat({torch::arange(b, 2 * b), torch::arange(0, b)});
  return F::cross_entropy(sim, target);
}

FeatureNet fit_contrastive(const ImageSet& train, const FeatureTrainOptions& o, const std::function<void(const std::string&)>& info) {
  require(train.size() >= o.batch_size && o.batch_size >= 2, "contrastive training needs a batch of >= 2 images and as many images",
          "lower --batch (128 suits 2 cores) or use more images");
  require(o.temperature > 0, "the contrastive temperature must be > 0", "use --temperature 0.2");
  torch::manual_seed(o.seed);
  FeatureNet net(FeatureNetOptions(train.images.size(1), train.images.size(2), 0));
  auto projection = torch::nn::Sequential(torch::nn::Linear(net->options.feature_dim(), 256), torch::nn::ReLU(),
                                          torch::nn::Linear(256, 64));
  auto params = net->parameters();
  for (auto& p : projection->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(o.lr).weight_decay(1e-6));
  FeatureSchedule sched = feature_schedule(train, o);
  const int64_t total = sched.total;
  auto& gen = sched.gen;
  const auto t0 = std::chrono::steady_clock::now();
  net->train();
  double loss_sum = 0, seen = 0;
  for (int64_t step = 0; step < total; ++step) {
    Batch b = sched.loader->next();
    sched.set_lr(opt, o, step);
    torch::Tensor v1, v2;
    {
      torch::NoGradGuard no_grad;
      v1 = contrastive_view(b.images, gen), v2 = contrastive_view(b.images, gen);
    }
    // Both views in one pass, so batch norm sees them together.
    auto f = net->features(torch::cat({v1, v2}));
    auto z = projection->forward(f);
    auto loss = nt_xent(z.slice(0, 0, b.images.size(0)), z.slice(0, b.images.size(0)), o.temperature);
    opt.zero_grad();
    loss.backward();
    opt.step();
    loss_sum += loss.item<double>();
    seen += 1;
    if (info && ((step + 1) % 50 == 0 || step + 1 == total)) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char line[160];
      std::snprintf(line, sizeof line, "step %lld/%lld epoch %lld nt-xent %.4f | %.0f s", (long long)(step + 1), (long long)total,
                    (long long)b.epoch, loss_sum / seen, s);
      info(line);
      loss_sum = seen = 0;
    }
  }
  net->eval();
  return net;
}

torch::Tensor knn_predict(const torch::Tensor& train_f, const torch::Tensor& train_y, const torch::Tensor& query_f, int64_t k) {
  require(train_f.size(0) >= k && k >= 1, "k-NN needs at least k train rows");
  const int64_t classes = train_y.max().item<int64_t>() + 1;
  auto a = train_f.to(torch::kFloat32);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < query_f.size(0); i += 500) {
    auto q = query_f.slice(0, i, i + 500).to(torch::kFloat32);
    auto nn = std::get<1>(torch::cdist(q, a).topk(k, 1, false));  // [q, k]
    auto votes = torch::zeros({q.size(0), classes}).scatter_add_(1, train_y.index({nn.reshape(-1)}).view({q.size(0), k}),
                                                                 torch::ones({q.size(0), k}));
    out.push_back(votes.argmax(1));
  }
  return out.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(out);
}

double knn_accuracy(const torch::Tensor& train_f, const torch::Tensor& train_y, const torch::Tensor& test_f,
                    const torch::Tensor& test_y, int64_t k) {
  require(test_f.size(0) > 0, "k-NN accuracy needs a test row");
  return knn_predict(train_f, train_y, test_f, k).eq(test_y).to(torch::kFloat64).mean().item<double>();
}

}  // namespace duel
