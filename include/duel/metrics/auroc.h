// The area under the ROC curve, the metric `duel score` reports for anomaly
// scores. It is plain metric math on numbers, so it lives with the metrics
// rather than in the aae model that first needed it (the CLI's anomaly
// pipeline, src/apps/anomaly.cpp, then needs no concrete model header).
#pragma once
#include <vector>

namespace duel {

// Area under the ROC curve of `scores` separating positives (higher scores
// expected) from negatives: the Mann-Whitney U statistic over n_pos * n_neg,
// ties counted as one half (average ranks). 1 = every positive scores above
// every negative, 0.5 = chance. Requires equal lengths, at least one positive
// and one negative, and finite scores; throws duel::Error otherwise.
double auroc(const std::vector<double>& scores, const std::vector<bool>& positive);

}  // namespace duel
