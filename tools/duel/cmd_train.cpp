// `duel train`: resolve the config (file, then --set), then run the trainer
// with a progress bar. SIGINT/SIGTERM finish the current step and write a
// checkpoint; a second signal exits at once.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <unistd.h>

#include "commands.h"
#include "duel/apps/train_report.h"
#include "duel/core/error.h"
#include "duel/models/model.h"
#include "duel/train/run_folder.h"
#include "duel/train/trainer.h"
#include "duel/models/model_names.h"
#include "render.h"
#include "train_terminal.h"

namespace duel::cli {
namespace {

struct TrainArgs {
  std::string config, out, resume, device, features, dist;
  std::vector<std::string> sets;
  int threads = 0, nproc = 0;
  int64_t world_size = -1, rank = -1;
  bool force = false, list_models = false, list_keys = false;
};

const char* type_word(ConfigType t) {
  switch (t) {
    case ConfigType::Int: return "int";
    case ConfigType::Float: return "float";
    case ConfigType::Bool: return "bool";
    default: return "string";
  }
}

// This process's command line without `--nproc N` / `--nproc=N`: what each rank runs.
std::vector<std::string> rank_command_line() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> args, out;
  for (size_t p = 0; p < all.size();) {
    const size_t z = all.find('\0', p);
    args.push_back(all.substr(p, z == std::string::npos ? std::string::npos : z - p));
    if (z == std::string::npos) break;
    p = z + 1;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc") {
      ++i;
      continue;
    }
    if (args[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

// --set "train.steps = 10": the spaces around the key and the value go.
std::string trim_assignment(std::string s) {
  auto trim = [](std::string t) {
    const auto b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
  };
  const auto eq = s.find('=');
  return eq == std::string::npos ? trim(s) : trim(s.substr(0, eq)) + "=" + trim(s.substr(eq + 1));
}

Action add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "train a GAN into a run folder");
  cmd->add_option("--config,-c", a->config, "TOML config (e.g. configs/dcgan28.toml); defaults apply to missing keys");
  cmd->add_option("--out,-o", a->out, "run folder to create (runs/<name>)");
  cmd->add_option("--set", a->sets, "override a key: --set train.steps=100 (repeatable)")
      ->take_all()
      ->transform(trim_assignment, "", "");
  cmd->add_option("--device", a->device, "cpu or cuda (same as --set run.device=...)")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--features", a->features,
                  "feature network of srgan's content loss: .duelfeat or TorchScript (e.g. a VGG export); "
                  "same as --set model.sr_features=...")
      ->check(CLI::ExistingFile);
  cmd->add_option("--resume", a->resume, "continue the run in this folder from its newest good checkpoint");
  cmd->add_flag("--force", a->force, "overwrite an existing run in --out");
  cmd->add_option("--nproc", a->nproc, "train data-parallel on N processes of this machine (docs/distributed.md)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--dist", a->dist, "rendezvous of a multi-machine run: tcp://HOST:PORT of rank 0");
  cmd->add_option("--world-size", a->world_size, "number of ranks of a --dist run")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--rank", a->rank, "this process's rank in a --dist run (0 writes the run folder)")
      ->check(CLI::Range(0, (1 << 20) - 1));
  cmd->add_flag("--list-models", a->list_models, "list registered models and exit");
  cmd->add_flag("--list-keys", a->list_keys, "list every config key with its default and exit");
  return [a]() -> int {
    if (a->list_models) {
      for (auto& [name, summary] : registered_models()) std::printf("%-12s %s\n", name.c_str(), summary.c_str());
      return 0;
    }
    if (a->list_keys) {
      Config defaults;
      for (auto& k : schema()) {
        std::string def = std::visit([](const auto& v) {
          std::ostringstream o;
          o << std::boolalpha << v;
          return o.str();
        }, k.default_value);
        std::printf("%-26s %-6s %-14s %s\n", k.key.c_str(), type_word(k.type), def.c_str(), k.help.c_str());
      }
      return 0;
    }
    apply_threads(a->threads);
    TrainRequest req;
    if (!a->resume.empty()) {
      require(a->config.empty(), "--resume takes its config from the checkpoint; do not pass --config",
              "change keys of a resumed run with --set (e.g. --set train.steps=5000)");
      require(a->out.empty() || a->out == a->resume, "--resume and --out name different folders",
              "a resumed run continues in its own folder; drop --out");
      req.resume = true;
      req.run_dir = a->resume;
      req.overrides = a->sets;
      if (!a->device.empty()) req.overrides.push_back("run.device=" + a->device);
      require(a->features.empty(), "--features cannot change a resumed run's feature network",
              "start a new run with --features");
    } else {
      require(!a->out.empty(), "duel train needs --out (the run folder)", "for example --out runs/dcgan");
      require(a->config.empty() || !std::filesystem::is_directory(a->config),
              "--config '" + a->config + "' is a folder, not a config file",
              "pass one TOML file of it, for example --config configs/dcgan28.toml");
      if (!a->config.empty()) req.config = Config::from_file(a->config);
      for (auto& s : a->sets) req.config.set_from_string(s);
      if (!a->device.empty()) req.config.set("run.device", a->device);
      check_model_name(req.config.get_string("model.name"));  // before any data is read
      if (!a->features.empty()) req.config.set("model.sr_features", a->features);
      req.run_dir = a->out;
      req.force = a->force;
    }
    if (a->nproc > 1) {  // the launcher: start the ranks, wait for them
      require(a->dist.empty() && a->world_size < 0 && a->rank < 0, "--nproc starts its own ranks",
              "use either --nproc N (one machine) or --dist/--world-size/--rank (one process per call)");
      Config given = req.config;
      for (auto& o : req.overrides) given.set_from_string(o);
      return launch_local_ranks(a->nproc, rank_command_line(), given.get_float("dist.timeout_s"));
    }
    req.callbacks.push_back(make_report_callback());  // log.report
    req.dist = resolve_dist_options(a->dist, a->world_size, a->rank);
    const char* external = std::getenv("DUEL_DIST_EXTERNAL_STORE");
    req.dist_store_is_external = external && std::string(external) == "1";
    const bool quiet = req.dist.rank != 0;  // ranks other than 0 print only errors
    install_train_signal_handlers();
    ProgressRenderer bar;
    TrainerEvents ev;
    if (!quiet) {
      req.callbacks.push_back(make_terminal_callback(bar));
      ev.progress = [&](const ProgressReport& r) { bar.update(r); };
      ev.info = [&](const std::string& s) { bar.message("", s); };
      ev.warning = [&](const std::string& s) { bar.message("warning: ", s); };
    }
    TrainSummary s = train(req, ev);
    bar.finish();
    if (quiet) return s.interrupted ? 128 + (received_signal() ? received_signal() : SIGTERM) : 0;
    if (s.world_size > 1)
      std::printf("distributed:  %lld ranks, %.1f%% of rank 0's time in collectives\n", (long long)s.world_size,
                  s.seconds > 0 ? 100.0 * s.comm_seconds / s.seconds : 0.0);
    std::printf("%s %lld steps (%lld -> %lld of %lld) in %s, %.0f img/s\n",
                s.interrupted ? "interrupted after" : "trained", (long long)s.steps_done, (long long)s.start_step,
                (long long)(s.start_step + s.steps_done), (long long)s.total_steps, format_duration(s.seconds).c_str(),
                s.img_per_s);
    std::printf("run folder:   %s\n", s.run_dir.c_str());
    std::printf("final grid:   %s\n", s.final_grid.c_str());
    std::printf("checkpoint:   %s\n", s.checkpoint.c_str());
    std::printf("metrics:      %s/metrics.csv (and events.jsonl)\n", s.run_dir.c_str());
    const std::string report = RunFolder(s.run_dir).report();
    if (std::filesystem::exists(report)) std::printf("report:       %s (open it in a browser)\n", report.c_str());
    if (s.interrupted) {
      std::printf("resume with:  duel train --resume %s\n", s.run_dir.c_str());
      return 128 + (received_signal() ? received_signal() : SIGTERM);  // a distributed run stops when any rank is signalled
    }
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(10, "train", add_train);

}  // namespace duel::cli
