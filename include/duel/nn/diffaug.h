// Differentiable augmentation (Zhao et al. 2020, "DiffAugment"): random
// transforms applied to the discriminator's real *and* fake inputs, built from
// differentiable tensor ops so the generator's gradient flows through them.
//
//   color        per-sample brightness +U(-0.5, 0.5), saturation x U(0, 2)
//                (RGB only), contrast x U(0.5, 1.5)
//   translation  per-sample integer shift of up to 1/8 of the side, zero fill
//   cutout       per-sample zeroed square of half the side at a random place
//
// Policies are a comma list (train.diffaug = "translation,cutout,color"),
// applied in the order written.
#pragma once
#include <torch/types.h>

#include <string>
#include <vector>

namespace duel {

// Parses and validates a policy; throws duel::Error naming the bad entry.
std::vector<std::string> parse_diffaug(const std::string& policy);
// x [N, C, H, W] -> [N, C, H, W]
torch::Tensor diff_augment(const torch::Tensor& x, const std::vector<std::string>& policy);

}  // namespace duel
