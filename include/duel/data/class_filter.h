// Holding out a class: the config key data.exclude_class (int, -1 = none)
// removes every image of one class from whatever open_dataset() returns, so a
// model can be trained on all classes but one and later scored on the full
// test split (the held-out class playing the anomaly; see `duel score`).
//
// The filter keeps the label space: num_classes and class_names are those of
// the whole dataset, so label k still means class k.
#pragma once
#include <cstdint>

#include "duel/data/dataset.h"

namespace duel {

class Config;

// Requires: set has labels (unless exclude < 0) and 0 <= exclude < num_classes.
// Ensures: the result holds, in their original order, exactly the images of
// `set` whose label differs from `exclude`; exclude < 0 returns set unchanged.
// Throws duel::Error when the requirements fail or no image would remain.
ImageSet exclude_class(ImageSet set, int64_t exclude);

// Applies data.exclude_class of cfg to set, in place (open_dataset's last step).
void apply_class_filter(ImageSet& set, const Config& cfg);

}  // namespace duel
