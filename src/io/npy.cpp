// NPY v1.0 writer and reader; see npy.h for the layout.
#include "duel/io/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

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

namespace {

// The value of key `key` in a .npy header dict ("'descr': '<f4'" -> "<f4").
std::string header_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::regex re("'" + key + "'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))");
  std::smatch m;
  require(std::regex_search(header, m, re), "'" + path + "' is not a valid .npy file: its header has no '" + key + "'",
          "write it with numpy.save or duel");
  std::string v = m[1].str();
  if (v.front() == '\'') v = v.substr(1, v.size() - 2);
  return v;
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& path) {
  std::vector<int64_t> shape;
  std::string num;
  for (char c : text.substr(1, text.size() - 2) + ",") {
    if (c >= '0' && c <= '9') {
      num.push_back(c);
    } else if (c == ',') {
      if (!num.empty()) shape.push_back(std::stoll(num));
      num.clear();
    } else if (c != ' ' && c != 'L') {
      throw Error("'" + path + "' has a malformed .npy shape " + text, "write it with numpy.save or duel");
    }
  }
  return shape;
}

}  // namespace

torch::Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(bool(in), "cannot open '" + path + "'", "check the path of the .npy file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(bytes.size() >= 10 && bytes.compare(0, 6, "\x93NUMPY") == 0,
          "'" + path + "' is not an .npy file (no \\x93NUMPY magic)", "write it with numpy.save or duel");
  const int major = uint8_t(bytes[6]);
  require(major >= 1 && major <= 3, "'" + path + "' is .npy version " + std::to_string(major) + ", not 1-3",
          "save it with numpy.save");
  size_t len = 0, at = 0;
  if (major == 1) {
    len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    at = 10;
  } else {
    require(bytes.size() >= 12, "'" + path + "' is a truncated .npy file", "write it again");
    for (int i = 0; i < 4; ++i) len |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    at = 12;
  }
  require(bytes.size() >= at + len, "'" + path + "' is a truncated .npy file (header)", "write it again");
  const std::string header = bytes.substr(at, len);
  at += len;
  const std::string descr = header_value(header, "descr", path);
  require(header_value(header, "fortran_order", path) == "False",
          "'" + path + "' is stored in Fortran order", "save a C-ordered array (numpy.ascontiguousarray)");
  const auto shape = parse_shape(header_value(header, "shape", path), path);
  torch::ScalarType type;
  if (descr == "<f4") type = torch::kFloat32;
  else if (descr == "<f8") type = torch::kFloat64;
  else if (descr == "<i8") type = torch::kInt64;
  else
    throw Error("'" + path + "' holds dtype '" + descr + "'; duel reads float32, float64 and int64 (little-endian)",
                "convert it with array.astype(numpy.float32)");
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  const size_t need = size_t(numel) * torch::elementSize(type);
  require(bytes.size() - at == need,
          "'" + path + "' holds " + std::to_string(bytes.size() - at) + " data bytes; its shape needs " +
              std::to_string(need),
          "write the file again");
  auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (need) std::memcpy(t.data_ptr(), bytes.data() + at, need);
  return type == torch::kFloat64 ? t.to(torch::kFloat32) : t;
}

}  // namespace duel
