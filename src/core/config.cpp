// Config implementation: the schema registry, TOML reading (toml++,
// header-only in this translation unit alone), --set parsing, the record of
// which keys were read and the resolved config's TOML writer.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/key_table.h"
#include "duel/core/error.h"
#include "duel/core/suggest.h"

namespace duel {
namespace {

std::map<std::string, KeySpec>& registry() {
  static std::map<std::string, KeySpec> keys;
  return keys;
}
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

const char* type_name(ConfigType t) {
  switch (t) {
    case ConfigType::Int: return "an integer";
    case ConfigType::Float: return "a number";
    case ConfigType::Bool: return "true or false";
    case ConfigType::String: return "a string";
  }
  return "?";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}


bool numeric_in_range(const KeySpec& s, double v) {
  return (!s.min || v >= *s.min) && (!s.max || v <= *s.max);
}

// A bound as the user would write it: 65536, 0.5, 1e+09 (not 65536.000000).
std::string bound_text(double v) {
  std::ostringstream o;
  if (std::fabs(v) < 1e15 && v == std::floor(v)) o << static_cast<long long>(v);
  else o << v;
  return o.str();
}

std::string range_text(const KeySpec& s) {
  return "[" + (s.min ? bound_text(*s.min) : "-inf") + ", " + (s.max ? bound_text(*s.max) : "inf") + "]";
}

// "did you mean 'train.steps'? " for a mistyped key, or "".
std::string key_suggestion(const std::string& key) {
  std::vector<std::string> keys;
  for (const auto& k : schema()) keys.push_back(k.key);
  return did_you_mean(key, keys);
}

ConfigValue validate(const KeySpec& s, const ConfigValue& v, const std::string& origin) {
  const std::string where = origin.empty() ? "" : " (in " + origin + ")";
  auto bad_type = [&]() {
    return Error("config key '" + s.key + "' must be " + type_name(s.type) + where,
                 "fix the value of '" + s.key + "': " + s.help);
  };
  switch (s.type) {
    case ConfigType::Int: {
      int64_t x;
      if (auto p = std::get_if<int64_t>(&v)) x = *p;
      else throw bad_type();
      if (!numeric_in_range(s, static_cast<double>(x)))
        throw Error("config key '" + s.key + "' = " + std::to_string(x) + " is out of range " +
                        range_text(s) + where,
                    s.help);
      return x;
    }
    case ConfigType::Float: {
      double x;
      if (auto p = std::get_if<double>(&v)) x = *p;
      else if (auto q = std::get_if<int64_t>(&v)) x = static_cast<double>(*q);
      else throw bad_type();
      if (!std::isfinite(x) || !numeric_in_range(s, x)) {
        std::ostringstream o;
        o << x;
        throw Error("config key '" + s.key + "' = " + o.str() + " is out of range " + range_text(s) + where,
                    s.help);
      }
      return x;
    }
    case ConfigType::Bool:
      if (auto p = std::get_if<bool>(&v)) return *p;
      throw bad_type();
    case ConfigType::String: {
      auto p = std::get_if<std::string>(&v);
      if (!p) throw bad_type();
      if (!s.choices.empty()) {
        bool ok = false;
        for (const auto& c : s.choices) {
          const bool is_prefix = s.choices_prefix && !c.empty() && c.back() == ':';
          if (is_prefix ? (p->rfind(c, 0) == 0 && p->size() > c.size()) : *p == c) ok = true;
        }
        if (!ok)
          throw Error("config key '" + s.key + "' = '" + *p + "' is not one of: " + join(s.choices, ", ") +
                          where,
                      did_you_mean(*p, s.choices) + s.help);
      }
      return *p;
    }
  }
  throw bad_type();
}

void apply_table(Config& cfg, const toml::table& table, const std::string& prefix, const std::string& origin) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto sub = node.as_table()) {
      apply_table(cfg, *sub, key, origin);
      continue;
    }
    const KeySpec* spec = find_key(key);
    if (!spec) throw Error("unknown config key '" + key + "' in " + origin,
                           key_suggestion(key) + "remove it or check its spelling; `duel train --list-keys` shows every key");
    ConfigValue v;
    if (auto x = node.as_integer()) v = x->get();
    else if (auto f = node.as_floating_point()) v = f->get();
    else if (auto b = node.as_boolean()) v = b->get();
    else if (auto s = node.as_string()) v = s->get();
    else throw Error("config key '" + key + "' in " + origin + " has an unsupported type (arrays/dates)",
                     std::string("it must be ") + type_name(spec->type));
    cfg.set(key, validate(*spec, v, origin));
  }
}

// toml++ 3.3.0 (the version Debian 12 ships) reaches __builtin_unreachable()
// when it asks whether some non-ASCII code points (U+00A1..U+0499,
// U+2D3A..U+3133) are whitespace (marzer/tomlplusplus#295, fixed upstream in
// #305); it asks wherever whitespace may stand between tokens, and right after
// a backslash in a multi-line basic string. The fuzzer found it, so the text
// is checked first: outside strings and comments, where TOML allows only
// ASCII, a non-ASCII character is refused with its position, and so is one
// that follows a backslash (an escape, or a line-ending backslash and the
// whitespace after it) in a multi-line basic string. Tokens are delimited as
// toml++ delimits them: a quote starts a string only where a token starts, and
// a bare value (after '=' or in an array) runs to a value terminator
// (whitespace, ']', '}', ',', '#'), quotes and '[' included.
void check_toml_text(const std::string& text, const std::string& origin) {
  enum class In { Outside, BareKey, BareValue, Comment, Basic, MultiBasic, Literal, MultiLiteral } in = In::Outside;
  bool after_backslash = false;  // multi-line basic string: what follows a backslash is being looked at
  // Where a value (not a key) comes next: after '=', in an array. Arrays and
  // inline tables nest ('A' and 'T').
  bool value_next = false;
  std::string nesting;
  size_t line = 1, col = 1, i = 0;
  const size_t n = text.size();
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // a byte-order mark
  auto starts = [&](const char* s) { return text.compare(i, std::strlen(s), s) == 0; };
  auto ascii_at = [&](size_t k) { return k < n && static_cast<unsigned char>(text[k]) < 0x80; };
  auto blank = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
  auto refuse = [&](const char* where) {
    throw Error("cannot parse config " + origin + ":" + std::to_string(line) + ":" + std::to_string(col) +
                    ": a non-ASCII character " + where,
                "TOML allows non-ASCII text only inside strings and comments; write it as \\uXXXX in a \"string\"");
  };
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      if (in == In::Outside || in == In::BareKey || in == In::BareValue) refuse("outside a string or comment");
      if (in == In::MultiBasic && after_backslash) refuse("after a backslash in a multi-line string");
      for (++i; i < n && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;) ++i;  // the rest of the code point
      ++col;
      continue;
    }
    size_t step = 1;
    switch (in) {
      case In::Outside: {
        const bool value = value_next;
        const char top = nesting.empty() ? 0 : nesting.back();
        if (c == '#') in = In::Comment;
        else if (c == '=') value_next = true;
        else if (c == '[') {
          if (value || top == 'A') nesting += 'A', value_next = true;  // an array; else a table header
        } else if (c == '{') nesting += 'T', value_next = false;
        else if (c == ']' || c == '}') {
          if (!nesting.empty() && nesting.back() == (c == ']' ? 'A' : 'T')) nesting.pop_back();
          value_next = false;
        } else if (c == ',') value_next = top == 'A';
        else if (c == '\n') {
          if (nesting.empty()) value_next = false;
        } else if (!blank(char(c))) {  // a token starts: a string, or a bare key or value
          value_next = false;
          if (starts("\"\"\"")) in = In::MultiBasic, step = 3;
          else if (c == '"') in = In::Basic;
          else if (starts("'''")) in = In::MultiLiteral, step = 3;
          else if (c == '\'') in = In::Literal;
          else in = value ? In::BareValue : In::BareKey;
        }
        break;
      }
      // A bare value (number, date, bool) is read by toml++ up to a value
      // terminator, quotes and brackets included; a bare key up to any
      // character that may follow a key. The terminator is looked at again, outside.
      case In::BareValue:
        if (blank(char(c)) || c == ']' || c == '}' || c == ',' || c == '#') in = In::Outside, step = 0;
        break;
      case In::BareKey:
        if (blank(char(c)) || (c != 0 && std::strchr("=.[]{},#", c))) in = In::Outside, step = 0;
        break;
      case In::Comment:
        if (c == '\n') in = In::Outside;
        break;
      case In::Basic:
        if (c == '\\' && ascii_at(i + 1) && text[i + 1] != '\n') step = 2;  // an escape such as \"
        else if (c == '"' || c == '\n') in = In::Outside;
        break;
      case In::MultiBasic:
        if (c == '\\') {
          // An ASCII escape such as \" or \\ is done here; a line-ending
          // backslash (or a non-ASCII character after it) is looked at next.
          if (ascii_at(i + 1) && !blank(text[i + 1])) step = 2;
          else after_backslash = true;
        } else if (!blank(char(c))) {
          after_backslash = false;
          if (starts("\"\"\"")) {  // the end; up to two more quotes belong to the content
            for (step = 3; i + step < n && text[i + step] == '"' && step < 5;) ++step;
            in = In::Outside;
          }
        }
        break;
      case In::Literal:
        if (c == '\'' || c == '\n') in = In::Outside;
        break;
      case In::MultiLiteral:
        if (starts("'''")) {
          for (step = 3; i + step < n && text[i + step] == '\'' && step < 5;) ++step;
          in = In::Outside;
        }
        break;
    }
    for (size_t k = 0; k < step && i < n; ++k, ++i) {
      if (text[i] == '\n') ++line, col = 1;
      else ++col;
    }
  }
}

// A value as TOML text: floats in their shortest round-trip form with a
// decimal point or exponent (0.3, 1.0, 1e-05), strings as basic strings.
std::string toml_value(const ConfigValue& v) {
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto d = std::get_if<double>(&v)) {
    // Plain notation where it stays short (0.0002, 100000.0), else an exponent (1e-09, 1e+20).
    const double mag = std::fabs(*d);
    const bool plain = mag == 0 || (mag >= 1e-5 && mag < 1e15);
    char buf[400];
    auto res = plain ? std::to_chars(buf, buf + sizeof buf, *d, std::chars_format::fixed)
                     : std::to_chars(buf, buf + sizeof buf, *d, std::chars_format::scientific);
    std::string t(buf, res.ptr);
    if (t.find_first_of(".e") == std::string::npos) t += ".0";  // "1" would read back as an integer
    return t;
  }
  std::string out = "\"";
  for (unsigned char c : std::get<std::string>(v)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04X", c);
          out += esc;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

void register_key(const KeySpec& spec) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[spec.key] = spec;
}

void register_int_key(const std::string& key, int64_t def, double lo, double hi, const std::string& help) {
  register_key({key, ConfigType::Int, def, help, lo, hi, {}});
}

void register_float_key(const std::string& key, double def, double lo, double hi, const std::string& help) {
  register_key({key, ConfigType::Float, def, help, lo, hi, {}});
}

void register_bool_key(const std::string& key, bool def, const std::string& help) {
  register_key({key, ConfigType::Bool, def, help, {}, {}, {}});
}

void register_string_key(const std::string& key, const std::string& def, const std::vector<std::string>& choices,
                         const std::string& help, bool choices_prefix) {
  KeySpec s{key, ConfigType::String, def, help, {}, {}, choices};
  s.choices_prefix = choices_prefix;
  register_key(s);
}

std::vector<KeySpec> schema() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<KeySpec> out;
  for (const auto& [k, s] : registry()) out.push_back(s);
  return out;
}

const KeySpec* find_key(const std::string& key) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(key);
  return it == registry().end() ? nullptr : &it->second;
}

struct Config::ReadLog {
  std::mutex mutex;
  std::set<std::string> keys;
};

Config::Config() : reads_(std::make_shared<ReadLog>()) {
  for (const auto& s : schema()) values_[s.key] = s.default_value;
}

Config Config::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open config file '" + path + "'", "check the path given to --config");
  std::stringstream ss;
  ss << in.rdbuf();
  Config c;
  c.merge_toml(ss.str(), path);
  return c;
}

Config Config::from_string(const std::string& text, const std::string& origin) {
  Config c;
  c.merge_toml(text, origin);
  return c;
}

void Config::merge_toml(const std::string& text, const std::string& origin) {
  check_toml_text(text, origin);
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
      << e.description();
    throw Error("cannot parse config " + o.str(), "the file must be valid TOML");
  }
  apply_table(*this, table, "", origin);
}

void Config::set(const std::string& key, const ConfigValue& value) {
  const KeySpec* spec = find_key(key);
  if (!spec) throw Error("unknown config key '" + key + "'", key_suggestion(key) + "`duel train --list-keys` shows every key");
  values_[key] = validate(*spec, value, "");
  explicit_[key] = true;
}

void Config::set_from_string(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set '" + assignment + "' is not of the form section.key=value",
                "for example --set train.steps=100");
  auto trim = [](const std::string& t) {  // --set "train.steps = 10"
    const auto b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
  };
  std::string key = trim(assignment.substr(0, eq)), text = trim(assignment.substr(eq + 1));
  const KeySpec* spec = find_key(key);
  if (!spec) throw Error("unknown config key '" + key + "' in --set", key_suggestion(key) + "`duel train --list-keys` shows every key");
  ConfigValue v;
  auto fail = [&]() {
    return Error("--set " + key + "=" + text + ": the value must be " + type_name(spec->type), spec->help);
  };
  try {
    size_t used = 0;
    switch (spec->type) {
      case ConfigType::Int: {
        long long x = std::stoll(text, &used);
        if (used != text.size()) throw fail();
        v = static_cast<int64_t>(x);
        break;
      }
      case ConfigType::Float: {
        double x = std::stod(text, &used);
        if (used != text.size()) throw fail();
        v = x;
        break;
      }
      case ConfigType::Bool:
        if (text == "true" || text == "1") v = true;
        else if (text == "false" || text == "0") v = false;
        else throw fail();
        break;
      case ConfigType::String:
        v = text;
        break;
    }
  } catch (const std::invalid_argument&) {
    throw fail();
  } catch (const std::out_of_range&) {
    throw fail();
  }
  values_[key] = validate(*spec, v, "--set");
  explicit_[key] = true;
}

const ConfigValue& Config::raw(const std::string& key, ConfigType type) const {
  auto it = values_.find(key);
  const KeySpec* spec = find_key(key);
  if (it == values_.end() || !spec || spec->type != type)
    throw std::logic_error("duel: config key '" + key + "' read with the wrong type or not registered");
  std::lock_guard<std::mutex> lock(reads_->mutex);
  reads_->keys.insert(key);
  return it->second;
}

bool Config::was_read(const std::string& key) const {
  std::lock_guard<std::mutex> lock(reads_->mutex);
  return reads_->keys.count(key) > 0;
}

bool Config::is_default(const std::string& key) const {
  const KeySpec* spec = find_key(key);
  auto it = values_.find(key);
  return spec && it != values_.end() && it->second == spec->default_value;
}

int64_t Config::get_int(const std::string& key) const { return std::get<int64_t>(raw(key, ConfigType::Int)); }
double Config::get_float(const std::string& key) const { return std::get<double>(raw(key, ConfigType::Float)); }
bool Config::get_bool(const std::string& key) const { return std::get<bool>(raw(key, ConfigType::Bool)); }
std::string Config::get_string(const std::string& key) const {
  return std::get<std::string>(raw(key, ConfigType::String));
}

std::string Config::to_toml() const {
  std::set<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(reads_->mutex);
    keys = reads_->keys;
  }
  for (const auto& [key, set] : explicit_)
    if (set) keys.insert(key);
  std::ostringstream o;
  o << "# duel resolved config: the keys this run's model and parts read, and those set explicitly;\n"
       "# every other key has its default (`duel train --list-keys`). Enough to rerun the run.\n";
  std::string section;
  for (const auto& key : keys) {  // sorted, so each section's keys come together
    const auto dot = key.find('.');
    const std::string sec = key.substr(0, dot), name = key.substr(dot + 1);
    if (sec != section) o << "\n[" << sec << "]\n", section = sec;
    o << name << " = " << toml_value(values_.at(key)) << "\n";
  }
  return o.str();
}

std::string key_table() {
  std::ostringstream out;
  for (const auto& k : schema()) {
    const std::string def = std::visit(
        [](const auto& v) {
          std::ostringstream o;
          o << std::boolalpha << v;
          return o.str();
        },
        k.default_value);
    const char* type = k.type == ConfigType::Int ? "int" : k.type == ConfigType::Float ? "float"
                     : k.type == ConfigType::Bool ? "bool" : "string";
    char line[128];
    std::snprintf(line, sizeof line, "%-26s %-6s %-14s ", k.key.c_str(), type, def.c_str());
    out << line << k.help << "\n";
  }
  return out.str();
}

}  // namespace duel
