// Checkpoint read/write; see the header for the file layout.
#include "duel/checkpoint/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/output-archive.h>
#include <zlib.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/Parallel.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/core/rng.h"
#include "duel/data/text.h"
#include "duel/models/model.h"
#include "duel/models/model_files.h"

namespace duel {
namespace {

constexpr char kMagic[8] = {'D', 'U', 'E', 'L', 'C', 'K', 'P', 'T'};
constexpr size_t kHeader = 8 + 4 + 4 + 8;

void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}
uint64_t get_le(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

uint32_t crc(const std::string& data, size_t off) {
  uLong c = crc32(0L, Z_NULL, 0);
  size_t pos = off;
  while (pos < data.size()) {
    uInt chunk = uInt(std::min<size_t>(data.size() - pos, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(data.data() + pos), chunk);
    pos += chunk;
  }
  return uint32_t(c);
}

c10::IValue read_value(torch::serialize::InputArchive& a, const std::string& key, const std::string& path) {
  c10::IValue v;
  if (!a.try_read(key, v))
    throw Error("checkpoint '" + path + "' lacks '" + key + "'", "the file was not written by this version of duel");
  return v;
}

constexpr int64_t kMaxCount = int64_t(1) << 50;

int64_t read_int(torch::serialize::InputArchive& a, const std::string& key, const std::string& path, int64_t lo,
                 int64_t hi) {
  c10::IValue v = read_value(a, key, path);
  if (!v.isInt() || v.toInt() < lo || v.toInt() > hi)
    throw Error("checkpoint '" + path + "' has an invalid '" + key + "'", "the file is damaged");
  return v.toInt();
}

std::string read_string(torch::serialize::InputArchive& a, const std::string& key, const std::string& path) {
  c10::IValue v = read_value(a, key, path);
  if (!v.isString())
    throw Error("checkpoint '" + path + "' has an invalid '" + key + "'", "the file is damaged");
  return v.toStringRef();
}

// Magic, version and length against the real size (the payload may be absent when only the header was read).
void check_header(const std::string& data, uint64_t file_size, const std::string& path) {
  if (data.size() < kHeader || std::memcmp(data.data(), kMagic, 8) != 0)
    throw Error("'" + path + "' is not a duel checkpoint (bad magic or too short)", "pass a .duel file written by duel train");
  const uint32_t format = uint32_t(get_le(data.data() + 8, 4));
  if (format != kCheckpointFormat)
    throw Error("checkpoint '" + path + "' has format version " + std::to_string(format) + ", this duel reads " +
                    std::to_string(kCheckpointFormat),
                "use the duel version that wrote it");
  const uint64_t len = get_le(data.data() + 16, 8);
  if (len != file_size - kHeader)
    throw Error("checkpoint '" + path + "' is truncated or padded (" + std::to_string(file_size - kHeader) +
                    " payload bytes, header says " + std::to_string(len) + ")",
                "use an earlier checkpoint of the run");
}

// LibTorch's archive reader (a zip of pickles and TorchScript source) is not
// hardened against crafted input: the fuzzer found files with a valid
// checksum whose TorchScript source crashes it (docs/reliability.md). So a
// payload is parsed first in a forked child, on the CPU, with its output
// silenced; only if the child parses it cleanly does this process parse it.
// A child that fails, crashes or takes longer than the limit condemns the file.
void probe_archive(const std::string& data, const std::string& path) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) return;  // no process to spare: parse in-process, as before the probe existed
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, 1), ::dup2(null_fd, 2);
    at::set_num_threads(1);  // the parent's thread pool does not exist in this child
    try {
      torch::serialize::InputArchive probe;
      probe.load_from(data.data() + kHeader, data.size() - kHeader, torch::kCPU);
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  // Generous: a healthy child needs about as long as the parse itself.
  const double limit_s = 60.0 + double(data.size()) / 20e6;
  int status = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return;  // the child is not ours to wait for (SIGCHLD ignored): parse in-process
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > limit_s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw Error("checkpoint '" + path + "' has an archive that LibTorch's reader does not finish reading",
                  "the file is malformed; use an earlier checkpoint of the run");
    }
    ::usleep(1000);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  throw Error("checkpoint '" + path + "' has an unreadable archive" +
                  (WIFSIGNALED(status) ? std::string(" (it crashes LibTorch's reader)") : std::string()),
              "the file is malformed; use an earlier checkpoint of the run");
}

}  // namespace

uint32_t weights_digest(torch::nn::Module& net) {
  uLong c = crc32(0L, Z_NULL, 0);
  auto add = [&](const torch::Tensor& t) {
    auto x = t.detach().to(torch::kCPU).contiguous();
    c = crc32(c, static_cast<const Bytef*>(x.data_ptr()), uInt(x.numel() * x.element_size()));
  };
  for (auto& p : net.parameters()) add(p);
  for (auto& b : net.buffers()) add(b);
  return uint32_t(c);
}

std::string Checkpoint::encode(GanModel& model, const Config& cfg, const TrainState& st) {
  torch::serialize::OutputArchive root;
  root.write("format", c10::IValue(int64_t(kCheckpointFormat)));
  root.write("model", c10::IValue(model.name()));
  root.write("config", c10::IValue(cfg.to_toml()));
  root.write("step", c10::IValue(st.step));
  root.write("loader_epoch", c10::IValue(st.loader.epoch));
  root.write("loader_batch", c10::IValue(st.loader.batch));
  root.write("shape_channels", c10::IValue(st.shape.channels));
  root.write("shape_size", c10::IValue(st.shape.size));
  root.write("shape_classes", c10::IValue(st.shape.num_classes));
  root.write("shape_target_channels", c10::IValue(st.shape.target_channels));
  root.write("shape_paired", c10::IValue(int64_t(st.shape.paired)));
  if (st.shape.text_length > 0) {
    std::string vocab;
    for (auto& w : st.shape.vocabulary) vocab += w + "\n";
    root.write("shape_vocabulary", c10::IValue(vocab));
    root.write("shape_text_length", c10::IValue(st.shape.text_length));
  }
  root.write("rollbacks", c10::IValue(st.rollbacks));
  root.write("lr_scale", c10::IValue(st.lr_scale));
  root.write("fixed_noise", st.fixed_noise.to(torch::kCPU));
  if (st.fixed_labels.defined()) root.write("fixed_labels", st.fixed_labels.to(torch::kCPU));
  if (st.fixed_text.defined()) root.write("fixed_text", st.fixed_text.to(torch::kCPU));
  root.write("rng_state", st.rng_state);
  if (st.rank_rng_states.defined()) root.write("rank_rng_states", st.rank_rng_states.to(torch::kCPU));
  for (auto& [name, net] : model.nets()) {
    torch::serialize::OutputArchive a;
    net->save(a);
    root.write("net." + name, a);
  }
  for (auto& [name, opt] : model.optimizers()) {
    torch::serialize::OutputArchive a;
    opt->save(a);
    root.write("optim." + name, a);
  }
  torch::serialize::OutputArchive extra;
  std::string extra_names;
  for (auto& [k, t] : model.extra_state()) {
    extra.write(k, t.to(torch::kCPU));
    extra_names += k + "\n";
  }
  root.write("extra_names", c10::IValue(extra_names));
  root.write("extra", extra);

  std::ostringstream payload_stream;
  root.save_to(payload_stream);
  std::string payload = payload_stream.str();
  std::string file;
  file.reserve(kHeader + payload.size());
  file.append(kMagic, 8);
  put_u32(file, kCheckpointFormat);
  put_u32(file, crc(payload, 0));
  put_u64(file, payload.size());
  file += payload;
  return file;
}

namespace {
const bool checkpoint_debug_keys_registered = [] {
  register_key({"debug.checkpoint_write_sleep_ms", ConfigType::Int, int64_t(0),
                "testing aid: every checkpoint write stops this long with half of its temporary file written, "
                "before the rename (0: never); lets a test kill -9 inside the write",
                0, 3.6e6, {}});
  return true;
}();
}  // namespace

void Checkpoint::write(const std::string& path, GanModel& model, const Config& cfg, const TrainState& st) {
  const std::string bytes = encode(model, cfg, st);
  if (const int64_t pause_ms = cfg.get_int("debug.checkpoint_write_sleep_ms"); pause_ms > 0) {
    // Testing aid (tests/cli/kill9_loop.sh): half of the file under the temporary name
    // write_file_atomic uses, then a pause; write_file_atomic then truncates and rewrites it.
    {
      std::ofstream f(atomic_temp_path(path), std::ios::binary | std::ios::trunc);
      f.write(bytes.data(), std::streamsize(bytes.size() / 2));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  write_file_atomic(path, bytes);
}

Checkpoint Checkpoint::read(const std::string& path, torch::Device device) {
  // The header is checked against the file's size before the payload is read,
  // so a large file that is not a checkpoint is refused without loading it.
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open checkpoint '" + path + "'", "check the path; run folders keep them in checkpoints/");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  f.seekg(0, std::ios::beg);
  if (size < std::streamoff(kHeader))
    throw Error("'" + path + "' is not a duel checkpoint (bad magic or too short)", "pass a .duel file written by duel train");
  std::string data(kHeader, '\0');
  f.read(data.data(), std::streamsize(kHeader));
  check_header(data, uint64_t(size), path);
  data.resize(size_t(size));
  f.read(data.data() + kHeader, std::streamsize(size - std::streamoff(kHeader)));
  if (!f) throw Error("cannot read checkpoint '" + path + "'", "the file changed while it was read, or the disk failed");
  return decode(data, path, device);
}

Checkpoint Checkpoint::decode(const std::string& data, const std::string& path, torch::Device device) {
  check_header(data, data.size(), path);
  const uint32_t want_crc = uint32_t(get_le(data.data() + 12, 4));
  const uint64_t len = get_le(data.data() + 16, 8);
  if (crc(data, kHeader) != want_crc)
    throw Error("checkpoint '" + path + "' is corrupt (checksum mismatch)", "use an earlier checkpoint of the run");
  Checkpoint c;
  c.path_ = path;
  c.format_ = kCheckpointFormat;
  probe_archive(data, path);
  c.archive_ = std::make_shared<torch::serialize::InputArchive>();
  try {
    c.archive_->load_from(data.data() + kHeader, len, device);
  } catch (const std::exception& e) {  // c10::Error, or TorchScript's ErrorReport for a damaged module record
    throw Error("checkpoint '" + path + "' has an unreadable archive", "use an earlier checkpoint of the run");
  }
  // A file with a good checksum may still be hostile: every value is checked
  // for its type and range here, so later code can trust the state.
  try {
    auto& a = *c.archive_;
    c.model_name_ = read_string(a, "model", path);
    c.config_toml_ = read_string(a, "config", path);
    auto& st = c.state_;
    st.step = read_int(a, "step", path, 0, kMaxCount);
    st.loader.epoch = read_int(a, "loader_epoch", path, 0, kMaxCount);
    st.loader.batch = read_int(a, "loader_batch", path, 0, kMaxCount);
    st.shape.channels = read_int(a, "shape_channels", path, 1, 4);
    st.shape.size = read_int(a, "shape_size", path, 1, 4096);
    st.shape.num_classes = read_int(a, "shape_classes", path, 0, 1000000);
    c10::IValue v;
    // Written since image-to-image models exist; older files have no B images.
    if (a.try_read("shape_target_channels", v)) {
      st.shape.target_channels = read_int(a, "shape_target_channels", path, 0, 4);
      st.shape.paired = read_int(a, "shape_paired", path, 0, 1) == 1;
    }
    // Written for captioned data only.
    if (a.try_read("shape_text_length", v)) {
      st.shape.text_length = read_int(a, "shape_text_length", path, 1, 256);
      std::istringstream words(read_string(a, "shape_vocabulary", path));
      std::vector<std::string> vocab;
      for (std::string w; std::getline(words, w);) vocab.push_back(w);
      try {
        st.shape.vocabulary = Vocabulary::from_words(vocab).words();
      } catch (const Error& e) {
        throw Error("checkpoint '" + path + "' has a malformed vocabulary: " + e.what(), "the file is damaged");
      }
    }
    // Written since rollbacks exist; older files have neither.
    if (a.try_read("rollbacks", v)) st.rollbacks = read_int(a, "rollbacks", path, 0, kMaxCount);
    if (a.try_read("lr_scale", v)) {
      if (!v.isDouble() || !(v.toDouble() > 0.0 && v.toDouble() <= 1.0))
        throw Error("checkpoint '" + path + "' has an invalid 'lr_scale'", "the file is damaged");
      st.lr_scale = v.toDouble();
    }
    if (!a.try_read("fixed_noise", st.fixed_noise) || !a.try_read("rng_state", st.rng_state))
      throw Error("checkpoint '" + path + "' lacks its sampling noise or RNG state", "the file is damaged");
    const auto& noise = st.fixed_noise;
    if (!noise.is_floating_point() || noise.dim() < 2 || noise.size(0) < 1 || noise.size(0) > 4096 ||
        !torch::isfinite(noise).all().item<bool>())
      throw Error("checkpoint '" + path + "' has malformed sampling noise", "the file is damaged");
    const int64_t rng_bytes = get_rng_state().numel();
    if (st.rng_state.scalar_type() != torch::kUInt8 || st.rng_state.dim() != 1 || st.rng_state.numel() != rng_bytes)
      throw Error("checkpoint '" + path + "' has a malformed RNG state", "the file is damaged");
    torch::Tensor ranks;
    if (a.try_read("rank_rng_states", ranks)) {
      if (ranks.scalar_type() != torch::kUInt8 || ranks.dim() != 2 || ranks.size(0) < 1 || ranks.size(1) != rng_bytes)
        throw Error("checkpoint '" + path + "' has malformed per-rank RNG states", "the file is damaged");
      st.rank_rng_states = ranks;
    }
    torch::Tensor labels;
    if (a.try_read("fixed_labels", labels)) {
      if (labels.scalar_type() != torch::kInt64 || labels.dim() != 1 || labels.size(0) != noise.size(0) ||
          (labels.numel() > 0 && (labels.min().item<int64_t>() < 0 ||
                                  labels.max().item<int64_t>() >= std::max<int64_t>(st.shape.num_classes, 1))))
        throw Error("checkpoint '" + path + "' has malformed sampling labels", "the file is damaged");
      st.fixed_labels = labels;
    }
    torch::Tensor text;
    if (a.try_read("fixed_text", text)) {
      const int64_t vocab = int64_t(st.shape.vocabulary.size());
      if (text.scalar_type() != torch::kInt64 || text.dim() != 2 || text.size(0) != noise.size(0) ||
          text.size(1) != st.shape.text_length ||
          (text.numel() > 0 && (text.min().item<int64_t>() < 0 || text.max().item<int64_t>() >= vocab)))
        throw Error("checkpoint '" + path + "' has malformed sampling text", "the file is damaged");
      st.fixed_text = text;
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("checkpoint '" + path + "' has an unreadable archive", "use an earlier checkpoint of the run");
  }
  return c;
}

namespace {

std::string shape_text(c10::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Checks, before anything is loaded, that the archive holds every parameter
// and buffer of `net` with the net's own shape and type (LibTorch's loader
// would otherwise swap in whatever shape the file holds). Mirrors Module::load.
void check_fits(torch::nn::Module& net, torch::serialize::InputArchive& archive, const std::string& prefix,
                const std::string& path) {
  auto check = [&](const std::string& key, const torch::Tensor& want, bool buffer) {
    if (!want.defined()) return;  // an absent optional parameter (a conv without bias)
    torch::Tensor got;
    if (!archive.try_read(key, got, buffer))
      throw Error("checkpoint '" + path + "' lacks " + prefix + key, "the checkpoint was written by another model");
    if (!got.defined() || got.sizes() != want.sizes() || got.scalar_type() != want.scalar_type())
      throw Error("checkpoint '" + path + "' holds " + prefix + key + " as " +
                      (got.defined() ? shape_text(got.sizes()) + " " + std::string(c10::toString(got.scalar_type()))
                                     : std::string("nothing")) +
                      " but the model has " + shape_text(want.sizes()) + " " + c10::toString(want.scalar_type()),
                  "the model options (size, width, latent_dim) must match the run that wrote it");
  };
  for (auto& p : net.named_parameters(/*recurse=*/false)) check(p.key(), p.value(), false);
  for (auto& b : net.named_buffers(/*recurse=*/false)) check(b.key(), b.value(), true);
  for (auto& child : net.named_children()) {
    if (!child.value()->is_serializable()) continue;
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub))
      throw Error("checkpoint '" + path + "' lacks " + prefix + child.key(), "the checkpoint was written by another model");
    check_fits(*child.value(), sub, prefix + child.key() + ".", path);
  }
}

// Every optimizer state tensor must have its parameter's shape, or the next
// step would fail deep inside LibTorch.
void check_optimizer_state(torch::optim::Optimizer& opt, const std::string& name, const std::string& path) {
  auto& state = opt.state();
  for (auto& group : opt.param_groups())
    for (auto& p : group.params()) {
      auto it = state.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it == state.end()) continue;
      std::vector<torch::Tensor> ts;
      if (auto* s = dynamic_cast<torch::optim::AdamParamState*>(it->second.get()))
        ts = {s->exp_avg(), s->exp_avg_sq(), s->max_exp_avg_sq()};
      else if (auto* s = dynamic_cast<torch::optim::AdamWParamState*>(it->second.get()))
        ts = {s->exp_avg(), s->exp_avg_sq(), s->max_exp_avg_sq()};
      else if (auto* s = dynamic_cast<torch::optim::RMSpropParamState*>(it->second.get()))
        ts = {s->square_avg(), s->momentum_buffer(), s->grad_avg()};
      else if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(it->second.get()))
        ts = {s->momentum_buffer()};
      for (auto& t : ts)
        if (t.defined() && (t.sizes() != p.sizes() || t.scalar_type() != p.scalar_type()))
          throw Error("checkpoint '" + path + "' holds optimizer state for '" + name + "' of shape " +
                          shape_text(t.sizes()) + " for a parameter of shape " + shape_text(p.sizes()),
                      "the file is damaged or was written by another model");
    }
}

}  // namespace

void Checkpoint::restore(GanModel& model, bool optimizers) const {
  auto& a = *archive_;
  try {
    for (auto& [name, net] : model.nets()) {
      torch::serialize::InputArchive sub;
      if (!a.try_read("net." + name, sub))
        throw Error("checkpoint '" + path_ + "' has no net '" + name + "' for model " + model.name(),
                    "the checkpoint was written by another model");
      check_fits(*net, sub, name + ".", path_);
      net->load(sub);
      for (auto& p : net->parameters())
        if (!torch::isfinite(p).all().item<bool>())
          throw Error("checkpoint '" + path_ + "' holds non-finite weights in net " + name, "the file is damaged");
    }
    if (optimizers) {
      for (auto& [name, opt] : model.optimizers()) {
        torch::serialize::InputArchive sub;
        if (!a.try_read("optim." + name, sub))
          throw Error("checkpoint '" + path_ + "' has no optimizer state '" + name + "'", "the file is damaged");
        opt->load(sub);
        check_optimizer_state(*opt, name, path_);
      }
    }
    model.load_extra_state(extra_state());
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw Error("checkpoint '" + path_ + "' does not fit model '" + model.name() + "': " + what.substr(0, 300),
                "the model options (size, width, latent_dim) must match the run that wrote it");
  } catch (const std::exception& e) {
    throw Error("checkpoint '" + path_ + "' has an unreadable archive", "the file is damaged");
  }
}

std::map<std::string, torch::Tensor> Checkpoint::extra_state() const {
  auto& a = *archive_;
  std::map<std::string, torch::Tensor> extra;
  torch::serialize::InputArchive sub;
  if (!a.try_read("extra", sub)) return extra;
  try {
    std::istringstream names(read_string(a, "extra_names", path_));
    std::string k;
    while (std::getline(names, k)) {
      torch::Tensor t;
      sub.read(k, t);
      extra[k] = t;
    }
  } catch (const c10::Error& e) {
    throw Error("checkpoint '" + path_ + "' has unreadable extra state", "the file is damaged");
  }
  return extra;
}

std::map<std::string, std::string> Checkpoint::model_files() const { return embedded_model_files(extra_state()); }

}  // namespace duel
