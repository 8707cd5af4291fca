// The run report: one self-contained HTML file (<run>/report.html) that a
// browser opens offline. It holds
//   - interactive curves of every logged scalar (losses, D(x), D(G(z)), img/s,
//     FID/KID of eval.every), drawn by uPlot, with zoom and hover;
//   - the sample grids over training behind a slider, with real training
//     images beside them in the same layout;
//   - a latent interpolation of the current generator (grid + animation);
//   - the evaluation tables of `duel eval` beside their real-vs-real floor,
//     with the memorisation check and its closest pairs when the evaluation
//     has them, and the periodic evaluations;
//   - the monitor's warnings and the resolved config.
// uPlot's script and stylesheet are compiled into the binary
// (cmake/DuelReportAssets.cmake) and the images are embedded as data: URIs,
// so the file needs nothing beside it. `duel report RUN` writes it, and the
// trainer refreshes it at every sample grid (log.report).
//
// Requires: run_dir holds a run (config.toml and events.jsonl). Ensures: the
// report is written atomically; bad input (no folder, not a run, a corrupt
// events.jsonl or eval JSON) throws duel::Error and leaves any previous
// report as it was.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "duel/models/model.h"

namespace duel {

class Config;

// What the report draws its latent interpolation from: the trainer's model
// in memory, or a checkpoint's generator.
struct ReportGenerator {
  GanModel* model = nullptr;  // nullptr: no interpolation (the report says why)
  DataShape shape;
  int64_t step = 0;           // the step its weights are at
  torch::Device device = torch::kCPU;
  std::string missing_reason;  // shown when model is nullptr
};

struct ReportOptions {
  std::string out;             // empty: <run_dir>/report.html
  // Real training images beside the samples (real_images_png of the run's
  // config): real_png, when given, is used as it is (the trainer makes it once).
  bool real_images = true;
  std::string real_png;
  int64_t max_grids = 40;      // sample grids embedded (evenly spaced; the first and the last always)
  int64_t interp_rows = 8;     // interpolation paths
  int64_t interp_steps = 10;   // points along each path
  ReportGenerator generator;
};

struct ReportSummary {
  std::string path;
  size_t bytes = 0;
  int64_t log_rows = 0, evaluations = 0, eval_tables = 0;
  int64_t grids_found = 0, grids_embedded = 0;
  bool interpolation = false, real_images = false;
  double seconds = 0;
};

ReportSummary write_report(const std::string& run_dir, const ReportOptions& options);

// The real images shown beside the sample grids: sample.grid training images
// as the trainer read them (open_dataset of the run's config), a seeded
// random choice laid out as the grids are; for a conditional model (`model`
// needs labels) row r shows class r % K, as its grid does. PNG bytes, or
// empty with `why` set for data that are not single images (pairs, 2-D
// points) or cannot be read.
std::string real_images_png(const Config& run_config, const GanModel* model, std::string* why = nullptr);

// --- the pieces, exposed for tests -------------------------------------------

// A run's events.jsonl, as the report charts it.
struct RunLog {
  std::string model, data, status = "running";  // status: running, finished, interrupted, diverged
  int64_t total_steps = 0, last_step = 0, rollbacks = 0, resumes = 0;
  // One entry per `log` row, in step order; values[name][i] is row i's value
  // of a scalar, NaN where the row lacks it or it was not finite (null).
  std::vector<int64_t> steps;
  std::vector<std::string> columns;  // scalar names, first seen first (no step, epoch, elapsed_s)
  std::map<std::string, std::vector<double>> values;
  // The same for `eval` events (fid, kid, kid_std, eval_s).
  std::vector<int64_t> eval_steps;
  std::vector<std::string> eval_columns;
  std::map<std::string, std::vector<double>> eval_values;
  std::vector<std::pair<int64_t, std::string>> warnings;
};

// Parses events.jsonl text; `origin` names it in errors. A line that is not
// a JSON object throws duel::Error naming the line, except a last line
// without its newline (a row being written while the report reads).
RunLog parse_run_log(const std::string& text, const std::string& origin);

struct ChartSpec {
  std::string title, source;  // source: "log" or "eval"
  std::vector<std::string> keys, labels;
};
// Groups scalar names into charts: losses, D outputs, penalties, throughput,
// each other family (by the prefix before '_'), FID and KID.
std::vector<ChartSpec> chart_specs(const RunLog& log);

// The chart data as JSON text: {"log": {"step": [...], "values": {name: [...]}},
// "eval": {...}, "charts": [...]}; numbers rounded to 6 significant digits,
// NaN and infinities written as null (a gap in the curve).
std::string chart_json(const RunLog& log);

}  // namespace duel
