// `duel train`: resolve the config (file, then --set), then run the trainer
// with a progress bar. SIGINT/SIGTERM finish the current step and write a
// checkpoint; a second signal exits at once.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "commands.h"
#include "duel/apps/train_command.h"
#include "duel/apps/train_report.h"
#include "duel/core/key_table.h"
#include "duel/core/error.h"
#include "duel/models/model.h"
#include "duel/train/run_folder.h"
#include "duel/train/run_lock.h"
#include "duel/train/trainer.h"
#include "render.h"
#include "train_terminal.h"

namespace duel::cli {
namespace {

struct TrainArgs : TrainCommand {  // config, out, resume, device, features, sets, force
  std::string dist;
  int threads = 0, nproc = 0;
  int64_t world_size = -1, rank = -1;
  bool list_models = false, list_keys = false;
};

Action add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "train a GAN into a run folder");
  cmd->add_option("--config,-c", a->config, "TOML config (e.g. configs/dcgan28.toml); defaults apply to missing keys");
  cmd->add_option("--out,-o", a->out, "run folder to create (runs/<name>)");
  cmd->add_option("--set", a->sets, "override a key: --set train.steps=100 (repeatable)")
      ->take_all();
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
      std::printf("%s", key_table().c_str());
      return 0;
    }
    apply_threads(a->threads);
    TrainRequest req = make_train_request(*a);
    if (a->nproc > 1) {  // the launcher: start the ranks, wait for them
      require(a->dist.empty() && a->world_size < 0 && a->rank < 0, "--nproc starts its own ranks",
              "use either --nproc N (one machine) or --dist/--world-size/--rank (one process per call)");
      RunLock::ensure_free(req.run_dir);  // refused at once, not after the ranks' rendezvous times out
      return launch_local_ranks(a->nproc, rank_command_line(), dist_timeout(req));
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
