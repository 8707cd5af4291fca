// Colour bitmap fonts (OpenType CBDT/CBLC, as Noto Color Emoji ships): every
// glyph's embedded PNG with the code points it stands for. A glyph reached
// from one code point (cmap, format 12 or 4) gets that one; a glyph a
// ligature builds (GSUB type 4, e.g. a person plus a skin-tone modifier, or a
// flag's two regional indicators) gets its components' code points in order.
// Reads the largest strike. Every bound is checked; a problem is a
// duel::Error naming the font and the table.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace duel {

struct ColorGlyph {
  uint32_t glyph = 0;
  std::vector<uint32_t> codepoints;  // empty when neither cmap nor a ligature reaches the glyph
  std::string png;                   // the glyph's PNG file, as embedded
};

std::vector<ColorGlyph> read_color_glyphs(const std::string& font_path);

// "1F469 1F3FD" for a code point sequence.
std::string codepoints_text(const std::vector<uint32_t>& codepoints);

}  // namespace duel
