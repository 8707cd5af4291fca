// Files a model is built from, embedded in its checkpoints (include/duel/models/model_files.h).
#include "duel/models/model_files.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "duel/core/error.h"

namespace duel {
namespace {
std::map<std::string, std::string>& current_files() {
  thread_local std::map<std::string, std::string> files;
  return files;
}
}  // namespace

std::string read_model_file(const std::string& path, const std::string& key) {
  require(!path.empty(), key + " is not set", "set " + key + " to the file to load");
  if (auto it = current_files().find(path); it != current_files().end()) return it->second;
  std::ifstream in(path, std::ios::binary);
  require(bool(in), "cannot open " + key + " '" + path + "': it does not exist or is not readable",
          "check the path (relative paths start from the current folder)");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  require(!in.bad(), "cannot read " + key + " '" + path + "'", "check the file and its permissions");
  return bytes.str();
}

torch::Tensor bytes_to_tensor(const std::string& bytes) {
  auto t = torch::empty({int64_t(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
}

std::string tensor_to_bytes(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU).to(torch::kUInt8).contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), size_t(c.numel()));
}

std::map<std::string, std::string> embedded_model_files(const std::map<std::string, torch::Tensor>& extra) {
  std::map<std::string, std::string> out;
  for (const auto& [k, t] : extra)
    if (k.rfind(kModelFilePrefix, 0) == 0) out[k.substr(kModelFilePrefix.size())] = tensor_to_bytes(t);
  return out;
}

ScopedModelFiles::ScopedModelFiles(std::map<std::string, std::string> files) : saved_(std::move(current_files())) {
  current_files() = std::move(files);
}

ScopedModelFiles::~ScopedModelFiles() { current_files() = std::move(saved_); }

}  // namespace duel
