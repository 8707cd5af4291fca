// Config implementation: the schema registry, TOML reading/writing (toml++,
// header-only in this translation unit alone) and --set parsing.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "duel/core/config.h"
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

// The keys every run has; models add theirs with register_key().
struct CoreKeys {
  CoreKeys() {
    auto I = [](std::string k, int64_t d, double lo, double hi, std::string help) {
      register_key({std::move(k), ConfigType::Int, d, std::move(help), lo, hi, {}});
    };
    auto F = [](std::string k, double d, double lo, double hi, std::string help) {
      register_key({std::move(k), ConfigType::Float, d, std::move(help), lo, hi, {}});
    };
    auto B = [](std::string k, bool d, std::string help) {
      register_key({std::move(k), ConfigType::Bool, d, std::move(help), {}, {}, {}});
    };
    auto S = [](std::string k, std::string d, std::vector<std::string> choices, std::string help,
                bool prefix = false) {
      KeySpec s{std::move(k), ConfigType::String, std::move(d), std::move(help), {}, {}, std::move(choices)};
      s.choices_prefix = prefix;
      register_key(s);
    };
    I("run.seed", 1, 0, 9.0e15, "seed for weights, noise, shuffling and label noise");
    S("run.device", "cpu", {"cpu", "cuda"}, "where to train: cpu or cuda (needs a CUDA build)");
    S("data.dataset", "fashion-mnist", {"fashion-mnist", "mnist", "cifar10", "folder:"},
      "fashion-mnist, mnist, cifar10 or folder:<path>", true);
    S("data.path", "", {}, "folder holding the dataset files (empty: the dataset's default location)");
    S("data.split", "train", {"train", "test", "all"}, "which split to train on");
    I("data.image_size", 0, 0, 1024, "side in pixels after resize/crop (0: the dataset's own size)");
    I("data.channels", 0, 0, 3, "1 (grayscale) or 3 (RGB); 0: the dataset's own");
    I("data.limit", 0, 0, 1.0e12, "use only the first N images (0: all)");
    S("data.pair", "none", {"none", "paired-folders", "side-by-side", "sobel", "unpaired-folders", "classes"},
      "image-to-image data (A -> B): none; paired-folders (A in data.path, B of the same name in data.path_b); "
      "side-by-side (each image of one folder is A|B); sobel (B = the dataset's images, A = their edge maps); "
      "unpaired-folders (A in data.path, B in data.path_b); classes (A = class data.class_a, B = data.class_b)");
    S("data.path_b", "", {}, "folder of the B images for data.pair = paired-folders or unpaired-folders");
    S("data.side_by_side", "AB", {"AB", "BA"}, "data.pair = side-by-side: AB (A on the left) or BA (B on the left)");
    I("data.class_a", -1, -1, 1000, "data.pair = classes: the class whose images are domain A");
    I("data.class_b", -1, -1, 1000, "data.pair = classes: the class whose images are domain B");
    I("data.crop", 0, 0, 1024,
      "random square crop of this side in the loader, the same window for A and B when paired (0: off)");
    B("data.flip", false, "random horizontal flips in the loader, the same for A and B when paired");
    B("data.drop_last", true, "drop the last incomplete batch of each epoch");
    I("data.prefetch", -1, -1, 64,
      "batches prepared ahead on a background thread (0: none; -1: auto = 2 on CUDA, 0 on CPU)");
    S("model.name", "dcgan", {}, "registered model name (see `duel train --list-models`)");
    I("model.latent_dim", 100, 1, 4096, "size of the noise vector z");
    S("model.init", "normal", {"normal", "default"},
      "normal: weights N(0, 0.02) as in DCGAN; default: LibTorch's own initialisation");
    I("train.steps", 0, 0, 1.0e12, "generator updates to run (0: use train.epochs)");
    I("train.epochs", 3, 0, 1.0e6, "passes over the data when train.steps is 0");
    I("train.batch_size", 64, 1, 65536, "images per batch");
    I("train.d_steps", 1, 1, 100, "discriminator updates per generator update");
    S("train.loss", "nonsaturating", {"nonsaturating", "minimax", "wasserstein", "hinge", "least-squares"},
      "adversarial loss: nonsaturating (-log D(G(z))), minimax (log(1 - D(G(z)))), wasserstein, hinge or "
      "least-squares (see docs/models.md)");
    F("train.label_smoothing", 0.0, 0.0, 0.5, "one-sided: real targets become 1 - s (or U(1-s, 1))");
    S("train.smoothing_mode", "uniform", {"uniform", "fixed"},
      "uniform: real targets ~ U(1-s, 1) per sample; fixed: real targets = 1-s");
    F("train.label_flip", 0.0, 0.0, 0.5, "probability that a real target is flipped to fake");
    F("train.instance_noise", 0.0, 0.0, 2.0,
      "std of Gaussian noise added to D's inputs, decayed linearly to 0 over the run");
    I("train.log_every", 50, 1, 1.0e9, "steps between metrics.csv rows");
    I("train.sample_every", 500, 0, 1.0e9, "steps between sample grids (0: only the final one)");
    I("train.checkpoint_every", 1000, 0, 1.0e9, "steps between checkpoints (0: only the final one)");
    I("train.keep_checkpoints", 3, 1, 1000, "numbered checkpoints kept besides latest");
    F("optim.g_lr", 2e-4, 0.0, 10.0, "generator Adam learning rate");
    F("optim.g_beta1", 0.5, 0.0, 0.999999, "generator Adam beta1");
    F("optim.g_beta2", 0.999, 0.0, 0.999999, "generator Adam beta2");
    F("optim.d_lr", 2e-4, 0.0, 10.0, "discriminator Adam learning rate");
    F("optim.d_beta1", 0.5, 0.0, 0.999999, "discriminator Adam beta1");
    F("optim.d_beta2", 0.999, 0.0, 0.999999, "discriminator Adam beta2");
    B("perf.fast_convt", true, "transposed convolutions on oneDNN's convolution kernels (CPU); false: LibTorch's own");
    S("perf.amp", "none", {"none", "bf16"}, "mixed precision on CUDA: none or bf16 autocast (ignored on CPU)");
    B("perf.channels_last", false, "keep images and conv weights in channels-last (NHWC) memory layout");
    I("sample.grid", 64, 1, 1024, "images in each sample grid (drawn from fixed noise)");
    B("monitor.warnings", true, "warn when the losses show collapse or divergence");
    I("monitor.window", 100, 5, 100000, "steps the collapse/divergence checks average over");
  }
};
const CoreKeys core_keys_registered;

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

Config::Config() {
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
  std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
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
  return it->second;
}

int64_t Config::get_int(const std::string& key) const { return std::get<int64_t>(raw(key, ConfigType::Int)); }
double Config::get_float(const std::string& key) const { return std::get<double>(raw(key, ConfigType::Float)); }
bool Config::get_bool(const std::string& key) const { return std::get<bool>(raw(key, ConfigType::Bool)); }
std::string Config::get_string(const std::string& key) const {
  return std::get<std::string>(raw(key, ConfigType::String));
}

std::string Config::to_toml() const {
  // Group keys by section; values_ is sorted so sections come out in order.
  std::map<std::string, toml::table> sections;
  for (const auto& [key, value] : values_) {
    auto dot = key.find('.');
    std::string sec = key.substr(0, dot), name = key.substr(dot + 1);
    auto& t = sections[sec];
    std::visit([&](const auto& x) { t.insert_or_assign(name, x); }, value);
  }
  toml::table root;
  for (auto& [sec, t] : sections) root.insert_or_assign(sec, std::move(t));
  std::ostringstream o;
  o << "# duel resolved config: every key, enough to rerun this run\n" << root << "\n";
  return o.str();
}

}  // namespace duel
