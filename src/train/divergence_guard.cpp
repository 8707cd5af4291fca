// The divergence guard and NaN injection (include/duel/train/divergence_guard.h):
// its config keys, the per-step finiteness check of the losses, the weights
// check, and the give-up message with the advice that follows a spent limit.
#include "duel/train/divergence_guard.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/train/run_logs.h"

namespace duel {

namespace {
const bool reliability_keys_registered = [] {
  register_key({"train.nan_rollbacks", ConfigType::Int, int64_t(3),
                "on a non-finite loss or weight, roll back to the last good checkpoint with the learning rates "
                "halved, at most this many times (0: stop at once)",
                0, 1000, {}});
  register_key({"debug.inject_nan_step", ConfigType::Int, int64_t(0),
                "testing aid: multiply a weight of the first net by NaN just before this step (0: never)", 0, 1.0e12,
                {}});
  register_key({"debug.inject_nan_count", ConfigType::Int, int64_t(1),
                "testing aid: how many times debug.inject_nan_step fires (each pass over that step, e.g. after a "
                "rollback, counts once)",
                1, 1000000, {}});
  return true;
}();
}  // namespace

DivergenceGuard::DivergenceGuard(const Config& cfg)
    : max_rollbacks_(cfg.get_int("train.nan_rollbacks")),
      inject_step_(cfg.get_int("debug.inject_nan_step")),
      injections_left_(cfg.get_int("debug.inject_nan_count")) {}

void DivergenceGuard::maybe_inject(GanModel& model, int64_t step) {
  if (inject_step_ <= 0 || step + 1 != inject_step_ || injections_left_ <= 0) return;
  --injections_left_;
  torch::NoGradGuard no_grad;
  auto params = model.nets().front().second->parameters();
  if (!params.empty()) params.front().mul_(std::numeric_limits<float>::quiet_NaN());
}

void DivergenceGuard::observe(const std::vector<std::pair<std::string, torch::Tensor>>& s) {
  // One fused reduction, no host sync.
  std::vector<torch::Tensor> v;
  v.reserve(s.size());
  for (auto& kv : s) v.push_back(kv.second.detach().reshape({}).to(torch::kFloat32));
  auto finite = v.empty() ? torch::ones({}, torch::kBool) : torch::isfinite(torch::stack(v)).all();
  pending_finite_ = pending_finite_.defined() ? pending_finite_.logical_and(finite) : finite;
}

bool DivergenceGuard::pending_ok() {
  const bool ok = pending_finite_.item<bool>();
  pending_finite_ = torch::Tensor();
  return ok;
}

std::string DivergenceGuard::first_non_finite(const std::vector<std::pair<std::string, torch::Tensor>>& s) {
  for (auto& [k, v] : s) {
    const double x = v.item<double>();
    if (!std::isfinite(x)) {
      std::ostringstream o;
      o << k << "=" << x;
      return o.str();
    }
  }
  return "a loss is not finite";
}

std::string DivergenceGuard::non_finite_nets(GanModel& model) {
  std::string out;
  for (auto& [name, net] : model.nets())
    for (auto& p : net->parameters())
      if (!torch::isfinite(p).all().item<bool>()) {
        out += (out.empty() ? "" : ", ") + name;
        break;
      }
  return out;
}

void DivergenceGuard::give_up_if_spent(const TrainState& st, const std::string& detail, bool on_disk,
                                       const std::string& run_dir, TrainLogs& logs) const {
  if (st.rollbacks < max_rollbacks_) return;
  const int64_t at = st.step;
  logs.event({{"event", "diverged"}, {"step", at}, {"value", detail}, {"rollbacks", st.rollbacks}});
  const std::string saved = on_disk ? "the last checkpoint is intact and nothing non-finite was saved"
                                    : "no checkpoint had been written yet, and none was";
  const std::string advice = "lower optim.g_lr / optim.d_lr or add train.label_smoothing / train.instance_noise";
  const std::string hint = on_disk ? advice + ", then resume: `duel train --resume " + run_dir +
                                         " --set optim.g_lr=... --set optim.d_lr=...`"
                                   : advice + ", and start the run again (with --force)";
  if (max_rollbacks_ == 0)
    throw Error("training diverged at step " + std::to_string(at) + ": " + detail + " (train.nan_rollbacks = 0: " +
                    "no rollback); " + saved,
                hint);
  throw Error("training diverged at step " + std::to_string(at) + ": " + detail + ", after " +
                  std::to_string(st.rollbacks) + " rollback(s) with the learning rates halved each time (limit "
                  "train.nan_rollbacks = " + std::to_string(max_rollbacks_) + "); " + saved,
              hint);
}

}  // namespace duel
