// The palette: every block and op of the registry, grouped and searchable, to drag onto the
// canvas (or double-click: added at the centre of the view).
//
// - Entries come from the registry (core/registry.h), one per OpDef, in sections by category;
//   a kind with a `token_mixer` choice (the MetaFormer block) gets one entry per mixer, so
//   "MetaFormer block · attention" is one drag away.
// - Dragging an entry carries the payload kPalettePayload (an int: the entry's index); the canvas
//   accepts it and adds the node where it is dropped.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/style.h"
#include "core/attrs.h"

namespace fw::gui {

inline constexpr const char* kPalettePayload = "FW_PALETTE";

struct PaletteEntry {
  std::string section;   // "Stages", "Blocks", "Heads", "Token mixers", "Layers", "Graph"
  std::string label;     // "MetaFormer block · attention"
  std::string variant;   // "attention" for a preset of a kind listed once above it, else ""
  std::string kind;      // OpDef id
  Attrs attrs;           // preset attributes (the token mixer), else empty
  std::string category;  // registry category: the colour
  std::string help;
};

const std::vector<PaletteEntry>& palette_entries();
const std::vector<std::string>& palette_sections();
// Case-insensitive match of `filter` (space-separated words, all must match) against the label,
// kind, category and help.
bool palette_matches(const PaletteEntry& e, const char* filter);

struct PaletteState {
  char filter[64] = "";
  int added = -1;  // entry double-clicked this frame, or -1 (the view adds it at its centre)
};

void draw_palette(PaletteState& state, const Fonts& fonts);

// A small square in the entry's category colour, then the label (also used by menus).
void palette_swatch(const std::string& category, float size);

}  // namespace fw::gui
