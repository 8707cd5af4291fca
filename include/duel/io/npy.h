// NPY v1.0 output and input (numpy's own .npy format), so feature matrices can be
// opened with numpy.load for analysis outside duel:
//   "\x93NUMPY" | 0x01 0x00 | u16 LE header length | header | raw data
// where the header is a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }
// padded with spaces and ended by '\n' so the data starts on a 64-byte
// boundary. Data is little-endian float32 ('<f4') in C (row-major) order;
// int64 tensors (class labels) are written as int64 ('<i8').
#pragma once
#include <torch/types.h>

#include <string>

namespace duel {

// The bytes of an .npy file holding `t` as float32, or int64 when t is int64 (any number of dimensions).
std::string npy_bytes(const torch::Tensor& t);
// Writes npy_bytes(t) to path atomically.
void write_npy(const std::string& path, const torch::Tensor& t);

// Reads an .npy file (versions 1.0-3.0) of little-endian float32 ('<f4'),
// float64 ('<f8') or int64 ('<i8') in C order: a float32 or int64 tensor of
// its shape. Throws duel::Error naming the file for anything else (missing,
// not .npy, Fortran order, another dtype, a size that does not match).
torch::Tensor read_npy(const std::string& path);

}  // namespace duel
