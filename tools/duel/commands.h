// The duel CLI: one file per subcommand. Each file registers itself with
// DUEL_CLI_COMMAND(order, adder): the adder declares the subcommand's options
// on a CLI11 app and returns the action to run once argv is parsed. main.cpp
// only parses and maps errors to exit codes, so a new subcommand touches no
// other file.
#pragma once
#include <CLI/CLI.hpp>

#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

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

// Parsing and help (parse_errors.cpp): examples and exit codes under each
// subcommand's --help; checks of argv before CLI11 parses it (`duel help`, a
// mistyped command, -out for --out): an exit code when duel should stop; and
// CLI11's errors in duel's error:/hint: form (returns the exit code).
void add_help_texts(CLI::App& app);
std::optional<int> check_argv(CLI::App& app, int argc, char** argv);
int report_parse_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv);

// `duel experiment modes` (cmd_experiment_modes.cpp): declared on the
// experiment command; the action runs when `modes` was parsed.
Action add_experiment_modes(CLI::App& experiment, CLI::App*& modes);

// `duel sample --latent / --interpolate-between` (sample_latents.cpp):
// declares the options on the sample command; the returned action draws the
// latents' grid and returns an exit code, or nullopt when neither was given.
struct LatentSamplingContext {
  std::string checkpoint, out, gif;
  int64_t cls = -1, steps = 10;
};
using LatentSampling = std::function<std::optional<int>(const LatentSamplingContext&)>;
LatentSampling add_latent_sampling(CLI::App& sample);

// Shared helpers.
void apply_threads(int threads);  // --threads handling (0: all cores)
// Checks an output file argument before any work: `path` ends in `ext`
// (".png", case-insensitive) and its folder exists; else duel::Error naming
// `flag`, with `example` (e.g. "out.png") in the hint.
void check_output_file(const std::string& path, const std::string& flag, const std::string& ext,
                       const std::string& example);
// A checkpoint argument: a .duel file as given, or for a run folder the
// run's newest loadable checkpoint, named on stderr (checkpoint_arg.cpp).
// duel::Error when the path does not exist or holds no checkpoint.
std::string checkpoint_arg(const std::string& arg);
// --device cpu|cuda -> a device; cuda without a CUDA device is a duel::Error.
c10::Device cli_device(const std::string& name);

}  // namespace duel::cli
