// Text encodings for the self-contained HTML files duel writes (the run
// report, the export's generator page): HTML entities, JSON safe inside a
// <script> element, base64 for inlined images. Format helpers, so they live
// in io where every page writer can reach them.
#pragma once
#include <string>

namespace duel {

// JSON text made safe inside a <script> element: every '<' becomes \u003c
// (so "</script>" in a value cannot end the element), U+2028/U+2029 are escaped.
std::string script_safe_json(const std::string& json_text);
// &, <, >, " and ' as entities.
std::string html_escape(const std::string& text);
// RFC 4648 base64 with padding.
std::string base64_encode(const std::string& bytes);

}  // namespace duel
