// TrainingMonitor: reads the logged means of a run and says, in words, when
// they show the usual failure modes of adversarial training.
//
//  - divergence: a loss is not finite (the run must stop);
//  - discriminator overpowering: D(x) -> 1 and D(G(z)) -> 0 over a whole
//    window, so the generator's gradient vanishes;
//  - generator overpowering: D(G(z)) stays above D(x) over a whole window;
//  - mode collapse: the fixed-noise samples are far less diverse than real
//    images (mean pairwise distance ratio below 0.35, checked at each sample
//    grid from step 10 x window on, since a fresh generator's outputs are alike).
// Each warning kind is repeated at most once per window.
#pragma once
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace duel {

struct LoggedRow {
  int64_t step = 0;
  std::map<std::string, double> values;  // loss_d, loss_g, d_real, d_fake, ...
};

class TrainingMonitor {
 public:
  explicit TrainingMonitor(int64_t window = 100) : window_(window) {}
  // Returns the warnings this row raises (may be empty).
  std::vector<std::string> observe(const LoggedRow& row);
  // diversity_ratio = mean pairwise distance of samples / of real images.
  std::optional<std::string> observe_diversity(int64_t step, double diversity_ratio);
  // First non-finite value of a row, as "name=value", if any.
  static std::optional<std::string> non_finite(const LoggedRow& row);

 private:
  bool may_warn(const std::string& kind, int64_t step);
  int64_t window_;
  std::deque<LoggedRow> rows_;
  std::map<std::string, int64_t> last_warned_;
};

}  // namespace duel
