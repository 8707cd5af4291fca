// Latent-space helpers; see the header.
#include "duel/nn/latent.h"

#include <algorithm>
#include <cmath>

namespace duel {

torch::Tensor slerp(const torch::Tensor& a, const torch::Tensor& b, double t) {
  // a, b [L] -> [L]
  auto na = a / a.norm(), nb = b / b.norm();
  const double dot = std::clamp(torch::dot(na, nb).item<double>(), -1.0, 1.0);
  const double omega = std::acos(dot), so = std::sin(omega);
  if (so < 1e-6) return (1 - t) * a + t * b;
  return (std::sin((1 - t) * omega) / so) * a + (std::sin(t * omega) / so) * b;
}

}  // namespace duel
