// duel: train, sample and inspect GANs. This file only wires subcommands and
// turns errors into messages and exit codes:
//   0 success, 2 bad input (duel::Error, bad arguments), 1 internal error,
//   130/143 interrupted by SIGINT/SIGTERM after a final checkpoint.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "duel/core/error.h"
#include "duel/core/threads.h"

int main(int argc, char** argv) {
  CLI::App app{"duel: a toolkit for generative adversarial networks on LibTorch"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "duel 0.1.0");
  auto train = duel::cli::add_train(app);
  auto sample = duel::cli::add_sample(app);
  auto info = duel::cli::add_info(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto* sub : app.get_subcommands()) {
      const std::string name = sub->get_name();
      if (name == "train") return train();
      if (name == "sample") return sample();
      if (name == "info") return info();
    }
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
void apply_threads(int threads) { duel::configure_threads(threads); }
}  // namespace duel::cli
