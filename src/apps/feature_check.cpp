// `duel features check`; see apps/feature_check.h.
#include "duel/apps/feature_check.h"

#include <cmath>
#include <cstdio>

#include "duel/apps/contrastive.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/metrics/metrics.h"

namespace duel {

namespace F = torch::nn::functional;

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
  const int64_t r = std::max<int64_t>(1, int64_t(std::ceil(3 * sigma))), c = x.size(1);
  auto t = torch::arange(-r, r + 1, torch::kFloat32);
  auto k = torch::exp(-t * t / (2 * sigma * sigma));
  k = k / k.sum();
  auto kx = k.view({1, 1, 1, -1}).repeat({c, 1, 1, 1}), ky = k.view({1, 1, -1, 1}).repeat({c, 1, 1, 1});
  auto y = F::pad(x, F::PadFuncOptions({r, r, r, r}).mode(torch::kReflect));
  y = F::conv2d(y, kx, F::Conv2dFuncOptions().groups(c));
  return F::conv2d(y, ky, F::Conv2dFuncOptions().groups(c));
}

torch::Tensor shuffle_patches(const torch::Tensor& x, int64_t k, at::Generator& gen) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2) / 4, w = x.size(3) / 4;
  require(x.size(2) % 4 == 0 && x.size(3) % 4 == 0, "patch shuffling needs sides divisible by 4");
  // [N, C, 4, h, 4, w] -> cells [N, 16, C, h, w]
  auto cells = x.reshape({n, c, 4, h, 4, w}).permute({0, 2, 4, 1, 3, 5}).reshape({n, 16, c, h, w}).clone();
  for (int64_t i = 0; i < n; ++i) {
    auto pick = torch::randperm(16, gen).slice(0, 0, k);
    auto rolled = pick.roll(1);
    cells[i].index_put_({pick}, cells[i].index_select(0, rolled));
  }
  return cells.reshape({n, 4, 4, c, h, w}).permute({0, 3, 1, 4, 2, 5}).reshape(x.sizes());
}

torch::Tensor kmeans(const torch::Tensor& features, int64_t k, at::Generator& gen) {
  auto x = features.to(torch::kFloat32);
  const int64_t n = x.size(0);
  require(n >= k, "k-means needs at least k rows");
  std::vector<int64_t> chosen{torch::randint(n, {1}, gen).item<int64_t>()};
  auto d2 = torch::cdist(x, x.index_select(0, torch::tensor(chosen))).pow(2).amin(1);
  while (int64_t(chosen.size()) < k) {  // k-means++: the next centre with probability ~ squared distance
    chosen.push_back(torch::multinomial(d2 + 1e-12, 1, false, gen).template item<int64_t>());
    d2 = torch::minimum(d2, torch::cdist(x, x.index_select(0, torch::tensor({chosen.back()}))).pow(2).squeeze(1));
  }
  auto centres = x.index_select(0, torch::tensor(chosen));
  torch::Tensor assign;
  for (int it = 0; it < 30; ++it) {
    assign = torch::cdist(x, centres).argmin(1);
    for (int64_t j = 0; j < k; ++j) {
      auto m = assign.eq(j);
      if (m.any().item<bool>()) centres[j] = x.index({m}).mean(0);
    }
  }
  return assign;
}

namespace {

torch::Tensor to_u8(const torch::Tensor& x) { return x.add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8); }

}  // namespace

FeatureCheckResult check_feature_net(const FeatureCheckOptions& o, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  auto net = load_feature_extractor(o.features);
  Config cfg;
  cfg.set("data.dataset", o.dataset);
  cfg.set("data.path", o.data_path);
  cfg.set("data.image_size", o.image_size);
  cfg.set("data.channels", o.channels);
  cfg.set("data.only_class", o.only_class);
  ImageSet train = open_single_dataset(cfg, "train"), test = open_single_dataset(cfg, "test");
  require(train.size() >= 20 && test.size() >= 20, "dataset '" + o.dataset + "' has too few images for a check",
          "use a dataset with at least 20 train and 20 test images");
  auto gen = at::detail::createCPUGenerator(o.seed);
  const int64_t nt = std::min(o.n, train.size()), nr = std::min(o.n, test.size());
  const auto compared = train.images.index_select(0, torch::randperm(train.size(), gen).slice(0, 0, nt)).contiguous();
  const auto reference = test.images.slice(0, 0, nr).contiguous();
  FeatureCheckResult r;
  r.identity = net->identity();
  r.reference = test.description + ", first " + std::to_string(nr);
  r.compared = train.description + ", " + std::to_string(nt) + " drawn with seed " + std::to_string(o.seed);
  r.reference_n = nr, r.compared_n = nt;
  const auto ref_f = net->extract(reference).features;
  KidOptions ko;
  ko.subset_size = std::min<int64_t>(1000, std::min(nr, nt));
  ko.seed = o.seed;
  auto score = [&](const torch::Tensor& images_u8, double& f, double& k) {
    const auto feats = net->extract(images_u8).features;
    f = fid(ref_f, feats);
    k = kid(ref_f, feats, ko).mean;
  };
  const auto compared_f = net->extract(compared).features;  // the floor's, and the clusters'
  r.floor_fid = fid(ref_f, compared_f);
  r.floor_kid = kid(ref_f, compared_f, ko).mean;
  say("floor: FID " + std::to_string(r.floor_fid));
  const auto x = to_unit_range(compared);
  const auto clusters = kmeans(compared_f, 10, gen);
  auto add_row = [&](const std::string& name, const std::vector<std::string>& labels,
                     const std::function<torch::Tensor(size_t)>& corrupt) {
    CorruptionRow row;
    row.name = name;
    row.strengths = labels;
    double last = r.floor_fid;
    row.monotone = true;
    for (size_t i = 0; i < labels.size(); ++i) {
      double f = 0, k = 0;
      score(corrupt(i), f, k);
      row.fid.push_back(f), row.kid.push_back(k);
      row.monotone = row.monotone && f > last;
      last = f;
      say(name + " " + labels[i] + ": FID " + std::to_string(f));
    }
    r.rows.push_back(row);
  };
  const double sigmas[] = {0.05, 0.1, 0.2, 0.4}, blurs[] = {0.5, 1.0, 1.5, 2.0};
  const int64_t cells[] = {2, 4, 8, 16}, drops[] = {1, 2, 3, 5};
  add_row("noise", {"σ 0.05", "σ 0.1", "σ 0.2", "σ 0.4"}, [&](size_t i) {
    return to_u8(x + sigmas[i] * torch::randn(x.sizes(), gen));
  });
  add_row("blur", {"σ 0.5 px", "σ 1 px", "σ 1.5 px", "σ 2 px"}, [&](size_t i) { return to_u8(gaussian_blur(x, blurs[i])); });
  add_row("shuffle", {"2 of 16 cells", "4 of 16", "8 of 16", "16 of 16"}, [&](size_t i) {
    return to_u8(shuffle_patches(x, cells[i], gen));
  });
  add_row("drop-clusters", {"1 of 10 clusters", "2 of 10", "3 of 10", "5 of 10"}, [&](size_t i) {
    auto keep = clusters.ge(drops[i]).nonzero().reshape(-1);  // clusters 0..k-1 dropped
    auto fill = keep.index_select(0, torch::randint(keep.numel(), {nt}, gen));
    auto idx = torch::where(clusters.ge(drops[i]), torch::arange(nt), fill);
    return compared.index_select(0, idx);
  });
  if (train.has_labels() && test.has_labels())
    r.knn_accuracy = knn_accuracy(net->extract(train.images).features, train.labels, net->extract(test.images).features,
                                  test.labels, 5);
  return r;
}

std::string feature_check_markdown(const FeatureCheckResult& r) {
  char line[512];
  std::string s;
  std::snprintf(line, sizeof line, "feature network %s (hash %s, %s)\nreference: %s\ncompared:  %s\n\n",
                r.identity.path.c_str(), r.identity.hash.c_str(), r.identity.dataset.c_str(), r.reference.c_str(), r.compared.c_str());
  s += line;
  s += "| corruption | strength 1 | strength 2 | strength 3 | strength 4 | FID grows |\n|---|---|---|---|---|---|\n";
  std::snprintf(line, sizeof line, "| none (floor) | FID %.3f, KID %.4f | | | | |\n", r.floor_fid, r.floor_kid);
  s += line;
  for (const auto& row : r.rows) {
    s += "| " + row.name + " |";
    for (size_t i = 0; i < row.fid.size(); ++i) {
      std::snprintf(line, sizeof line, " %s: %.2f |", row.strengths[i].c_str(), row.fid[i]);
      s += line;
    }
    s += row.monotone ? " yes |\n" : " **no** |\n";
  }
  if (r.knn_accuracy >= 0) {
    std::snprintf(line, sizeof line, "\n5-NN accuracy of the features (train -> test labels): %.4f\n", r.knn_accuracy);
    s += line;
  }
  return s;
}

}  // namespace duel
