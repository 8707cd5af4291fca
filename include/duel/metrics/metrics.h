// Sample-quality metrics on feature matrices: pure functions of tensors, with
// no knowledge of networks, datasets or files, so each one can be tested
// against a closed form.
//
// Every function takes features as float [N, D] (any floating dtype; the
// arithmetic that needs it is done in double) and checks its preconditions at
// the boundary: too few samples, mismatched feature sizes, non-finite values
// and bad parameters throw duel::Error with a hint. Results are plain
// doubles. Randomised estimators (KID subsets, SWD projections) take a seed
// and draw from a private generator, so they never disturb the global RNG and
// repeat exactly.
//
// References:
//   FID       Heusel et al. 2017, "GANs trained by a two time-scale update rule
//             converge to a local Nash equilibrium" (NeurIPS).
//   KID       Binkowski et al. 2018, "Demystifying MMD GANs" (ICLR).
//   IS        Salimans et al. 2016, "Improved techniques for training GANs".
//   P/R       Kynkaanniemi et al. 2019, "Improved precision and recall metric
//             for assessing generative models" (NeurIPS).
//   D/C       Naeem et al. 2020, "Reliable fidelity and diversity metrics for
//             generative models" (ICML).
//   SWD       Rabin et al. 2011; Karras et al. 2018 (ProGAN) use it on images.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace duel {

struct MeanStd {
  double mean = 0, std = 0;
};

// A Gaussian fit: mean [D] and unbiased covariance [D, D], both double.
struct GaussianFit {
  torch::Tensor mean, cov;
  int64_t count = 0;
};

// Requires features [N, D] with N >= 2 finite rows.
GaussianFit fit_gaussian(const torch::Tensor& features, const std::string& what = "features");

// Frechet distance between N(mu1, S1) and N(mu2, S2):
//   |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)),
// with tr((S1 S2)^(1/2)) = sum sqrt(eig(S1^(1/2) S2 S1^(1/2))), a symmetric
// PSD form whose eigen-decomposition (double, eigh) stays stable when the
// covariances are near-singular. Negative round-off is clamped to 0.
double frechet_distance(const GaussianFit& a, const GaussianFit& b);
// FID of two feature sets (N >= 2 each, same D).
double fid(const torch::Tensor& real, const torch::Tensor& fake);

struct KidOptions {
  int64_t subsets = 100;
  int64_t subset_size = 1000;  // clipped to the smaller set's size
  uint64_t seed = 0;
};
// Unbiased MMD^2 with k(x, y) = (x.y / D + 1)^3 on one pair of sets (N, M >= 2).
double mmd2_unbiased(const torch::Tensor& x, const torch::Tensor& y);
// KID: mean and std of mmd2_unbiased over random subsets drawn without replacement.
MeanStd kid(const torch::Tensor& real, const torch::Tensor& fake, const KidOptions& options = {});

// Inception Score of class probabilities [N, K] (rows sum to 1), mean and std
// of exp(E_x KL(p(y|x) || p(y))) over `splits` consecutive splits (N >= splits).
MeanStd inception_score(const torch::Tensor& probs, int64_t splits = 10);

struct ManifoldMetrics {
  double precision = 0, recall = 0, density = 0, coverage = 0;
};
// k-NN manifold estimates (Euclidean distances in feature space): precision =
// share of fake samples inside some real k-NN ball, recall = share of real
// samples inside some fake k-NN ball; density and coverage as Naeem et al.,
// both from the real balls. Requires N, M > k.
ManifoldMetrics precision_recall(const torch::Tensor& real, const torch::Tensor& fake, int64_t k = 3);

// Distance from every row to its k-th nearest other row (exposed for tests).
torch::Tensor knn_radii(const torch::Tensor& x, int64_t k);

struct SwdOptions {
  int64_t projections = 256;
  uint64_t seed = 0;
};
// Sliced Wasserstein-2 distance: sqrt of the mean over random unit directions
// of the squared 1-D Wasserstein-2 distance between the projected sets (the
// larger set is matched to the smaller one by quantiles). Rows may be
// flattened images or features; both sets need the same width.
double sliced_wasserstein(const torch::Tensor& x, const torch::Tensor& y, const SwdOptions& options = {});

// Share of samples whose most probable class is the requested one: probs
// [N, K], requested int64 [N] in [0, K). For conditional generators.
double class_accuracy(const torch::Tensor& probs, const torch::Tensor& requested);

}  // namespace duel
