// LrSchedule: see the header for the formulas.
#include "duel/train/schedule.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <limits>

#include "duel/core/config.h"
#include "duel/core/error.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"optim.schedule", ConfigType::String, std::string("constant"),
                "learning-rate schedule of every optimizer: constant, linear (to 0 at the end) or cosine",
                {}, {}, {"constant", "linear", "cosine"}});
  register_key({"optim.decay_start", ConfigType::Float, 0.0,
                "fraction of the run before the linear/cosine decay begins (CycleGAN: 0.5, constant for the first half)",
                0.0, 0.999, {}});
  register_key({"optim.warmup", ConfigType::Int, int64_t(0), "steps of linear learning-rate warm-up from 0", 0,
                1.0e12, {}});
  return true;
}();

template <typename O>
bool try_lr(torch::optim::OptimizerOptions& o, double* get, const double* set) {
  auto* p = dynamic_cast<O*>(&o);
  if (!p) return false;
  if (get) *get = p->lr();
  if (set) p->lr(*set);
  return true;
}

void access_lr(torch::optim::OptimizerParamGroup& g, double* get, const double* set) {
  auto& o = g.options();
  if (try_lr<torch::optim::AdamOptions>(o, get, set) || try_lr<torch::optim::AdamWOptions>(o, get, set) ||
      try_lr<torch::optim::RMSpropOptions>(o, get, set) || try_lr<torch::optim::SGDOptions>(o, get, set))
    return;
  throw std::logic_error("duel: learning rate of an unsupported optimizer type");
}

}  // namespace

double get_lr(const torch::optim::OptimizerParamGroup& group) {
  double lr = 0;
  access_lr(const_cast<torch::optim::OptimizerParamGroup&>(group), &lr, nullptr);
  return lr;
}

void set_lr(torch::optim::OptimizerParamGroup& group, double lr) { access_lr(group, nullptr, &lr); }

LrSchedule::LrSchedule(const Config& cfg,
                       const std::vector<std::pair<std::string, torch::optim::Optimizer*>>& optimizers)
    : kind_(cfg.get_string("optim.schedule")),
      warmup_(cfg.get_int("optim.warmup")),
      decay_start_(cfg.get_float("optim.decay_start")) {
  for (auto& [name, opt] : optimizers)
    for (size_t i = 0; i < opt->param_groups().size(); ++i)
      groups_.push_back({name, opt, i, get_lr(opt->param_groups()[i])});
}

double LrSchedule::factor(int64_t step, int64_t total) const {
  double w = warmup_ > 0 ? std::min(1.0, double(step + 1) / double(warmup_)) : 1.0;
  // Progress through the decay, which starts after decay_start of the run.
  const double p = total > 0 ? std::clamp(double(step) / double(total), 0.0, 1.0) : 0.0;
  const double t = std::max(0.0, p - decay_start_) / (1.0 - decay_start_);
  double s = 1.0;
  if (kind_ == "linear") s = 1.0 - t;
  else if (kind_ == "cosine") s = 0.5 * (1.0 + std::cos(M_PI * t));
  return w * s;
}

void LrSchedule::apply(int64_t step, int64_t total) {
  if (kind_ == "constant" && warmup_ == 0) return;
  const double f = factor(step, total);
  for (auto& g : groups_) set_lr(g.group(), g.base * f);
}

void LrSchedule::scale_base(double f) {
  for (auto& g : groups_) {
    g.base *= f;
    set_lr(g.group(), get_lr(g.group()) * f);
  }
}

double LrSchedule::current(const std::string& name) const {
  for (auto& g : groups_)
    if (g.net == name) return get_lr(g.group());
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace duel
