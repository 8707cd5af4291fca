// Checking a model name before any work: a command that takes model.name from
// the user calls check_model_name first, so a typo is reported (with the
// nearest registered name) before a dataset is read. Implemented with the
// registry in src/models/registry.cpp.
#pragma once
#include <string>

namespace duel {

// Throws duel::Error naming the registered models, and the nearest one as a
// suggestion, unless `name` is a registered model.
void check_model_name(const std::string& name);

}  // namespace duel
