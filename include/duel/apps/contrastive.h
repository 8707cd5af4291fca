// Self-supervised feature networks (`duel features train --method
// contrastive`): SimCLR (Chen et al. 2020) on duel's FeatureNet, so that
// FID, KID and precision/recall work on data without labels. Each step
// draws two random views of every image (a random resized crop with a
// horizontal flip, colour jitter and, for colour data, random grayscale),
// passes both through the network and a small projection head, and pulls
// each image's two views together against the other 2B - 2 views (NT-Xent).
// The projection head is thrown away; the metric features are the network's
// penultimate layer, as for the supervised net.
#pragma once
#include <torch/types.h>

#include <functional>
#include <string>

#include "duel/apps/feature_training.h"

namespace duel {

struct ImageSet;

// One random view of each image of x [B, C, S, S] in [-1, 1] (same shape).
torch::Tensor contrastive_view(const torch::Tensor& x, at::Generator& gen);

// NT-Xent of two views' projections z1, z2 [B, D] (normalised inside):
// the mean over the 2B rows of cross-entropy(cos-sim / temperature) with the
// other view of the same image as the target.
torch::Tensor nt_xent(const torch::Tensor& z1, const torch::Tensor& z2, double temperature);

// Trains a FeatureNet without labels (num_classes 0: no classifier head);
// options as fit_classifier, plus temperature. Returns it in eval mode.
FeatureNet fit_contrastive(const ImageSet& train, const FeatureTrainOptions& options,
                           const std::function<void(const std::string&)>& info = {});

// The label the k nearest train rows (Euclidean) vote for, for every query row
// (ties: the lowest label).
torch::Tensor knn_predict(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                          const torch::Tensor& query_features, int64_t k = 5);
// Share of test rows whose k nearest train rows vote for their label.
double knn_accuracy(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                    const torch::Tensor& test_features, const torch::Tensor& test_labels, int64_t k = 5);

}  // namespace duel
