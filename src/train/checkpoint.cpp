// Checkpoint read/write; see the header for the file layout.
#include "duel/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize/output-archive.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/models/model.h"

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

torch::Tensor get_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void Checkpoint::write(const std::string& path, GanModel& model, const Config& cfg, const TrainState& st) {
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
  root.write("fixed_noise", st.fixed_noise.to(torch::kCPU));
  if (st.fixed_labels.defined()) root.write("fixed_labels", st.fixed_labels.to(torch::kCPU));
  root.write("rng_state", st.rng_state);
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
  write_file_atomic(path, file);
}

Checkpoint Checkpoint::read(const std::string& path, torch::Device device) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open checkpoint '" + path + "'", "check the path; run folders keep them in checkpoints/");
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.size() < kHeader || std::memcmp(data.data(), kMagic, 8) != 0)
    throw Error("'" + path + "' is not a duel checkpoint (bad magic or too short)", "pass a .duel file written by duel train");
  Checkpoint c;
  c.path_ = path;
  c.format_ = uint32_t(get_le(data.data() + 8, 4));
  if (c.format_ != kCheckpointFormat)
    throw Error("checkpoint '" + path + "' has format version " + std::to_string(c.format_) + ", this duel reads " +
                    std::to_string(kCheckpointFormat),
                "use the duel version that wrote it");
  uint32_t want_crc = uint32_t(get_le(data.data() + 12, 4));
  uint64_t len = get_le(data.data() + 16, 8);
  if (len != data.size() - kHeader)
    throw Error("checkpoint '" + path + "' is truncated or padded (" + std::to_string(data.size() - kHeader) +
                    " payload bytes, header says " + std::to_string(len) + ")",
                "use an earlier checkpoint of the run");
  if (crc(data, kHeader) != want_crc)
    throw Error("checkpoint '" + path + "' is corrupt (checksum mismatch)", "use an earlier checkpoint of the run");
  c.archive_ = std::make_shared<torch::serialize::InputArchive>();
  try {
    c.archive_->load_from(data.data() + kHeader, len, device);
  } catch (const c10::Error& e) {
    throw Error("checkpoint '" + path + "' has an unreadable archive", "use an earlier checkpoint of the run");
  }
  auto& a = *c.archive_;
  c.model_name_ = read_value(a, "model", path).toStringRef();
  c.config_toml_ = read_value(a, "config", path).toStringRef();
  c.state_.step = read_value(a, "step", path).toInt();
  c.state_.loader.epoch = read_value(a, "loader_epoch", path).toInt();
  c.state_.loader.batch = read_value(a, "loader_batch", path).toInt();
  c.state_.shape.channels = read_value(a, "shape_channels", path).toInt();
  c.state_.shape.size = read_value(a, "shape_size", path).toInt();
  c.state_.shape.num_classes = read_value(a, "shape_classes", path).toInt();
  if (!a.try_read("fixed_noise", c.state_.fixed_noise) || !a.try_read("rng_state", c.state_.rng_state))
    throw Error("checkpoint '" + path + "' lacks its sampling noise or RNG state", "the file is damaged");
  torch::Tensor labels;
  if (a.try_read("fixed_labels", labels)) c.state_.fixed_labels = labels;
  return c;
}

void Checkpoint::restore(GanModel& model, bool optimizers) const {
  auto& a = *archive_;
  try {
    for (auto& [name, net] : model.nets()) {
      torch::serialize::InputArchive sub;
      if (!a.try_read("net." + name, sub))
        throw Error("checkpoint '" + path_ + "' has no net '" + name + "' for model " + model.name(),
                    "the checkpoint was written by another model");
      net->load(sub);
    }
    if (optimizers) {
      for (auto& [name, opt] : model.optimizers()) {
        torch::serialize::InputArchive sub;
        if (!a.try_read("optim." + name, sub))
          throw Error("checkpoint '" + path_ + "' has no optimizer state '" + name + "'", "the file is damaged");
        opt->load(sub);
      }
    }
    std::map<std::string, torch::Tensor> extra;
    torch::serialize::InputArchive sub;
    if (a.try_read("extra", sub)) {
      std::istringstream names(read_value(a, "extra_names", path_).toStringRef());
      std::string k;
      while (std::getline(names, k)) {
        torch::Tensor t;
        sub.read(k, t);
        extra[k] = t;
      }
    }
    model.load_extra_state(extra);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw Error("checkpoint '" + path_ + "' does not fit model '" + model.name() + "': " + what.substr(0, 300),
                "the model options (size, width, latent_dim) must match the run that wrote it");
  }
}

}  // namespace duel
