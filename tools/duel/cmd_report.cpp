// `duel report RUN`: writes RUN/report.html, one self-contained page that
// opens offline in any browser (src/apps/report.cpp): curves with zoom and
// hover, the sample grids behind a slider, a latent interpolation drawn from
// the run's newest checkpoint, the evaluation tables with their floor, the
// monitor's warnings and the resolved config. The trainer keeps the same
// file up to date while it runs (log.report).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/model_loading.h"
#include "duel/apps/report.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/train/run_folder.h"
#include "duel/train/trainer.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {

struct ReportArgs {
  std::string run, out;
  int64_t max_grids = 0;
  bool no_interpolation = false;
  int threads = 1;
};

Action add_report(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand("report", "write a run's self-contained HTML report (RUN/report.html)");
  cmd->add_option("run", a->run, "run folder (the --out of duel train)")->required();
  cmd->add_option("--out,-o", a->out, "HTML file to write (default: RUN/report.html)");
  cmd->add_option("--max-grids", a->max_grids, "sample grids to embed at most (default: the run's log.report_grids)")
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  cmd->add_flag("--no-interpolation", a->no_interpolation, "skip the latent interpolation (no checkpoint is read)");
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads for the interpolation (0: all cores)")
      ->check(CLI::Range(0, 1024));
  return [a]() -> int {
    if (!a->out.empty()) check_output_file(a->out, "--out", ".html", "report.html");
    std::error_code ec;
    require(fs::is_directory(a->run, ec), "run folder '" + a->run + "' does not exist or is not a folder",
            "pass the --out folder of a duel train run: duel report runs/<name>");
    const fs::path config_path = RunFolder(a->run).config();
    require(fs::exists(config_path, ec), "'" + a->run + "' is not a run folder (it has no config.toml)",
            "pass the --out folder of a duel train run: duel report runs/<name>");
    apply_threads(a->threads);
    const Config run_cfg = Config::from_file(config_path.string());
    ReportOptions opt;
    opt.out = a->out;
    opt.max_grids = a->max_grids > 0 ? a->max_grids : run_cfg.get_int("log.report_grids");
    // The interpolation comes from the newest loadable checkpoint.
    std::unique_ptr<GanModel> model;
    if (a->no_interpolation) {
      opt.generator.missing_reason = "left out (duel report --no-interpolation)";
    } else {
      try {
        Checkpoint ck = Checkpoint::read(find_resume_checkpoint(a->run));
        Config cfg;
        model = load_model(ck, cfg);
        opt.generator.model = model.get();
        opt.generator.shape = ck.state().shape;
        opt.generator.step = ck.state().step;
      } catch (const Error& e) {
        opt.generator.missing_reason = std::string("no interpolation: ") + e.what();
      }
    }
    ReportSummary s = write_report(a->run, opt);
    std::printf("wrote %s (%.1f MB: %lld log rows, %lld of %lld sample grids, %s, %lld eval table(s)) in %.2f s\n",
                s.path.c_str(), double(s.bytes) / 1e6, (long long)s.log_rows, (long long)s.grids_embedded,
                (long long)s.grids_found,
                s.interpolation ? ("interpolation at step " + std::to_string(opt.generator.step)).c_str()
                                : opt.generator.missing_reason.c_str(),
                (long long)s.eval_tables, s.seconds);
    std::printf("open it in a browser: xdg-open %s (it needs no network and no other file)\n", s.path.c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(35, "report", add_report);

}  // namespace duel::cli
