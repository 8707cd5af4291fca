// Checkpoint comparison (`duel info --compare`): how far apart the weights of
// two checkpoints of the same model are, net by net. Resume and rollback
// checks use it to tell a bit-exact resume from one that only looks close;
// the numbers are computed here so the CLI only prints them.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "duel/models/model.h"

namespace duel {

struct NetDifference {
  std::string net;
  // sqrt(sum (a - b)^2 / sum a^2) over every weight of the net (float64), or
  // the absolute sqrt(sum (a - b)^2) when the net's weights are all zero: robust
  // to the few weights whose gradient is rounding noise (a conv bias before a
  // norm layer), which Adam turns into full-size steps of either sign.
  double relative = 0;
  double max_abs_difference = 0;  // largest |a - b| of one weight
  double max_abs_weight = 0;      // largest |a| of one weight of `mine`
};

// Compares every net of `mine` with the net of the same name in `theirs`.
// Requires: both models of the same name (mine_name, theirs_name: the
//   checkpoints' model names); every net of `mine` present in `theirs` with
//   the same parameters and shapes. `theirs_label` (its path) names it in errors.
// Ensures: one entry per net of `mine`, in its order.
// Throws duel::Error "'<theirs>' holds a <x> model, not <y>", "'<theirs>' has no
// net <n>" or "net <n> of '<theirs>' differs in parameter <p>".
std::vector<NetDifference> compare_checkpoint_weights(GanModel& mine, const std::string& mine_name, GanModel& theirs,
                                                      const std::string& theirs_name, const std::string& theirs_label);

}  // namespace duel
