// Class balance of generated images (include/duel/metrics/class_balance.h).
#include "duel/metrics/class_balance.h"

#include <cmath>
#include <string>

#include "duel/core/error.h"

namespace duel {

std::vector<double> class_shares(const torch::Tensor& probs) {
  require(probs.defined() && probs.dim() == 2 && probs.size(0) >= 1 && probs.size(1) >= 2,
          "class balance needs class probabilities [N, K] with N >= 1 and K >= 2",
          "use a feature network with a classifier head");
  const int64_t k = probs.size(1);
  const auto counts = torch::bincount(probs.argmax(1), /*weights=*/{}, k).to(torch::kFloat64);
  const auto shares = (counts / double(probs.size(0))).contiguous();
  return std::vector<double>(shares.data_ptr<double>(), shares.data_ptr<double>() + k);
}

ClassBalance class_balance(const torch::Tensor& generated, const torch::Tensor& reference) {
  ClassBalance b;
  b.generated = class_shares(generated);
  b.reference = class_shares(reference);
  require(b.generated.size() == b.reference.size(),
          "class balance: the generated images have " + std::to_string(b.generated.size()) + " classes, the reference " +
              std::to_string(b.reference.size()),
          "use one feature network for both");
  for (size_t k = 0; k < b.generated.size(); ++k) b.total_variation += 0.5 * std::abs(b.generated[k] - b.reference[k]);
  return b;
}

}  // namespace duel
