// WeightEma: an exponential moving average of a module's parameters
// (e.g. of the generator, for sampling and evaluation).
//
//   shadow <- d * shadow + (1 - d) * param,  d = min(decay, (1 + t) / (10 + t))
//
// where t counts updates, so early averages are not dominated by the random
// initial weights. Buffers (BatchNorm statistics) are not averaged: the live
// module's are used. The shadow weights are part of the checkpoint.
#pragma once
#include <torch/nn/module.h>

#include <map>
#include <string>
#include <vector>

namespace duel {

class WeightEma {
 public:
  WeightEma(torch::nn::Module& module, double decay);
  // Blends the module's current parameters into the average.
  void update();
  // Swaps the module's parameters with the averages (call twice to undo).
  void swap();
  int64_t updates() const { return updates_; }
  // "<prefix>.<param name>" -> shadow, plus "<prefix>.updates".
  void save(std::map<std::string, torch::Tensor>& out, const std::string& prefix) const;
  // Restores from save(); throws duel::Error when an entry is missing or has another shape.
  void load(const std::map<std::string, torch::Tensor>& in, const std::string& prefix);

 private:
  torch::nn::Module& module_;
  double decay_;
  int64_t updates_ = 0;
  std::vector<std::pair<std::string, torch::Tensor>> shadow_;
};

// RAII: a module runs on its EMA weights for the scope's lifetime (no-op for null).
class EmaSwap {
 public:
  explicit EmaSwap(WeightEma* ema) : ema_(ema) { if (ema_) ema_->swap(); }
  ~EmaSwap() { if (ema_) ema_->swap(); }
  EmaSwap(const EmaSwap&) = delete;
  EmaSwap& operator=(const EmaSwap&) = delete;

 private:
  WeightEma* ema_;
};

}  // namespace duel
