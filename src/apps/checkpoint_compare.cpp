// Net-by-net weight differences of two models of the same kind
// (include/duel/apps/checkpoint_compare.h), for `duel info --compare`.
#include "duel/apps/checkpoint_compare.h"

#include <algorithm>
#include <cmath>

#include "duel/core/error.h"

namespace duel {

std::vector<NetDifference> compare_checkpoint_weights(GanModel& mine, const std::string& mine_name, GanModel& theirs,
                                                      const std::string& theirs_name, const std::string& theirs_label) {
  require(theirs_name == mine_name, "'" + theirs_label + "' holds a " + theirs_name + " model, not " + mine_name,
          "compare two checkpoints of the same model");
  std::vector<NetDifference> out;
  auto other_nets = theirs.nets();
  for (auto& [name, net] : mine.nets()) {
    std::shared_ptr<torch::nn::Module> o;
    for (auto& [n2, net2] : other_nets)
      if (n2 == name) o = net2;
    require(o != nullptr, "'" + theirs_label + "' has no net " + name, "compare checkpoints of the same configuration");
    auto a = net->named_parameters(), b = o->named_parameters();
    double max_diff = 0, max_abs = 0, diff_sq = 0, norm_sq = 0;
    for (auto& p : a) {
      const auto* q = b.find(p.key());
      require(q != nullptr && q->sizes() == p.value().sizes(),
              "net " + name + " of '" + theirs_label + "' differs in parameter " + p.key(),
              "compare checkpoints of the same configuration");
      max_diff = std::max(max_diff, (p.value() - *q).abs().max().item<double>());
      max_abs = std::max(max_abs, p.value().abs().max().item<double>());
      diff_sq += (p.value().to(torch::kFloat64) - q->to(torch::kFloat64)).square().sum().item<double>();
      norm_sq += p.value().to(torch::kFloat64).square().sum().item<double>();
    }
    NetDifference d;
    d.net = name;
    d.relative = norm_sq > 0 ? std::sqrt(diff_sq / norm_sq) : std::sqrt(diff_sq);
    d.max_abs_difference = max_diff;
    d.max_abs_weight = max_abs;
    out.push_back(d);
  }
  return out;
}

}  // namespace duel
