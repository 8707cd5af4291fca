// Helpers shared by the model tests.
#pragma once
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "duel/models/model.h"

namespace duel::test {

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
