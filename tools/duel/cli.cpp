// duel's command line as a library function (include/duel/cli/cli.h): wires
// the registered subcommands and turns errors into messages and exit codes:
//   0 success, 2 bad input (duel::Error, bad arguments), 1 internal error,
//   130/143 interrupted by SIGINT/SIGTERM after a final checkpoint.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <csignal>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>
#include <cctype>
#include <iostream>

#include "commands.h"
#include "duel/cli/cli.h"
#include "duel/core/error.h"
#include "duel/core/threads.h"

int duel::run_cli(int argc, char** argv) {
  // A file-size limit (ulimit -f) then makes a write fail with EFBIG, reported
  // like a full disk, instead of killing the process mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"duel: a toolkit for generative adversarial networks on LibTorch"};
  app.require_subcommand(1);
  app.set_version_flag("--version,-V", "duel 0.1.0");
  app.option_defaults()->always_capture_default();  // --help shows each option's default
  std::map<std::string, duel::cli::Action> actions;
  for (auto& [name, adder] : duel::cli::registered_commands()) actions[name] = adder(app);
  duel::cli::add_help_texts(app);
  if (auto rc = duel::cli::check_argv(app, argc, argv)) return *rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = duel::cli::report_parse_error(app, e, argc, argv);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto* sub : app.get_subcommands()) return actions.at(sub->get_name())();
    return 2;
  } catch (const duel::Error& e) {
    std::cerr << "\nerror: " << e.what() << "\n";
    if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "\nerror: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "\ninternal error (LibTorch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "\ninternal error: " << e.what() << "\n";
    return 1;
  }
}

namespace duel::cli {
namespace {
std::map<std::string, std::pair<int, CommandAdder>>& command_table() {
  static std::map<std::string, std::pair<int, CommandAdder>> table;
  return table;
}
}  // namespace

CommandRegistration::CommandRegistration(int order, const std::string& name, CommandAdder adder) {
  command_table()[name] = {order, std::move(adder)};
}

std::vector<std::pair<std::string, CommandAdder>> registered_commands() {
  std::vector<std::tuple<int, std::string, CommandAdder>> sorted;
  for (auto& [name, e] : command_table()) sorted.emplace_back(e.first, name, e.second);
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<std::pair<std::string, CommandAdder>> out;
  for (auto& [o, n, a] : sorted) out.emplace_back(n, a);
  return out;
}

void apply_threads(int threads) { duel::configure_threads(threads); }

void check_output_file(const std::string& path, const std::string& flag, const std::string& ext,
                       const std::string& example) {
  auto e = std::filesystem::path(path).extension().string();
  for (auto& ch : e) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  duel::require(e == ext, flag + " '" + path + "' must end in " + ext, "for example " + flag + " " + example);
  auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  duel::require(parent.empty() || std::filesystem::is_directory(parent, ec),
                "the folder of " + flag + " '" + path + "' does not exist", "create it first");
}

c10::Device cli_device(const std::string& name) {
  if (name == "cuda") {
    duel::require(torch::cuda::is_available(), "--device cuda: no CUDA device is available to this build",
                  "build with scripts/build-gpu.sh on a machine with a GPU, or use --device cpu");
    return torch::kCUDA;
  }
  duel::require(name.empty() || name == "cpu", "--device '" + name + "' is not cpu or cuda", "use --device cpu or --device cuda");
  return torch::kCPU;
}
}  // namespace duel::cli
