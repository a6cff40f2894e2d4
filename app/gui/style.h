// The look of the window: fonts (DejaVu from fonts-dejavu-core) and a dark colour theme, both
// scaled by the monitor's content scale (HiDPI).
//
// - load_fonts(scale): DejaVu Sans (regular, bold, large bold for titles) and DejaVu Sans Mono for
//   numbers and shapes; for the canvases (app/gui/imgui_canvas.h) every views::FontFace, DejaVu
//   Serif included. A missing font file prints one warning on stderr and falls back to ImGui's
//   built-in font, so the window still opens.
// - apply_style(scale): sizes and the palette below, on ImGui::GetStyle().
// - category_color(): the colour of an op category ("conv", "norm", ...; core/registry.h), used for
//   op chips in every view (views/graph_style.h: the graph picture's colours are the palette's).
#pragma once
#include <imgui.h>

#include <string>

#include "views/graph_style.h"
#include "views/view_pictures.h"

namespace fw::gui {

struct Fonts {
  ImFont* regular = nullptr;
  ImFont* bold = nullptr;
  ImFont* title = nullptr;
  ImFont* mono = nullptr;
  // The canvases draw these at any zoom: rasterised larger than the panel fonts so that text
  // stays sharp when scaled (downsampling looks better than upsampling).
  ImFont* canvas_bold = nullptr;
  ImFont* canvas_regular = nullptr;
  ImFont* canvas_mono = nullptr;
  ImFont* canvas_mono_bold = nullptr;
  ImFont* canvas_serif = nullptr;  // the circuit diagrams' symbols
  ImFont* canvas_serif_bold = nullptr;
  float scale = 1;  // the content scale the fonts and style were made for (HiDPI)
};

// Must be called before the renderer builds the font atlas (ImGui_ImplOpenGL3_NewFrame).
Fonts load_fonts(float scale);
void apply_style(float scale);

namespace palette {
constexpr ImU32 rgb(unsigned hex, unsigned alpha = 255) {
  return IM_COL32((hex >> 16) & 0xFF, (hex >> 8) & 0xFF, hex & 0xFF, alpha);
}
namespace graph = views::graph_palette;
namespace pic = views::view_palette;
inline constexpr ImU32 kBackground = graph::kBackground;  // behind everything
inline constexpr ImU32 kPanel = pic::kPanel;            // the table, panels
inline constexpr ImU32 kHeader = graph::kHeader;          // table header, title bar
inline constexpr ImU32 kBorder = pic::kBorder;
inline constexpr ImU32 kText = graph::kText;
inline constexpr ImU32 kTextDim = graph::kTextDim;
inline constexpr ImU32 kAccent = graph::kAccent;
inline constexpr ImU32 kOk = pic::kOk;
inline constexpr ImU32 kWarning = graph::kWarning;
inline constexpr ImU32 kError = graph::kError;
// The editor canvas.
inline constexpr ImU32 kCanvas = graph::kCanvas;
inline constexpr ImU32 kGridMinor = pic::kGridMinor;
inline constexpr ImU32 kGridMajor = pic::kGridMajor;
inline constexpr ImU32 kNodeBody = graph::kNodeBody;
inline constexpr ImU32 kNodeBorder = graph::kNodeBorder;
inline constexpr ImU32 kLink = graph::kLink;
inline constexpr ImU32 kPort = graph::kPort;
}  // namespace palette

using views::category_color;

}  // namespace fw::gui
