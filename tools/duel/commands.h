// The duel CLI: one function per subcommand, each registering its options on
// a CLI11 subcommand and returning the action to run once argv is parsed.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace duel::cli {

using Action = std::function<int()>;

Action add_train(CLI::App& app);
Action add_sample(CLI::App& app);
Action add_info(CLI::App& app);

// Shared --threads option handling.
void apply_threads(int threads);

}  // namespace duel::cli
