// The look of the window: fonts (DejaVu from fonts-dejavu-core) and a dark colour theme, both
// scaled by the monitor's content scale (HiDPI).
//
// - load_fonts(scale): DejaVu Sans (regular, bold, large bold for titles) and DejaVu Sans Mono for
//   numbers and shapes. A missing font file prints one warning on stderr and falls back to ImGui's
//   built-in font, so the window still opens.
// - apply_style(scale): sizes and the palette below, on ImGui::GetStyle().
// - category_color(): the colour of an op category ("conv", "norm", ...; core/registry.h), used for
//   op chips in every view.
#pragma once
#include <imgui.h>

#include <string>

namespace fw::gui {

struct Fonts {
  ImFont* regular = nullptr;
  ImFont* bold = nullptr;
  ImFont* title = nullptr;
  ImFont* mono = nullptr;
  // The editor canvas draws these at any zoom: rasterised larger than the panel fonts so that
  // text stays sharp when scaled (downsampling looks better than upsampling).
  ImFont* canvas_bold = nullptr;
  ImFont* canvas_regular = nullptr;
  ImFont* canvas_mono = nullptr;
  ImFont* canvas_serif = nullptr;  // the circuit diagrams' symbols (L, d, h)
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
inline constexpr ImU32 kBackground = rgb(0x111318);  // behind everything
inline constexpr ImU32 kPanel = rgb(0x171a21);       // the table, panels
inline constexpr ImU32 kHeader = rgb(0x1f232c);      // table header, title bar
inline constexpr ImU32 kBorder = rgb(0x2a2f3a);
inline constexpr ImU32 kText = rgb(0xd9dee8);
inline constexpr ImU32 kTextDim = rgb(0x8a93a5);
inline constexpr ImU32 kAccent = rgb(0x5aa9f0);
inline constexpr ImU32 kOk = rgb(0x6cc38b);
inline constexpr ImU32 kWarning = rgb(0xe5a14a);
inline constexpr ImU32 kError = rgb(0xe7625a);
// The editor canvas.
inline constexpr ImU32 kCanvas = rgb(0x13161c);
inline constexpr ImU32 kGridMinor = rgb(0x1a1e26);
inline constexpr ImU32 kGridMajor = rgb(0x20252f);
inline constexpr ImU32 kNodeBody = rgb(0x1e222b);
inline constexpr ImU32 kNodeBorder = rgb(0x313847);
inline constexpr ImU32 kLink = rgb(0x66718a);
inline constexpr ImU32 kPort = rgb(0x9aa6bd);
}  // namespace palette

ImU32 category_color(const std::string& category);

}  // namespace fw::gui
