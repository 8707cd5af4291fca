// The mode-coverage benchmark (include/duel/apps/mode_bench.h).
#include "duel/apps/mode_bench.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "duel/apps/model_loading.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/core/rng.h"
#include "duel/data/dataset.h"
#include "duel/data/points.h"
#include "duel/io/image.h"
#include "duel/io/plot.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/nn/feature_net.h"
#include "duel/train/trainer.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

struct Protocol {
  std::vector<std::string> settings;  // key=value
  int64_t steps = 0, samples = 0;
};

Protocol protocol_of(const std::string& name) {
  Protocol p;
  if (is_point_dataset(name)) {
    // PacGAN's 2-D setting: G 4 x 400 (batch norm, ReLU), D 3 x maxout(200, 5), z ~ N(0, I_2),
    // Adam(1e-4, beta1 0.8), batch 100, weights ~ N(0, 0.02), non-saturating loss.
    p.settings = {"data.dataset=" + name, "model.name=mlp", "model.mlp_arch=pacgan", "model.mlp_hidden=400",
                  "model.latent_dim=2", "train.batch_size=100", "optim.g_lr=1e-4", "optim.d_lr=1e-4",
                  "optim.g_beta1=0.8", "optim.d_beta1=0.8", "optim.g_beta2=0.999", "optim.d_beta2=0.999",
                  "train.loss=nonsaturating"};
    p.steps = 10000;
    p.samples = 2500;
  } else if (name == "stacked-mnist") {
    // PacGAN's Stacked MNIST (after VEEGAN): 128000 stacked images, DCGAN with z of 100, Adam(2e-4, beta1 0.5), batch 64.
    p.settings = {"data.dataset=stacked-mnist", "data.limit=128000", "model.name=dcgan", "model.latent_dim=100",
                  "train.batch_size=64", "optim.g_lr=2e-4", "optim.d_lr=2e-4", "optim.g_beta1=0.5", "optim.d_beta1=0.5"};
    p.steps = 5000;
    p.samples = 26000;
  } else {
    throw Error("unknown mode-coverage protocol '" + name + "'", "use ring8, grid25 or stacked-mnist");
  }
  return p;
}

std::string text_of(const std::vector<std::string>& lines) {
  std::string s;
  for (auto& l : lines) s += l + "\n";
  return s;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Trains one run (or finds it finished with the same settings) and returns its checkpoint.
std::string train_run(const std::vector<std::string>& settings, const fs::path& dir, ModeBenchRun& run,
                      const std::function<void(const std::string&)>& say) {
  const fs::path stamp = dir / "bench-settings.txt", latest = dir / "checkpoints" / "latest.duel";
  const std::string want = text_of(settings);
  std::error_code ec;
  if (fs::exists(latest, ec) && fs::exists(stamp, ec) && read_text(stamp) == want &&
      Checkpoint::read(latest.string()).state().step == run.steps) {
    run.reused = true;
    return latest.string();
  }
  Config cfg;
  for (auto& s : settings) cfg.set_from_string(s);
  TrainRequest req;
  req.config = cfg;
  req.run_dir = dir.string();
  req.force = true;
  TrainerEvents ev;
  ev.info = [](const std::string&) {};
  ev.warning = [&](const std::string& s) { say("  warning: " + s); };
  TrainSummary sum = train(req, ev);
  write_file_atomic(stamp.string(), want);
  return sum.checkpoint;
}

// n samples of a model from fixed noise (seed), drawn in forward passes of at most 1000.
torch::Tensor draw_samples(GanModel& model, int64_t n, uint64_t seed) {
  auto& noise = require_capability<NoiseSampler>(model);
  RngRestore restore;
  torch::manual_seed(seed);
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < n; i += 1000) parts.push_back(noise.sample({noise.make_noise(std::min<int64_t>(1000, n - i), torch::kCPU), {}}));
  return torch::cat(parts);
}

// Mode ids of stacked images uint8 [N, 3, H, W]: 100 d_R + 10 d_G + d_B, each digit the classifier's argmax.
torch::Tensor stacked_ids(FeatureExtractor& net, const torch::Tensor& images) {
  torch::Tensor ids = torch::zeros({images.size(0)}, torch::kInt64);
  for (int64_t c = 0; c < 3; ++c) {
    auto probs = net.extract(images.narrow(1, c, 1).contiguous()).probs;
    require(probs.defined() && probs.size(1) == 10, "the stacked-mnist digit classifier must have 10 classes",
            "pass --features with an MNIST classifier (features/mnist.duelfeat)");
    ids = ids * 10 + probs.argmax(1).to(torch::kInt64);
  }
  return ids;
}

// Scores samples [N, ...] of `protocol`; writes the scatter plot of 2-D samples to `plot` when given.
ModeCoverage score(const std::string& protocol, const torch::Tensor& samples, const ModeBenchOptions& o,
                   FeatureExtractor* digits, const std::string& plot) {
  if (protocol == "stacked-mnist") {
    auto images = samples.is_floating_point() ? quantise(samples) : samples;
    return coverage_of_ids(stacked_ids(*digits, images), 1000, o.min_count);
  }
  const PointMixture m = point_mixture(protocol);
  auto points = as_points(samples);
  if (!plot.empty()) write_png(plot, scatter_plot(points, m.centres, {m.extent, 3 * m.sigma, 480}));
  return count_modes(points, m.centres, m.sigma, o.min_count);
}

// Real data scored as samples are: the floor of every figure.
ModeBenchRun data_row(const std::string& protocol, int64_t n, const ModeBenchOptions& o, FeatureExtractor* digits) {
  ModeBenchRun r;
  r.protocol = protocol;
  r.variant = "data";
  torch::Tensor real;
  if (protocol == "stacked-mnist") {
    Config cfg;
    cfg.set("data.dataset", std::string("stacked-mnist"));
    cfg.set("data.path", o.data_path);
    cfg.set("data.limit", n);
    real = open_dataset(cfg, "train").images;
  } else {
    real = draw_point_set(point_mixture(protocol), n, 99).images;
  }
  r.coverage = score(protocol, real, o, digits, "");
  return r;
}

std::pair<double, double> mean_std(const std::vector<double>& v) {
  double m = 0, q = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  for (double x : v) q += (x - m) * (x - m);
  return {m, v.size() > 1 ? std::sqrt(q / double(v.size() - 1)) : 0.0};
}

std::vector<ModeBenchSummary> summarise(const std::vector<ModeBenchRun>& runs) {
  std::vector<ModeBenchSummary> out;
  std::map<std::pair<std::string, std::string>, std::vector<const ModeBenchRun*>> groups;
  std::vector<std::pair<std::string, std::string>> order;
  for (auto& r : runs) {
    auto key = std::make_pair(r.protocol, r.variant);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&r);
  }
  for (auto& key : order) {
    std::vector<double> cap, hq, kl;
    ModeBenchSummary s;
    s.protocol = key.first;
    s.variant = key.second;
    for (auto* r : groups[key]) {
      cap.push_back(double(r->coverage.captured));
      hq.push_back(r->coverage.high_quality);
      kl.push_back(r->coverage.reverse_kl);
      if (r->coverage.captured == r->coverage.modes) ++s.all_modes_runs;
    }
    s.runs = int64_t(cap.size());
    std::tie(s.captured_mean, s.captured_std) = mean_std(cap);
    std::tie(s.high_quality_mean, s.high_quality_std) = mean_std(hq);
    std::tie(s.kl_mean, s.kl_std) = mean_std(kl);
    out.push_back(s);
  }
  return out;
}

nlohmann::json json_of(const ModeBenchOptions& o, const ModeBenchResult& r) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json runs = nlohmann::json::array(), summary = nlohmann::json::array();
  for (auto& x : r.runs)
    runs.push_back({{"protocol", x.protocol}, {"variant", x.variant}, {"seed", x.seed}, {"steps", x.steps},
                    {"modes", x.coverage.modes}, {"captured", x.coverage.captured}, {"samples", x.coverage.samples},
                    {"high_quality", x.coverage.high_quality}, {"reverse_kl", num(x.coverage.reverse_kl)},
                    {"counts", x.coverage.counts}, {"seconds", x.seconds}, {"reused", x.reused},
                    {"run_dir", x.run_dir}, {"plot", x.plot}});
  for (auto& s : r.summary)
    summary.push_back({{"protocol", s.protocol}, {"variant", s.variant}, {"runs", s.runs},
                       {"all_modes_runs", s.all_modes_runs}, {"captured_mean", s.captured_mean},
                       {"captured_std", s.captured_std}, {"high_quality_mean", s.high_quality_mean},
                       {"high_quality_std", s.high_quality_std}, {"reverse_kl_mean", num(s.kl_mean)},
                       {"reverse_kl_std", num(s.kl_std)}});
  return {{"benchmark", "modes"}, {"protocols", o.protocols}, {"variants", o.variants}, {"seeds", o.seeds},
          {"min_count", o.min_count}, {"overrides", o.overrides}, {"runs", runs}, {"summary", summary}};
}

}  // namespace

std::vector<std::string> variant_settings(const std::string& variant) {
  std::vector<std::string> out;
  std::stringstream in(variant);
  std::string part;
  while (std::getline(in, part, '+')) {
    if (part == "gan") continue;
    if (part.size() > 3 && part.rfind("pac", 0) == 0 && part.find_first_not_of("0123456789", 3) == std::string::npos)
      out.push_back("model.pack=" + part.substr(3));
    else if (part == "mbd")
      out.push_back("model.minibatch=discrimination");
    else if (part == "mbstd")
      out.push_back("model.minibatch=stddev");
    else if (part == "fm")
      out.push_back("train.feature_matching=1");
    else
      throw Error("unknown part '" + part + "' in variant '" + variant + "'",
                  "a variant is gan, pac<m>, mbd, mbstd or fm, joined by + (e.g. pac2+fm)");
  }
  return out;
}

ModeBenchResult run_mode_benchmark(const ModeBenchOptions& o, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  require(!o.work_dir.empty(), "the mode benchmark needs a work folder", "pass --work DIR");
  require(o.seeds >= 1 && o.min_count >= 1 && o.steps >= 0 && o.samples >= 0 && !o.protocols.empty() &&
              !o.variants.empty(),
          "the mode benchmark needs protocols, variants, seeds >= 1 and min_count >= 1", "see duel experiment modes --help");
  for (auto& v : o.variants) variant_settings(v);  // every variant checked before any run
  for (auto& p : o.protocols) protocol_of(p);
  std::unique_ptr<FeatureExtractor> digits;
  ModeBenchResult r;
  for (auto& protocol : o.protocols) {
    const Protocol pr = protocol_of(protocol);
    const int64_t steps = o.steps > 0 ? o.steps : pr.steps, n = o.samples > 0 ? o.samples : pr.samples;
    if (protocol == "stacked-mnist" && !digits)
      digits = load_feature_extractor(o.features.empty() ? find_feature_net("mnist") : o.features);
    r.runs.push_back(data_row(protocol, n, o, digits.get()));
    say(protocol + " data: " + std::to_string(r.runs.back().coverage.captured) + " modes");
    for (auto& variant : o.variants)
      for (int64_t s = 1; s <= o.seeds; ++s) {
        ModeBenchRun run;
        run.protocol = protocol;
        run.variant = variant;
        run.seed = s;
        run.steps = steps;
        const fs::path dir = fs::path(o.work_dir) / protocol / variant / ("seed-" + std::to_string(s));
        std::vector<std::string> settings = pr.settings;
        for (auto& v : variant_settings(variant)) settings.push_back(v);
        settings.push_back("train.steps=" + std::to_string(steps));
        settings.push_back("train.log_every=" + std::to_string(std::max<int64_t>(1, steps / 10)));
        settings.push_back("train.sample_every=0");
        settings.push_back("train.checkpoint_every=0");
        settings.push_back("run.seed=" + std::to_string(s));
        for (auto& v : o.overrides) settings.push_back(v);
        const auto t0 = std::chrono::steady_clock::now();
        const std::string ck_path = train_run(settings, dir, run, say);
        Checkpoint ck = Checkpoint::read(ck_path);
        auto model = model_from_checkpoint(ck, checkpoint_config(ck));
        run.run_dir = dir.string();
        run.plot = protocol == "stacked-mnist" ? "" : (dir / "modes.png").string();
        run.coverage = score(protocol, draw_samples(*model, n, 1000 + uint64_t(s)), o, digits.get(), run.plot);
        run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::ostringstream line;
        line << protocol << " " << variant << " seed " << s << ": " << run.coverage.captured << "/"
             << run.coverage.modes << " modes, high quality " << run.coverage.high_quality << ", reverse KL "
             << run.coverage.reverse_kl << (run.reused ? " (finished run, scored again)" : "") << " ("
             << int(run.seconds) << " s)";
        say(line.str());
        r.runs.push_back(run);
      }
  }
  r.summary = summarise(r.runs);
  r.json = json_of(o, r).dump(2) + "\n";
  return r;
}

}  // namespace duel
