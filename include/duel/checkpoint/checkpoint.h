// Checkpoints: one versioned, checksummed file per save holding the resolved
// config, the step, every net, every optimizer's state, the model's extra
// state, the RNG state, the loader position and the fixed sampling noise.
//
// File layout (little-endian):
//   "DUELCKPT" | u32 format version | u32 CRC-32 of payload | u64 payload bytes | payload
// where the payload is a LibTorch serialize archive. Files are written to a
// temporary name, fsynced and renamed, so a kill never leaves half a file
// under the final name.
#pragma once
#include <torch/serialize/input-archive.h>

#include <map>
#include <memory>
#include <string>

#include "duel/data/batch.h"
#include "duel/models/model.h"

namespace duel {

class Config;
class GanModel;

constexpr uint32_t kCheckpointFormat = 1;

struct TrainState {
  int64_t step = 0;  // generator updates done
  LoaderPosition loader;
  torch::Tensor fixed_noise;   // [grid, latent]
  torch::Tensor fixed_labels;  // [grid] or undefined
  torch::Tensor fixed_text;    // int64 [grid, L] token ids (text-conditioned models) or undefined
  torch::Tensor rng_state;     // CPU generator state
  // Distributed runs: every rank's CPU generator state, uint8 [world, bytes]
  // (row r is rank r's); undefined for a single process.
  torch::Tensor rank_rng_states;
  DataShape shape;             // what the nets were built for
  int64_t rollbacks = 0;       // divergence rollbacks so far (train.nan_rollbacks)
  double lr_scale = 1.0;       // factor on every base learning rate (halved per rollback)
};

class Checkpoint {
 public:
  // Reads and verifies a checkpoint (magic, version, size, checksum, archive).
  static Checkpoint read(const std::string& path, torch::Device device = torch::kCPU);
  static void write(const std::string& path, GanModel& model, const Config& cfg, const TrainState& state);
  // The same in memory: the file's bytes, and a checkpoint from bytes (origin
  // names them in errors). Every malformed input throws duel::Error.
  static std::string encode(GanModel& model, const Config& cfg, const TrainState& state);
  static Checkpoint decode(const std::string& bytes, const std::string& origin, torch::Device device = torch::kCPU);

  const std::string& path() const { return path_; }
  uint32_t format() const { return format_; }
  const std::string& config_toml() const { return config_toml_; }
  const std::string& model_name() const { return model_name_; }
  const TrainState& state() const { return state_; }
  // Loads nets (and, when asked, optimizer state and extra state) into model.
  void restore(GanModel& model, bool optimizers) const;
  // The model's extra state as saved (GanModel::extra_state()).
  std::map<std::string, torch::Tensor> extra_state() const;
  // The files the model was built from, embedded in the checkpoint
  // (duel/models/model_files.h): path -> bytes. Build the model inside a
  // ScopedModelFiles of these.
  std::map<std::string, std::string> model_files() const;

 private:
  std::string path_;
  uint32_t format_ = 0;
  std::string config_toml_, model_name_;
  TrainState state_;
  std::shared_ptr<torch::serialize::InputArchive> archive_;
};

// CRC-32 over the bytes of every parameter and buffer of a net, in order:
// equal digests mean bit-identical weights (checkpoint files themselves hold
// optimizer keys that differ between processes, so compare these instead).
uint32_t weights_digest(torch::nn::Module& net);

}  // namespace duel
