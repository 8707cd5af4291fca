// The metric functions of metrics.h. Each follows its paper's definition;
// the choices a paper leaves open are stated where they are made:
//
//  - covariances are unbiased (divide by N - 1), as in the reference FID code;
//  - the Frechet trace term uses the symmetric form S1^(1/2) S2 S1^(1/2),
//    whose eigenvalues equal those of S1 S2 but which eigh can decompose
//    stably (the reference code's scipy.linalg.sqrtm on the non-symmetric
//    product is known to return complex noise for near-singular inputs);
//  - KID and IS report the population standard deviation over subsets /
//    splits (numpy's np.std, as their reference implementations do);
//  - precision/recall count a point inside a ball when its distance is <= the
//    radius (Kynkaanniemi et al.), density/coverage when it is < the radius
//    (Naeem et al.'s code);
//  - FID is computed in double; the other metrics in the features' own
//    precision (float32 from the feature network, double in the tests), with
//    sums accumulated in double;
//  - pairwise distances are computed in row chunks, so 10,000 x 10,000 sets
//    never hold more than ~80 MB of distances at a time.
#include "duel/metrics/metrics.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ATen.h>  // at::linalg_eigh: the torch::linalg header moved between LibTorch versions

#include <algorithm>
#include <cmath>

#include "duel/core/error.h"

namespace duel {
namespace {

constexpr int64_t kChunk = 1024;

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// features [N, D]: defined, 2-D, floating, finite, N >= min_rows. Returns it as double.
torch::Tensor checked(const torch::Tensor& x, const std::string& what, int64_t min_rows, const std::string& metric) {
  require(x.defined(), metric + ": " + what + " are missing", "pass a feature matrix [N, D]");
  require(x.dim() == 2, metric + ": " + what + " must be a matrix [N, D], got shape " + shape_text(x),
          "flatten images with reshape({N, -1}) or pass the feature network's output");
  require(x.is_floating_point(), metric + ": " + what + " must be floating point", "convert with .to(torch::kFloat)");
  require(x.size(1) >= 1, metric + ": " + what + " have no columns", "pass a feature matrix [N, D] with D >= 1");
  require(x.size(0) >= min_rows,
          metric + " needs at least " + std::to_string(min_rows) + " " + what + " samples, got " +
              std::to_string(x.size(0)),
          "evaluate more samples (--n); FID and KID need thousands for a stable estimate");
  // double stays double (tests, FID); anything else is computed in float32, which halves
  // the time of the big distance and kernel products on 10,000-sample sets
  auto d = x.detach().to(torch::kCPU, x.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32)
               .contiguous();
  require(torch::isfinite(d).all().item<bool>(), metric + ": " + what + " contain NaN or infinite values",
          "the generator or the feature network produced non-finite outputs");
  return d;
}

void same_width(const torch::Tensor& a, const torch::Tensor& b, const std::string& metric) {
  require(a.size(1) == b.size(1),
          metric + ": feature sizes differ (" + std::to_string(a.size(1)) + " vs " + std::to_string(b.size(1)) + ")",
          "both sets must come from the same feature network (or the same image size)");
}

at::Generator private_generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

// Euclidean distances between rows of a [n, D] and b [m, D], double -> [n, m].
torch::Tensor distances(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& a_sq,
                        const torch::Tensor& b_sq) {
  auto d2 = a_sq.unsqueeze(1) + b_sq.unsqueeze(0) - 2.0 * torch::mm(a, b.t());
  return d2.clamp_min_(0.0).sqrt_();
}

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd r;
  for (double x : v) r.mean += x;
  r.mean /= double(v.size());
  double var = 0;
  for (double x : v) var += (x - r.mean) * (x - r.mean);
  r.std = std::sqrt(var / double(v.size()));
  return r;
}

}  // namespace

GaussianFit fit_gaussian(const torch::Tensor& features, const std::string& what) {
  auto x = checked(features, what, 2, "FID").to(torch::kFloat64);
  GaussianFit g;
  g.count = x.size(0);
  g.mean = x.mean(0);                                   // [D]
  auto centered = x - g.mean.unsqueeze(0);              // [N, D]
  g.cov = torch::mm(centered.t(), centered) / double(g.count - 1);  // [D, D]
  return g;
}

double frechet_distance(const GaussianFit& a, const GaussianFit& b) {
  require(a.mean.defined() && b.mean.defined() && a.cov.defined() && b.cov.defined(),
          "Frechet distance: a Gaussian fit is empty", "build fits with fit_gaussian()");
  require(a.mean.numel() == b.mean.numel() && a.cov.size(0) == a.mean.numel() && b.cov.size(0) == b.mean.numel(),
          "Frechet distance: feature sizes differ (" + std::to_string(a.mean.numel()) + " vs " +
              std::to_string(b.mean.numel()) + ")",
          "both fits must come from the same feature network");
  auto mu1 = a.mean.to(torch::kFloat64), mu2 = b.mean.to(torch::kFloat64);
  auto s1 = a.cov.to(torch::kFloat64), s2 = b.cov.to(torch::kFloat64);
  // S1^(1/2) = V diag(sqrt(max(w, 0))) V^T
  auto [w, v] = at::linalg_eigh(0.5 * (s1 + s1.t()), "L");
  auto sqrt_s1 = torch::mm(v * w.clamp_min(0.0).sqrt().unsqueeze(0), v.t());
  auto m = torch::mm(torch::mm(sqrt_s1, s2), sqrt_s1);
  auto eig = at::linalg_eigvalsh(0.5 * (m + m.t()), "L");
  const double trace_sqrt = eig.clamp_min(0.0).sqrt().sum().item<double>();
  const double mean_term = (mu1 - mu2).pow(2).sum().item<double>();
  const double d = mean_term + s1.trace().item<double>() + s2.trace().item<double>() - 2.0 * trace_sqrt;
  return std::max(d, 0.0);  // only round-off makes it negative
}

double fid(const torch::Tensor& real, const torch::Tensor& fake) {
  auto r = checked(real, "real", 2, "FID");
  auto f = checked(fake, "generated", 2, "FID");
  same_width(r, f, "FID");
  return frechet_distance(fit_gaussian(r, "real"), fit_gaussian(f, "generated"));
}

double mmd2_unbiased(const torch::Tensor& x_in, const torch::Tensor& y_in) {
  auto x = checked(x_in, "real", 2, "KID");
  auto y = checked(y_in, "generated", 2, "KID");
  same_width(x, y, "KID");
  const double d = double(x.size(1));
  const double m = double(x.size(0)), n = double(y.size(0));
  auto kernel = [d](const torch::Tensor& a, const torch::Tensor& b) {
    return (torch::mm(a, b.t()) / d + 1.0).pow(3);  // [n_a, n_b]
  };
  auto kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
  auto total = [](const torch::Tensor& k) { return k.sum(torch::kFloat64).item<double>(); };
  auto diag = [](const torch::Tensor& k) { return k.diagonal().sum(torch::kFloat64).item<double>(); };
  const double sxx = (total(kxx) - diag(kxx)) / (m * (m - 1));
  const double syy = (total(kyy) - diag(kyy)) / (n * (n - 1));
  const double sxy = total(kxy) / (m * n);
  return sxx + syy - 2.0 * sxy;
}

MeanStd kid(const torch::Tensor& real, const torch::Tensor& fake, const KidOptions& o) {
  auto r = checked(real, "real", 2, "KID");
  auto f = checked(fake, "generated", 2, "KID");
  same_width(r, f, "KID");
  require(o.subsets >= 1, "KID needs at least one subset", "set subsets >= 1");
  require(o.subset_size >= 2, "KID subsets need at least 2 samples", "set subset_size >= 2");
  const int64_t size = std::min({o.subset_size, r.size(0), f.size(0)});
  auto gen = private_generator(o.seed);
  std::vector<double> values;
  for (int64_t s = 0; s < o.subsets; ++s) {
    auto ir = torch::randperm(r.size(0), gen, torch::kInt64).slice(0, 0, size);
    auto jf = torch::randperm(f.size(0), gen, torch::kInt64).slice(0, 0, size);
    values.push_back(mmd2_unbiased(r.index_select(0, ir), f.index_select(0, jf)));
  }
  return mean_std(values);
}

MeanStd inception_score(const torch::Tensor& probs_in, int64_t splits) {
  require(splits >= 1, "Inception Score needs at least one split", "set splits >= 1");
  auto p = checked(probs_in, "class-probability", splits, "Inception Score").to(torch::kFloat64);
  require(p.size(1) >= 2, "Inception Score needs at least 2 classes, got " + std::to_string(p.size(1)),
          "the feature network has no usable classifier head");
  require((p >= 0).all().item<bool>() && ((p.sum(1) - 1.0).abs() < 1e-3).all().item<bool>(),
          "Inception Score: rows are not probability distributions (non-negative, summing to 1)",
          "pass softmax outputs, not logits");
  const int64_t n = p.size(0);
  std::vector<double> scores;
  for (int64_t s = 0; s < splits; ++s) {
    auto part = p.slice(0, s * n / splits, (s + 1) * n / splits);  // [n_s, K]
    auto marginal = part.mean(0, /*keepdim=*/true);                  // [1, K]
    // KL(p(y|x) || p(y)) per row, with 0 log 0 = 0
    auto kl = (torch::xlogy(part, part) - torch::xlogy(part, marginal.expand_as(part))).sum(1);
    scores.push_back(std::exp(kl.mean().item<double>()));
  }
  return mean_std(scores);
}

torch::Tensor knn_radii(const torch::Tensor& x_in, int64_t k) {
  require(k >= 1, "k-NN radii need k >= 1", "use k = 3 as Kynkaanniemi et al.");
  auto x = checked(x_in, "features", k + 1, "k-NN radius");
  auto sq = x.pow(2).sum(1);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < x.size(0); i += kChunk) {
    auto rows = x.slice(0, i, i + kChunk);
    auto d = distances(rows, x, sq.slice(0, i, i + kChunk), sq);  // [c, N]
    // the nearest "neighbour" is the row itself (distance 0): take the (k+1)-th smallest
    out.push_back(std::get<0>(d.topk(k + 1, 1, /*largest=*/false, /*sorted=*/true)).select(1, k));
  }
  return torch::cat(out);
}

ManifoldMetrics precision_recall(const torch::Tensor& real_in, const torch::Tensor& fake_in, int64_t k) {
  require(k >= 1, "precision/recall need k >= 1", "use k = 3 as Kynkaanniemi et al.");
  auto r = checked(real_in, "real", k + 1, "precision/recall");
  auto f = checked(fake_in, "generated", k + 1, "precision/recall");
  same_width(r, f, "precision/recall");
  auto r_radius = knn_radii(r, k), f_radius = knn_radii(f, k);  // [N], [M]
  auto r_sq = r.pow(2).sum(1), f_sq = f.pow(2).sum(1);
  const int64_t n = r.size(0), m = f.size(0);
  auto real_recalled = torch::zeros({n}, torch::kBool);
  auto nearest_fake = torch::full({n}, std::numeric_limits<double>::infinity(), r.options());
  int64_t precise = 0;
  double density_count = 0;
  for (int64_t j = 0; j < m; j += kChunk) {
    auto d = distances(f.slice(0, j, j + kChunk), r, f_sq.slice(0, j, j + kChunk), r_sq);  // [c, N]
    auto in_real_ball = d <= r_radius.unsqueeze(0);
    precise += in_real_ball.any(1).sum().item<int64_t>();
    density_count += double((d < r_radius.unsqueeze(0)).sum().item<int64_t>());
    real_recalled |= (d <= f_radius.slice(0, j, j + kChunk).unsqueeze(1)).any(0);
    nearest_fake = torch::minimum(nearest_fake, std::get<0>(d.min(0)));
  }
  ManifoldMetrics out;
  out.precision = double(precise) / double(m);
  out.recall = real_recalled.to(torch::kFloat64).mean().item<double>();
  out.density = density_count / (double(k) * double(m));
  out.coverage = (nearest_fake < r_radius).to(torch::kFloat64).mean().item<double>();
  return out;
}

double sliced_wasserstein(const torch::Tensor& x_in, const torch::Tensor& y_in, const SwdOptions& o) {
  require(o.projections >= 1, "sliced Wasserstein needs at least one projection", "set projections >= 1");
  auto x = checked(x_in, "real", 2, "sliced Wasserstein");
  auto y = checked(y_in, "generated", 2, "sliced Wasserstein");
  same_width(x, y, "sliced Wasserstein");
  auto gen = private_generator(o.seed);
  auto dirs = at::normal(0.0, 1.0, {x.size(1), o.projections}, gen, torch::TensorOptions(torch::kFloat64));
  dirs = (dirs / dirs.norm(2, 0, /*keepdim=*/true)).to(x.scalar_type());  // unit columns [D, P]
  auto px = std::get<0>(torch::mm(x, dirs).sort(0));  // [N, P], each column sorted
  auto py = std::get<0>(torch::mm(y, dirs).sort(0));  // [M, P]
  const int64_t m = std::min(px.size(0), py.size(0));
  auto quantiles = [m](const torch::Tensor& sorted) {
    const int64_t n = sorted.size(0);
    if (n == m) return sorted;
    // row i of the smaller set meets the larger set's sample at quantile (i + 0.5) / m
    auto idx = ((torch::arange(m, torch::kFloat64) + 0.5) * double(n) / double(m)).floor().to(torch::kInt64);
    return sorted.index_select(0, idx.clamp_max(n - 1));
  };
  return std::sqrt((quantiles(px) - quantiles(py)).pow(2).mean(torch::kFloat64).item<double>());
}

double class_accuracy(const torch::Tensor& probs, const torch::Tensor& requested) {
  auto p = checked(probs, "class-probability", 1, "class accuracy");
  require(requested.defined() && requested.dim() == 1 && requested.size(0) == p.size(0),
          "class accuracy needs one requested label per sample (" + std::to_string(p.size(0)) + ")",
          "pass the labels the generator was asked for");
  auto labels = requested.to(torch::kCPU, torch::kInt64);
  require(labels.numel() == 0 || (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < p.size(1)),
          "class accuracy: requested labels lie outside [0, " + std::to_string(p.size(1)) + ")",
          "the feature network and the generator must use the same classes");
  return p.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

}  // namespace duel
