// NPY v1.0 writer; see npy.h for the layout.
#include "duel/io/npy.h"

#include <cstring>

#include "duel/core/error.h"
#include "duel/core/files.h"

namespace duel {

std::string npy_bytes(const torch::Tensor& t) {
  require(t.defined(), "cannot write an empty tensor as .npy", "this is a bug in the caller");
  static_assert(sizeof(float) == 4, "float32 expected");
  const uint16_t probe = 1;
  require(*reinterpret_cast<const uint8_t*>(&probe) == 1, "the .npy writer assumes a little-endian machine",
          "run duel on x86-64 or ARM64");
  const bool is_int = t.scalar_type() == torch::kInt64;  // labels stay int64 ('<i8')
  auto data = t.detach().to(torch::kCPU, is_int ? torch::kInt64 : torch::kFloat32).contiguous();
  std::string shape = "(";
  for (int64_t i = 0; i < data.dim(); ++i) shape += std::to_string(data.size(i)) + ", ";
  if (data.dim() > 1) shape.erase(shape.size() - 2);  // (N, D); a 1-D shape keeps its comma: (N,)
  else if (data.dim() == 1) shape.erase(shape.size() - 1);
  shape += ")";
  std::string header = std::string("{'descr': '") + (is_int ? "<i8" : "<f4") + "', 'fortran_order': False, 'shape': " +
                       shape + ", }";
  const size_t preamble = 6 + 2 + 2;  // magic, version, header length
  const size_t total = preamble + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(char(header.size() & 0xff));
  out.push_back(char((header.size() >> 8) & 0xff));
  out += header;
  const size_t bytes = size_t(data.numel()) * data.element_size();
  const size_t at = out.size();
  out.resize(at + bytes);
  if (bytes) std::memcpy(&out[at], data.data_ptr(), bytes);
  return out;
}

void write_npy(const std::string& path, const torch::Tensor& t) { write_file_atomic(path, npy_bytes(t)); }

}  // namespace duel
