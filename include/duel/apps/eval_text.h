// The results of `duel eval` laid out as text for a terminal: every figure
// of a checkpoint evaluation beside its real-vs-real floor, and an
// image-to-image evaluation's scores, timings and the JSON written.
#pragma once
#include <string>

#include "duel/apps/eval_checkpoint.h"
#include "duel/apps/translation_eval.h"

namespace duel {

std::string eval_table_text(const EvalReport& report);
std::string translation_text(const TranslationReport& report);

}  // namespace duel
