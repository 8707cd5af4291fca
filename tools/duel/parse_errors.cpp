// What duel says when argv does not parse, and its help texts. CLI11 reports
// a mistake in its own words; here each becomes duel's `error:` + `hint:`
// pair: a mistyped subcommand or option gets the nearest valid name, a flag
// other tools use (--steps, --lr, ...) gets the config key to --set, and a
// long option written with one dash (-out, which CLI11 would read as -o ut)
// is refused before parsing. The examples shown under each subcommand's
// --help and the exit codes are kept here too.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>

#include "commands.h"
#include "duel/core/suggest.h"

namespace duel::cli {
namespace {

const char* kExitCodes =
    "Exit codes: 0 success, 2 bad input (a message says what to fix), 1 internal error,\n"
    "130/143 training interrupted by Ctrl-C/SIGTERM after a final checkpoint.";

const std::map<std::string, std::string>& examples() {
  static const std::map<std::string, std::string> m = {
      {"train",
       "  duel train -c configs/dcgan28.toml --out runs/dcgan\n"
       "  duel train -c configs/dcgan28.toml --out runs/smoke --set train.steps=50\n"
       "  duel train --resume runs/dcgan"},
      {"sample",
       "  duel sample -k runs/dcgan/checkpoints/latest.duel --out grid.png\n"
       "  duel sample -k runs/dcgan/checkpoints/latest.duel --n 1000 --each samples/\n"
       "  duel sample -k runs/dcgan/checkpoints/latest.duel --interpolate --out path.png"},
      {"eval",
       "  duel eval -k runs/dcgan/checkpoints/latest.duel\n"
       "  duel eval -k runs/dcgan/checkpoints/latest.duel --n 2000 --out eval.json"},
      {"info", "  duel info runs/dcgan/checkpoints/latest.duel"},
      {"export",
       "  duel export -k runs/dcgan/checkpoints/latest.duel --out g.onnx\n"
       "  duel export -k runs/dcgan/checkpoints/latest.duel --web site/"},
      {"features", "  duel features train --dataset mnist --data-path data/mnist --out mnist.duelfeat"},
      {"score", "  duel score -k runs/aae28/checkpoints/latest.duel --out scores.csv --anomaly-class 8"},
  };
  return m;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const auto* s : app.get_subcommands([](const CLI::App*) { return true; })) out.push_back(s->get_name());
  return out;
}

std::vector<std::string> long_options(const CLI::App& cmd) {
  std::vector<std::string> out;
  for (const auto* o : cmd.get_options())
    for (const auto& n : o->get_lnames()) out.push_back("--" + n);
  return out;
}

// The (sub)subcommand argv names, e.g. `features train`; *next: the index of its first argument.
CLI::App* command_of(CLI::App& app, int argc, char** argv, int* next) {
  CLI::App* cmd = nullptr;
  int i = 1;
  for (CLI::App* at = &app; i < argc; ++i, at = cmd) {
    auto subs = at->get_subcommands([&](const CLI::App* s) { return s->get_name() == argv[i]; });
    if (subs.empty()) break;
    cmd = subs.front();
  }
  *next = i;
  return cmd;
}

std::string path_of(const CLI::App& cmd) {
  return cmd.get_parent() && cmd.get_parent()->get_parent() ? path_of(*cmd.get_parent()) + " " + cmd.get_name()
                                                           : cmd.get_name();
}

// The config key a flag of other tools means, for `duel train`.
std::string key_for_flag(const std::string& flag) {
  static const std::map<std::string, std::string> m = {
      {"--steps", "--set train.steps=N"},           {"--iterations", "--set train.steps=N"},
      {"--epochs", "--set train.epochs=N"},         {"--batch-size", "--set train.batch_size=N"},
      {"--batch_size", "--set train.batch_size=N"}, {"--bs", "--set train.batch_size=N"},
      {"--batch", "--set train.batch_size=N"},      {"--lr", "--set optim.g_lr=X --set optim.d_lr=X"},
      {"--seed", "--set run.seed=N"},               {"--model", "--set model.name=NAME"},
      {"--dataset", "--set data.dataset=NAME"},     {"--data", "--set data.path=DIR"},
  };
  auto it = m.find(flag);
  return it == m.end() ? "" : it->second;
}

// The hint for an unknown `--flag` (with `value`, the argument after it, or "").
std::string hint_for_option(const CLI::App& cmd, const std::string& flag, const std::string& value) {
  if (path_of(cmd) == "train") {
    std::string key = key_for_flag(flag);
    if (!key.empty()) {
      if (!value.empty() && value[0] != '-' && key.find("=N") != std::string::npos) key.replace(key.find("=N"), 2, "=" + value);
      return "duel train takes settings as config keys: " + key + " (`duel train --list-keys` lists them)";
    }
  }
  const std::string near = nearest_name(flag, long_options(cmd));
  if (!near.empty()) return "did you mean " + near + "? `duel " + path_of(cmd) + " --help` lists the options";
  return "`duel " + path_of(cmd) + " --help` lists the options";
}

int report(const std::string& what, const std::string& hint) {
  std::cerr << "error: " << what << "\n";
  if (!hint.empty()) std::cerr << "hint: " << hint << "\n";
  return 2;
}

}  // namespace

void add_help_texts(CLI::App& app) {
  app.footer(std::string("Run `duel COMMAND --help` for a command's options.\n") + kExitCodes);
  for (auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    auto it = examples().find(sub->get_name());
    sub->footer((it == examples().end() ? "" : "Examples:\n" + it->second + "\n\n") + kExitCodes);
  }
}

std::optional<int> check_argv(CLI::App& app, int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  const std::string first = argv[1];
  const auto names = subcommand_names(app);
  if (first == "help") {  // duel help [COMMAND]
    CLI::App* target = &app;
    if (argc > 2) {
      auto subs = app.get_subcommands([&](const CLI::App* s) { return s->get_name() == argv[2]; });
      if (subs.empty()) return report("unknown command '" + std::string(argv[2]) + "'",
                                      did_you_mean(argv[2], names) + "`duel help` lists the commands");
      target = subs.front();
    }
    std::cout << target->help();
    return 0;
  }
  if (first[0] != '-' && std::find(names.begin(), names.end(), first) == names.end())
    return report("unknown command '" + first + "'", did_you_mean(first, names) + "`duel help` lists the commands");
  int start = 0;
  CLI::App* cmd = command_of(app, argc, argv, &start);
  if (!cmd) return std::nullopt;
  const auto longs = long_options(*cmd);
  for (int i = start; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    // -out: CLI11 would read it as -o with the value "ut".
    if (a.size() > 2 && a[0] == '-' && a[1] != '-' && std::isalpha(static_cast<unsigned char>(a[1])) &&
        std::find(longs.begin(), longs.end(), "-" + a.substr(0, a.find('='))) != longs.end())
      return report("option '" + a + "' has one dash", "long options take two: -" + a);
  }
  return std::nullopt;
}

int report_parse_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
  int start = 0;
  CLI::App* cmd = command_of(app, argc, argv, &start);
  if (!cmd) return report(e.what(), "`duel help` lists the commands");
  const auto longs = long_options(*cmd);
  for (int i = start; i < argc; ++i) {  // the first option the command does not know
    const std::string a = argv[i];
    if (a == "--") break;
    const std::string flag = a.substr(0, a.find('='));
    if (flag.rfind("--", 0) != 0 || std::find(longs.begin(), longs.end(), flag) != longs.end()) continue;
    std::string value = a.find('=') != std::string::npos ? a.substr(a.find('=') + 1) : (i + 1 < argc ? argv[i + 1] : "");
    return report("duel " + path_of(*cmd) + " has no option " + flag, hint_for_option(*cmd, flag, value));
  }
  return report(e.what(), "`duel " + path_of(*cmd) + " --help` lists the options");
}

}  // namespace duel::cli
