// The generic training loop. Model-specific work happens in GanModel::step;
// everything here is the same for every model, and everything around the
// loop is a part of its own: the run folder's layout (run_folder.h), the logs
// (run_logs.h), the divergence guard (divergence_guard.h), data parallelism
// (distributed.h) and the cadenced extras, which plug in as callbacks
// (callback.h). A Trainer lives for one call of train(): it sets the run up
// in the order that fixes the random stream (config, data, model, loader,
// fixed preview inputs, a resumed state), then loops: fetch a batch,
// model.step, check it, tell the callbacks, log, grid and checkpoint on
// their cadence.
#include "duel/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "duel/checkpoint/checkpoint.h"
#include "duel/core/autocast.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/core/rng.h"
#include "duel/core/shard.h"
#include "duel/data/dataset.h"
#include "duel/data/points.h"
#include "duel/data/loader.h"
#include "duel/io/image.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/models/model_files.h"
#include "duel/train/divergence_guard.h"
#include "duel/train/monitor.h"
#include "duel/train/options.h"
#include "duel/train/run_folder.h"
#include "duel/train/run_lock.h"
#include "duel/train/run_logs.h"
#include "duel/train/schedule.h"
#include "duel/train/training_eval.h"

namespace fs = std::filesystem;

namespace duel {

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {

// The newest loadable checkpoint of a run, read once (see find_resume_checkpoint).
Checkpoint read_resume_checkpoint(const RunFolder& run, std::vector<std::string>* skipped,
                                  torch::Device device = torch::kCPU) {
  std::error_code ec;
  if (!fs::exists(run.root(), ec))
    throw Error("run folder '" + run.root() + "' does not exist", "pass the --out folder of an earlier duel train");
  if (!fs::is_directory(run.checkpoints_dir(), ec))
    throw Error("'" + run.root() + "' is not a run folder (no checkpoints/)",
                "pass the --out folder of an earlier duel train");
  // Numbered checkpoints, newest first (a kill between writing step-N.duel and
  // pointing latest.duel at it leaves step-N the newest), then latest.duel.
  std::vector<fs::path> candidates = run.numbered_checkpoints();
  std::reverse(candidates.begin(), candidates.end());
  if (fs::exists(run.latest(), ec)) candidates.push_back(run.latest());
  if (candidates.empty())
    throw Error("run folder '" + run.root() + "' holds no checkpoint: its training stopped before the first one",
                "start it again with `duel train --out " + run.root() + "` and its settings (a folder without a "
                "checkpoint is reused)");
  for (auto& p : candidates) {
    try {
      return Checkpoint::read(p.string(), device);
    } catch (const Error& e) {
      if (skipped) skipped->push_back(e.what());
    }
  }
  throw Error("run folder '" + run.root() + "' holds no loadable checkpoint", "start a new run with --force");
}

using Clock = std::chrono::steady_clock;

class Trainer {
 public:
  Trainer(TrainRequest req, const TrainerEvents& ev) : req_(std::move(req)), ev_(ev), folder_(req_.run_dir) {}
  TrainSummary run();

 private:
  void info(const std::string& s) const {
    if (ev_.info) ev_.info(s);
  }
  void warn(const std::string& s) const {
    if (ev_.warning) ev_.warning(s);
  }
  bool writer() const { return dp_.writer(); }
  void each(const std::function<void(TrainCallback&)>& f) {
    for (auto& c : callbacks_) f(*c);
  }
  // Set-up, in the order that fixes the random stream.
  void join_group();
  void resolve_config();
  void choose_device();
  void build_model();
  void build_loader();
  void make_fixed_inputs();
  void resume_state();
  void open_run_folder();
  void start_parts();
  void write_config();
  void warn_unread_settings() const;
  // The loop and its cadence.
  bool check_step(const Scalars& scalars);
  bool log_row(int64_t epoch);
  void report_progress(int64_t epoch);
  std::string save_grid(const std::string& path, bool periodic);
  void capture_state();
  void save_checkpoint();
  void restore_state(const Checkpoint& ck);
  void reseed_streams();
  void roll_back(const std::string& what);
  void reset_interval();
  void finish();

  TrainRequest req_;
  const TrainerEvents& ev_;
  RunFolder folder_;
  std::unique_ptr<RunLock> lock_;  // held from open_run_folder() until the trainer is destroyed
  DataParallel dp_;
  Config cfg_;
  TrainOptions opts_;  // cfg_'s trainer keys, read once
  std::optional<Checkpoint> resume_from_;
  torch::Device device_{torch::kCPU};
  uint64_t seed_ = 0;
  ImageSet data_;
  DataShape shape_;
  std::unique_ptr<GanModel> model_;
  std::unique_ptr<LrSchedule> schedule_;
  LoaderOptions lo_;
  std::unique_ptr<Loader> loader_;
  PreviewInputs preview_;  // preview_.batch: image-to-image models' fixed batch
  TrainState st_;
  int64_t total_ = 0;
  std::unique_ptr<TrainLogs> logs_;
  std::unique_ptr<DivergenceGuard> guard_;
  std::unique_ptr<TrainRun> run_;
  TrainCallbacks callbacks_;
  TrainSummary sum_;
  StepContext ctx_;
  // Cadence.
  int64_t log_every_ = 1, sample_every_ = 0, ckpt_every_ = 0, eval_every_ = 0, keep_ = 0;
  bool use_amp_ = false;
  // The current log interval.
  Scalars sums_;
  int64_t in_interval_ = 0, images_in_interval_ = 0;
  Clock::time_point t0_, interval_start_;
  double img_per_s_ = 0;
  double comm_at_interval_ = 0;  // comm_seconds() when the log interval began
  bool dist_stop_ = false;       // a rank was asked to stop: all stop after the same step
  ProgressReport report_;
  std::string config_written_;  // the text of config.toml as last written
};

// 0. A distributed run joins its group first (rank 0 alone writes the run folder).
void Trainer::join_group() {
  if (!req_.dist.enabled()) return;
  Config given = req_.config;
  for (auto& s : req_.overrides) given.set_from_string(s);
  DistOptions dist = req_.dist;
  dist.listen_all = given.get_bool("dist.listen_all");
  dist.interface = given.get_string("dist.interface");
  dist.log = [this](const std::string& m) { warn(m); };
  dp_ = DataParallel(dist, req_.dist_store_is_external, given.get_float("dist.timeout_s"));
  const DistOptions& o = req_.dist;
  info("rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) + " joined at " + o.host + ":" +
       std::to_string(o.port));
}

// 1. The config: a new run's, or the checkpoint's plus overrides.
void Trainer::resolve_config() {
  cfg_ = req_.config;
  if (!req_.resume) {
    apply_model_defaults(cfg_);
    cfg_.set("dist.world_size", dp_.world());
    // Refuse an existing run before any work; the folder itself is made only
    // once data, model and step count are known to be good, so a bad input leaves nothing.
    if (writer()) folder_.check_existing(req_.force);
    return;
  }
  std::vector<std::string> skipped;
  resume_from_ = dp_.shared_checkpoint([&] { return read_resume_checkpoint(folder_, &skipped); }, torch::kCPU);
  const std::string path = resume_from_->path();
  for (auto& s : skipped) warn("skipping unusable checkpoint: " + s);
  cfg_ = Config::from_string(resume_from_->config_toml(), path);
  for (auto& o : req_.overrides) cfg_.set_from_string(o);
  require(cfg_.get_int("dist.world_size") == dp_.world(),
          "the run was trained on " + std::to_string(cfg_.get_int("dist.world_size")) + " rank(s), this resume has " +
              std::to_string(dp_.world()),
          "resume with the same number of processes (the global batch and the per-rank random streams depend on it)");
  info("resuming from " + path + " at step " + std::to_string(resume_from_->state().step));
}

void Trainer::choose_device() {
  opts_ = TrainOptions::read(cfg_);
  const std::string& device_name = opts_.device;
  if (device_name == "cuda")
    require(torch::cuda::is_available(), "run.device=cuda but no CUDA device is available to this build",
            "build with scripts/build-gpu.sh on a machine with a GPU, or use run.device=cpu");
  device_ = torch::Device(device_name == "cuda" ? torch::kCUDA : torch::kCPU);
  require(!(dp_.enabled() && device_.is_cuda()), "distributed training runs on CPU ranks (Gloo) in this build",
          "use run.device=cpu for --nproc/--dist runs (docs/distributed.md)");
  // Map the checkpoint's tensors straight onto the training device, so that
  // loading never moves a parameter off it.
  if (resume_from_ && device_.is_cuda() && !dp_.enabled()) resume_from_ = Checkpoint::read(resume_from_->path(), device_);
  seed_ = opts_.seed;
  torch::manual_seed(seed_);
}

// 2. Data and model.
void Trainer::build_model() {
  data_ = open_dataset(cfg_);
  require(data_.images.size(2) == data_.images.size(3) || opts_.crop > 0,
          "images are " + std::to_string(data_.images.size(3)) + "x" + std::to_string(data_.images.size(2)) +
              ", not square",
          "set data.image_size to crop them square, or data.crop to train on random square crops");
  info("data: " + data_.description);
  shape_ = DataShape{data_.images.size(1),
                     opts_.crop > 0 ? opts_.crop : data_.images.size(2),
                     data_.num_classes};
  shape_.target_channels = data_.targets.defined() ? data_.targets.size(1) : 0;
  shape_.paired = data_.paired;
  if (data_.has_captions()) {
    shape_.vocabulary = data_.captions.vocabulary.words();
    shape_.text_length = data_.captions.length;
  }
  {
    // A resumed run builds its model from the files it started with (the scripted model's networks).
    ScopedModelFiles files(resume_from_ ? resume_from_->model_files() : std::map<std::string, std::string>{});
    model_ = create_model(cfg_, shape_);
  }
  model_->prepare_training();
  if (model_->needs_labels())
    require(data_.has_labels(),
            "model '" + model_->name() + "' needs class labels but " + data_.description + " has none",
            "use a labelled dataset (an image folder with one subfolder per class)");
  if (model_->needs_captions())
    require(opts_.eval_every == 0,
            "eval.every measures FID of samples drawn without text, and " + model_->name() + " draws from text",
            "set eval.every = 0 and measure a checkpoint with duel experiment text2img");
  model_->to(device_);
  dp_.setup(*model_, cfg_);
  // Base rates as the model built its optimizers (before a checkpoint's scheduled rates are restored).
  schedule_ = std::make_unique<LrSchedule>(cfg_, model_->optimizers());
}

void Trainer::build_loader() {
  const int64_t world = dp_.world();
  lo_.batch_size = opts_.batch_size;
  if (dp_.enabled() && opts_.global_batch) {
    require(lo_.batch_size % world == 0,
            "train.batch_size = " + std::to_string(lo_.batch_size) + " is the global batch (dist.global_batch) but does "
            "not divide by the " + std::to_string(world) + " ranks",
            "choose a multiple of the world size, or set dist.global_batch = false to give the batch per rank");
    lo_.batch_size /= world;
  }
  lo_.shard = dp_.rank();
  lo_.shards = world;
  lo_.drop_last = opts_.drop_last;
  lo_.seed = seed_;
  lo_.prefetch = resolve_prefetch(opts_.prefetch, device_);
  lo_.device = device_;
  lo_.channels_last = opts_.channels_last;
  lo_.crop = opts_.crop;
  lo_.flip = opts_.flip;
  loader_ = std::make_unique<Loader>(data_, lo_);
  if (capability<ImageTranslator>(*model_))
    require(opts_.eval_every == 0,
            "eval.every measures FID of generated samples, and " + model_->name() + " translates images instead",
            "set eval.every = 0 and run duel eval on the checkpoint (PSNR/SSIM, translation accuracy)");
  // The feature network of eval.every is found before the run folder is made (TrainingEvaluator::create loads it).
  if (writer() && cfg_.get_int("eval.every") > 0) TrainingEvaluator::feature_network(cfg_);
}

// The preview grid's fixed inputs, as the model makes them (kept in checkpoints).
void Trainer::make_fixed_inputs() {
  // Point data (data/points.h) previews as a scatter plot of 2500 samples, the count its benchmark scores.
  const int64_t n = is_point_shape(shape_.channels, shape_.size) ? 2500 : opts_.grid;
  preview_ = model_->preview_inputs(data_, n, shape_.size, device_);
  st_.shape = shape_;
  st_.fixed_noise = preview_.request.noise;
  st_.fixed_labels = preview_.request.labels;
  st_.fixed_text = preview_.request.text;
}

// Where a run continues from: the same weights, optimizer state, random stream and data position.
void Trainer::restore_state(const Checkpoint& ck) {
  // Optimizer state absent from the checkpoint (all of it, at the start) must not survive from before.
  for (auto& [name, opt] : model_->optimizers()) opt->state().clear();
  ck.restore(*model_, /*optimizers=*/true);
  st_ = ck.state();
  st_.fixed_noise = st_.fixed_noise.to(device_);
  if (st_.fixed_labels.defined()) st_.fixed_labels = st_.fixed_labels.to(device_);
  if (st_.fixed_text.defined()) st_.fixed_text = st_.fixed_text.to(device_);
  set_rng_state(dp_.rng_state_of(st_));
  loader_->seek(st_.loader);
}

// What follows a start, resume or rollback: the memory format and the device's random stream.
void Trainer::reseed_streams() {
  if (lo_.channels_last) model_->set_channels_last();
  if (device_.is_cuda()) torch::cuda::manual_seed_all(seed_ * 1000003ULL + uint64_t(st_.step));
}

void Trainer::resume_state() {
  if (resume_from_) {
    const DataShape& was = resume_from_->state().shape;
    require(was.vocabulary == shape_.vocabulary && was.text_length == shape_.text_length,
            "the captions (" + std::to_string(std::max<int64_t>(0, int64_t(shape_.vocabulary.size()) - 1)) +
                " words, " + std::to_string(shape_.text_length) + " tokens) do not match the checkpoint's (" +
                std::to_string(std::max<int64_t>(0, int64_t(was.vocabulary.size()) - 1)) + " words, " +
                std::to_string(was.text_length) + " tokens)",
            "resume with the data.captions file and data.caption_tokens the run started with");
    // A run that rolled back keeps its halved rates (optimizer state in a
    // checkpoint does not carry the rates; the trainer sets them).
    if (resume_from_->state().lr_scale != 1.0) schedule_->scale_base(resume_from_->state().lr_scale);
    restore_state(*resume_from_);
    require(st_.shape.channels == shape_.channels && st_.shape.size == shape_.size,
            "the data (" + std::to_string(shape_.channels) + "x" + std::to_string(shape_.size) +
                " px) does not match the checkpoint's (" + std::to_string(st_.shape.channels) + "x" +
                std::to_string(st_.shape.size) + " px)",
            "resume with the data settings the run started with");
  }
  reseed_streams();
  total_ = opts_.steps > 0 ? opts_.steps : opts_.epochs * loader_->batches_per_epoch();
  require(total_ > 0, "the run has no steps (train.steps and train.epochs are 0)", "set train.steps or train.epochs");
  if (resume_from_ && st_.step >= total_)
    throw Error("run '" + req_.run_dir + "' has finished: its newest checkpoint is at step " + std::to_string(st_.step) +
                    " and the run has " + std::to_string(total_) + " steps",
                "train it further with `duel train --resume " + req_.run_dir + " --set train.steps=N` (N > " +
                    std::to_string(st_.step) + ")");
}

// 3. The run folder, its logs and the parts that watch the run.
void Trainer::open_run_folder() {
  if (writer()) {
    lock_ = std::make_unique<RunLock>(folder_.root());  // before anything in the folder changes
    if (!resume_from_) folder_.prepare(req_.force);
    else folder_.remove_stale_temp_files();
  }
  write_config();
  logs_ = std::make_unique<TrainLogs>(folder_, writer(),
                                      resume_from_ ? std::optional<int64_t>(st_.step) : std::nullopt);
  logs_->event({{"event", resume_from_ ? "resume" : "start"}, {"step", st_.step}, {"model", model_->name()},
                {"total_steps", total_}, {"data", data_.description}, {"rollbacks", st_.rollbacks},
                {"lr_scale", st_.lr_scale}, {"world_size", dp_.world()}});
}

void Trainer::start_parts() {
  run_.reset(new TrainRun{cfg_, *model_, folder_, data_, shape_, st_, device_, writer(), *logs_, ev_,
                          [this](const std::string& path) {
                            capture_state();
                            Checkpoint::write(path, *model_, cfg_, st_);
                          },
                          [this](int64_t step, const std::vector<std::pair<std::string, double>>& values) {
                            each([&](TrainCallback& c) { c.on_eval(*run_, step, values); });
                          }});
  callbacks_ = standard_callbacks(*run_);
  for (auto& c : req_.callbacks) callbacks_.push_back(c);
  each([&](TrainCallback& c) { c.on_start(*run_); });
  sum_.run_dir = req_.run_dir;
  sum_.start_step = st_.step;
  sum_.total_steps = total_;
  keep_ = opts_.keep_checkpoints;
  guard_ = std::make_unique<DivergenceGuard>(cfg_);
  if (!resume_from_ && guard_->wants_start_snapshot()) {  // for a rollback before the first checkpoint
    capture_state();
    guard_->keep_start_snapshot(Checkpoint::encode(*model_, cfg_, st_));
  }
  log_every_ = opts_.log_every;
  sample_every_ = opts_.sample_every;
  ckpt_every_ = opts_.checkpoint_every;
  eval_every_ = opts_.eval_every;  // the same on every rank
  use_amp_ = opts_.amp_bf16;
  ctx_.next_batch = [this]() {
    images_in_interval_ += lo_.batch_size * dp_.world();
    return loader_->next();
  };
  // Gradients averaged over the ranks before each optimizer step.
  ctx_.after_backward = dp_.gradient_averaging(*model_, opts_.skip_average);
  report_.total_steps = total_;
  write_config();  // with the keys the parts started above read
  warn_unread_settings();
  t0_ = interval_start_ = Clock::now();
  comm_at_interval_ = dp_.comm_seconds();  // the start-up broadcasts are not a step's
}

// What a checkpoint needs besides the nets: where the loader is and the RNG state.
void Trainer::capture_state() {
  st_.loader = loader_->position();
  st_.rng_state = get_rng_state();
}

void Trainer::save_checkpoint() {
  // Rows up to this step are made durable before the checkpoint that covers them.
  logs_->sync();
  each([&](TrainCallback& c) { c.on_checkpoint(*run_); });
  // Never write non-finite weights: a checkpoint must always be a good place to resume from.
  for (auto& [name, net] : model_->nets())
    for (auto& p : net->parameters())
      if (!torch::isfinite(p).all().item<bool>())
        throw Error("net " + name + " has non-finite weights at step " + std::to_string(st_.step) +
                        "; not writing a checkpoint",
                    "resume from the last checkpoint with a lower learning rate");
  capture_state();
  dp_.prepare_checkpoint(*model_, st_, opts_.sync_bn);
  if (!writer()) return;
  const std::string numbered = folder_.checkpoint(st_.step);
  Checkpoint::write(numbered, *model_, cfg_, st_);
  folder_.publish_checkpoint(numbered, keep_);
  logs_->event({{"event", "checkpoint"}, {"step", st_.step}, {"path", numbered}});
  sum_.checkpoint = folder_.latest();
}

// Writes a preview grid (rank 0) and tells the callbacks; returns its path.
std::string Trainer::save_grid(const std::string& path, bool periodic) {
  if (!writer()) return path;
  GridEvent g;
  g.step = st_.step;
  g.path = path;
  g.periodic = periodic;
  if (preview_.batch.images.defined()) {  // one example per row: input | output | target ...
    auto cols = model_->preview(preview_.batch);       // k x [n, C, H, W]
    auto grid = torch::stack(cols, 1).flatten(0, 1);  // [n * k, C, H, W]
    g.grid = make_grid(grid.to(torch::kCPU), int64_t(cols.size()));
  } else {
    SampleRequest request{st_.fixed_noise, st_.fixed_labels};
    request.text = st_.fixed_text;
    g.samples = require_capability<NoiseSampler>(*model_).sample(request);
    g.grid = is_point_shape(shape_.channels, shape_.size)
                 ? plot_points(g.samples, data_)
                 : make_grid(g.samples, int64_t(std::ceil(std::sqrt(double(g.samples.size(0))))));
  }
  g.png = encode_png(g.grid);
  write_file_atomic(path, g.png);
  each([&](TrainCallback& c) { c.on_grid(*run_, g); });
  return path;
}

void Trainer::reset_interval() {
  sums_.clear();
  in_interval_ = 0;
  images_in_interval_ = 0;
  interval_start_ = Clock::now();
}

// The run diverged after update st_.step (`what` says which value was not
// finite): rolls back to the newest good checkpoint (or the run's first
// state) with the learning rates halved, or throws duel::Error when the
// rollbacks are spent.
void Trainer::roll_back(const std::string& what) {
  const int64_t at = st_.step;
  const std::string nets = DivergenceGuard::non_finite_nets(*model_);
  const std::string detail = what + (nets.empty() ? "" : "; non-finite weights in " + nets);
  const bool on_disk = resume_from_.has_value() || !sum_.checkpoint.empty();
  guard_->give_up_if_spent(st_, detail, on_disk, req_.run_dir, *logs_);
  std::vector<std::string> skipped;
  Checkpoint ck = on_disk ? dp_.shared_checkpoint([&] { return read_resume_checkpoint(folder_, &skipped, device_); },
                                                  device_)
                          : Checkpoint::decode(guard_->start_snapshot(), "the start of the run", device_);
  const std::string from = ck.path();
  for (auto& s : skipped) warn("skipping unusable checkpoint: " + s);
  const int64_t rollbacks = st_.rollbacks + 1;
  const double lr_scale = st_.lr_scale * 0.5;
  restore_state(ck);
  st_.rollbacks = rollbacks;
  st_.lr_scale = lr_scale;
  reseed_streams();
  schedule_->scale_base(0.5);  // the restore leaves rates alone: halve the current and base rates
  logs_->cut_to(st_.step);     // the logs go back to the checkpoint's step, as on a resume
  each([&](TrainCallback& c) { c.on_rollback(*run_); });
  reset_interval();
  guard_->clear_pending();
  nlohmann::json lr;
  for (auto& [name, opt] : model_->optimizers()) lr[name] = get_lr(opt->param_groups().at(0));
  const int64_t limit = guard_->max_rollbacks();
  logs_->event({{"event", "rollback"}, {"step", st_.step}, {"diverged_at", at}, {"reason", detail},
                {"rollback", rollbacks}, {"limit", limit}, {"lr_scale", lr_scale}, {"lr", lr}, {"from", from}});
  warn("training diverged at step " + std::to_string(at) + " (" + detail + "): rolled back to step " +
       std::to_string(st_.step) + " (" + from + ") with the learning rates halved (rollback " +
       std::to_string(rollbacks) + " of at most " + std::to_string(limit) + ")");
}

// The per-step check of the losses, and of the weights before anything is
// saved; false when the run rolled back.
bool Trainer::check_step(const Scalars& scalars) {
  const bool saving = st_.step == total_ || (ckpt_every_ > 0 && st_.step % ckpt_every_ == 0) ||
                      (eval_every_ > 0 && st_.step % eval_every_ == 0);
  const bool check_now = !device_.is_cuda() || saving || st_.step % log_every_ == 0 ||
                         (sample_every_ > 0 && st_.step % sample_every_ == 0);
  guard_->observe(scalars);
  if (!check_now) return true;
  bool ok = guard_->pending_ok();
  if (dp_.enabled())  // the ranks agree on stopping and on divergence, so they stay in step
    std::tie(dist_stop_, ok) = dp_.agree(stop_requested().load(), ok);
  if (!ok) {
    roll_back(DivergenceGuard::first_non_finite(scalars));
    return false;
  }
  if (saving) {
    const std::string nets = DivergenceGuard::non_finite_nets(*model_);
    if (!nets.empty()) {
      roll_back("non-finite weights in " + nets);
      return false;
    }
  }
  return true;
}

// A metrics row: the interval's means (over all ranks); false when the run rolled back.
bool Trainer::log_row(int64_t epoch) {
  const auto now = Clock::now();
  const double dt = std::chrono::duration<double>(now - interval_start_).count();
  img_per_s_ = dt > 0 ? images_in_interval_ / dt : 0;
  dp_.mean_over_ranks(sums_);
  const double comm_share = dp_.enabled() && dt > 0 ? (dp_.comm_seconds() - comm_at_interval_) / dt : 0;
  if (dp_.enabled()) comm_at_interval_ = dp_.comm_seconds();
  LoggedRow values;
  values.step = st_.step;
  report_.scalars.clear();
  for (auto& [k, v] : sums_) {
    const double m = v.item<double>() / double(in_interval_);
    values.values[k] = m;
    report_.scalars.emplace_back(k, m);
  }
  if (auto bad = TrainingMonitor::non_finite(values)) {  // backstop: the per-step check catches it first
    roll_back(*bad);
    return false;
  }
  LogRow row;
  row.step = st_.step;
  row.epoch = epoch;
  row.scalars = report_.scalars;
  row.img_per_s = img_per_s_;
  row.elapsed_s = std::chrono::duration<double>(now - t0_).count();
  if (dp_.enabled()) row.comm_share = comm_share;
  std::string extra_header, extra_cells;
  for (auto& c : callbacks_) {
    extra_header += c->csv_header();
    extra_cells += c->csv_cells();
  }
  logs_->row(row, extra_header, extra_cells);
  each([&](TrainCallback& c) { c.on_log_row(*run_, row); });
  reset_interval();
  interval_start_ = now;
  return true;
}

void Trainer::report_progress(int64_t epoch) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
  report_.step = st_.step;
  report_.epoch = epoch;
  report_.img_per_s = img_per_s_;
  report_.elapsed_s = elapsed;
  const int64_t done = st_.step - sum_.start_step;
  report_.eta_s = done > 0 ? elapsed / double(done) * double(total_ - st_.step) : 0;
  if (ev_.progress) ev_.progress(report_);
}

// 4. Final outputs (also when interrupted: nothing done is lost).
void Trainer::finish() {
  if (st_.step > sum_.start_step || !resume_from_) {
    save_checkpoint();
    save_grid(folder_.sample(st_.step), false);
  }
  sum_.final_grid = save_grid(folder_.final_sample(), false);
  if (sum_.checkpoint.empty()) sum_.checkpoint = folder_.latest();
  sum_.steps_done = st_.step - sum_.start_step;
  sum_.rank = dp_.rank();
  sum_.world_size = dp_.world();
  sum_.comm_seconds = dp_.comm_seconds();
  sum_.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
  sum_.img_per_s = sum_.seconds > 0 ? double(sum_.steps_done * lo_.batch_size * dp_.world()) / sum_.seconds : 0;
  for (auto& [k, v] : report_.scalars) sum_.last[k] = v;
  logs_->event({{"event", sum_.interrupted ? "interrupted" : "finish"}, {"step", st_.step}, {"seconds", sum_.seconds}});
  each([&](TrainCallback& c) { c.on_finish(*run_); });
  write_config();
}

// config.toml: the keys read so far and those set explicitly (Config::to_toml),
// rewritten when parts that start later read more.
void Trainer::write_config() {
  if (!writer()) return;
  std::string text = cfg_.to_toml();
  if (text == config_written_) return;
  write_file_atomic(folder_.config(), text);
  config_written_ = std::move(text);
}

// Settings this command gave (the config file and --set of a new run, the
// --set of a resume) that neither the model nor any part read: they have no effect.
void Trainer::warn_unread_settings() const {
  if (!writer()) return;
  std::vector<std::string> given;
  if (req_.resume) {
    for (const auto& o : req_.overrides) {
      std::string key = o.substr(0, o.find('='));
      key.erase(key.find_last_not_of(" \t") + 1);
      key.erase(0, key.find_first_not_of(" \t"));
      given.push_back(key);
    }
  } else {
    for (const auto& spec : schema())
      if (req_.config.was_set(spec.key)) given.push_back(spec.key);
  }
  std::string unread;
  int count = 0;
  for (const auto& key : given)
    if (!cfg_.was_read(key) && !cfg_.is_default(key)) unread += (count++ ? ", " : "") + key;
  if (count > 0)
    warn(unread + (count == 1 ? " is" : " are") + " not read by model '" + model_->name() +
         "' or any other part of this run: the setting has no effect");
}

TrainSummary Trainer::run() {
  require(!req_.run_dir.empty(), "no run folder given", "pass --out runs/<name>");
  join_group();
  resolve_config();
  choose_device();
  build_model();
  build_loader();
  make_fixed_inputs();
  resume_state();
  open_run_folder();
  start_parts();
  // The loop: fetch a batch, model.step, check it, tell the callbacks; log, grid and checkpoint on cadence.
  while (st_.step < total_) {
    if (dp_.enabled() ? dist_stop_ : stop_requested().load()) {
      sum_.interrupted = true;
      break;
    }
    Batch batch = loader_->next();
    images_in_interval_ += batch.images.size(0) * dp_.world();
    ctx_.step = st_.step;
    ctx_.progress = double(st_.step) / double(total_);
    schedule_->apply(st_.step, total_);
    guard_->maybe_inject(*model_, st_.step);  // debug.inject_nan_step, a testing aid
    Scalars scalars;
    {
      AutocastScope amp(use_amp_, device_.is_cpu());
      scalars = model_->step(batch, ctx_);
    }
    ++st_.step;
    ++in_interval_;
    if (!check_step(scalars)) continue;
    if (sums_.empty()) sums_ = scalars;
    else
      for (size_t i = 0; i < sums_.size() && i < scalars.size(); ++i)
        sums_[i].second = sums_[i].second + scalars[i].second;
    const bool last = st_.step == total_;
    each([&](TrainCallback& c) { c.on_step(*run_); });
    if ((st_.step % log_every_ == 0 || last) && !log_row(batch.epoch)) continue;
    if (sample_every_ > 0 && st_.step % sample_every_ == 0 && !last) save_grid(folder_.sample(st_.step), true);
    if (ckpt_every_ > 0 && st_.step % ckpt_every_ == 0 && !last) save_checkpoint();
    report_progress(batch.epoch);
  }
  finish();
  return sum_;
}

}  // namespace

std::string find_resume_checkpoint(const std::string& run_dir, std::vector<std::string>* skipped) {
  return read_resume_checkpoint(RunFolder(run_dir), skipped).path();
}

TrainSummary train(TrainRequest request, const TrainerEvents& events) {
  if (request.resume) request.run_dir = RunFolder::named_by(request.run_dir);  // a checkpoint names its run
  return Trainer(std::move(request), events).run();
}

}  // namespace duel
