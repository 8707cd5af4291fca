// What `duel train`'s flags mean: a new run (a config file, then --set, the
// --device and --features shorthands) or a resumed one (the checkpoint's
// config plus --set), turned into the trainer's TrainRequest. Contradictory
// flags (--resume with --config, --out naming another folder, a folder as
// --config) are refused here, before anything is read or written.
#pragma once
#include <string>
#include <vector>

#include "duel/train/trainer.h"

namespace duel {

struct TrainCommand {
  std::string config, out, resume, device, features;
  std::vector<std::string> sets;  // --set lines, in order
  bool force = false;
};

// Throws duel::Error naming the flag and what to pass instead. A new run's
// model name is checked here, before any data is read.
TrainRequest make_train_request(const TrainCommand& c);

// The request's dist.timeout_s (the --nproc launcher waits that long for a failed rank's peers).
double dist_timeout(const TrainRequest& req);

}  // namespace duel
