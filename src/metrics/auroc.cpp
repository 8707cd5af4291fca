// AUROC as the Mann-Whitney U statistic with average ranks for ties
// (include/duel/metrics/auroc.h). Moved here from the aae model so that
// anomaly scoring can report it without knowing which model scored.
#include "duel/metrics/auroc.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>

#include "duel/core/error.h"

namespace duel {

double auroc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  require(scores.size() == positive.size(), "AUROC: " + std::to_string(scores.size()) + " scores but " +
                                                std::to_string(positive.size()) + " labels",
          "pass one label per score");
  const size_t n = scores.size();
  for (double s : scores) require(std::isfinite(s), "AUROC: a score is not finite", "check the model's scores");
  const double n_pos = double(std::count(positive.begin(), positive.end(), true));
  const double n_neg = double(n) - n_pos;
  require(n_pos > 0 && n_neg > 0,
          "AUROC needs positives and negatives (" + std::to_string(int64_t(n_pos)) + " positive, " +
              std::to_string(int64_t(n_neg)) + " negative)",
          "score a split that holds both the anomaly class and other classes");
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Ranks 1..n; a run of equal scores shares the mean of its ranks.
  double rank_sum_pos = 0.0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) ++j;
    const double mean_rank = 0.5 * double(i + 1 + j + 1);
    for (size_t k = i; k <= j; ++k)
      if (positive[order[k]]) rank_sum_pos += mean_rank;
    i = j + 1;
  }
  const double u = rank_sum_pos - n_pos * (n_pos + 1) / 2.0;
  return u / (n_pos * n_neg);
}

}  // namespace duel
