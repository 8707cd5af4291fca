// The CLI side of a checkpoint argument: every command that takes a
// checkpoint (sample, eval, info, export, augment, translate, upscale, score,
// experiment) also takes a run folder; the library picks the run's newest
// loadable checkpoint (resolve_checkpoint, apps/model_loading.h) and this
// says on stderr which file that was, so stdout stays the command's own.
#include <cstdio>

#include "commands.h"
#include "duel/apps/model_loading.h"

namespace duel::cli {

std::string checkpoint_arg(const std::string& arg) {
  const CheckpointChoice c = resolve_checkpoint(arg);
  if (c.run_dir.empty()) return c.path;
  for (auto& s : c.skipped) std::fprintf(stderr, "warning: skipping unusable checkpoint: %s\n", s.c_str());
  std::fprintf(stderr, "checkpoint: %s (the newest good checkpoint of run folder '%s')\n", c.path.c_str(),
               c.run_dir.c_str());
  return c.path;
}

}  // namespace duel::cli
