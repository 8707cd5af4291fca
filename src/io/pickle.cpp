#include "duel/io/pickle.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "duel/core/error.h"

namespace duel {
namespace {

using Kind = PickleValue::Kind;
constexpr size_t kMaxStack = 1 << 20;
constexpr size_t kMaxMemo = 1 << 20;
constexpr int kMaxDepth = 64;

PickleRef make(Kind k) {
  auto v = std::make_shared<PickleValue>();
  v->kind = k;
  return v;
}

// The reader's state: the bytes, the position, the stack with its marks, the memo.
class Reader {
 public:
  Reader(const std::vector<uint8_t>& b, const std::string& origin) : b_(b), origin_(origin) {}
  PickleRef run();

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("'" + origin_ + "' is not a pickle duel can read: " + what + " at byte " + std::to_string(op_at_),
                "duel reads the pickles of dataset files (dicts, lists, byte strings, NumPy arrays) and nothing else");
  }
  const uint8_t* take(size_t n) {
    if (n > b_.size() - pos_) fail("data runs past the end of the file (truncated?)");
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(size_t n) {
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
  }
  std::string line() {
    size_t end = pos_;
    while (end < b_.size() && b_[end] != '\n') ++end;
    if (end == b_.size()) fail("a name runs past the end of the file");
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  }
  void push(PickleRef v) {
    if (stack_.size() >= kMaxStack) fail("more than 2^20 values on the stack");
    stack_.push_back(std::move(v));
  }
  PickleRef pop() {
    if (stack_.size() <= mark_floor()) fail("pop from an empty stack");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PickleRef& top() {
    if (stack_.size() <= mark_floor()) fail("an empty stack");
    return stack_.back();
  }
  // Puts `child` inside `parent`: refused past kMaxDepth levels and for a
  // parent that is itself inside a container (which keeps values acyclic).
  void adopt(PickleValue& parent, PickleRef child) {
    if (parent.contained) fail("a change to a list or dict after it was put inside another value");
    if (child.get() == &parent) fail("a value put inside itself");
    if (child->depth + 1 > kMaxDepth) fail("values nested more than " + std::to_string(kMaxDepth) + " deep");
    parent.depth = std::max(parent.depth, child->depth + 1);
    child->contained = true;
    parent.items.push_back(std::move(child));
  }
  void adopt_all(PickleValue& parent, std::vector<PickleRef> children) {
    for (auto& c : children) adopt(parent, std::move(c));
  }
  size_t mark_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<PickleRef> pop_to_mark() {
    if (marks_.empty()) fail("no mark on the stack");
    std::vector<PickleRef> items(stack_.begin() + long(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  PickleRef string_of(Kind k, size_t n) {
    auto v = make(k);
    const uint8_t* p = take(n);
    v->s.assign(reinterpret_cast<const char*>(p), n);
    return v;
  }
  void memo_put(uint64_t idx) {
    if (idx >= kMaxMemo) fail("memo index " + std::to_string(idx) + " too large");
    memo_[idx] = top();
  }
  void memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo index " + std::to_string(idx) + " was never stored");
    push(it->second);
  }
  bool scalar_op(uint8_t op);
  bool container_op(uint8_t op);
  bool object_op(uint8_t op);
  PickleRef call(const PickleValue& fn, const PickleValue& args);
  void build(PickleValue& obj, const PickleValue& state);
  PickleRef global(const std::string& module, const std::string& name);

  const std::vector<uint8_t>& b_;
  std::string origin_;
  size_t pos_ = 0, op_at_ = 0;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PickleRef> memo_;
};

bool Reader::scalar_op(uint8_t op) {
  switch (op) {
    case 'N': push(make(Kind::None)); return true;
    case 0x88: case 0x89: { auto v = make(Kind::Bool); v->i = op == 0x88; push(v); return true; }
    case 'K': { auto v = make(Kind::Int); v->i = int64_t(le(1)); push(v); return true; }
    case 'M': { auto v = make(Kind::Int); v->i = int64_t(le(2)); push(v); return true; }
    case 'J': { auto v = make(Kind::Int); v->i = int32_t(uint32_t(le(4))); push(v); return true; }
    case 0x8a: {  // LONG1: little-endian two's complement of n <= 8 bytes
      const size_t n = size_t(le(1));
      if (n > 8) fail("an integer wider than 64 bits");
      auto v = make(Kind::Int);
      uint64_t u = n ? le(n) : 0;
      if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t(0) << (8 * n);
      v->i = int64_t(u);
      push(v);
      return true;
    }
    case 'G': {  // BINFLOAT: big-endian double
      const uint8_t* p = take(8);
      uint64_t u = 0;
      for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];
      auto v = make(Kind::Float);
      std::memcpy(&v->f, &u, 8);
      push(v);
      return true;
    }
    case 'U': push(string_of(Kind::Bytes, size_t(le(1)))); return true;  // SHORT_BINSTRING (Python 2 str)
    case 'T': push(string_of(Kind::Bytes, size_t(le(4)))); return true;  // BINSTRING
    case 'C': push(string_of(Kind::Bytes, size_t(le(1)))); return true;  // SHORT_BINBYTES
    case 'B': push(string_of(Kind::Bytes, size_t(le(4)))); return true;  // BINBYTES
    case 0x8e: push(string_of(Kind::Bytes, size_t(le(8)))); return true;  // BINBYTES8
    case 0x8c: push(string_of(Kind::Str, size_t(le(1)))); return true;  // SHORT_BINUNICODE
    case 'X': push(string_of(Kind::Str, size_t(le(4)))); return true;   // BINUNICODE
    case 0x8d: push(string_of(Kind::Str, size_t(le(8)))); return true;  // BINUNICODE8
    default: return false;
  }
}

bool Reader::container_op(uint8_t op) {
  switch (op) {
    case '(': marks_.push_back(stack_.size()); return true;
    case '}': push(make(Kind::Dict)); return true;
    case ']': push(make(Kind::List)); return true;
    case ')': push(make(Kind::Tuple)); return true;
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      std::vector<PickleRef> items(size_t(op - 0x84));
      for (size_t i = items.size(); i-- > 0;) items[i] = pop();
      auto t = make(Kind::Tuple);
      adopt_all(*t, std::move(items));
      push(t);
      return true;
    }
    case 't': case 'l': {
      auto t = make(op == 't' ? Kind::Tuple : Kind::List);
      adopt_all(*t, pop_to_mark());
      push(t);
      return true;
    }
    case 'd': {
      auto items = pop_to_mark();
      if (items.size() % 2) fail("a dict with an odd number of keys and values");
      auto t = make(Kind::Dict);
      adopt_all(*t, std::move(items));
      push(t);
      return true;
    }
    case 'a': case 'e': {  // APPEND, APPENDS
      auto items = op == 'a' ? std::vector<PickleRef>{pop()} : pop_to_mark();
      auto& list = top();
      if (list->kind != Kind::List) fail("append to something that is not a list");
      adopt_all(*list, std::move(items));
      return true;
    }
    case 's': case 'u': {  // SETITEM, SETITEMS
      std::vector<PickleRef> items;
      if (op == 's') {
        auto v = pop();
        auto k = pop();
        items = {k, v};
      } else {
        items = pop_to_mark();
      }
      if (items.size() % 2) fail("setitems with an odd number of keys and values");
      auto& dict = top();
      if (dict->kind != Kind::Dict) fail("setitem on something that is not a dict");
      adopt_all(*dict, std::move(items));
      return true;
    }
    default: return false;
  }
}

PickleRef Reader::global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  static const char* allowed[] = {"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
                                  "numpy.ndarray", "numpy.dtype", "_codecs.encode"};
  for (const char* a : allowed)
    if (full == a) {
      auto v = make(Kind::Callable);
      v->s = full;
      return v;
    }
  fail("the callable '" + full + "', which duel does not run");
}

// Latin-1 bytes of a UTF-8 string (what _codecs.encode(s, 'latin1') gives).
std::string latin1_of_utf8(const std::string& s, bool& ok) {
  std::string out;
  out.reserve(s.size());
  ok = true;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += char(c);
    } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size() && c <= 0xC3) {
      out += char(((c & 0x1F) << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F));
    } else {
      ok = false;
      return out;
    }
  }
  return out;
}

PickleRef Reader::call(const PickleValue& fn, const PickleValue& args) {
  if (fn.kind != Kind::Callable || args.kind != Kind::Tuple) fail("a call of something that is not a known callable");
  if (fn.s == "_codecs.encode") {
    if (args.items.size() != 2 || args.items[0]->kind != Kind::Str || args.items[1]->s != "latin1")
      fail("_codecs.encode with arguments other than (str, 'latin1')");
    bool ok = false;
    auto v = make(Kind::Bytes);
    v->s = latin1_of_utf8(args.items[0]->s, ok);
    if (!ok) fail("_codecs.encode of a string outside Latin-1");
    return v;
  }
  if (fn.s == "numpy.dtype") {
    if (args.items.empty() || (args.items[0]->kind != Kind::Str && args.items[0]->kind != Kind::Bytes))
      fail("numpy.dtype without a type string");
    auto v = make(Kind::Object);
    v->s = "dtype";
    v->dtype = args.items[0]->s;
    return v;
  }
  if (fn.s.size() > 12 && fn.s.compare(fn.s.size() - 12, 12, "_reconstruct") == 0) {
    if (args.items.empty() || args.items[0]->kind != Kind::Callable || args.items[0]->s != "numpy.ndarray")
      fail("_reconstruct of something other than numpy.ndarray");
    auto v = make(Kind::Object);
    v->s = "ndarray";
    return v;
  }
  fail("a call of '" + fn.s + "'");
}

int64_t itemsize_of(const std::string& type) {
  // NumPy type codes: a kind letter and a byte count ("u1", "i8", "f4").
  if (type.size() < 2 || std::string("uifb").find(type[0]) == std::string::npos) return 0;
  try {
    const int n = std::stoi(type.substr(1));
    return (n == 1 || n == 2 || n == 4 || n == 8) ? n : 0;
  } catch (...) {
    return 0;
  }
}

void Reader::build(PickleValue& obj, const PickleValue& state) {
  if (obj.kind != Kind::Object || state.kind != Kind::Tuple) fail("BUILD of something that is not a NumPy object");
  const auto& st = state.items;
  if (obj.s == "dtype") {  // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
    if (st.size() < 2 || (st[1]->kind != Kind::Str && st[1]->kind != Kind::Bytes)) fail("a dtype state without a byte order");
    obj.dtype = (st[1]->s == "=" ? std::string("<") : st[1]->s) + obj.dtype;
    return;
  }
  // ndarray: (version, shape, dtype, is_fortran, raw bytes)
  if (st.size() != 5 || st[1]->kind != Kind::Tuple || st[2]->kind != Kind::Object || st[4]->kind != Kind::Bytes)
    fail("an ndarray state other than (version, shape, dtype, fortran, bytes) (object arrays are not read)");
  if (st[3]->i != 0 && st[1]->items.size() > 1) fail("a Fortran-ordered ndarray");
  const int64_t item = itemsize_of(st[2]->dtype.empty() ? "" : st[2]->dtype.substr(1));
  if (item == 0) fail("an ndarray of dtype '" + st[2]->dtype + "'");
  int64_t count = 1;
  for (const auto& d : st[1]->items) {
    if (d->kind != Kind::Int || d->i < 0 || d->i > (int64_t(1) << 40)) fail("an ndarray with a bad shape");
    if (d->i > 0 && count > (int64_t(1) << 40) / d->i) fail("an ndarray larger than 2^40 elements");
    count *= d->i;
    obj.shape.push_back(d->i);
  }
  if (int64_t(st[4]->s.size()) != count * item)
    fail("an ndarray whose " + std::to_string(st[4]->s.size()) + " bytes do not match its shape and dtype");
  obj.kind = Kind::Array;
  obj.dtype = st[2]->dtype;
  obj.data = st[4]->s;
}

bool Reader::object_op(uint8_t op) {
  switch (op) {
    case 'c': {
      const std::string module = line();
      push(global(module, line()));
      return true;
    }
    case 0x93: {  // STACK_GLOBAL
      auto name = pop();
      auto module = pop();
      if (module->kind != Kind::Str || name->kind != Kind::Str) fail("STACK_GLOBAL without two strings");
      push(global(module->s, name->s));
      return true;
    }
    case 'R': {
      auto args = pop();
      auto fn = pop();
      push(call(*fn, *args));
      return true;
    }
    case 'b': {
      auto state = pop();
      build(*top(), *state);
      return true;
    }
    default: return false;
  }
}

PickleRef Reader::run() {
  while (true) {
    op_at_ = pos_;
    const uint8_t op = *take(1);
    if (op == '.') break;
    if (scalar_op(op) || container_op(op) || object_op(op)) continue;
    switch (op) {
      case 0x80: le(1); break;  // PROTO n
      case 0x95: le(8); break;  // FRAME: a length hint only
      case 'q': memo_put(le(1)); break;
      case 'r': memo_put(le(4)); break;
      case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
      case 'h': memo_get(le(1)); break;
      case 'j': memo_get(le(4)); break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", op);
        fail(std::string("opcode ") + buf);
      }
    }
  }
  if (stack_.size() != 1 || !marks_.empty()) fail("the pickle ends with " + std::to_string(stack_.size()) + " values");
  return stack_.back();
}

}  // namespace

PickleRef parse_pickle(const std::vector<uint8_t>& bytes, const std::string& origin) {
  return Reader(bytes, origin).run();
}

const PickleValue* pickle_get(const PickleValue& dict, const std::string& key) {
  if (dict.kind != PickleValue::Kind::Dict) return nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const auto& k = *dict.items[i];
    if ((k.kind == PickleValue::Kind::Bytes || k.kind == PickleValue::Kind::Str) && k.s == key)
      return dict.items[i + 1].get();
  }
  return nullptr;
}

}  // namespace duel
