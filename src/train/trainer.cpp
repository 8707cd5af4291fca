// The generic training loop. Model-specific work happens in GanModel::step;
// everything here is the same for every model.
#include "duel/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "duel/core/autocast.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"
#include "duel/io/image.h"
#include "duel/models/model.h"
#include "duel/train/checkpoint.h"
#include "duel/train/monitor.h"
#include "duel/train/schedule.h"
#include "duel/metrics/evaluate.h"  // eval.every

namespace fs = std::filesystem;

namespace duel {

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {

std::string step_name(const std::string& prefix, int64_t step, const std::string& ext) {
  std::ostringstream o;
  o << prefix << std::setw(6) << std::setfill('0') << step << ext;
  return o.str();
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Keeps the metrics.csv rows up to `step` (a resumed run rewrites what came after its checkpoint).
void truncate_log(const std::string& path, int64_t step, bool csv) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  std::istringstream in(read_text(path));
  std::string line, out;
  bool header = csv;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (header) {
      out += line + "\n";
      header = false;
      continue;
    }
    int64_t row_step = -1;
    try {
      if (csv) row_step = std::stoll(line.substr(0, line.find(',')));
      else row_step = nlohmann::json::parse(line).value("step", int64_t(-1));
    } catch (...) {
      break;  // a torn last line from a kill: drop it and what follows
    }
    if (row_step > step) break;
    out += line + "\n";
  }
  write_file_atomic(path, out);
}

// Mean pairwise L2 distance between flattened images (diversity measure).
double mean_pairwise_distance(const torch::Tensor& x) {
  auto f = x.reshape({x.size(0), -1}).to(torch::kFloat64);
  auto d = torch::cdist(f, f);
  const int64_t n = f.size(0);
  return d.sum().item<double>() / double(n * (n - 1));
}

std::string format_double(double v) {
  std::ostringstream o;
  o << std::setprecision(6) << v;
  return o.str();
}

// Whether dir holds a run; refuses one (without --force) and a path that is not a folder.
bool check_existing_run(const std::string& dir, bool force) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return false;
  require(fs::is_directory(dir, ec), "run path '" + dir + "' exists and is not a folder", "choose another --out");
  const bool has_run = fs::exists(fs::path(dir) / "config.toml", ec) || fs::exists(fs::path(dir) / "checkpoints", ec);
  if (has_run && !force)
    throw Error("run folder '" + dir + "' already holds a run",
                "continue it with `duel train --resume " + dir + "`, or overwrite it with --force");
  return has_run;
}

void prepare_run_dir(const std::string& dir, bool force) {
  std::error_code ec;
  if (check_existing_run(dir, force))
    for (const char* entry : {"config.toml", "metrics.csv", "events.jsonl", "samples", "checkpoints", "eval"})
      fs::remove_all(fs::path(dir) / entry, ec);
  fs::create_directories(fs::path(dir) / "samples", ec);
  fs::create_directories(fs::path(dir) / "checkpoints", ec);
  if (ec || !fs::is_directory(fs::path(dir) / "checkpoints"))
    throw Error("cannot create run folder '" + dir + "'" + (ec ? ": " + ec.message() : ""),
                "check that the parent folder exists and is writable");
}

class Appender {
 public:
  explicit Appender(const std::string& path) : path_(path), f_(path, std::ios::app) {
    if (!f_) throw Error("cannot open '" + path + "' for writing", "check the run folder");
  }
  void line(const std::string& s) {
    f_ << s << '\n';
    f_.flush();
    if (!f_) throw Error("cannot write '" + path_ + "'", "the disk may be full; the last checkpoint is intact");
  }

 private:
  std::string path_;
  std::ofstream f_;
};

}  // namespace

std::string find_resume_checkpoint(const std::string& run_dir, std::vector<std::string>* skipped) {
  fs::path dir = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("'" + run_dir + "' is not a run folder (no checkpoints/)", "pass the --out folder of an earlier duel train");
  std::vector<fs::path> candidates;
  if (fs::exists(dir / "latest.duel")) candidates.push_back(dir / "latest.duel");
  std::vector<fs::path> numbered;
  for (auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".duel" && e.path().filename().string().rfind("step-", 0) == 0)
      numbered.push_back(e.path());
  std::sort(numbered.rbegin(), numbered.rend());
  candidates.insert(candidates.end(), numbered.begin(), numbered.end());
  for (auto& p : candidates) {
    try {
      Checkpoint::read(p.string());
      return p.string();
    } catch (const Error& e) {
      if (skipped) skipped->push_back(e.what());
    }
  }
  throw Error("run folder '" + run_dir + "' holds no loadable checkpoint", "start a new run with --force");
}

TrainSummary train(TrainRequest req, const TrainerEvents& ev) {
  auto info = [&](const std::string& s) { if (ev.info) ev.info(s); };
  auto warn = [&](const std::string& s) { if (ev.warning) ev.warning(s); };
  const std::string dir = req.run_dir;
  require(!dir.empty(), "no run folder given", "pass --out runs/<name>");

  // 1. Resolve the config: a new run's, or the checkpoint's plus overrides.
  Config cfg = req.config;
  std::optional<Checkpoint> resume_from;
  if (req.resume) {
    std::vector<std::string> skipped;
    std::string path = find_resume_checkpoint(dir, &skipped);
    for (auto& s : skipped) warn("skipping unusable checkpoint: " + s);
    resume_from = Checkpoint::read(path);
    cfg = Config::from_string(resume_from->config_toml(), path);
    for (auto& o : req.overrides) cfg.set_from_string(o);
    info("resuming from " + path + " at step " + std::to_string(resume_from->state().step));
  } else {
    apply_model_defaults(cfg);
    // Refuse an existing run before any work; the folder itself is made only
    // once data, model and step count are known to be good, so a bad input leaves nothing.
    check_existing_run(dir, req.force);
  }

  const std::string device_name = cfg.get_string("run.device");
  if (device_name == "cuda")
    require(torch::cuda::is_available(), "run.device=cuda but no CUDA device is available to this build",
            "build with scripts/build-gpu.sh on a machine with a GPU, or use run.device=cpu");
  const torch::Device device(device_name == "cuda" ? torch::kCUDA : torch::kCPU);
  // Map the checkpoint's tensors straight onto the training device, so that
  // loading never moves a parameter off it.
  if (resume_from && device.is_cuda()) resume_from = Checkpoint::read(resume_from->path(), device);
  const uint64_t seed = uint64_t(cfg.get_int("run.seed"));
  torch::manual_seed(seed);

  // 2. Data and model.
  ImageSet data = open_dataset(cfg);
  require(data.images.size(2) == data.images.size(3),
          "images are " + std::to_string(data.images.size(3)) + "x" + std::to_string(data.images.size(2)) + ", not square",
          "set data.image_size to crop them square");
  info("data: " + data.description);
  DataShape shape{data.images.size(1), data.images.size(2), data.num_classes};
  auto model = create_model(cfg, shape);
  if (model->needs_labels())
    require(data.has_labels(), "model '" + model->name() + "' needs class labels but " + data.description + " has none",
            "use a labelled dataset (an image folder with one subfolder per class)");
  model->to(device);
  // Base rates as the model built its optimizers (before a checkpoint's scheduled rates are restored).
  LrSchedule schedule(cfg, model->optimizers());

  LoaderOptions lo;
  lo.batch_size = cfg.get_int("train.batch_size");
  lo.drop_last = cfg.get_bool("data.drop_last");
  lo.seed = seed;
  lo.prefetch = resolve_prefetch(cfg.get_int("data.prefetch"), device);
  lo.device = device;
  lo.channels_last = cfg.get_bool("perf.channels_last");
  Loader loader(data, lo);

  TrainState st;
  st.shape = shape;
  st.fixed_noise = model->make_noise(cfg.get_int("sample.grid"), device);
  if (model->needs_labels()) {
    // One class per grid row (the grid is ceil(sqrt(n)) images wide).
    const int64_t n = cfg.get_int("sample.grid"), cols = int64_t(std::ceil(std::sqrt(double(n))));
    st.fixed_labels = torch::arange(n, torch::kInt64).div(cols, "floor").remainder(data.num_classes).to(device);
  }
  if (resume_from) {
    resume_from->restore(*model, /*optimizers=*/true);
    st = resume_from->state();
    require(st.shape.channels == shape.channels && st.shape.size == shape.size,
            "the data (" + std::to_string(shape.channels) + "x" + std::to_string(shape.size) +
                " px) does not match the checkpoint's (" + std::to_string(st.shape.channels) + "x" +
                std::to_string(st.shape.size) + " px)",
            "resume with the data settings the run started with");
    st.fixed_noise = st.fixed_noise.to(device);
    if (st.fixed_labels.defined()) st.fixed_labels = st.fixed_labels.to(device);
    set_rng_state(st.rng_state.to(torch::kCPU));
    loader.seek(st.loader);
  }
  if (lo.channels_last) model->set_channels_last();
  if (device.is_cuda()) torch::cuda::manual_seed_all(seed * 1000003ULL + uint64_t(st.step));

  const int64_t total = cfg.get_int("train.steps") > 0 ? cfg.get_int("train.steps")
                                                       : cfg.get_int("train.epochs") * loader.batches_per_epoch();
  require(total > 0, "the run has no steps (train.steps and train.epochs are 0)", "set train.steps or train.epochs");
  if (!resume_from) prepare_run_dir(dir, req.force);
  write_file_atomic((fs::path(dir) / "config.toml").string(), cfg.to_toml());

  const std::string csv_path = (fs::path(dir) / "metrics.csv").string();
  const std::string events_path = (fs::path(dir) / "events.jsonl").string();
  if (resume_from) {
    truncate_log(csv_path, st.step, true);
    truncate_log(events_path, st.step, false);
  }
  bool csv_needs_header = !(fs::exists(csv_path) && fs::file_size(csv_path) > 0);
  Appender csv(csv_path), events(events_path);
  auto event = [&](nlohmann::json j) { events.line(j.dump()); };
  event({{"event", resume_from ? "resume" : "start"}, {"step", st.step}, {"model", model->name()},
         {"total_steps", total}, {"data", data.description}});

  TrainingMonitor monitor(cfg.get_int("monitor.window"));
  const bool warnings_on = cfg.get_bool("monitor.warnings");
  const double real_diversity = mean_pairwise_distance(to_unit_range(data.images.slice(0, 0, 256)));
  // eval.every: FID/KID while training (src/metrics/evaluate.cpp); nullptr when off
  auto evaluator = TrainingEvaluator::create(cfg, shape, dir);

  TrainSummary sum;
  sum.run_dir = dir;
  sum.start_step = st.step;
  sum.total_steps = total;

  auto save_grid = [&](const std::string& name) {
    auto images = model->sample({st.fixed_noise, st.fixed_labels});
    const std::string path = (fs::path(dir) / "samples" / name).string();
    write_png(path, make_grid(images, int64_t(std::ceil(std::sqrt(double(images.size(0)))))));
    if (warnings_on && images.size(0) >= 2) {
      double ratio = mean_pairwise_distance(images.to(torch::kCPU)) / real_diversity;
      if (auto w = monitor.observe_diversity(st.step, ratio)) {
        warn(*w);
        event({{"event", "warning"}, {"step", st.step}, {"message", *w}});
      }
    }
    return path;
  };
  const int64_t keep = cfg.get_int("train.keep_checkpoints");
  // What a checkpoint needs besides the nets: where the loader is and the RNG state.
  auto capture_state = [&]() {
    st.loader = loader.position();
    st.rng_state = get_rng_state();
  };
  auto save_checkpoint = [&]() {
    // Never write non-finite weights: a checkpoint must always be a good place to resume from.
    for (auto& [name, net] : model->nets())
      for (auto& p : net->parameters())
        if (!torch::isfinite(p).all().item<bool>())
          throw Error("net " + name + " has non-finite weights at step " + std::to_string(st.step) +
                          "; not writing a checkpoint",
                      "resume from the last checkpoint with a lower learning rate");
    capture_state();
    const fs::path ck = fs::path(dir) / "checkpoints";
    const std::string numbered = (ck / step_name("step-", st.step, ".duel")).string();
    Checkpoint::write(numbered, *model, cfg, st);
    // latest.duel is a second name of the same (fsynced) file, swapped in by an atomic rename.
    fs::remove(ck / ".latest.tmp");
    fs::create_hard_link(numbered, ck / ".latest.tmp");
    fs::rename(ck / ".latest.tmp", ck / "latest.duel");
    std::vector<fs::path> old;
    for (auto& e : fs::directory_iterator(ck))
      if (e.path().filename().string().rfind("step-", 0) == 0) old.push_back(e.path());
    std::sort(old.begin(), old.end());
    for (size_t i = 0; i + size_t(keep) < old.size(); ++i) fs::remove(old[i]);
    event({{"event", "checkpoint"}, {"step", st.step}, {"path", numbered}});
    sum.checkpoint = (ck / "latest.duel").string();
  };

  // 3. The loop.
  const int64_t log_every = cfg.get_int("train.log_every"), sample_every = cfg.get_int("train.sample_every"),
                ckpt_every = cfg.get_int("train.checkpoint_every"), batch_size = lo.batch_size;
  std::vector<std::pair<std::string, torch::Tensor>> sums;
  int64_t in_interval = 0, images_in_interval = 0;
  ProgressReport report;
  report.total_steps = total;
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto interval_start = t0;
  double img_per_s = 0;
  int64_t images_total = 0;
  const bool use_amp = device.is_cuda() && cfg.get_string("perf.amp") == "bf16";
  StepContext ctx;
  ctx.next_batch = [&]() {
    images_in_interval += batch_size;
    return loader.next();
  };
  while (st.step < total) {
    if (stop_requested().load()) {
      sum.interrupted = true;
      break;
    }
    Batch batch = loader.next();
    images_in_interval += batch.images.size(0);
    ctx.step = st.step;
    ctx.progress = double(st.step) / double(total);
    schedule.apply(st.step, total);
    Scalars scalars;
    {
      AutocastScope amp(use_amp);
      scalars = model->step(batch, ctx);
    }
    ++st.step;
    ++in_interval;
    if (sums.empty()) sums = scalars;
    else
      for (size_t i = 0; i < sums.size() && i < scalars.size(); ++i) sums[i].second = sums[i].second + scalars[i].second;

    const bool last = st.step == total;
    // --- periodic evaluation (eval.every; src/metrics/evaluate.cpp): FID/KID into events.jsonl and
    // the next metrics.csv row, checkpoints/best.duel by FID. The global RNG is left untouched.
    if (evaluator && evaluator->due(st.step)) {
      auto point = evaluator->run(*model, st.step, device);
      nlohmann::json j{{"event", "eval"}, {"step", st.step}};
      for (auto& [k, v] : point.values) j[k] = v;
      event(j);
      info(point.summary);
      if (point.best) {
        capture_state();
        Checkpoint::write((fs::path(dir) / "checkpoints" / "best.duel").string(), *model, cfg, st);
      }
    }
    // --- end of periodic evaluation ---
    if (st.step % log_every == 0 || last) {
      const auto now = clock::now();
      const double dt = std::chrono::duration<double>(now - interval_start).count();
      img_per_s = dt > 0 ? images_in_interval / dt : 0;
      images_total += images_in_interval;
      LoggedRow row;
      row.step = st.step;
      report.scalars.clear();
      for (auto& [k, v] : sums) {
        double m = v.item<double>() / double(in_interval);
        row.values[k] = m;
        report.scalars.emplace_back(k, m);
      }
      if (auto bad = TrainingMonitor::non_finite(row)) {
        event({{"event", "diverged"}, {"step", st.step}, {"value", *bad}});
        throw Error("training diverged at step " + std::to_string(st.step) + ": " + *bad +
                        " (the last checkpoint is intact; nothing non-finite was saved)",
                    "resume with a lower optim.g_lr/optim.d_lr, or add train.label_smoothing / train.instance_noise");
      }
      const double elapsed = std::chrono::duration<double>(now - t0).count();
      if (csv_needs_header) {
        std::string h = "step,epoch";
        for (auto& [k, v] : sums) h += "," + k;
        csv.line(h + ",img_per_s,elapsed_s" + (evaluator ? evaluator->csv_header() : ""));
        csv_needs_header = false;
      }
      std::string line = std::to_string(st.step) + "," + std::to_string(batch.epoch);
      nlohmann::json j{{"event", "log"}, {"step", st.step}, {"epoch", batch.epoch}};
      for (auto& [k, v] : row.values) j[k] = v;
      for (auto& [k, v] : report.scalars) line += "," + format_double(v);
      line += "," + format_double(img_per_s) + "," + format_double(elapsed) + (evaluator ? evaluator->csv_cells() : "");
      j["img_per_s"] = img_per_s;
      j["elapsed_s"] = elapsed;
      csv.line(line);
      event(j);
      if (warnings_on)
        for (auto& w : monitor.observe(row)) {
          warn(w);
          event({{"event", "warning"}, {"step", st.step}, {"message", w}});
        }
      sums.clear();
      in_interval = 0;
      images_in_interval = 0;
      interval_start = now;
    }
    if (sample_every > 0 && st.step % sample_every == 0 && !last) save_grid(step_name("step-", st.step, ".png"));
    if (ckpt_every > 0 && st.step % ckpt_every == 0 && !last) save_checkpoint();

    const double elapsed = std::chrono::duration<double>(clock::now() - t0).count();
    report.step = st.step;
    report.epoch = batch.epoch;
    report.img_per_s = img_per_s;
    report.elapsed_s = elapsed;
    const int64_t done = st.step - sum.start_step;
    report.eta_s = done > 0 ? elapsed / double(done) * double(total - st.step) : 0;
    if (ev.progress) ev.progress(report);
  }

  // 4. Final outputs (also when interrupted: nothing done is lost).
  if (st.step > sum.start_step || !resume_from) {
    save_checkpoint();
    save_grid(step_name("step-", st.step, ".png"));
  }
  sum.final_grid = save_grid("final.png");
  if (sum.checkpoint.empty()) sum.checkpoint = (fs::path(dir) / "checkpoints" / "latest.duel").string();
  sum.steps_done = st.step - sum.start_step;
  sum.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  sum.img_per_s = sum.seconds > 0 ? double(sum.steps_done * batch_size) / sum.seconds : 0;
  for (auto& [k, v] : report.scalars) sum.last[k] = v;
  event({{"event", sum.interrupted ? "interrupted" : "finish"}, {"step", st.step}, {"seconds", sum.seconds}});
  return sum;
}

}  // namespace duel
