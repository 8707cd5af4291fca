// The duel command line as a library function, for programs that add their
// own models (or commands) to duel: a main() that calls run_cli() is the whole
// duel CLI, with every model registered in the program's own files
// (DUEL_REGISTER_MODEL) available to `train`, `sample`, `eval`, `report`, ...
// (docs/library.md; examples/custom-gan).
#pragma once

namespace duel {

// Parses argv as `duel` does and runs the subcommand. Returns the exit code:
// 0 success, 2 bad input (a duel::Error or bad arguments, with error:/hint:
// lines on stderr), 1 internal error, 130/143 interrupted by SIGINT/SIGTERM
// after a final checkpoint.
int run_cli(int argc, char** argv);

}  // namespace duel
