// Memorisation check (include/duel/metrics/memorisation.h): nearest training
// image of every sample and of every held-out image, in feature space.
//
// The search uses |q - p|^2 = |q|^2 + |p|^2 - 2 q.p in float, one chunk of
// queries against the whole pool at a time (10000 samples x 60000 training
// images x 128 dimensions is a few seconds on one core and at most
// chunk_elements distances in memory). The expansion loses precision when
// q and p nearly coincide, so only the choice of the neighbour comes from it:
// its distance is recomputed directly, in double.
#include "duel/metrics/memorisation.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "duel/core/error.h"

namespace duel {
namespace {

void check_features(const torch::Tensor& x, const std::string& what) {
  require(x.defined() && x.dim() == 2 && x.size(0) >= 1 && x.size(1) >= 1,
          "memorisation: " + what + " must be a feature matrix [N, D] with N, D >= 1",
          "pass the features of a feature network");
  require(x.is_floating_point(), "memorisation: " + what + " must be floating point", "convert with .to(torch::kFloat)");
  require(torch::isfinite(x).all().item<bool>(), "memorisation: " + what + " contain NaN or infinite values",
          "the generator or the feature network produced non-finite outputs");
}

double quantile_of(const torch::Tensor& x, double q) { return torch::quantile(x, q).item<double>(); }

}  // namespace

Nearest nearest_neighbours(const torch::Tensor& queries, const torch::Tensor& pool, int64_t chunk_elements) {
  check_features(queries, "queries");
  check_features(pool, "pool");
  require(queries.size(1) == pool.size(1),
          "memorisation: queries have " + std::to_string(queries.size(1)) + " dimensions, the pool " +
              std::to_string(pool.size(1)),
          "use features of one network for both");
  const auto q = queries.to(torch::kFloat32).contiguous();
  const auto p = pool.to(torch::kFloat32).contiguous();
  const auto p_sq = p.pow(2).sum(1);  // [M]
  const int64_t step = std::max<int64_t>(1, chunk_elements / p.size(0));
  std::vector<torch::Tensor> index;
  for (int64_t i = 0; i < q.size(0); i += step) {
    const auto qc = q.slice(0, i, std::min(i + step, q.size(0)));  // [c, D]
    // [c, M] squared distances up to the per-row constant |q|^2, which does not change the argmin
    const auto d = torch::addmm(p_sq.unsqueeze(0), qc, p.t(), /*beta=*/1, /*alpha=*/-2);
    index.push_back(d.argmin(1));
  }
  Nearest out;
  out.index = torch::cat(index);
  const auto diff = queries.to(torch::kFloat64) - pool.index_select(0, out.index).to(torch::kFloat64);
  out.distance = diff.pow(2).sum(1).sqrt();
  return out;
}

Memorisation memorisation(const torch::Tensor& samples, const torch::Tensor& held_out, const torch::Tensor& train,
                          const MemorisationOptions& o) {
  require(o.quantile > 0 && o.quantile < 1, "memorisation: the quantile must lie in (0, 1)", "use 0.01");
  require(o.warn_share > 0 && o.warn_share <= 1, "memorisation: warn_share must lie in (0, 1]", "use 0.05");
  require(o.pairs >= 0, "memorisation: pairs must be >= 0", "use 16");
  const Nearest gen = nearest_neighbours(samples, train);
  const Nearest real = nearest_neighbours(held_out, train);
  Memorisation m;
  m.samples = samples.size(0);
  m.held_out = held_out.size(0);
  m.train = train.size(0);
  m.threshold = quantile_of(real.distance, o.quantile);
  m.share = gen.distance.lt(m.threshold).to(torch::kFloat64).mean().item<double>();
  m.held_out_share = real.distance.lt(m.threshold).to(torch::kFloat64).mean().item<double>();
  m.median_sample = quantile_of(gen.distance, 0.5);
  m.median_held_out = quantile_of(real.distance, 0.5);
  m.exact_share = gen.distance.eq(0).to(torch::kFloat64).mean().item<double>();
  m.held_out_exact_share = real.distance.eq(0).to(torch::kFloat64).mean().item<double>();
  m.warn = m.share >= o.warn_share;
  // The closest pairs: samples ordered by their distance (ties by sample index).
  const auto dist = gen.distance.contiguous();
  const auto idx = gen.index.contiguous();
  const double* d = dist.data_ptr<double>();
  std::vector<int64_t> order(size_t(m.samples));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [d](int64_t a, int64_t b) { return d[a] < d[b]; });
  for (int64_t k = 0; k < std::min<int64_t>(o.pairs, m.samples); ++k) {
    const int64_t s = order[size_t(k)];
    m.closest.push_back({s, idx.data_ptr<int64_t>()[s], d[s]});
  }
  return m;
}

}  // namespace duel
