// The run report (io/report.h): reads a run folder and writes one HTML file.
//
// Everything the page shows is in the file: the run's scalars as one JSON
// blob inside <script type="application/json"> (made safe for the element
// by script_safe_json), the PNG grids and the interpolation as base64 data:
// URIs, uPlot and the report's own script and stylesheet (web/report/)
// inlined from byte arrays generated at configure time. Tables (config,
// evaluations, warnings) are plain HTML, escaped here, so they read even
// without scripts. The page's script builds the charts and the slider.
//
// Cost: the trainer calls this at every sample grid, so nothing is cached
// between calls and nothing is re-encoded but the interpolation: grids are
// embedded as the PNG bytes already on disk.
#include "duel/apps/report.h"

#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/core/rng.h"
#include "duel/data/dataset.h"
#include "duel/data/points.h"
#include "duel/io/gif.h"
#include "duel/io/html.h"
#include "duel/io/image.h"
#include "duel/models/capabilities.h"
#include "duel/models/interpolation.h"
#include "duel/train/run_folder.h"

namespace fs = std::filesystem;

namespace duel {

namespace report_assets {  // generated: build/generated/report_assets.cpp
std::string uplot_js();
std::string uplot_css();
std::string report_js();
std::string report_css();
}  // namespace report_assets

namespace {

const bool keys_registered = [] {
  register_key({"log.report", ConfigType::Bool, true,
                "rewrite <run>/report.html (curves, sample grids, interpolation, evaluations, config; one offline "
                "file) at every sample grid and at the end; `duel report RUN` writes it on demand",
                {}, {}, {}});
  register_int_key("log.report_grids", 40, 1, 100000,
                   "sample grids the report embeds at most (evenly spaced over the run, the first and last always)");
  return true;
}();

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot read " + what + " '" + path + "'", "check that the file exists and is readable");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw Error("cannot read " + what + " '" + path + "'", "check that the file is readable");
  return ss.str();
}

// A JSON value as a double: numbers as they are, anything else (null: a NaN
// or infinity the trainer logged) as NaN.
double number_or_nan(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : kNaN; }

// Rounded to 6 significant digits (what metrics.csv keeps), or null.
nlohmann::json rounded(double v) {
  if (!std::isfinite(v)) return nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return std::strtod(buf, nullptr);
}

std::string fmt(double v, int digits = 4) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf");
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// --- sample grids ---------------------------------------------------------------

struct GridFile {
  int64_t step = -1;  // -1: final.png of a run with no numbered grid
  fs::path path;
};

std::vector<GridFile> find_grids(const fs::path& samples) {
  std::vector<GridFile> grids;
  std::error_code ec;
  if (!fs::is_directory(samples, ec)) return grids;
  for (auto& e : fs::directory_iterator(samples, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() < 10 || name.rfind("step-", 0) != 0 || e.path().extension() != ".png") continue;
    const std::string digits = name.substr(5, name.size() - 9);
    if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    grids.push_back({std::stoll(digits), e.path()});
  }
  std::sort(grids.begin(), grids.end(), [](auto& a, auto& b) { return a.step < b.step; });
  if (grids.empty() && fs::exists(samples / "final.png", ec)) grids.push_back({-1, samples / "final.png"});
  return grids;
}

// At most `max` of n items, evenly spaced, always the first and the last.
std::vector<size_t> evenly_spaced(size_t n, size_t max) {
  std::vector<size_t> out;
  if (n == 0 || max == 0) return out;
  if (n <= max) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  if (max == 1) return {n - 1};
  for (size_t k = 0; k < max; ++k) {
    const size_t i = size_t(std::llround(double(k) * double(n - 1) / double(max - 1)));
    if (out.empty() || out.back() != i) out.push_back(i);
  }
  return out;
}

// --- evaluation tables (`duel eval`'s JSON) -------------------------------------

std::string mean_std(const nlohmann::json& v, double scale = 1) {
  if (v.is_object()) return fmt(scale * number_or_nan(v.value("mean", nlohmann::json()))) + " &plusmn; " +
                             fmt(scale * number_or_nan(v.value("std", nlohmann::json())), 2);
  return fmt(scale * number_or_nan(v));
}

// The memorisation check of an eval JSON, and its closest-pairs PNG (beside the JSON in eval_dir).
std::string memorisation_html(const nlohmann::json& m, const fs::path& eval_dir) {
  if (!m.is_object()) return "";
  if (!m.contains("share"))
    return "<p class=\"note\">memorisation check: " + html_escape(m.value("skipped", std::string("skipped"))) + "</p>\n";
  const double q = number_or_nan(m.value("quantile", nlohmann::json()));
  std::ostringstream o;
  o << "<div class=\"memorisation\"><h4>Memorisation</h4><table class=\"eval\"><tbody>\n"
    << "<tr data-metric=\"memorisation_share\"><td>samples closer to a training image than " << fmt(100 * (1 - q), 3)
    << "% of held-out images</td><td class=\"num" << (m.value("warn", false) ? " warn" : "") << "\">"
    << fmt(number_or_nan(m.value("share", nlohmann::json()))) << "</td><td class=\"num\">fresh images: "
    << fmt(number_or_nan(m.value("held_out_share", nlohmann::json()))) << "</td></tr>\n"
    << "<tr><td>median distance to the nearest training image</td><td class=\"num\">samples "
    << fmt(number_or_nan(m.value("median_sample_distance", nlohmann::json()))) << "</td><td class=\"num\">held-out "
    << fmt(number_or_nan(m.value("median_held_out_distance", nlohmann::json()))) << "</td></tr>\n"
    << "<tr><td>exact copies (distance 0)</td><td class=\"num\">samples "
    << fmt(number_or_nan(m.value("exact_share", nlohmann::json()))) << "</td><td class=\"num\">held-out "
    << fmt(number_or_nan(m.value("held_out_exact_share", nlohmann::json()))) << "</td></tr>\n"
    << "</tbody></table>\n<p class=\"meta\">" << m.value("train", int64_t(0)) << " training images: "
    << html_escape(m.value("train_set", std::string())) << "</p>\n";
  const std::string png = m.value("closest_png", std::string());
  std::error_code ec;
  if (!png.empty() && png.find('/') == std::string::npos && fs::exists(eval_dir / png, ec)) {
    try {
      o << "<figure><img class=\"pixelated closest\" alt=\"closest pairs\" src=\"data:image/png;base64,"
        << base64_encode(read_file((eval_dir / png).string(), "closest pairs")) << "\"><figcaption>the "
        << "closest pairs: each sample above its nearest training image (<code>eval/" << html_escape(png)
        << "</code>)</figcaption></figure>\n";
    } catch (const Error&) {
    }
  }
  o << "</div>\n";
  return o.str();
}

std::string eval_table_html(const nlohmann::json& j, const std::string& file, const fs::path& eval_dir) {
  const auto metrics = j.value("metrics", nlohmann::json::object());
  const auto floor = j.value("floor", nlohmann::json());
  const bool has_floor = floor.is_object();
  std::ostringstream o;
  const auto id = j.value("feature_network", nlohmann::json::object());
  o << "<div class=\"eval-block\"><h3>step " << j.value("step", int64_t(0)) << "</h3>\n<p class=\"meta\">"
    << html_escape(j.value("model", std::string("?"))) << " &middot; n = " << j.value("n", int64_t(0))
    << " images per set &middot; feature network: " << html_escape(id.value("kind", std::string("?"))) << " of "
    << html_escape(id.value("dataset", std::string("?"))) << " (accuracy " << fmt(number_or_nan(id.value("accuracy", nlohmann::json())))
    << ", hash " << html_escape(j.value("feature_hash", std::string("?")).substr(0, 12)) << ") &middot; <code>"
    << html_escape(file) << "</code></p>\n";
  o << "<table class=\"eval\"><thead><tr><th>metric</th><th>generated</th><th>floor (real vs real)</th></tr></thead><tbody>\n";
  struct Row {
    const char *key, *label, *better;
    double scale;
  };
  const Row rows[] = {{"fid", "FID", "lower", 1},
                      {"kid", "KID &times; 1000", "lower", 1000},
                      {"inception_score", "Inception Score", "higher", 1},
                      {"precision", "precision", "higher", 1},
                      {"recall", "recall", "higher", 1},
                      {"density", "density", "higher", 1},
                      {"coverage", "coverage", "higher", 1},
                      {"swd_pixels", "SWD pixels", "lower", 1},
                      {"swd_features", "SWD features", "lower", 1},
                      {"class_accuracy", "class accuracy", "higher", 1}};
  for (const auto& r : rows) {
    if (!metrics.contains(r.key)) continue;
    o << "<tr data-metric=\"" << r.key << "\"><td>" << r.label << " <span class=\"better\">(" << r.better
      << " is better)</span></td><td class=\"num\">" << mean_std(metrics[r.key], r.scale) << "</td><td class=\"num\">"
      << (has_floor && floor.contains(r.key) ? mean_std(floor[r.key], r.scale) : "&ndash;") << "</td></tr>\n";
  }
  const auto balance = j.value("class_balance", nlohmann::json());
  if (balance.is_object())
    o << "<tr data-metric=\"class_balance\"><td>class balance, total variation <span class=\"better\">(lower is "
         "better)</span></td><td class=\"num\">" << fmt(number_or_nan(balance.value("total_variation", nlohmann::json())))
      << "</td><td class=\"num\">"
      << (balance.contains("floor_total_variation") ? fmt(number_or_nan(balance["floor_total_variation"])) : "&ndash;")
      << "</td></tr>\n";
  o << "</tbody></table>\n";
  if (!has_floor) o << "<p class=\"note\">evaluated with --no-floor: no real-vs-real floor</p>\n";
  o << memorisation_html(j.value("memorisation", nlohmann::json()), eval_dir);
  const auto sets = j.value("sets", nlohmann::json::object());
  o << "<ul class=\"sets\">";
  for (auto& [k, v] : sets.items())
    if (v.is_string()) o << "<li>" << html_escape(k) << ": " << html_escape(v.get<std::string>()) << "</li>";
  o << "</ul>\n";
  for (auto& w : j.value("warnings", nlohmann::json::array()))
    if (w.is_string()) o << "<p class=\"warning\">" << html_escape(w.get<std::string>()) << "</p>\n";
  o << "</div>\n";
  return o.str();
}

// Label shown for a scalar name.
std::string label_of(const std::string& k) {
  static const std::map<std::string, std::string> labels = {
      {"loss_d", "loss D"},         {"loss_g", "loss G"},         {"d_real", "D(x)"},
      {"d_fake", "D(G(z))"},        {"critic_real", "critic(x)"}, {"critic_fake", "critic(G(z))"},
      {"img_per_s", "img/s"},       {"fid", "FID"},               {"kid", "KID"},
      {"w_estimate", "W estimate"}, {"gp", "gradient penalty"},   {"r1", "R1 penalty"}};
  auto it = labels.find(k);
  return it != labels.end() ? it->second : k;
}

}  // namespace

RunLog parse_run_log(const std::string& text, const std::string& origin) {
  RunLog log;
  auto add_row = [](std::vector<int64_t>& steps, std::vector<std::string>& columns,
                    std::map<std::string, std::vector<double>>& values, int64_t step, const nlohmann::json& j,
                    const std::vector<std::string>& skip) {
    // A row at or before the previous one (logs cut back by a resume or a
    // rollback that a copy did not see) replaces what came after it.
    while (!steps.empty() && steps.back() >= step) {
      steps.pop_back();
      for (auto& [k, v] : values) v.pop_back();
    }
    for (auto& [k, v] : j.items()) {
      if (std::find(skip.begin(), skip.end(), k) != skip.end() || !(v.is_number() || v.is_null())) continue;
      if (!values.count(k)) {
        columns.push_back(k);
        values[k] = std::vector<double>(steps.size(), kNaN);
      }
    }
    steps.push_back(step);
    for (auto& [k, v] : values) v.push_back(j.contains(k) ? number_or_nan(j[k]) : kNaN);
  };
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    const bool complete = end != std::string::npos;
    const std::string line = text.substr(pos, complete ? end - pos : std::string::npos);
    pos = complete ? end + 1 : text.size();
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      if (!complete) break;  // the last line, still being written
      throw Error(origin + " line " + std::to_string(line_no) + " is not valid JSON",
                  "the run's event log is damaged; restore it from a backup or start the run again");
    }
    if (!j.is_object() || !j.contains("event") || !j["event"].is_string()) {
      if (!complete) break;
      throw Error(origin + " line " + std::to_string(line_no) + " is not an event (a JSON object with \"event\")",
                  "the run's event log is damaged; restore it from a backup or start the run again");
    }
    const std::string ev = j["event"].get<std::string>();
    const int64_t step = j.contains("step") && j["step"].is_number() ? j["step"].get<int64_t>() : log.last_step;
    if (ev == "start" || ev == "resume") {
      if (j.contains("model") && j["model"].is_string()) log.model = j["model"].get<std::string>();
      if (j.contains("data") && j["data"].is_string()) log.data = j["data"].get<std::string>();
      if (j.contains("total_steps") && j["total_steps"].is_number()) log.total_steps = j["total_steps"].get<int64_t>();
      if (ev == "resume") ++log.resumes;
      log.status = "running";
    } else if (ev == "log") {
      add_row(log.steps, log.columns, log.values, step, j, {"event", "step", "epoch", "elapsed_s"});
    } else if (ev == "eval") {
      add_row(log.eval_steps, log.eval_columns, log.eval_values, step, j, {"event", "step"});
    } else if (ev == "warning") {
      if (j.contains("message") && j["message"].is_string()) log.warnings.emplace_back(step, j["message"].get<std::string>());
    } else if (ev == "rollback") {
      ++log.rollbacks;
    } else if (ev == "finish") {
      log.status = "finished";
    } else if (ev == "interrupted") {
      log.status = "interrupted";
    } else if (ev == "diverged") {
      log.status = "diverged";
    }
    // A rollback or a resume goes back to its checkpoint's step; everything else moves forward.
    log.last_step = (ev == "rollback" || ev == "resume") ? step : std::max(log.last_step, step);
  }
  return log;
}

std::vector<ChartSpec> chart_specs(const RunLog& log) {
  std::vector<ChartSpec> charts;
  std::vector<std::string> left = log.columns;
  // Takes the names `pick` accepts out of `left` into a chart.
  auto take = [&](const std::string& title, const std::string& source, std::vector<std::string>& from, auto pick) {
    ChartSpec c{title, source, {}, {}};
    for (auto it = from.begin(); it != from.end();) {
      if (pick(*it)) {
        c.keys.push_back(*it);
        c.labels.push_back(label_of(*it));
        it = from.erase(it);
      } else {
        ++it;
      }
    }
    if (!c.keys.empty()) charts.push_back(std::move(c));
  };
  auto starts = [](const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; };
  take("Losses", "log", left, [&](const std::string& k) { return starts(k, "loss"); });
  take("Discriminator outputs", "log", left,
       [&](const std::string& k) { return k == "d_real" || k == "d_fake" || starts(k, "critic_"); });
  // events.jsonl holds a row's keys in name order: put D(x) before D(G(z)).
  for (auto& c : charts)
    if (c.title == "Discriminator outputs")
      for (size_t i = 1; i < c.keys.size(); ++i)
        if (c.keys[i].find("real") != std::string::npos && c.keys[i - 1].find("fake") != std::string::npos) {
          std::swap(c.keys[i], c.keys[i - 1]);
          std::swap(c.labels[i], c.labels[i - 1]);
        }
  take("Wasserstein estimate", "log", left, [&](const std::string& k) { return k == "w_estimate"; });
  take("Penalties", "log", left, [&](const std::string& k) { return k == "gp" || k == "r1"; });
  // Throughput is drawn last among the log charts.
  std::vector<std::string> throughput;
  left.erase(std::remove_if(left.begin(), left.end(),
                            [&](const std::string& k) {
                              if (k != "img_per_s") return false;
                              throughput.push_back(k);
                              return true;
                            }),
             left.end());
  // Families sharing a prefix (info_cat, info_cont ...; z_mean, z_std) share a chart; the rest share one.
  auto prefix = [](const std::string& k) { return k.substr(0, k.find('_')); };
  while (!left.empty()) {
    const std::string p = prefix(left.front());
    const auto n = std::count_if(left.begin(), left.end(), [&](const std::string& k) { return prefix(k) == p; });
    if (n >= 2 && p != left.front()) {
      take(p + " terms", "log", left, [&](const std::string& k) { return prefix(k) == p; });
    } else {
      std::vector<std::string> singles;
      for (auto& k : left) {
        const std::string q = prefix(k);
        if (std::count_if(left.begin(), left.end(), [&](const std::string& x) { return prefix(x) == q; }) < 2 || q == k)
          singles.push_back(k);
      }
      take("Other terms", "log", left,
           [&](const std::string& k) { return std::find(singles.begin(), singles.end(), k) != singles.end(); });
    }
  }
  take("Throughput (images/s)", "log", throughput, [](const std::string&) { return true; });
  std::vector<std::string> eval_left = log.eval_columns;
  take("FID (eval.every)", "eval", eval_left, [](const std::string& k) { return k == "fid"; });
  take("KID (eval.every)", "eval", eval_left, [](const std::string& k) { return k == "kid"; });
  return charts;
}

std::string chart_json(const RunLog& log) {
  auto series = [](const std::vector<int64_t>& steps, const std::map<std::string, std::vector<double>>& values) {
    nlohmann::json s{{"step", steps}, {"values", nlohmann::json::object()}};
    for (auto& [k, v] : values) {
      nlohmann::json a = nlohmann::json::array();
      for (double x : v) a.push_back(rounded(x));
      s["values"][k] = std::move(a);
    }
    return s;
  };
  nlohmann::json j;
  j["log"] = series(log.steps, log.values);
  j["eval"] = series(log.eval_steps, log.eval_values);
  j["charts"] = nlohmann::json::array();
  for (auto& c : chart_specs(log))
    j["charts"].push_back({{"title", c.title}, {"source", c.source}, {"keys", c.keys}, {"labels", c.labels}});
  return j.dump();
}

// --- real images beside the samples ---------------------------------------------------

std::string real_images_png(const Config& cfg, const GanModel* model, std::string* why) {
  auto none = [why](const std::string& reason) {
    if (why) *why = reason;
    return std::string();
  };
  if (cfg.get_string("data.pair") != "none") return none("the data are image pairs: the sample grids show them");
  if (is_point_dataset(cfg.get_string("data.dataset"))) return none("the data are 2-D points");
  ImageSet data;
  try {
    data = open_dataset(cfg);
  } catch (const Error& e) {
    return none(std::string("the training images could not be read: ") + e.what());
  }
  const int64_t grid = cfg.get_int("sample.grid"), n = std::min(grid, data.size());
  if (n == 0) return none("the training set is empty");
  const int64_t cols = int64_t(std::ceil(std::sqrt(double(grid))));
  auto gen = at::detail::createCPUGenerator(20250002);
  const auto perm = torch::randperm(data.size(), gen, torch::kInt64);
  torch::Tensor idx = perm.slice(0, 0, n);
  if (model && model->needs_labels() && data.has_labels() && data.num_classes > 0) {
    // Row r shows class r % K, as a conditional model's grid does (TwoPlayerGan::preview_inputs).
    const auto labels = data.labels.index_select(0, perm).contiguous();
    const int64_t *label = labels.data_ptr<int64_t>(), *row = perm.data_ptr<int64_t>();
    std::vector<std::vector<int64_t>> of_class(size_t(data.num_classes));
    for (int64_t i = 0; i < perm.size(0); ++i)
      if (label[i] >= 0 && label[i] < data.num_classes) of_class[size_t(label[i])].push_back(row[i]);
    std::vector<int64_t> chosen, used(size_t(data.num_classes), 0);
    for (int64_t i = 0; i < n; ++i) {
      const auto& rows = of_class[size_t((i / cols) % data.num_classes)];
      if (rows.empty()) return none("a class of the grid has no training image");
      chosen.push_back(rows[size_t(used[size_t((i / cols) % data.num_classes)]++ % int64_t(rows.size()))]);
    }
    idx = torch::tensor(chosen, torch::kInt64);
  }
  return encode_png(make_grid(to_unit_range(data.rows(idx)), cols));
}

// --- the report ----------------------------------------------------------------------

namespace {

using EvalFiles = std::vector<std::pair<std::string, nlohmann::json>>;  // file name, parsed

void check_run_folder(const std::string& run_dir, const RunFolder& run) {
  const fs::path dir(run_dir);
  std::error_code ec;
  require(!run_dir.empty(), "no run folder given", "pass the --out folder of a duel train run: duel report runs/<name>");
  require(fs::exists(dir, ec), "run folder '" + run_dir + "' does not exist",
          "pass the --out folder of a duel train run: duel report runs/<name>");
  require(fs::is_directory(dir, ec), "'" + run_dir + "' is not a folder", "pass the run folder, not a file in it");
  require(fs::exists(run.config(), ec),
          "'" + run_dir + "' is not a run folder (it has no config.toml)",
          "pass the --out folder of a duel train run: duel report runs/<name>");
  require(fs::exists(run.events(), ec), "run folder '" + run_dir + "' has no events.jsonl",
          "the run has not logged anything yet; a run writes it as soon as training starts");
}

// The run's `duel eval` results (eval/*.json), newest step first.
EvalFiles read_evaluations(const RunFolder& run) {
  EvalFiles evals;
  std::error_code ec;
  if (!fs::is_directory(run.eval_dir(), ec)) return evals;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(run.eval_dir(), ec))
    if (e.path().extension() == ".json" && e.path().filename().string()[0] != '.') files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(f.string(), "evaluation"));
    } catch (const nlohmann::json::exception&) {
      throw Error("evaluation file '" + f.string() + "' is not valid JSON",
                  "delete it, or write it again with `duel eval --checkpoint " + run.latest() + "`");
    }
    require(j.is_object() && j.contains("metrics") && j["metrics"].is_object(),
            "evaluation file '" + f.string() + "' holds no \"metrics\" object", "write it again with duel eval");
    evals.emplace_back(f.filename().string(), std::move(j));
  }
  std::stable_sort(evals.begin(), evals.end(), [](auto& a, auto& b) {
    return a.second.value("step", int64_t(0)) > b.second.value("step", int64_t(0));
  });
  return evals;
}

// Up to max_grids sample grids, evenly spaced over the run, as data: URLs.
nlohmann::json embed_grids(const RunFolder& run, int64_t max_grids, ReportSummary& sum) {
  auto grids = find_grids(run.samples_dir());
  sum.grids_found = int64_t(grids.size());
  nlohmann::json grid_json = nlohmann::json::array();
  for (size_t i : evenly_spaced(grids.size(), size_t(max_grids))) {
    std::string png;
    try {
      png = read_file(grids[i].path.string(), "sample grid");
    } catch (const Error&) {
      continue;  // a grid removed while the report reads is left out
    }
    grid_json.push_back({{"step", grids[i].step}, {"name", grids[i].path.filename().string()},
                         {"src", "data:image/png;base64," + base64_encode(png)}});
  }
  sum.grids_embedded = int64_t(grid_json.size());
  return grid_json;
}

// The latent interpolation of the generator, from fixed noise (the same paths at every refresh).
std::string interpolation_html(const ReportOptions& options, ReportSummary& sum) {
  const auto& gen = options.generator;
  const auto* noise = gen.model ? capability<NoiseSampler>(*gen.model) : nullptr;
  if (!noise) {
    const std::string why = gen.model ? "model " + gen.model->name() +
                                            " translates images: it has no latent space to walk (its previews are the "
                                            "sample grids: input | output | target)"
                                      : (gen.missing_reason.empty() ? "no generator available" : gen.missing_reason);
    return "<p class=\"note\" id=\"interp-missing\">" + html_escape(why) + "</p>\n";
  }
  if (is_point_shape(gen.shape.channels, gen.shape.size))
    return "<p class=\"note\" id=\"interp-missing\">the data are 2-D points: the sample plots above show the "
           "generator's distribution; an interpolation draws images</p>\n";
  torch::Tensor start, end;
  {
    RngRestore restore;
    torch::manual_seed(20250001);
    start = noise->make_noise(options.interp_rows, torch::kCPU);
    end = noise->make_noise(options.interp_rows, torch::kCPU);
  }
  torch::Tensor labels;
  if (gen.model->needs_labels() && gen.shape.num_classes > 0)
    labels = torch::arange(options.interp_rows, torch::kInt64).remainder(gen.shape.num_classes);
  Interpolation path = interpolate(*gen.model, start.to(gen.device), end.to(gen.device), options.interp_steps,
                                   labels.defined() ? labels.to(gen.device) : labels);
  const std::string gif = encode_gif(path.frames, 12), grid = encode_png(path.grid);
  std::ostringstream o;
  o << "<p class=\"meta\">the generator at step " << gen.step << ": " << options.interp_rows
    << " spherical paths between fixed pairs of noise vectors, " << options.interp_steps
    << " points each" << (labels.defined() ? " (path r draws class r)" : "") << "</p>\n"
    << "<div class=\"interp\"><figure><img id=\"interp-gif\" alt=\"animated interpolation\" src=\"data:image/gif;base64,"
    << base64_encode(gif) << "\"><figcaption>every path, animated</figcaption></figure>"
    << "<figure><img id=\"interp-grid\" alt=\"interpolation grid\" src=\"data:image/png;base64," << base64_encode(grid)
    << "\"><figcaption>one path per row</figcaption></figure></div>\n";
  sum.interpolation = true;
  return o.str();
}

// The page's header: name, model, data, progress and status.
std::string header_html(const std::string& name, const RunLog& log) {
  const std::map<std::string, std::string> status_text = {
      {"running", "in progress (or stopped without a final event)"},
      {"finished", "finished"},
      {"interrupted", "interrupted (resume with duel train --resume)"},
      {"diverged", "stopped: training diverged"}};
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<meta name=\"generator\" content=\"duel report\">\n"
    << "<title>" << html_escape(name) << " &middot; duel report</title>\n"
    << "<style>\n" << report_assets::uplot_css() << "\n</style>\n"
    << "<style>\n" << report_assets::report_css() << "\n</style>\n</head>\n<body>\n";
  h << "<header><h1>" << html_escape(name) << "</h1>\n<p class=\"meta\"><span>model <b>" << html_escape(log.model)
    << "</b></span><span>" << html_escape(log.data) << "</span><span>step <b id=\"run-step\">" << log.last_step
    << "</b> of " << log.total_steps << "</span><span class=\"status status-" << log.status << "\">"
    << html_escape(status_text.at(log.status)) << "</span>";
  if (log.resumes) h << "<span>" << log.resumes << " resume(s)</span>";
  if (log.rollbacks) h << "<span class=\"warn\">" << log.rollbacks << " divergence rollback(s)</span>";
  h << "<span>written " << utc_now() << "</span></p>\n";
  if (log.status == "running")
    h << "<p class=\"live\"><label><input type=\"checkbox\" id=\"auto-reload\"> reload every 30 s</label> "
         "(the trainer rewrites this file at every sample grid)</p>\n";
  h << "<div id=\"latest\" class=\"cards\"></div></header>\n<main>\n";
  return h.str();
}

// The sample grids' slider, with real training images beside it.
std::string samples_html(const ReportSummary& sum, GanModel* model, const std::string& real_png,
                         const std::string& real_note) {
  std::ostringstream h;
  h << "<section id=\"samples\"><h2>Samples over training</h2>\n";
  if (sum.grids_embedded == 0) {
    h << "<p class=\"note\">no sample grid yet (train.sample_every)</p>\n";
  } else {
    h << "<p class=\"meta\">"
      << (model && capability<ImageTranslator>(*model)
              ? "previews of a fixed batch of the data, input | output | target per row"
              : "grids from the run's fixed noise")
      << " (samples/)";
    if (sum.grids_embedded < sum.grids_found)
      h << "; " << sum.grids_embedded << " of " << sum.grids_found << " grids, evenly spaced (log.report_grids)";
    h << "</p>\n<div class=\"slider\"><input type=\"range\" id=\"grid-slider\" min=\"0\" max=\""
      << (sum.grids_embedded - 1) << "\" value=\"" << (sum.grids_embedded - 1) << "\" step=\"1\">"
      << "<span id=\"grid-label\"></span></div>\n<div class=\"interp\"><figure><img id=\"grid-image\" "
         "class=\"pixelated\" alt=\"sample grid\"><figcaption>samples</figcaption></figure>";
    if (!real_png.empty())
      h << "<figure><img id=\"real-grid\" class=\"pixelated\" alt=\"real training images\" "
           "src=\"data:image/png;base64,"
        << base64_encode(real_png) << "\"><figcaption>real training images, as the trainer read them</figcaption></figure>";
    h << "</div>\n";
  }
  if (real_png.empty() && !real_note.empty())
    h << "<p class=\"note\" id=\"real-grid-missing\">no real images beside the samples: " << html_escape(real_note)
      << "</p>\n";
  h << "</section>\n";
  return h.str();
}

// `duel eval` tables, then the periodic evaluation's rows.
std::string evaluation_html(const EvalFiles& evals, const RunLog& log, const RunFolder& run) {
  std::ostringstream h;
  h << "<section id=\"evaluation\"><h2>Evaluation</h2>\n";
  if (evals.empty())
    h << "<p class=\"note\" id=\"no-eval-table\">no <code>duel eval</code> result in eval/ yet: <code>duel eval "
         "--checkpoint "
      << html_escape(run.latest())
      << "</code> writes FID, KID, IS, precision/recall, SWD and the real-vs-real floor they are read against</p>\n";
  for (auto& [file, j] : evals) h << eval_table_html(j, "eval/" + file, run.eval_dir());
  if (!log.eval_steps.empty()) {
    h << "<h3>While training (eval.every)</h3>\n<table class=\"eval\" id=\"periodic-eval\"><thead><tr><th>step</th>"
         "<th>FID</th><th>KID &times; 1000</th><th>seconds</th></tr></thead><tbody>\n";
    auto col = [&](const std::string& k, size_t i) {
      auto it = log.eval_values.find(k);
      return it == log.eval_values.end() ? kNaN : it->second[i];
    };
    for (size_t i = 0; i < log.eval_steps.size(); ++i)
      h << "<tr><td class=\"num\">" << log.eval_steps[i] << "</td><td class=\"num\">" << fmt(col("fid", i))
        << "</td><td class=\"num\">" << fmt(1000 * col("kid", i)) << " &plusmn; " << fmt(1000 * col("kid_std", i), 2)
        << "</td><td class=\"num\">" << fmt(col("eval_s", i), 3) << "</td></tr>\n";
    h << "</tbody></table>\n<p class=\"note\">the periodic evaluation measures FID and KID only, without the floor; "
         "<code>duel eval --checkpoint "
      << html_escape(run.best()) << "</code> gives the full table with it</p>\n";
  }
  h << "</section>\n";
  return h.str();
}

}  // namespace

ReportSummary write_report(const std::string& run_dir, const ReportOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir(run_dir);
  const RunFolder run(run_dir);
  check_run_folder(run_dir, run);
  require(options.max_grids >= 1, "the report needs room for at least one sample grid", "use max_grids >= 1");
  const std::string out = options.out.empty() ? run.report() : options.out;

  // 1. Read everything first: bad input stops here, before anything is written.
  const std::string config_text = read_file(run.config(), "config");
  const std::string events_path = run.events();
  const RunLog log = parse_run_log(read_file(events_path, "event log"), events_path);
  const EvalFiles evals = read_evaluations(run);
  ReportSummary sum;
  sum.path = out;
  sum.log_rows = int64_t(log.steps.size());
  sum.evaluations = int64_t(log.eval_steps.size());
  sum.eval_tables = int64_t(evals.size());
  nlohmann::json grid_json = embed_grids(run, options.max_grids, sum);

  // 2. The latent interpolation, and the real images beside the samples.
  const std::string interp_html = interpolation_html(options, sum);
  std::string real_png = options.real_png, real_note;
  if (real_png.empty() && options.real_images) {
    try {
      real_png = real_images_png(Config::from_string(config_text, run.config()), options.generator.model, &real_note);
    } catch (const Error& e) {
      real_note = std::string("the run's config could not be read: ") + e.what();
    }
  }
  sum.real_images = !real_png.empty();

  // 3. The page.
  const fs::path abs = fs::absolute(dir).lexically_normal();
  const std::string name = abs.filename().string().empty() ? abs.parent_path().filename().string()
                                                           : abs.filename().string();
  nlohmann::json page;
  page["run"] = {{"name", name}, {"status", log.status}, {"step", log.last_step}, {"total_steps", log.total_steps}};
  page["grids"] = std::move(grid_json);
  const std::string data_json = "{\"page\":" + page.dump() + ",\"series\":" + chart_json(log) + "}";

  std::ostringstream h;
  h << header_html(name, log);
  h << "<section id=\"curves\"><h2>Training curves</h2>\n"
       "<p class=\"hint\">drag across a chart to zoom into steps, double-click to zoom out; hover for values "
       "(the cursor follows on every chart); click a legend entry to hide a curve</p>\n"
       "<div id=\"charts\" class=\"charts\"></div>\n"
       "<noscript><p class=\"note\">the charts need JavaScript</p></noscript></section>\n";
  h << "<div class=\"pair\">\n" << samples_html(sum, options.generator.model, real_png, real_note);
  h << "<section id=\"interpolation\"><h2>Latent interpolation</h2>\n" << interp_html << "</section>\n</div>\n";
  h << evaluation_html(evals, log, run);
  if (!log.warnings.empty()) {
    h << "<section id=\"warnings\"><h2>Monitor warnings</h2>\n<ul class=\"warnings\">\n";
    for (auto& [step, msg] : log.warnings)  // the monitor's messages mostly name their step already
      h << "<li>" << (msg.rfind("step ", 0) == 0 ? "" : "<b>step " + std::to_string(step) + "</b> ") << html_escape(msg)
        << "</li>\n";
    h << "</ul></section>\n";
  }
  h << "<section id=\"config\"><h2>Config</h2>\n<p class=\"meta\">config.toml, the resolved config (the keys the "
       "run read, and those set explicitly; the rest at their defaults): <code>duel train --config "
    << html_escape(run.config()) << " --out runs/again</code> reruns it</p>\n<pre id=\"config-text\">"
    << html_escape(config_text) << "</pre></section>\n</main>\n";
  h << "<script type=\"application/json\" id=\"report-data\">" << script_safe_json(data_json) << "</script>\n"
    << "<script>\n" << report_assets::uplot_js() << "\n</script>\n"
    << "<script>\n" << report_assets::report_js() << "\n</script>\n</body>\n</html>\n";

  const std::string html = h.str();
  const auto parent = fs::path(out).parent_path();
  std::error_code ec;
  require(parent.empty() || fs::is_directory(parent, ec), "the folder of '" + out + "' does not exist",
          "create it first, or leave --out out to write <run>/report.html");
  write_file_atomic(out, html);
  sum.bytes = html.size();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace duel
