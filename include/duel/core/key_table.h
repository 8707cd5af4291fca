// The config schema as text: one line per registered key with its type,
// default and help (what `duel train --list-keys` prints).
#pragma once
#include <string>

namespace duel {

std::string key_table();

}  // namespace duel
