// WeightEma: see the header.
#include "duel/nn/ema.h"

#include <algorithm>

#include "duel/core/error.h"

namespace duel {

WeightEma::WeightEma(torch::nn::Module& module, double decay) : module_(module), decay_(decay) {
  torch::NoGradGuard no_grad;
  for (auto& p : module_.named_parameters()) shadow_.emplace_back(p.key(), p.value().detach().clone());
}

void WeightEma::update() {
  torch::NoGradGuard no_grad;
  const double d = std::min(decay_, (1.0 + double(updates_)) / (10.0 + double(updates_)));
  auto params = module_.named_parameters();
  for (auto& [name, s] : shadow_) {
    const auto& p = params[name];
    if (s.device() != p.device()) s = s.to(p.device());  // the module moved after construction
    s.mul_(d).add_(p.detach(), 1.0 - d);
  }
  ++updates_;
}

void WeightEma::swap() {
  torch::NoGradGuard no_grad;
  auto params = module_.named_parameters();
  for (auto& [name, s] : shadow_) {
    auto& p = params[name];
    if (s.device() != p.device()) s = s.to(p.device());
    auto tmp = p.detach().clone();
    p.copy_(s);
    s.copy_(tmp);
  }
}

void WeightEma::save(std::map<std::string, torch::Tensor>& out, const std::string& prefix) const {
  for (auto& [name, s] : shadow_) out[prefix + "." + name] = s;
  out[prefix + ".updates"] = torch::tensor(updates_, torch::kInt64);
}

void WeightEma::load(const std::map<std::string, torch::Tensor>& in, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  auto get = [&](const std::string& key) -> const torch::Tensor& {
    auto it = in.find(key);
    if (it == in.end())
      throw Error("checkpoint has no EMA entry '" + key + "'",
                  "it was written with train.ema=0; resume with --set train.ema=0");
    return it->second;
  };
  for (auto& [name, s] : shadow_) {
    const auto& t = get(prefix + "." + name);
    require(t.sizes() == s.sizes(), "checkpoint EMA entry '" + prefix + "." + name + "' has the wrong shape",
            "the checkpoint belongs to another model configuration");
    s.copy_(t);
  }
  updates_ = get(prefix + ".updates").item<int64_t>();
}

}  // namespace duel
