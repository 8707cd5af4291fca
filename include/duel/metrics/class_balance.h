// Class balance of generated images: which classes does the generator draw,
// and how often, against the real data?
//
// When the feature network classifies the data's own classes, its argmax
// labels every image. The histogram of those labels over the generated
// samples, beside the same histogram over real (reference) images, shows a
// generator that favours or drops classes (partial mode collapse) even when
// its images look fine one by one. The summary is the total variation
// distance between the two histograms, 0.5 * sum_k |g_k - r_k|: 0 when the
// shares agree, 1 when they share no class; it reads as the share of samples
// that would have to change class to match the real data. Sampling noise
// alone gives a few hundredths for n in the thousands, so it is read beside
// the same distance between two real sets (`duel eval`'s floor).
//
// A pure function of class probabilities, like metrics.h.
#pragma once
#include <torch/types.h>

#include <vector>

namespace duel {

struct ClassBalance {
  std::vector<double> generated, reference;  // share of each class (argmax of the probabilities), sums to 1
  double total_variation = 0;                // 0.5 * sum |generated - reference|
};

// Share of rows of probs [N, K] whose most probable class is k, for each k < K.
std::vector<double> class_shares(const torch::Tensor& probs);

// generated [N, K] and reference [M, K] class probabilities of one network (N, M >= 1, the same K >= 2).
ClassBalance class_balance(const torch::Tensor& generated, const torch::Tensor& reference);

}  // namespace duel
