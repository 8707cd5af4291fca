// Files a model is built from (the scripted model's TorchScript networks).
//
// Such a model returns each file's bytes from extra_state() as a uint8
// tensor under "file:<path as the config names it>", so every checkpoint
// carries them. Whoever builds a model from a checkpoint (inference, a
// resume) provides them again through a ScopedModelFiles, and the model reads
// its files through read_model_file(): a checkpoint keeps working when the
// original file has moved, been deleted or changed since the run started.
#pragma once
#include <torch/types.h>

#include <map>
#include <string>

namespace duel {

// The extra_state() key prefix of an embedded file.
inline const std::string kModelFilePrefix = "file:";

// The bytes of `path`: the embedded copy when a live ScopedModelFiles holds
// one, else the file on disk. Throws duel::Error naming `key` (the config key
// that named the file) and the path when neither exists or the file cannot be read.
std::string read_model_file(const std::string& path, const std::string& key);

// Bytes <-> uint8 [n] tensor, for extra_state().
torch::Tensor bytes_to_tensor(const std::string& bytes);
std::string tensor_to_bytes(const torch::Tensor& t);

// The files a model's extra state embeds (keys without the prefix).
std::map<std::string, std::string> embedded_model_files(const std::map<std::string, torch::Tensor>& extra);

// Makes `files` (path -> bytes) visible to read_model_file() on this thread
// for its lifetime, and restores the previous set when it ends.
class ScopedModelFiles {
 public:
  explicit ScopedModelFiles(std::map<std::string, std::string> files);
  ~ScopedModelFiles();
  ScopedModelFiles(const ScopedModelFiles&) = delete;
  ScopedModelFiles& operator=(const ScopedModelFiles&) = delete;

 private:
  std::map<std::string, std::string> saved_;
};

}  // namespace duel
