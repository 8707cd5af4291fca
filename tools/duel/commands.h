// The duel CLI: one file per subcommand. Each file registers itself with
// DUEL_CLI_COMMAND(order, adder): the adder declares the subcommand's options
// on a CLI11 app and returns the action to run once argv is parsed. main.cpp
// only parses and maps errors to exit codes, so a new subcommand touches no
// other file.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

namespace duel {
class Checkpoint;
class Config;
class GanModel;
}  // namespace duel

namespace duel::cli {

using Action = std::function<int()>;
using CommandAdder = std::function<Action(CLI::App& app)>;

struct CommandRegistration {
  CommandRegistration(int order, const std::string& name, CommandAdder adder);
};
// Registered subcommands sorted by order: (name, adder).
std::vector<std::pair<std::string, CommandAdder>> registered_commands();

#define DUEL_CLI_COMMAND(order, name, adder) \
  static const ::duel::cli::CommandRegistration duel_cli_command_##adder(order, name, adder)

// Shared helpers.
void apply_threads(int threads);  // --threads handling (0: all cores)
// Builds a checkpoint's model with its nets loaded (no optimizer state); cfg receives its config.
std::unique_ptr<GanModel> load_generator(const Checkpoint& ck, Config& cfg);

}  // namespace duel::cli
