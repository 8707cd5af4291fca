// TrainingMonitor rules; thresholds are documented in docs/training.md.
#include "duel/train/monitor.h"

#include <cmath>
#include <sstream>

namespace duel {

std::optional<std::string> TrainingMonitor::non_finite(const LoggedRow& row) {
  for (const auto& [k, v] : row.values)
    if (!std::isfinite(v)) {
      std::ostringstream o;
      o << k << "=" << v;
      return o.str();
    }
  return std::nullopt;
}

bool TrainingMonitor::may_warn(const std::string& kind, int64_t step) {
  auto it = last_warned_.find(kind);
  if (it != last_warned_.end() && step - it->second < window_) return false;
  last_warned_[kind] = step;
  return true;
}

std::vector<std::string> TrainingMonitor::observe(const LoggedRow& row) {
  std::vector<std::string> out;
  rows_.push_back(row);
  while (!rows_.empty() && rows_.front().step <= row.step - window_) rows_.pop_front();
  // Judge only a full window, so one noisy row never raises a warning.
  if (rows_.size() < 2 || rows_.back().step - rows_.front().step < window_ / 2) return out;
  auto mean = [&](const std::string& k) {
    double s = 0;
    int n = 0;
    for (auto& r : rows_)
      if (auto it = r.values.find(k); it != r.values.end()) s += it->second, ++n;
    return n ? s / n : std::nan("");
  };
  const double d_real = mean("d_real"), d_fake = mean("d_fake");
  std::ostringstream o;
  o.precision(3);
  if (std::isfinite(d_real) && std::isfinite(d_fake)) {
    if (d_real > 0.95 && d_fake < 0.05 && may_warn("d_wins", row.step)) {
      o << "step " << row.step << ": the discriminator is winning outright (mean D(x)=" << d_real
        << ", D(G(z))=" << d_fake << " over " << window_ << " steps); training may diverge"
        << "\nhint: try a lower optim.d_lr, train.label_smoothing=0.1 or train.instance_noise=0.1";
      out.push_back(o.str());
      o.str("");
    }
    if (d_fake > d_real + 0.1 && d_fake > 0.6 && may_warn("g_wins", row.step)) {
      o << "step " << row.step << ": D(G(z))=" << d_fake << " exceeds D(x)=" << d_real << " over " << window_
        << " steps: the discriminator has stopped learning\nhint: try a higher optim.d_lr or train.d_steps=2";
      out.push_back(o.str());
    }
  }
  return out;
}

std::optional<std::string> TrainingMonitor::observe_diversity(int64_t step, double ratio) {
  // A fresh generator's outputs are all alike; judge diversity only once training is under way.
  if (step < 10 * window_ || !std::isfinite(ratio) || ratio >= 0.35 || !may_warn("collapse", step)) return std::nullopt;
  std::ostringstream o;
  o.precision(3);
  o << "step " << step << ": possible mode collapse: the fixed-noise samples are " << ratio
    << "x as diverse as real images\nhint: look at the latest grid; try a lower optim.g_lr or train.label_flip=0.05";
  return o.str();
}

}  // namespace duel
