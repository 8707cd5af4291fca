// "Did you mean" for names a user types: the nearest of the valid names by
// edit distance (Damerau-Levenshtein: insertions, deletions, substitutions and
// swaps of two neighbouring characters), when it is near enough to be a typo.
// Config keys, enum values, model names and subcommands all go through it.
#pragma once
#include <string>
#include <vector>

namespace duel {

// Edit distance between a and b (a swap of neighbours counts as one edit).
size_t name_distance(const std::string& a, const std::string& b);

// The candidate nearest to `typed`, or "" when none is within a typo's
// distance (at most 1 edit for names up to 4 characters, 2 up to 8, else 3).
std::string nearest_name(const std::string& typed, const std::vector<std::string>& candidates);

// "did you mean 'X'? " for the nearest candidate, or "" when there is none.
std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace duel
