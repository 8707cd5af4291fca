// Config: every run-time choice of a run as a flat set of `section.key`
// values checked against one schema (type, default, range, choices).
//
// Requires: keys exist in the schema, values have the key's type and lie in
// its range. Ensures: a Config always holds a value for every schema key, so
// a resolved config written to a run directory is enough to rerun it.
// Models add their own `model.*` keys through register_key() at static
// initialisation, so a new model needs no edit here.
#pragma once
#include <cstdint>
#include <map>
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

  // The fully resolved config as TOML, every key present.
  std::string to_toml() const;

 private:
  const ConfigValue& raw(const std::string& key, ConfigType type) const;
  std::map<std::string, ConfigValue> values_;
  std::map<std::string, bool> explicit_;
};

}  // namespace duel
