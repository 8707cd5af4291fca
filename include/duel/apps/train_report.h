// The run report while training (log.report): a TrainCallback that rewrites
// <run>/report.html (src/io/report.cpp) after every periodic sample grid and
// once at the end, and says at the end how often and how long it wrote. It
// lives above the train layer because the report reads models, checkpoints
// and the run's files; `duel train` hands it to train() in
// TrainRequest::callbacks. A failed refresh only warns.
#pragma once
#include <memory>

#include "duel/train/callback.h"

namespace duel {

std::shared_ptr<TrainCallback> make_report_callback();

}  // namespace duel
