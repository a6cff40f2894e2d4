#include "app/gui/style.h"

#include <cstdio>
#include <filesystem>

namespace fw::gui {

namespace {

// Base sizes in pixels at content scale 1.
constexpr float kFontSize = 15.0f;
constexpr float kTitleSize = 19.0f;
constexpr float kMonoSize = 14.0f;
constexpr float kCanvasFontSize = 22.0f;  // node text is drawn scaled down from this

// Latin-1 plus the few symbols the views use: – — ’ “ ” • … → ✓ ⚠ × · › ▸ ▾ ← ↑ ↓ ✕ ↶ ↷ ◆ ≤
const ImWchar* glyph_ranges() {
  static ImVector<ImWchar> ranges;
  if (ranges.empty()) {
    ImFontGlyphRangesBuilder builder;
    builder.AddRanges(ImGui::GetIO().Fonts->GetGlyphRangesDefault());
    for (ImWchar c :
         {0x2013, 0x2014, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026, 0x2192, 0x2713, 0x26A0, 0x203A,
          0x25B8, 0x25BE, 0x2190, 0x2191, 0x2193, 0x2715, 0x21B6, 0x21B7, 0x25B6, 0x25A0, 0x25CF,
          0x25C6, 0x275A, 0x2605, 0x2299, 0x2212, 0x2264, 0x0304, 0x0305})  // ◆ ★ ⊙ − ≤ the bars
      builder.AddChar(c);
    for (ImWchar c = 0x0391; c <= 0x03C9; ++c) builder.AddChar(c);  // Greek (γ, σ)
    builder.BuildRanges(&ranges);
  }
  return ranges.Data;
}

ImFont* add_font(const char* file, float size_px) {
  const std::string path = std::string(FORMWORK_FONT_DIR) + "/" + file;
  ImGuiIO& io = ImGui::GetIO();
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr,
                 "formwork: warning: font %s not found (install fonts-dejavu-core); "
                 "using ImGui's built-in font\n",
                 path.c_str());
    ImFontConfig cfg;
    cfg.SizePixels = size_px;
    return io.Fonts->AddFontDefault(&cfg);
  }
  ImFontConfig cfg;
  cfg.OversampleH = 2;
  cfg.OversampleV = 1;
  return io.Fonts->AddFontFromFileTTF(path.c_str(), size_px, &cfg, glyph_ranges());
}

ImVec4 v4(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(c); }
ImVec4 v4(unsigned hex, float alpha) {
  ImVec4 c = v4(palette::rgb(hex));
  c.w = alpha;
  return c;
}

}  // namespace

Fonts load_fonts(float scale) {
  Fonts f;
  f.regular = add_font("DejaVuSans.ttf", kFontSize * scale);  // first font = default
  f.bold = add_font("DejaVuSans-Bold.ttf", kFontSize * scale);
  f.title = add_font("DejaVuSans-Bold.ttf", kTitleSize * scale);
  f.mono = add_font("DejaVuSansMono.ttf", kMonoSize * scale);
  f.canvas_bold = add_font("DejaVuSans-Bold.ttf", kCanvasFontSize * scale);
  f.canvas_regular = add_font("DejaVuSans.ttf", kCanvasFontSize * scale);
  f.canvas_mono = add_font("DejaVuSansMono.ttf", kCanvasFontSize * scale);
  f.canvas_mono_bold = add_font("DejaVuSansMono-Bold.ttf", kCanvasFontSize * scale);
  f.canvas_serif = add_font("DejaVuSerif.ttf", kCanvasFontSize * scale);
  f.canvas_serif_bold = add_font("DejaVuSerif-Bold.ttf", kCanvasFontSize * scale);
  f.scale = scale;
  return f;
}

void apply_style(float scale) {
  ImGuiStyle& s = ImGui::GetStyle();
  s = ImGuiStyle();
  s.WindowPadding = ImVec2(14, 12);
  s.FramePadding = ImVec2(8, 4);
  s.CellPadding = ImVec2(8, 4);
  s.ItemSpacing = ImVec2(10, 6);
  s.ItemInnerSpacing = ImVec2(6, 4);
  s.IndentSpacing = 16;
  s.ScrollbarSize = 12;
  s.GrabMinSize = 10;
  s.WindowBorderSize = 0;
  s.ChildBorderSize = 1;
  s.PopupBorderSize = 1;
  s.FrameBorderSize = 0;
  s.WindowRounding = 0;
  s.ChildRounding = 4;
  s.FrameRounding = 4;
  s.PopupRounding = 4;
  s.ScrollbarRounding = 6;
  s.GrabRounding = 4;
  s.TabRounding = 4;
  s.ScaleAllSizes(scale);

  using namespace palette;
  ImVec4* c = s.Colors;
  c[ImGuiCol_Text] = v4(kText);
  c[ImGuiCol_TextDisabled] = v4(kTextDim);
  c[ImGuiCol_WindowBg] = v4(kBackground);
  c[ImGuiCol_ChildBg] = v4(kPanel);
  c[ImGuiCol_PopupBg] = v4(0x1b1f27, 0.98f);
  c[ImGuiCol_Border] = v4(kBorder);
  c[ImGuiCol_BorderShadow] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_FrameBg] = v4(0x232833, 1.0f);
  c[ImGuiCol_FrameBgHovered] = v4(0x2b3140, 1.0f);
  c[ImGuiCol_FrameBgActive] = v4(0x323a4b, 1.0f);
  c[ImGuiCol_TitleBg] = v4(kHeader);
  c[ImGuiCol_TitleBgActive] = v4(kHeader);
  c[ImGuiCol_TitleBgCollapsed] = v4(kHeader);
  c[ImGuiCol_MenuBarBg] = v4(kHeader);
  c[ImGuiCol_ScrollbarBg] = v4(kPanel);
  c[ImGuiCol_ScrollbarGrab] = v4(0x394150, 1.0f);
  c[ImGuiCol_ScrollbarGrabHovered] = v4(0x465064, 1.0f);
  c[ImGuiCol_ScrollbarGrabActive] = v4(0x56627a, 1.0f);
  c[ImGuiCol_CheckMark] = v4(kAccent);
  c[ImGuiCol_SliderGrab] = v4(kAccent);
  c[ImGuiCol_SliderGrabActive] = v4(0x7bbcf5, 1.0f);
  c[ImGuiCol_Button] = v4(0x252b37, 1.0f);
  c[ImGuiCol_ButtonHovered] = v4(0x2f3747, 1.0f);
  c[ImGuiCol_ButtonActive] = v4(0x3a4560, 1.0f);
  c[ImGuiCol_Header] = v4(0x5aa9f0, 0.22f);  // selected tree row
  c[ImGuiCol_HeaderHovered] = v4(0x5aa9f0, 0.14f);
  c[ImGuiCol_HeaderActive] = v4(0x5aa9f0, 0.30f);
  c[ImGuiCol_Separator] = v4(kBorder);
  c[ImGuiCol_SeparatorHovered] = v4(kAccent);
  c[ImGuiCol_SeparatorActive] = v4(kAccent);
  c[ImGuiCol_ResizeGrip] = v4(0x5aa9f0, 0.15f);
  c[ImGuiCol_ResizeGripHovered] = v4(0x5aa9f0, 0.45f);
  c[ImGuiCol_ResizeGripActive] = v4(0x5aa9f0, 0.70f);
  c[ImGuiCol_Tab] = v4(kHeader);
  c[ImGuiCol_TabHovered] = v4(0x2f3a4d, 1.0f);
  c[ImGuiCol_TabActive] = v4(0x2a3446, 1.0f);
  c[ImGuiCol_TabUnfocused] = v4(kHeader);
  c[ImGuiCol_TabUnfocusedActive] = v4(0x242b38, 1.0f);
  c[ImGuiCol_PlotLines] = v4(kAccent);
  c[ImGuiCol_PlotHistogram] = v4(kAccent);
  c[ImGuiCol_TableHeaderBg] = v4(kHeader);
  c[ImGuiCol_TableBorderStrong] = v4(kBorder);
  c[ImGuiCol_TableBorderLight] = v4(0x222731, 1.0f);
  c[ImGuiCol_TableRowBg] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_TableRowBgAlt] = v4(0xffffff, 0.025f);
  c[ImGuiCol_TextSelectedBg] = v4(0x5aa9f0, 0.35f);
  c[ImGuiCol_NavHighlight] = v4(kAccent);
  c[ImGuiCol_ModalWindowDimBg] = v4(0x000000, 0.55f);
}

}  // namespace fw::gui
