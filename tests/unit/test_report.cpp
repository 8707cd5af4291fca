// The run report's data extraction and page assembly (src/apps/report.cpp):
// escaping for <script> and HTML, base64, the events.jsonl reader (NaN,
// torn lines, corrupt lines, rollbacks), chart grouping, grid selection,
// bad run folders, and the interpolation's determinism and RNG hygiene.
// The page itself is checked in a real browser by tests/cli/report.sh.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <regex>
#include <sstream>

#include "duel/apps/report.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/io/html.h"
#include "duel/io/image.h"
#include "duel/models/model.h"

using namespace duel;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A temporary run folder with config.toml, events.jsonl and `grids` sample grids.
struct TempRun {
  fs::path dir;
  explicit TempRun(const std::string& name, int grids = 3) {
    dir = fs::temp_directory_path() / ("duel_report_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "samples");
    put(dir / "config.toml", "[model]\nname = \"dcgan\" # </script><b>x</b>\n");
    std::string ev = R"({"event":"start","step":0,"model":"dcgan","total_steps":8,"data":"fixture"})" "\n";
    for (int s = 2; s <= 8; s += 2)
      ev += R"({"event":"log","step":)" + std::to_string(s) + R"(,"epoch":0,"loss_d":1.5,"loss_g":0.75,"d_real":0.5,"d_fake":0.25,"img_per_s":100,"elapsed_s":1})" "\n";
    ev += R"({"event":"finish","step":8,"seconds":1})" "\n";
    put(dir / "events.jsonl", ev);
    for (int g = 1; g <= grids; ++g) {
      std::ostringstream name;
      name << "step-" << std::setw(6) << std::setfill('0') << g * 2 << ".png";
      write_png((dir / "samples" / name.str()).string(), torch::full({1, 4, 4}, g * 10, torch::kUInt8));
    }
  }
  ~TempRun() { fs::remove_all(dir); }
};

// The JSON blob of a report page.
nlohmann::json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const size_t a = html.find(open);
  EXPECT_NE(a, std::string::npos);
  const size_t b = html.find("</script>", a);
  return nlohmann::json::parse(html.substr(a + open.size(), b - a - open.size()));
}

}  // namespace

TEST(Report, ScriptSafeJsonCannotCloseTheElement) {
  const std::string hostile = "</script><script>alert(1)</script><!-- \xE2\x80\xA8 \xE2\x80\xA9";
  const std::string text = script_safe_json(nlohmann::json{{"name", hostile}}.dump());
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  EXPECT_EQ(text.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_NE(text.find("\\u003c/script>"), std::string::npos) << text;
  EXPECT_NE(text.find("\\u2028"), std::string::npos);
  // The same value reads back.
  EXPECT_EQ(nlohmann::json::parse(text)["name"].get<std::string>(), hostile);
}

TEST(Report, HtmlEscape) {
  EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(html_escape("plain"), "plain");
}

TEST(Report, Base64Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST(Report, ParsesLogRowsWithNullsAndMissingKeys) {
  const std::string text =
      R"({"event":"start","step":0,"model":"wgan-gp","total_steps":10,"data":"d"})" "\n"
      R"({"event":"log","step":2,"epoch":0,"loss_d":1.0,"loss_g":null,"img_per_s":50,"elapsed_s":1})" "\n"
      R"({"event":"warning","step":2,"message":"D wins"})" "\n"
      R"({"event":"log","step":4,"epoch":0,"loss_d":0.5,"loss_g":2.0,"gp":0.1,"img_per_s":60,"elapsed_s":2})" "\n"
      R"({"event":"eval","step":4,"fid":12.5,"kid":0.01,"kid_std":0.002,"eval_s":3})" "\n"
      R"({"event":"finish","step":4})" "\n";
  RunLog log = parse_run_log(text, "events.jsonl");
  EXPECT_EQ(log.model, "wgan-gp");
  EXPECT_EQ(log.total_steps, 10);
  EXPECT_EQ(log.status, "finished");
  EXPECT_EQ(log.last_step, 4);
  EXPECT_EQ(log.steps, (std::vector<int64_t>{2, 4}));
  // First seen first; within a row in name order (as events.jsonl stores them).
  EXPECT_EQ(log.columns, (std::vector<std::string>{"img_per_s", "loss_d", "loss_g", "gp"}));
  EXPECT_DOUBLE_EQ(log.values["loss_d"][1], 0.5);
  EXPECT_TRUE(std::isnan(log.values["loss_g"][0]));  // null: the trainer logged a NaN
  EXPECT_TRUE(std::isnan(log.values["gp"][0]));      // absent in the first row
  EXPECT_DOUBLE_EQ(log.values["gp"][1], 0.1);
  EXPECT_EQ(log.values.count("elapsed_s"), 0u);
  EXPECT_EQ(log.eval_steps, (std::vector<int64_t>{4}));
  EXPECT_DOUBLE_EQ(log.eval_values["fid"][0], 12.5);
  ASSERT_EQ(log.warnings.size(), 1u);
  EXPECT_EQ(log.warnings[0].second, "D wins");
}

TEST(Report, RollbackCutsRowsBackAndTornLastLineIsSkipped) {
  const std::string text =
      R"({"event":"start","step":0,"model":"dcgan","total_steps":12})" "\n"
      R"({"event":"log","step":2,"loss_d":1})" "\n"
      R"({"event":"log","step":4,"loss_d":2})" "\n"
      R"({"event":"log","step":6,"loss_d":3})" "\n"
      R"({"event":"rollback","step":4})" "\n"
      R"({"event":"log","step":6,"loss_d":4})" "\n"
      R"({"event":"log","step":8,"lo)";  // a row being written
  RunLog log = parse_run_log(text, "events.jsonl");
  EXPECT_EQ(log.steps, (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(log.values["loss_d"], (std::vector<double>{1, 2, 4}));
  EXPECT_EQ(log.rollbacks, 1);
  EXPECT_EQ(log.status, "running");
  EXPECT_EQ(log.last_step, 6);
}

TEST(Report, CorruptLineIsAnErrorNamingIt) {
  const std::string text = R"({"event":"start","step":0})" "\n" R"({"event":"log","step":2,"loss_d":1})" "\n"
                           "garbage{\n" R"({"event":"log","step":4,"loss_d":1})" "\n";
  try {
    parse_run_log(text, "runs/x/events.jsonl");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runs/x/events.jsonl line 3"), std::string::npos) << e.what();
  }
  // A complete line that is JSON but not an event is refused too.
  EXPECT_THROW(parse_run_log("[1,2]\n", "e"), Error);
}

TEST(Report, ChartJsonWritesNonFiniteAsNullAndRounds) {
  RunLog log;
  log.steps = {1, 2, 3, 4};
  log.columns = {"loss_d"};
  log.values["loss_d"] = {0.123456789, std::numeric_limits<double>::quiet_NaN(),
                          std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  const std::string text = chart_json(log);
  EXPECT_EQ(text.find("nan"), std::string::npos);
  EXPECT_EQ(text.find("inf"), std::string::npos);
  auto j = nlohmann::json::parse(text);  // strict JSON: NaN/Infinity would not parse
  const auto& v = j["log"]["values"]["loss_d"];
  ASSERT_EQ(v.size(), 4u);
  EXPECT_DOUBLE_EQ(v[0].get<double>(), 0.123457);
  EXPECT_TRUE(v[1].is_null());
  EXPECT_TRUE(v[2].is_null());
  EXPECT_TRUE(v[3].is_null());
  EXPECT_EQ(j["log"]["step"], nlohmann::json({1, 2, 3, 4}));
}

TEST(Report, ChartGroups) {
  RunLog log;
  log.columns = {"d_fake", "d_real", "gp", "loss_d", "loss_g", "info_cat", "info_cont", "z_mean", "cycle", "img_per_s"};
  log.eval_columns = {"fid", "kid", "kid_std", "eval_s"};
  auto charts = chart_specs(log);
  std::vector<std::string> titles;
  for (auto& c : charts) titles.push_back(c.title);
  EXPECT_EQ(titles, (std::vector<std::string>{"Losses", "Discriminator outputs", "Penalties", "info terms",
                                              "Other terms", "Throughput (images/s)", "FID (eval.every)",
                                              "KID (eval.every)"}));
  EXPECT_EQ(charts[0].keys, (std::vector<std::string>{"loss_d", "loss_g"}));
  EXPECT_EQ(charts[1].labels, (std::vector<std::string>{"D(x)", "D(G(z))"}));
  EXPECT_EQ(charts[4].keys, (std::vector<std::string>{"z_mean", "cycle"}));
  EXPECT_EQ(charts[6].source, "eval");
  // Every logged scalar is drawn exactly once.
  size_t drawn = 0;
  for (auto& c : charts)
    if (c.source == "log") drawn += c.keys.size();
  EXPECT_EQ(drawn, log.columns.size());
}

TEST(Report, BadRunFoldersAreRefusedWithoutWriting) {
  ReportOptions o;
  EXPECT_THROW(write_report("/nonexistent/duel/run", o), Error);
  TempRun run("bad");
  fs::remove(run.dir / "config.toml");
  EXPECT_THROW(write_report(run.dir.string(), o), Error);
  EXPECT_FALSE(fs::exists(run.dir / "report.html"));

  TempRun corrupt("corrupt");
  put(corrupt.dir / "events.jsonl", std::string(R"({"event":"start","step":0})") + "\n\x01\x02 not json\n{}\n");
  EXPECT_THROW(write_report(corrupt.dir.string(), o), Error);
  EXPECT_FALSE(fs::exists(corrupt.dir / "report.html"));
  // An earlier report is left as it was.
  put(corrupt.dir / "report.html", "old");
  EXPECT_THROW(write_report(corrupt.dir.string(), o), Error);
  EXPECT_EQ(slurp(corrupt.dir / "report.html"), "old");

  TempRun bad_eval("bad_eval");
  put(bad_eval.dir / "eval" / "step-000008.json", "{\"metrics\": ");
  EXPECT_THROW(write_report(bad_eval.dir.string(), o), Error);
}

TEST(Report, PageHoldsEscapedConfigDataAndEvenlySpacedGrids) {
  TempRun run("page", 9);
  ReportOptions o;
  o.max_grids = 4;
  o.generator.missing_reason = "no checkpoint in this test";
  ReportSummary s = write_report(run.dir.string(), o);
  EXPECT_EQ(s.path, (run.dir / "report.html").string());
  EXPECT_EQ(s.grids_found, 9);
  EXPECT_EQ(s.grids_embedded, 4);
  EXPECT_EQ(s.log_rows, 4);
  EXPECT_FALSE(s.interpolation);
  const std::string html = slurp(s.path);
  EXPECT_EQ(html.size(), s.bytes);
  // The config's text is escaped: its "</script>" shows as text.
  EXPECT_NE(html.find("# &lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>x</b>"), std::string::npos);
  EXPECT_NE(html.find("no checkpoint in this test"), std::string::npos);
  // uPlot is inlined, nothing is fetched.
  EXPECT_NE(html.find("uPlot"), std::string::npos);
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  auto data = page_data(html);
  std::vector<int64_t> steps;
  for (auto& g : data["page"]["grids"]) steps.push_back(g["step"].get<int64_t>());
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 8, 12, 18}));  // grids 1, 4, 6, 9 of 9 (steps 2..18)
  // The embedded grid is the file's bytes.
  const std::string src = data["page"]["grids"][0]["src"];
  EXPECT_EQ(src, "data:image/png;base64," + base64_encode(slurp(run.dir / "samples" / "step-000002.png")));
  EXPECT_EQ(data["page"]["run"]["status"], "finished");
  EXPECT_EQ(data["series"]["log"]["values"]["loss_g"], nlohmann::json({0.75, 0.75, 0.75, 0.75}));
}

TEST(Report, EvalTableShowsMetricsBesideTheFloor) {
  TempRun run("eval");
  put(run.dir / "eval" / "step-000008.json",
      R"({"step":8,"model":"dcgan","n":32,"feature_hash":"abcdef0123456789","feature_network":{"kind":"classifier","dataset":"mnist","accuracy":0.9},
          "metrics":{"fid":41.25,"kid":{"mean":0.0312,"std":0.004}},"floor":{"fid":1.5,"kid":{"mean":0.0001,"std":0.0002}}})");
  write_report(run.dir.string(), ReportOptions{});
  const std::string html = slurp(run.dir / "report.html");
  EXPECT_NE(html.find("<tr data-metric=\"fid\"><td>FID <span class=\"better\">(lower is better)</span></td><td "
                      "class=\"num\">41.25</td><td class=\"num\">1.5</td></tr>"),
            std::string::npos);
  // KID x 1000, as duel eval prints it: 0.0312 +- 0.004 -> 31.2 +- 4, floor 0.1 +- 0.2.
  EXPECT_NE(html.find("<td class=\"num\">31.2 &plusmn; 4</td><td class=\"num\">0.1 &plusmn; 0.2</td>"),
            std::string::npos);
  EXPECT_EQ(html.find("no-eval-table"), std::string::npos);
}

TEST(Report, InterpolationIsDeterministicAndLeavesTheRngAlone) {
  TempRun run("interp");
  Config c;
  c.set_from_string("model.name=dcgan");
  c.set_from_string("model.latent_dim=8");
  c.set_from_string("model.g_width=8");
  c.set_from_string("model.d_width=8");
  torch::manual_seed(3);
  auto model = create_model(c, DataShape{1, 28, 0});
  ReportOptions o;
  o.generator.model = model.get();
  o.generator.shape = DataShape{1, 28, 0};
  o.generator.step = 8;
  o.interp_rows = 3;
  o.interp_steps = 4;
  torch::manual_seed(11);
  const torch::Tensor before = get_rng_state();
  ReportSummary s = write_report(run.dir.string(), o);
  EXPECT_TRUE(torch::equal(get_rng_state(), before)) << "the report drew from the global generator";
  EXPECT_TRUE(s.interpolation);
  const std::string first = slurp(run.dir / "report.html");
  std::smatch m;
  const std::regex gif("id=\"interp-gif\"[^>]*src=\"data:image/gif;base64,([A-Za-z0-9+/=]+)\"");
  const std::regex png("id=\"interp-grid\"[^>]*src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
  ASSERT_TRUE(std::regex_search(first, m, gif));
  const std::string gif_a = m[1];
  ASSERT_TRUE(std::regex_search(first, m, png));
  const std::string png_a = m[1];
  torch::manual_seed(99);  // another global state: same paths
  write_report(run.dir.string(), o);
  const std::string second = slurp(run.dir / "report.html");
  ASSERT_TRUE(std::regex_search(second, m, gif));
  EXPECT_EQ(std::string(m[1]), gif_a);
  ASSERT_TRUE(std::regex_search(second, m, png));
  EXPECT_EQ(std::string(m[1]), png_a);
  // A 4-column grid of 3 rows of 28 px images with 2 px padding: 4*30+2 = 122 by 3*30+2 = 92 (PNG IHDR).
  const std::string png_bytes = [&] {
    // decode base64 via the image reader: write and read back
    fs::path p = run.dir / "interp.png";
    static const std::string t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    int val = 0, bits = -8;
    for (char ch : png_a) {
      if (ch == '=') break;
      val = (val << 6) + int(t.find(ch));
      bits += 6;
      if (bits >= 0) {
        out.push_back(char((val >> bits) & 0xFF));
        bits -= 8;
      }
    }
    put(p, out);
    return out;
  }();
  auto img = read_image((run.dir / "interp.png").string());
  EXPECT_EQ(img.size(1), 92);
  EXPECT_EQ(img.size(2), 122);
  EXPECT_EQ(png_bytes.substr(1, 3), "PNG");
}
