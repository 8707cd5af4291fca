// A strict reader for the pickles datasets ship in (CIFAR-10's python
// version: dicts of byte strings, lists of ints and NumPy arrays, written by
// Python 2 or 3 with protocols 2-4). It never executes anything: it knows the
// opcodes those files use and three callables by name (NumPy's array
// reconstruction and dtype, and the bytes codec of protocol 2), and treats
// anything else as an error naming the file, the opcode or the name and its
// offset. Sizes are checked against the bytes present before anything is
// allocated, so a hostile file cannot ask for more memory than it holds.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace duel {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { None, Bool, Int, Float, Bytes, Str, List, Tuple, Dict, Array, Callable, Object };
  Kind kind = Kind::None;
  int64_t i = 0;   // Bool, Int
  double f = 0;    // Float
  std::string s;   // Bytes, Str; Callable: "module.name"; Object: what it is ("ndarray", "dtype")
  std::vector<PickleRef> items;  // List, Tuple; Dict: key0, value0, key1, value1, ...
  // Array (a NumPy ndarray): dtype as NumPy writes it ("|u1", "<i8", "<f4"), shape, C-order bytes.
  std::string dtype;
  std::vector<int64_t> shape;
  std::string data;
  // Reader bookkeeping: nesting depth, and whether the value sits inside a
  // container (then it can no longer change, so no value can contain itself).
  int depth = 0;
  bool contained = false;
};

// Parses a whole pickle. duel::Error naming `origin` on anything unexpected.
PickleRef parse_pickle(const std::vector<uint8_t>& bytes, const std::string& origin);

// The value of `key` in a Dict (keys matched as bytes or str), or nullptr.
const PickleValue* pickle_get(const PickleValue& dict, const std::string& key);

}  // namespace duel
