// Class names of the built-in datasets, for outputs that label classes
// without loading the data (the class picker of `duel export --web`).
#pragma once
#include <string>
#include <vector>

namespace duel {

// "fashion-mnist", "mnist" and "cifar10": their ten class names; any other
// data.dataset value (image folders): empty.
std::vector<std::string> builtin_class_names(const std::string& dataset);

}  // namespace duel
