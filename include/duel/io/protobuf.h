// Protobuf wire format, encoding only: the few primitives duel's hand-written
// serializers (TensorBoard events, ONNX models) build their messages from.
//
// A message is a string of fields; each field is a key varint
// (field number << 3 | wire type) followed by its payload:
//   varint            int32/int64/uint64/bool/enum (a negative int64 is the
//                     10-byte varint of its two's complement)
//   fixed64 / fixed32 little-endian double / float
//   length-delimited  varint length + bytes (strings, bytes, sub-messages)
// Repeated scalars are written one field per element (proto2's unpacked
// form, which every parser accepts).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace duel::protobuf {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}
inline void put_key(std::string& out, uint32_t field, WireType type) {
  put_varint(out, (uint64_t(field) << 3) | type);
}
inline void put_fixed(std::string& out, uint64_t bits, int bytes) {  // little endian
  for (int i = 0; i < bytes; ++i) out.push_back(char((bits >> (8 * i)) & 0xFF));
}
inline void put_double(std::string& out, uint32_t field, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  put_key(out, field, kFixed64);
  put_fixed(out, bits, 8);
}
inline void put_float(std::string& out, uint32_t field, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_key(out, field, kFixed32);
  put_fixed(out, bits, 4);
}
// int32/int64/enum/bool: negative values sign-extended to 64 bits.
inline void put_int(std::string& out, uint32_t field, int64_t v) {
  put_key(out, field, kVarint);
  put_varint(out, uint64_t(v));
}
// string, bytes and sub-messages.
inline void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

}  // namespace duel::protobuf
