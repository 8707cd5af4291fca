// CycleGAN's reconstruction terms (include/duel/losses/cycle.h): the cycle
// consistency and identity L1 losses.
#include "duel/losses/cycle.h"

namespace duel {

CycleTerms cycle_consistency(const ImageMap& g_ab, const ImageMap& g_ba, const torch::Tensor& a, const torch::Tensor& b) {
  CycleTerms t;
  t.fake_b = g_ab(a);
  t.fake_a = g_ba(b);
  t.loss = (g_ba(t.fake_b) - a).abs().mean() + (g_ab(t.fake_a) - b).abs().mean();
  return t;
}

torch::Tensor identity_loss(const ImageMap& g_ab, const ImageMap& g_ba, const torch::Tensor& a, const torch::Tensor& b) {
  return (g_ba(a) - a).abs().mean() + (g_ab(b) - b).abs().mean();
}

}  // namespace duel
