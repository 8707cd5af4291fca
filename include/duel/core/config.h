// Config: every run-time choice of a run as a flat set of `section.key`
// values checked against one schema (type, default, range, choices).
//
// Requires: keys exist in the schema, values have the key's type and lie in
// its range. Ensures: a Config always holds a value for every schema key.
// Each part registers the keys it reads, beside the code that reads them,
// through register_key() at static initialisation (the trainer's in
// train/options.cpp, a model's in its own file), so a new part needs no edit
// here. A Config remembers which keys were read (shared by its copies), so
// the resolved config of a run lists the keys its model and parts read plus
// those set explicitly: enough to rerun it, and nothing that had no effect.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace duel {

using ConfigValue = std::variant<int64_t, double, bool, std::string>;

enum class ConfigType { Int, Float, Bool, String };

struct KeySpec {
  std::string key;  // "section.name"
  ConfigType type;
  ConfigValue default_value;
  std::string help;
  std::optional<double> min;                 // inclusive, numeric keys
  std::optional<double> max;                 // inclusive, numeric keys
  std::vector<std::string> choices;          // string keys; empty = free text
  bool choices_prefix = false;               // choices match as prefixes (e.g. "folder:")
};

// Adds a key to the global schema. Re-registering an identical key is allowed.
void register_key(const KeySpec& spec);
// Shorthands for numeric keys with an inclusive range [lo, hi].
void register_int_key(const std::string& key, int64_t def, double lo, double hi, const std::string& help);
void register_float_key(const std::string& key, double def, double lo, double hi, const std::string& help);
void register_bool_key(const std::string& key, bool def, const std::string& help);
// A string key; choices empty = free text; choices_prefix: a choice ending in ':' matches as a prefix.
void register_string_key(const std::string& key, const std::string& def, const std::vector<std::string>& choices,
                         const std::string& help, bool choices_prefix = false);
// All keys, sorted by name.
std::vector<KeySpec> schema();
const KeySpec* find_key(const std::string& key);

class Config {
 public:
  // All schema keys at their defaults.
  Config();

  // Reads a TOML file; every key it holds is validated and applied.
  static Config from_file(const std::string& path);
  // Parses TOML text (used for checkpoints, which embed their config).
  static Config from_string(const std::string& toml_text, const std::string& origin);

  // Applies TOML text on top of this config.
  void merge_toml(const std::string& toml_text, const std::string& origin);
  // Applies `section.key=value` (the CLI's --set). The value is parsed by the key's type.
  void set_from_string(const std::string& assignment);
  void set(const std::string& key, const ConfigValue& value);
  bool was_set(const std::string& key) const { return explicit_.count(key) > 0; }

  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;

  // Whether some get_* (through this Config or a copy of it) has read the key.
  bool was_read(const std::string& key) const;
  // Whether the key holds its schema default.
  bool is_default(const std::string& key) const;

  // The resolved config as TOML: every key read so far or set explicitly,
  // floats in their shortest round-trip form. Reading it back gives the same
  // values for those keys and defaults for the rest, and writes the same text.
  std::string to_toml() const;

 private:
  struct ReadLog;
  const ConfigValue& raw(const std::string& key, ConfigType type) const;
  std::map<std::string, ConfigValue> values_;
  std::map<std::string, bool> explicit_;
  std::shared_ptr<ReadLog> reads_;
};

}  // namespace duel
