// Learning-rate schedules for every optimizer of a model.
//
//   optim.schedule = constant | linear | cosine
//   optim.warmup   = steps of linear warm-up from 0 (all schedules)
//   optim.decay_start = fraction f of the run before the decay begins
//
// The rate of optimizer group g at step t of T is base_g * w(t) * s(t), where
// w ramps linearly to 1 over the warm-up and, with u = max(0, t/T - f) / (1 - f),
// s is 1 (constant), 1 - u (linear, to 0 at the end) or (1 + cos(pi u)) / 2
// (cosine). base_g is the
// rate the model built the optimizer with; scale_base() changes it (the
// trainer halves it when it rolls back from a divergence).
#pragma once
#include <torch/optim/optimizer.h>

#include <string>
#include <utility>
#include <vector>

namespace duel {

class Config;

class LrSchedule {
 public:
  LrSchedule(const Config& cfg, const std::vector<std::pair<std::string, torch::optim::Optimizer*>>& optimizers);
  // Sets every group's rate for step t (0-based) of total.
  void apply(int64_t step, int64_t total);
  // Multiplies every base rate by f.
  void scale_base(double f);
  // The factor w(t) * s(t) at step t of total (for tests and logs).
  double factor(int64_t step, int64_t total) const;
  // Current rate of the first group of the named optimizer (NaN if unknown).
  double current(const std::string& name) const;

 private:
  std::string kind_;
  int64_t warmup_ = 0;
  double decay_start_ = 0.0;
  struct Group {
    std::string net;
    torch::optim::Optimizer* opt;
    size_t index;  // param group (held by index: loading optimizer state may rebuild groups)
    double base;
    torch::optim::OptimizerParamGroup& group() const { return opt->param_groups().at(index); }
  };
  std::vector<Group> groups_;
};

// The learning rate of an optimizer param group (Adam, AdamW, RMSprop, SGD).
double get_lr(const torch::optim::OptimizerParamGroup& group);
void set_lr(torch::optim::OptimizerParamGroup& group, double lr);

}  // namespace duel
