// Nearest-name suggestions for mistyped keys, values, models and commands
// (include/duel/core/suggest.h).
#include "duel/core/suggest.h"

#include <algorithm>
#include <cctype>

namespace duel {

size_t name_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string nearest_name(const std::string& typed, const std::vector<std::string>& candidates) {
  std::string lower = typed;
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  const size_t limit = lower.size() <= 4 ? 1 : lower.size() <= 8 ? 2 : 3;
  std::string best;
  size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    const size_t dist = name_distance(lower, c);
    if (dist < best_d) best = c, best_d = dist;
  }
  return best;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates) {
  const std::string n = nearest_name(typed, candidates);
  return n.empty() ? "" : "did you mean '" + n + "'? ";
}

}  // namespace duel
