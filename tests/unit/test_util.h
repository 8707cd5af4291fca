// Helpers shared by the model tests.
#pragma once
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace duel::test {

// A model's capabilities; duel::Error (a test failure) when it lacks one.
inline NoiseSampler& sampler_of(GanModel& m) { return require_capability<NoiseSampler>(m); }
inline ImageTranslator& translator_of(GanModel& m) { return require_capability<ImageTranslator>(m); }
inline CodeTraversal& codes_of(GanModel& m) { return require_capability<CodeTraversal>(m); }
inline StyleControl& style_of(GanModel& m) { return require_capability<StyleControl>(m); }
inline AnomalyScorer& scorer_of(GanModel& m) { return require_capability<AnomalyScorer>(m); }

// Detached copies of a module's parameters.
inline std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

inline bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

// The named scalar of a step's report (a test failure when absent).
inline double scalar(const Scalars& s, const std::string& name) {
  for (auto& [k, v] : s)
    if (k == name) return v.item<double>();
  ADD_FAILURE() << "no scalar " << name;
  return 0;
}

inline bool has(const Scalars& s, const std::string& name) {
  for (auto& [k, v] : s)
    if (k == name) return true;
  return false;
}

}  // namespace duel::test
