// The generic training loop. Model-specific work happens in GanModel::step;
// everything here is the same for every model.
#include "duel/train/trainer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "duel/apps/report.h"  // log.report
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/autocast.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/core/rng.h"
#include "duel/core/shard.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"
#include "duel/io/image.h"
#include "duel/io/tensorboard.h"  // log.tensorboard
#include "duel/models/model.h"
#include "duel/train/collapse.h"
#include "duel/train/monitor.h"
#include "duel/train/schedule.h"
#include "duel/train/training_eval.h"  // eval.every

namespace fs = std::filesystem;

namespace duel {

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {

// The first n images (and B images) of the data, centre-cropped to size x size, in [-1, 1].
Batch preview_batch(const ImageSet& data, int64_t size, int64_t n, torch::Device device) {
  auto crop = [&](const torch::Tensor& x) {
    return to_unit_range(centre_crop(x.slice(0, 0, n), size).contiguous()).to(device);
  };
  Batch b;
  b.images = crop(data.images);
  if (data.targets.defined()) b.targets = crop(data.targets);
  if (data.labels.defined()) b.labels = data.labels.slice(0, 0, n).to(device);
  return b;
}

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
    for (const char* entry :
         {"config.toml", "metrics.csv", "events.jsonl", "samples", "checkpoints", "eval", "tensorboard", "report.html"})
      fs::remove_all(fs::path(dir) / entry, ec);
  fs::create_directories(fs::path(dir) / "samples", ec);
  fs::create_directories(fs::path(dir) / "checkpoints", ec);
  if (ec || !fs::is_directory(fs::path(dir) / "checkpoints"))
    throw Error("cannot create run folder '" + dir + "'" + (ec ? ": " + ec.message() : ""),
                "check that the parent folder exists and is writable");
}

// Appends lines to a log file through a plain descriptor: every write is
// checked (a full disk stops the run with a clear message) and sync() makes
// the rows durable before a checkpoint that covers them is written.
class Appender {
 public:
  explicit Appender(const std::string& path) : path_(path) { open(); }
  ~Appender() {
    if (fd_ >= 0) ::close(fd_);
  }
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  void line(const std::string& s) {
    const std::string text = s + "\n";
    size_t off = 0;
    while (off < text.size()) {
      ssize_t k = ::write(fd_, text.data() + off, text.size() - off);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) fail(k < 0 ? errno : ENOSPC);
      off += size_t(k);
    }
  }
  void sync() {
    if (::fsync(fd_) != 0) fail(errno);
  }
  // After the file was replaced (truncate_log writes a new file), append to the new one.
  void reopen() {
    ::close(fd_);
    open();
  }

 private:
  void open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error("cannot open '" + path_ + "' for writing: " + std::strerror(errno), "check the run folder");
  }
  [[noreturn]] void fail(int e) {
    throw Error("cannot write '" + path_ + "': " + std::strerror(e),
                "the disk may be full or the file too large; the last checkpoint is intact: free space and resume");
  }
  std::string path_;
  int fd_ = -1;
};

// --- reliability: divergence guard and fault injection (docs/reliability.md) ---
const bool reliability_keys_registered = [] {
  register_key({"train.nan_rollbacks", ConfigType::Int, int64_t(3),
                "on a non-finite loss or weight, roll back to the last good checkpoint with the learning rates "
                "halved, at most this many times (0: stop at once)",
                0, 1000, {}});
  register_key({"debug.inject_nan_step", ConfigType::Int, int64_t(0),
                "testing aid: multiply a weight of the first net by NaN just before this step (0: never)", 0, 1.0e12,
                {}});
  register_key({"debug.inject_nan_count", ConfigType::Int, int64_t(1),
                "testing aid: how many times debug.inject_nan_step fires (each pass over that step, e.g. after a "
                "rollback, counts once)",
                1, 1000000, {}});
  return true;
}();

// --- distributed training (docs/distributed.md) ---
const bool dist_keys_registered = [] {
  register_key({"dist.timeout_s", ConfigType::Float, 300.0,
                "distributed runs: a rank waiting longer than this for the others (rendezvous or a collective) "
                "fails with a message",
                1.0, 86400.0, {}});
  register_key({"dist.sync_bn", ConfigType::Bool, false,
                "distributed runs: batch norm uses the statistics of the global batch (one all-reduce per layer); "
                "off: each rank normalises its own batch and rank 0's running statistics are kept",
                {}, {}, {}});
  register_key({"dist.bucket_mb", ConfigType::Float, 25.0,
                "distributed runs: gradients are averaged in buckets of at most this many MiB", 0.001, 4096.0, {}});
  register_key({"dist.global_batch", ConfigType::Bool, false,
                "distributed runs: train.batch_size is the global batch, split evenly over the ranks "
                "(false: it is each rank's batch, and the global batch is train.batch_size x world size)",
                {}, {}, {}});
  register_key({"debug.dist_skip_average", ConfigType::String, std::string(""),
                "testing aid: a distributed run does not average the gradients reported under this name (the ranks' "
                "weights then drift apart, which the checkpoint check must catch)",
                {}, {}, {}});
  register_key({"dist.world_size", ConfigType::Int, int64_t(1),
                "set by duel train: the number of ranks the run trains on (a resume must use the same)", 1, 1 << 20,
                {}});
  return true;
}();

// The parameters a StepContext::after_backward(name) call refers to: those of
// the optimizer of that name (cyclegan's "G" steps both generators), else of
// the net of that name (aae's "E" and "G" before the joint "AE" step).
std::map<std::string, std::vector<torch::Tensor>> gradient_groups(GanModel& model) {
  std::map<std::string, std::vector<torch::Tensor>> groups;
  for (auto& [name, net] : model.nets()) groups[name] = net->parameters();
  for (auto& [name, opt] : model.optimizers()) {
    std::vector<torch::Tensor> params;
    for (auto& g : opt->param_groups())
      for (auto& p : g.params()) params.push_back(p);
    groups[name] = params;
  }
  return groups;
}

// Rank 0's parameters and buffers on every rank.
void broadcast_weights(Collective& dist, GanModel& model) {
  torch::NoGradGuard no_grad;
  for (auto& [name, net] : model.nets()) {
    for (auto& p : net->parameters()) dist.broadcast(p);
    for (auto& b : net->buffers()) dist.broadcast(b);
  }
}
// --- end of distributed helpers ---

// Names of the nets holding a non-finite parameter ("" when all are finite).
std::string non_finite_nets(GanModel& model) {
  std::string out;
  for (auto& [name, net] : model.nets())
    for (auto& p : net->parameters())
      if (!torch::isfinite(p).all().item<bool>()) {
        out += (out.empty() ? "" : ", ") + name;
        break;
      }
  return out;
}

// The step of a "step-N.duel" name, -1 for any other name. Sorting by it (not
// by name) keeps the order right past step 999999, where names grow a digit.
int64_t numbered_step(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.rfind("step-", 0) != 0 || p.extension() != ".duel") return -1;
  const std::string digits = name.substr(5, name.size() - 5 - 5);
  if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}
void sort_by_step(std::vector<fs::path>& v) {
  std::sort(v.begin(), v.end(), [](const fs::path& a, const fs::path& b) { return numbered_step(a) < numbered_step(b); });
}

// Temporary files a kill left behind in checkpoints/ (".step-N.duel.tmp.PID", ".latest.tmp").
void remove_stale_temp_files(const std::string& run_dir) {
  std::error_code ec;
  for (auto& e : fs::directory_iterator(fs::path(run_dir) / "checkpoints", ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp") != std::string::npos) fs::remove(e.path(), ec);
  }
}
// --- end of reliability helpers ---

}  // namespace

namespace {
// The newest loadable checkpoint of a run, read once (see find_resume_checkpoint).
Checkpoint read_resume_checkpoint(const std::string& run_dir, std::vector<std::string>* skipped,
                                  torch::Device device = torch::kCPU) {
  fs::path dir = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error("'" + run_dir + "' is not a run folder (no checkpoints/)", "pass the --out folder of an earlier duel train");
  // Numbered checkpoints, newest first (a kill between writing step-N.duel and
  // pointing latest.duel at it leaves step-N the newest), then latest.duel.
  std::vector<fs::path> candidates;
  for (auto& e : fs::directory_iterator(dir, ec))
    if (numbered_step(e.path()) >= 0) candidates.push_back(e.path());
  sort_by_step(candidates);
  std::reverse(candidates.begin(), candidates.end());
  if (fs::exists(dir / "latest.duel", ec)) candidates.push_back(dir / "latest.duel");
  for (auto& p : candidates) {
    try {
      return Checkpoint::read(p.string(), device);
    } catch (const Error& e) {
      if (skipped) skipped->push_back(e.what());
    }
  }
  throw Error("run folder '" + run_dir + "' holds no loadable checkpoint", "start a new run with --force");
}
}  // namespace

std::string find_resume_checkpoint(const std::string& run_dir, std::vector<std::string>* skipped) {
  return read_resume_checkpoint(run_dir, skipped).path();
}

TrainSummary train(TrainRequest req, const TrainerEvents& ev) {
  auto info = [&](const std::string& s) { if (ev.info) ev.info(s); };
  auto warn = [&](const std::string& s) { if (ev.warning) ev.warning(s); };
  const std::string dir = req.run_dir;
  require(!dir.empty(), "no run folder given", "pass --out runs/<name>");

  // 0. A distributed run joins its group first (rank 0 alone writes the run folder).
  std::unique_ptr<Collective> dist;
  if (req.dist.enabled()) {
    DistOptions o = req.dist;
    Config given = req.config;
    for (auto& s : req.overrides) given.set_from_string(s);
    o.timeout_s = given.get_float("dist.timeout_s");
    dist = Collective::connect(o, req.dist_store_is_external);
    info("rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) + " joined at " + o.host + ":" +
         std::to_string(o.port));
  }
  const bool writer = !dist || dist->rank() == 0;
  const int64_t world = dist ? dist->world_size() : 1, rank = dist ? dist->rank() : 0;
  // A checkpoint every rank loads: rank 0 reads it and sends its bytes, so the
  // other ranks need no shared filesystem.
  auto shared_checkpoint = [&](const std::function<Checkpoint()>& read_on_rank0, torch::Device dev) {
    if (!dist) return read_on_rank0();
    std::string bytes, origin;
    if (writer) {
      origin = read_on_rank0().path();
      bytes = read_text(origin);
    }
    bytes = dist->broadcast_bytes(bytes);
    origin = dist->broadcast_bytes(origin);
    return Checkpoint::decode(bytes, origin, dev);
  };

  // 1. Resolve the config: a new run's, or the checkpoint's plus overrides.
  Config cfg = req.config;
  std::optional<Checkpoint> resume_from;
  if (req.resume) {
    std::vector<std::string> skipped;
    resume_from = shared_checkpoint([&] { return read_resume_checkpoint(dir, &skipped); }, torch::kCPU);
    const std::string path = resume_from->path();
    for (auto& s : skipped) warn("skipping unusable checkpoint: " + s);
    cfg = Config::from_string(resume_from->config_toml(), path);
    for (auto& o : req.overrides) cfg.set_from_string(o);
    require(cfg.get_int("dist.world_size") == world,
            "the run was trained on " + std::to_string(cfg.get_int("dist.world_size")) + " rank(s), this resume has " +
                std::to_string(world),
            "resume with the same number of processes (the global batch and the per-rank random streams depend on it)");
    info("resuming from " + path + " at step " + std::to_string(resume_from->state().step));
  } else {
    apply_model_defaults(cfg);
    cfg.set("dist.world_size", world);
    // Refuse an existing run before any work; the folder itself is made only
    // once data, model and step count are known to be good, so a bad input leaves nothing.
    if (writer) check_existing_run(dir, req.force);
  }

  const std::string device_name = cfg.get_string("run.device");
  if (device_name == "cuda")
    require(torch::cuda::is_available(), "run.device=cuda but no CUDA device is available to this build",
            "build with scripts/build-gpu.sh on a machine with a GPU, or use run.device=cpu");
  const torch::Device device(device_name == "cuda" ? torch::kCUDA : torch::kCPU);
  require(!(dist && device.is_cuda()), "distributed training runs on CPU ranks (Gloo) in this build",
          "use run.device=cpu for --nproc/--dist runs (docs/distributed.md)");
  // Map the checkpoint's tensors straight onto the training device, so that
  // loading never moves a parameter off it.
  if (resume_from && device.is_cuda() && !dist) resume_from = Checkpoint::read(resume_from->path(), device);
  const uint64_t seed = uint64_t(cfg.get_int("run.seed"));
  torch::manual_seed(seed);

  // 2. Data and model.
  ImageSet data = open_dataset(cfg);
  require(data.images.size(2) == data.images.size(3) || cfg.get_int("data.crop") > 0,
          "images are " + std::to_string(data.images.size(3)) + "x" + std::to_string(data.images.size(2)) + ", not square",
          "set data.image_size to crop them square, or data.crop to train on random square crops");
  info("data: " + data.description);
  DataShape shape{data.images.size(1), cfg.get_int("data.crop") > 0 ? cfg.get_int("data.crop") : data.images.size(2),
                  data.num_classes};
  shape.target_channels = data.targets.defined() ? data.targets.size(1) : 0;
  shape.paired = data.paired;
  if (data.has_captions()) {
    shape.vocabulary = data.captions.vocabulary.words();
    shape.text_length = data.captions.length;
  }
  auto model = create_model(cfg, shape);
  model->prepare_training();
  if (model->needs_labels())
    require(data.has_labels(), "model '" + model->name() + "' needs class labels but " + data.description + " has none",
            "use a labelled dataset (an image folder with one subfolder per class)");
  if (model->needs_captions())
    require(cfg.get_int("eval.every") == 0,
            "eval.every measures FID of samples drawn without text, and " + model->name() + " draws from text",
            "set eval.every = 0 and measure a checkpoint with duel experiment text2img");
  model->to(device);
  // --- distributed: the batch shard, synchronised batch norm, gradient averaging ---
  std::map<std::string, std::vector<torch::Tensor>> grad_groups;
  if (dist) {
    batch_shard().rank = rank;
    batch_shard().world = world;
    batch_shard().sum_over_ranks = [&dist](torch::Tensor& t) { dist->sum(t); };
    batch_shard().sync_bn = cfg.get_bool("dist.sync_bn");
    dist->set_bucket_bytes(int64_t(cfg.get_float("dist.bucket_mb") * 1048576.0));
    broadcast_weights(*dist, *model);
    grad_groups = gradient_groups(*model);
  }
  // --- end of distributed setup ---
  // Base rates as the model built its optimizers (before a checkpoint's scheduled rates are restored).
  LrSchedule schedule(cfg, model->optimizers());

  LoaderOptions lo;
  lo.batch_size = cfg.get_int("train.batch_size");
  if (dist && cfg.get_bool("dist.global_batch")) {
    require(lo.batch_size % world == 0,
            "train.batch_size = " + std::to_string(lo.batch_size) + " is the global batch (dist.global_batch) but does "
            "not divide by the " + std::to_string(world) + " ranks",
            "choose a multiple of the world size, or set dist.global_batch = false to give the batch per rank");
    lo.batch_size /= world;
  }
  lo.shard = rank;
  lo.shards = world;
  lo.drop_last = cfg.get_bool("data.drop_last");
  lo.seed = seed;
  lo.prefetch = resolve_prefetch(cfg.get_int("data.prefetch"), device);
  lo.device = device;
  lo.channels_last = cfg.get_bool("perf.channels_last");
  lo.crop = cfg.get_int("data.crop");
  lo.flip = cfg.get_bool("data.flip");
  Loader loader(data, lo);
  // Image-to-image models are previewed on the first images of the data,
  // centre-cropped to the training size (no noise to fix).
  Batch preview;
  if (model->translates()) {
    require(cfg.get_int("eval.every") == 0, "eval.every measures FID of generated samples, and " + model->name() +
                                                " translates images instead",
            "set eval.every = 0 and run duel eval on the checkpoint (PSNR/SSIM, translation accuracy)");
    preview = preview_batch(data, shape.size, std::min<int64_t>(cfg.get_int("sample.grid"), 8), device);
  }

  // This rank's generator state in a checkpoint (every rank's is kept in distributed runs).
  auto rank_rng_state = [&](const TrainState& s) {
    if (!s.rank_rng_states.defined()) return s.rng_state.to(torch::kCPU);
    require(s.rank_rng_states.size(0) == world,
            "the checkpoint holds the random state of " + std::to_string(s.rank_rng_states.size(0)) + " ranks, not " +
                std::to_string(world),
            "resume with the number of processes the run was trained on");
    return s.rank_rng_states[rank].to(torch::kCPU).contiguous();
  };
  TrainState st;
  st.shape = shape;
  st.fixed_noise = model->make_noise(cfg.get_int("sample.grid"), device);
  if (model->needs_labels()) {
    // One class per grid row (the grid is ceil(sqrt(n)) images wide).
    const int64_t n = cfg.get_int("sample.grid"), cols = int64_t(std::ceil(std::sqrt(double(n))));
    st.fixed_labels = torch::arange(n, torch::kInt64).div(cols, "floor").remainder(data.num_classes).to(device);
  }
  if (model->needs_captions()) {
    // The first caption of the first images; with labels, one class per grid row.
    const int64_t n = cfg.get_int("sample.grid"), cols = int64_t(std::ceil(std::sqrt(double(n))));
    std::vector<int64_t> pick;
    for (int64_t i = 0; i < n; ++i) {
      int64_t chosen = i % data.size();
      if (data.has_labels()) {
        const auto of_class = data.labels.eq((i / cols) % data.num_classes).nonzero().reshape({-1});
        if (of_class.numel() > 0) chosen = of_class[(i % cols) % of_class.numel()].item<int64_t>();
      }
      pick.push_back(chosen);
    }
    st.fixed_text = data.captions.first_caption(torch::tensor(pick, torch::kInt64)).to(device);
  }
  if (resume_from) {
    const DataShape& was = resume_from->state().shape;
    require(was.vocabulary == shape.vocabulary && was.text_length == shape.text_length,
            "the captions (" + std::to_string(std::max<int64_t>(0, int64_t(shape.vocabulary.size()) - 1)) +
                " words, " + std::to_string(shape.text_length) + " tokens) do not match the checkpoint's (" +
                std::to_string(std::max<int64_t>(0, int64_t(was.vocabulary.size()) - 1)) + " words, " +
                std::to_string(was.text_length) + " tokens)",
            "resume with the data.captions file and data.caption_tokens the run started with");
    // A run that rolled back keeps its halved rates (optimizer state in a
    // checkpoint does not carry the rates; the trainer sets them).
    if (resume_from->state().lr_scale != 1.0) schedule.scale_base(resume_from->state().lr_scale);
    resume_from->restore(*model, /*optimizers=*/true);
    st = resume_from->state();
    require(st.shape.channels == shape.channels && st.shape.size == shape.size,
            "the data (" + std::to_string(shape.channels) + "x" + std::to_string(shape.size) +
                " px) does not match the checkpoint's (" + std::to_string(st.shape.channels) + "x" +
                std::to_string(st.shape.size) + " px)",
            "resume with the data settings the run started with");
    st.fixed_noise = st.fixed_noise.to(device);
    if (st.fixed_labels.defined()) st.fixed_labels = st.fixed_labels.to(device);
    if (st.fixed_text.defined()) st.fixed_text = st.fixed_text.to(device);
    set_rng_state(rank_rng_state(st));
    loader.seek(st.loader);
  }
  if (lo.channels_last) model->set_channels_last();
  if (device.is_cuda()) torch::cuda::manual_seed_all(seed * 1000003ULL + uint64_t(st.step));

  const int64_t total = cfg.get_int("train.steps") > 0 ? cfg.get_int("train.steps")
                                                       : cfg.get_int("train.epochs") * loader.batches_per_epoch();
  require(total > 0, "the run has no steps (train.steps and train.epochs are 0)", "set train.steps or train.epochs");
  if (writer) {
    if (!resume_from) prepare_run_dir(dir, req.force);
    else remove_stale_temp_files(dir);
    write_file_atomic((fs::path(dir) / "config.toml").string(), cfg.to_toml());
  }

  const std::string csv_path = (fs::path(dir) / "metrics.csv").string();
  const std::string events_path = (fs::path(dir) / "events.jsonl").string();
  if (resume_from && writer) {
    truncate_log(csv_path, st.step, true);
    truncate_log(events_path, st.step, false);
  }
  bool csv_needs_header = writer && !(fs::exists(csv_path) && fs::file_size(csv_path) > 0);
  // The logs (rank 0 only in a distributed run: the other ranks hold nullptr).
  std::unique_ptr<Appender> csv, events;
  if (writer) {
    csv = std::make_unique<Appender>(csv_path);
    events = std::make_unique<Appender>(events_path);
  }
  auto event = [&](nlohmann::json j) {
    if (events) events->line(j.dump());
  };
  event({{"event", resume_from ? "resume" : "start"}, {"step", st.step}, {"model", model->name()},
         {"total_steps", total}, {"data", data.description}, {"rollbacks", st.rollbacks}, {"lr_scale", st.lr_scale},
         {"world_size", world}});
  // --- log.tensorboard (src/io/tensorboard.cpp): a new event file per start or resume; nullptr when off ---
  std::unique_ptr<TensorBoardWriter> tb;
  if (cfg.get_bool("log.tensorboard") && writer) {
    tb = std::make_unique<TensorBoardWriter>(dir, st.step);
    info("tensorboard: " + tb->path());
  }
  int64_t tb_image_step = -1;  // final.png repeats the last step's grid: log it once
  // Writes a sample grid's PNG, and logs it as the TensorBoard image `samples`.
  auto write_grid = [&](const std::string& path, const torch::Tensor& grid) {
    const std::string png = encode_png(grid);
    write_file_atomic(path, png);
    if (tb && tb_image_step != st.step) {
      tb_image_step = st.step;
      tb->image("samples", st.step, png, grid.size(1), grid.size(2), grid.size(0));
      tb->push();
    }
  };
  // --- end of log.tensorboard setup ---

  TrainingMonitor monitor(cfg.get_int("monitor.window"));
  const bool warnings_on = cfg.get_bool("monitor.warnings");
  const double real_diversity = mean_pairwise_distance(to_unit_range(data.images.slice(0, 0, 256)));
  // eval.every: FID/KID while training (src/metrics/evaluate.cpp); nullptr when off
  std::unique_ptr<TrainingEvaluator> evaluator;
  if (writer) evaluator = TrainingEvaluator::create(cfg, shape, dir);
  const int64_t eval_every = cfg.get_int("eval.every");  // the same on every rank

  TrainSummary sum;
  sum.run_dir = dir;
  sum.start_step = st.step;
  sum.total_steps = total;

  // Mode-collapse signal through the dataset's feature network (src/train/collapse.cpp).
  std::string no_probe;
  std::unique_ptr<CollapseProbe> probe;
  if (!model->translates() && writer) probe = CollapseProbe::create(cfg, data, &no_probe);
  if (probe) info("collapse probe: " + probe->network());
  int64_t probed_step = -1;
  auto save_grid = [&](const std::string& name) {
    const std::string path = (fs::path(dir) / "samples" / name).string();
    if (!writer) return path;
    if (model->translates()) {  // one example per row: input | output | target ...
      auto cols = model->preview(preview);                                         // k x [n, C, H, W]
      auto grid = torch::stack(cols, 1).flatten(0, 1);                              // [n * k, C, H, W]
      write_grid(path, make_grid(grid.to(torch::kCPU), int64_t(cols.size())));
      return path;
    }
    SampleRequest request{st.fixed_noise, st.fixed_labels};
    request.text = st.fixed_text;
    auto images = model->sample(request);
    write_grid(path, make_grid(images, int64_t(std::ceil(std::sqrt(double(images.size(0)))))));
    if (warnings_on && images.size(0) >= 2) {
      double ratio = mean_pairwise_distance(images.to(torch::kCPU)) / real_diversity;
      if (auto w = monitor.observe_diversity(st.step, ratio)) {
        warn(*w);
        event({{"event", "warning"}, {"step", st.step}, {"message", *w}});
      }
    }
    if (probe && images.size(0) >= 2 && probed_step != st.step) {  // final.png repeats the last step's grid
      probed_step = st.step;
      auto r = probe->observe(images, st.step);
      event({{"event", "collapse_probe"}, {"step", st.step}, {"feature_diversity", r.feature_diversity},
             {"class_entropy", r.class_entropy}, {"top_class", r.top_class}, {"top_fraction", r.top_fraction},
             {"histogram", r.histogram}});
      if (r.warning) {
        warn(*r.warning);
        event({{"event", "warning"}, {"step", st.step}, {"message", *r.warning}});
      }
    }
    return path;
  };
  // --- log.report (src/io/report.cpp): <run>/report.html rewritten at every grid; a failure only warns ---
  int64_t report_count = 0;
  double report_seconds = 0;
  auto refresh_report = [&]() {
    if (!cfg.get_bool("log.report")) return;
    ReportOptions ro;
    ro.max_grids = cfg.get_int("log.report_grids");
    ro.generator = {model.get(), shape, st.step, device, ""};
    try {
      report_seconds += write_report(dir, ro).seconds;
      ++report_count;
    } catch (const std::exception& e) {
      warn(std::string("report.html not refreshed: ") + e.what());
    }
  };
  // --- end of log.report ---
  const int64_t keep = cfg.get_int("train.keep_checkpoints");
  // What a checkpoint needs besides the nets: where the loader is and the RNG state.
  auto capture_state = [&]() {
    st.loader = loader.position();
    st.rng_state = get_rng_state();
  };
  auto save_checkpoint = [&]() {
    // Rows up to this step are made durable before the checkpoint that covers them.
    if (csv) csv->sync();
    if (events) events->sync();
    if (tb) tb->flush();  // log.tensorboard
    // Never write non-finite weights: a checkpoint must always be a good place to resume from.
    for (auto& [name, net] : model->nets())
      for (auto& p : net->parameters())
        if (!torch::isfinite(p).all().item<bool>())
          throw Error("net " + name + " has non-finite weights at step " + std::to_string(st.step) +
                          "; not writing a checkpoint",
                      "resume from the last checkpoint with a lower learning rate");
    capture_state();
    if (dist) {  // every rank's random state; batch norm statistics as rank 0 has them
      st.rank_rng_states = dist->all_gather(st.rng_state);
      if (!cfg.get_bool("dist.sync_bn")) {
        torch::NoGradGuard no_grad;
        for (auto& [name, net] : model->nets())
          for (auto& b : net->buffers()) dist->broadcast(b);
      }
      // The ranks must hold the same weights (a model that steps a net without
      // reporting its backward through after_backward would break this).
      const auto nets = model->nets();
      std::vector<int64_t> digests;
      for (auto& [name, net] : nets) digests.push_back(int64_t(weights_digest(*net)));
      auto all = dist->all_gather(torch::tensor(digests, torch::kInt64));  // [W, nets]
      for (size_t i = 0; i < nets.size(); ++i)
        if (!torch::equal(all.select(1, int64_t(i)), all[0][int64_t(i)].expand({world})))
          throw Error("the ranks' weights of net " + nets[i].first + " differ at step " + std::to_string(st.step) +
                          "; not writing a checkpoint",
                      "model " + model->name() + " updates a net without averaging its gradients "
                      "(StepContext::after_backward); train it on one process");
      if (!writer) return;
    }
    const fs::path ck = fs::path(dir) / "checkpoints";
    const std::string numbered = (ck / step_name("step-", st.step, ".duel")).string();
    Checkpoint::write(numbered, *model, cfg, st);
    // latest.duel is a second name of the same (fsynced) file, swapped in by an atomic rename.
    fs::remove(ck / ".latest.tmp");
    fs::create_hard_link(numbered, ck / ".latest.tmp");
    fs::rename(ck / ".latest.tmp", ck / "latest.duel");
    std::vector<fs::path> old;
    for (auto& e : fs::directory_iterator(ck))
      if (numbered_step(e.path()) >= 0) old.push_back(e.path());
    sort_by_step(old);
    for (size_t i = 0; i + size_t(keep) < old.size(); ++i) fs::remove(old[i]);
    event({{"event", "checkpoint"}, {"step", st.step}, {"path", numbered}});
    sum.checkpoint = (ck / "latest.duel").string();
  };

  // --- reliability: divergence guard (train.nan_rollbacks; docs/reliability.md) ---
  // Every step's loss scalars are checked (on CPU at once; on CUDA, to keep the
  // GPU unsynchronised, at each log row, grid, evaluation and checkpoint), and
  // the weights before every checkpoint. On a non-finite value the run rolls
  // back to its newest good checkpoint (or its first state) with every learning
  // rate halved, at most train.nan_rollbacks times; then it stops with exit 2.
  const int64_t max_rollbacks = cfg.get_int("train.nan_rollbacks");
  const int64_t inject_step = cfg.get_int("debug.inject_nan_step");
  int64_t injections_left = cfg.get_int("debug.inject_nan_count");
  std::string start_snapshot;  // the first state of a new run, for a rollback before its first checkpoint
  if (!resume_from && max_rollbacks > 0) {
    capture_state();
    start_snapshot = Checkpoint::encode(*model, cfg, st);
  }
  torch::Tensor pending_finite;  // CUDA: all steps since the last check had finite scalars
  // --- end of divergence guard setup (the handler is `diverged` below) ---

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
    images_in_interval += batch_size * world;
    return loader.next();
  };
  const std::string skip_average = cfg.get_string("debug.dist_skip_average");
  if (dist)  // gradients averaged over the ranks before each optimizer step
    ctx.after_backward = [&](const std::string& name) {
      auto it = grad_groups.find(name);
      if (it == grad_groups.end())
        throw std::logic_error("duel: model " + model->name() + " reported gradients of unknown net '" + name + "'");
      if (name != skip_average) dist->average_gradients(it->second);
    };
  bool dist_stop = false;          // a rank was asked to stop: all stop after the same step
  double comm_at_interval = 0;     // dist->comm_seconds() when the log interval began
  // --- reliability: the divergence handler. `what` says which value was not
  // finite after update st.step. Rolls the run back, or throws duel::Error.
  auto diverged = [&](const std::string& what) {
    const int64_t at = st.step;
    const std::string nets = non_finite_nets(*model);
    const std::string detail = what + (nets.empty() ? "" : "; non-finite weights in " + nets);
    const bool on_disk = resume_from.has_value() || !sum.checkpoint.empty();
    if (st.rollbacks >= max_rollbacks) {
      event({{"event", "diverged"}, {"step", at}, {"value", detail}, {"rollbacks", st.rollbacks}});
      const std::string saved = on_disk ? "the last checkpoint is intact and nothing non-finite was saved"
                                        : "no checkpoint had been written yet, and none was";
      const std::string advice = "lower optim.g_lr / optim.d_lr or add train.label_smoothing / train.instance_noise";
      const std::string hint = on_disk ? advice + ", then resume: `duel train --resume " + dir +
                                             " --set optim.g_lr=... --set optim.d_lr=...`"
                                       : advice + ", and start the run again (with --force)";
      if (max_rollbacks == 0)
        throw Error("training diverged at step " + std::to_string(at) + ": " + detail + " (train.nan_rollbacks = 0: " +
                        "no rollback); " + saved,
                    hint);
      throw Error("training diverged at step " + std::to_string(at) + ": " + detail + ", after " +
                      std::to_string(st.rollbacks) + " rollback(s) with the learning rates halved each time (limit "
                      "train.nan_rollbacks = " + std::to_string(max_rollbacks) + "); " + saved,
                  hint);
    }
    std::vector<std::string> skipped;
    Checkpoint ck = on_disk ? shared_checkpoint([&] { return read_resume_checkpoint(dir, &skipped, device); }, device)
                            : Checkpoint::decode(start_snapshot, "the start of the run", device);
    const std::string from = ck.path();
    for (auto& s : skipped) warn("skipping unusable checkpoint: " + s);
    // Optimizer state absent from the checkpoint (all of it, at the start) must not survive from the diverged run.
    for (auto& [name, opt] : model->optimizers()) opt->state().clear();
    ck.restore(*model, /*optimizers=*/true);
    const int64_t rollbacks = st.rollbacks + 1;
    const double lr_scale = st.lr_scale * 0.5;
    st = ck.state();
    st.rollbacks = rollbacks;
    st.lr_scale = lr_scale;
    st.fixed_noise = st.fixed_noise.to(device);
    if (st.fixed_labels.defined()) st.fixed_labels = st.fixed_labels.to(device);
    if (st.fixed_text.defined()) st.fixed_text = st.fixed_text.to(device);
    set_rng_state(rank_rng_state(st));
    loader.seek(st.loader);
    if (lo.channels_last) model->set_channels_last();
    if (device.is_cuda()) torch::cuda::manual_seed_all(seed * 1000003ULL + uint64_t(st.step));
    schedule.scale_base(0.5);  // the restore leaves rates alone: halve the current and base rates
    // The logs go back to the checkpoint's step, as on a resume.
    if (writer) {
      truncate_log(csv_path, st.step, true);
      truncate_log(events_path, st.step, false);
      csv->reopen();
      events->reopen();
      csv_needs_header = !(fs::exists(csv_path) && fs::file_size(csv_path) > 0);
    }
    if (tb) tb->restart(st.step);  // log.tensorboard: TensorBoard drops what it read past this step
    tb_image_step = -1;
    sums.clear();
    in_interval = 0;
    images_in_interval = 0;
    interval_start = clock::now();
    pending_finite = torch::Tensor();
    monitor = TrainingMonitor(cfg.get_int("monitor.window"));
    nlohmann::json lr;
    for (auto& [name, opt] : model->optimizers()) lr[name] = get_lr(opt->param_groups().at(0));
    event({{"event", "rollback"}, {"step", st.step}, {"diverged_at", at}, {"reason", detail},
           {"rollback", rollbacks}, {"limit", max_rollbacks}, {"lr_scale", lr_scale}, {"lr", lr}, {"from", from}});
    warn("training diverged at step " + std::to_string(at) + " (" + detail + "): rolled back to step " +
         std::to_string(st.step) + " (" + from + ") with the learning rates halved (rollback " +
         std::to_string(rollbacks) + " of at most " + std::to_string(max_rollbacks) + ")");
  };
  // Whether every scalar of a step is finite, as a 0-dim bool tensor (one fused reduction, no host sync).
  auto scalars_finite = [](const Scalars& s) {
    std::vector<torch::Tensor> v;
    v.reserve(s.size());
    for (auto& kv : s) v.push_back(kv.second.detach().reshape({}).to(torch::kFloat32));
    return v.empty() ? torch::ones({}, torch::kBool) : torch::isfinite(torch::stack(v)).all();
  };
  auto first_non_finite = [](const Scalars& s) {
    for (auto& [k, v] : s) {
      const double x = v.item<double>();
      if (!std::isfinite(x)) {
        std::ostringstream o;
        o << k << "=" << x;
        return o.str();
      }
    }
    return std::string("a loss is not finite");
  };
  // --- end of the divergence handler ---
  if (dist) comm_at_interval = dist->comm_seconds();  // the start-up broadcasts are not a step's
  while (st.step < total) {
    if (dist ? dist_stop : stop_requested().load()) {
      sum.interrupted = true;
      break;
    }
    Batch batch = loader.next();
    images_in_interval += batch.images.size(0) * world;
    ctx.step = st.step;
    ctx.progress = double(st.step) / double(total);
    schedule.apply(st.step, total);
    // --- reliability: fault injection (debug.inject_nan_step, a testing aid) ---
    if (inject_step > 0 && st.step + 1 == inject_step && injections_left > 0) {
      --injections_left;
      torch::NoGradGuard no_grad;
      auto params = model->nets().front().second->parameters();
      if (!params.empty()) params.front().mul_(std::numeric_limits<float>::quiet_NaN());
    }
    Scalars scalars;
    {
      AutocastScope amp(use_amp);
      scalars = model->step(batch, ctx);
    }
    ++st.step;
    ++in_interval;
    // --- reliability: the per-step check of the losses, and of the weights before anything is saved ---
    {
      const bool saving = st.step == total || (ckpt_every > 0 && st.step % ckpt_every == 0) ||
                          (eval_every > 0 && st.step % eval_every == 0);
      const bool check_now = !device.is_cuda() || saving || st.step % log_every == 0 ||
                             (sample_every > 0 && st.step % sample_every == 0);
      auto finite = scalars_finite(scalars);
      pending_finite = pending_finite.defined() ? pending_finite.logical_and(finite) : finite;
      if (check_now) {
        bool ok = pending_finite.item<bool>();
        pending_finite = torch::Tensor();
        if (dist) {  // the ranks agree on stopping and on divergence, so they stay in step
          auto flags = torch::tensor({stop_requested().load() ? 1.0f : 0.0f, ok ? 0.0f : 1.0f});
          dist->sum(flags);
          dist_stop = flags[0].item<float>() > 0;
          ok = flags[1].item<float>() == 0;
        }
        if (!ok) {
          diverged(first_non_finite(scalars));
          continue;
        }
        if (saving) {
          const std::string nets = non_finite_nets(*model);
          if (!nets.empty()) {
            diverged("non-finite weights in " + nets);
            continue;
          }
        }
      }
    }
    // --- end of the per-step check ---
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
      if (tb) {  // log.tensorboard
        for (auto& [k, v] : point.values) tb->scalar("eval/" + k, st.step, v);
        tb->push();
      }
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
      if (dist && !sums.empty()) {  // the interval's means over all ranks
        std::vector<torch::Tensor> vals;
        for (auto& kv : sums) vals.push_back(kv.second.detach().reshape({}).to(torch::kFloat64));
        auto all = torch::stack(vals);
        dist->sum(all);
        all.div_(double(world));
        for (size_t i = 0; i < sums.size(); ++i) sums[i].second = all[int64_t(i)];
      }
      const double comm_share = dist && dt > 0 ? (dist->comm_seconds() - comm_at_interval) / dt : 0;
      if (dist) comm_at_interval = dist->comm_seconds();
      for (auto& [k, v] : sums) {
        double m = v.item<double>() / double(in_interval);
        row.values[k] = m;
        report.scalars.emplace_back(k, m);
      }
      if (auto bad = TrainingMonitor::non_finite(row)) {  // backstop: the per-step check catches it first
        diverged(*bad);
        continue;
      }
      const double elapsed = std::chrono::duration<double>(now - t0).count();
      if (csv_needs_header) {
        std::string h = "step,epoch";
        for (auto& [k, v] : sums) h += "," + k;
        csv->line(h + ",img_per_s,elapsed_s" + (dist ? ",comm_share" : "") +
                  (evaluator ? evaluator->csv_header() : ""));
        csv_needs_header = false;
      }
      std::string line = std::to_string(st.step) + "," + std::to_string(batch.epoch);
      nlohmann::json j{{"event", "log"}, {"step", st.step}, {"epoch", batch.epoch}};
      for (auto& [k, v] : row.values) j[k] = v;
      for (auto& [k, v] : report.scalars) line += "," + format_double(v);
      line += "," + format_double(img_per_s) + "," + format_double(elapsed) +
              (dist ? "," + format_double(comm_share) : "") + (evaluator ? evaluator->csv_cells() : "");
      j["img_per_s"] = img_per_s;
      j["elapsed_s"] = elapsed;
      if (dist) j["comm_share"] = comm_share;  // fraction of the interval spent in collectives (rank 0)
      if (csv) csv->line(line);
      event(j);
      if (tb) {  // log.tensorboard: the row's scalars, tagged by name
        for (auto& [k, v] : report.scalars) tb->scalar(k, st.step, v);
        tb->scalar("img_per_s", st.step, img_per_s);
        tb->push();
      }
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
    if (sample_every > 0 && st.step % sample_every == 0 && !last) {
      save_grid(step_name("step-", st.step, ".png"));
      refresh_report();  // log.report
    }
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
  sum.rank = rank;
  sum.world_size = world;
  sum.comm_seconds = dist ? dist->comm_seconds() : 0;
  sum.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  sum.img_per_s = sum.seconds > 0 ? double(sum.steps_done * batch_size * world) / sum.seconds : 0;
  for (auto& [k, v] : report.scalars) sum.last[k] = v;
  event({{"event", sum.interrupted ? "interrupted" : "finish"}, {"step", st.step}, {"seconds", sum.seconds}});
  refresh_report();  // log.report
  if (report_count > 0) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(3) << "report: " << (fs::path(dir) / "report.html").string() << " (written "
      << report_count << " times, " << report_seconds / double(report_count) << " s each on average)";
    info(o.str());
  }
  return sum;
}

}  // namespace duel
