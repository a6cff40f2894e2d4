// Text extents from the fonts every canvas draws with (DejaVu Sans, Sans Mono and Serif, regular
// and bold, from fonts-dejavu-core), read with stb_truetype. One metric for the screen
// and the exporters: a layout measured here fits the same on both.
//
// - Font::size is the line height (ascent + descent: ImGui's convention; the Qt canvas converts to
//   an em size with em_per_size()); results are in the same units. Advance widths with kerning
//   ignored (ImGui ignores it too); a code point missing from the font counts as the width of '?'.
// - A font file that cannot be read falls back to a fixed estimate (0.6 em per character for
//   Sans, 0.62 for Mono) and font_warning() says why; nothing throws.
// - Thread-safe (the fonts load once).
#pragma once
#include <string>
#include <string_view>

#include "views/canvas.h"

namespace fw::views {

float text_width(std::string_view utf8, const Font& f);
float line_height(const Font& f);  // ascent + descent (no line gap)
float ascent(const Font& f);
// Font size -> em size for the face (unitsPerEm / (ascent - descent)).
float em_per_size(FontFace face);
// The longest prefix of `utf8` that fits in `width`, with "…" appended when cut ("" when not
// even "…" fits).
std::string fit_text(std::string_view utf8, const Font& f, float width);
// The face's family ("DejaVu Sans", "DejaVu Sans Mono", "DejaVu Serif") and weight.
const char* font_family(FontFace face);
bool font_bold(FontFace face);
// Path of the TTF file for a face (FORMWORK_FONT_DIR/DejaVuSans.ttf, ...).
std::string font_file(FontFace face);
// "" when every font loaded; else one line naming what is missing.
std::string font_warning();

}  // namespace fw::views
