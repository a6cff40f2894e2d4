// Internals shared by editor_canvas.cpp (geometry, input, commands) and editor_canvas_draw.cpp
// (drawing, tooltips, menus). Not part of the canvas's interface.
#pragma once
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "app/gui/app_state.h"

namespace fw::gui::detail {

inline constexpr float kMinZoom = 0.04f, kMaxZoom = 3.0f;
inline constexpr float kLinkLabelSize = 11.5f;
inline constexpr float kDetailZoom = 0.2f;     // below: boxes only (no text, ports, rounding)
inline constexpr float kFullZoom = 0.8f;       // from here: every line of a node; below: title and
                                               // shape, drawn larger than the zoom (semantic zoom)
inline constexpr float kReadableZoom = 0.55f;  // a level is first shown at least this close
inline constexpr double kRefusalSeconds = 6.0;

inline ImU32 with_alpha(ImU32 c, float a) {
  return (c & ~IM_COL32_A_MASK) | (static_cast<ImU32>(a * 255.0f) << IM_COL32_A_SHIFT);
}

inline ImU32 mix(ImU32 a, ImU32 b, float t) {  // a*(1-t) + b*t
  auto ch = [&](int shift) {
    const float x = static_cast<float>((a >> shift) & 0xFF),
                y = static_cast<float>((b >> shift) & 0xFF);
    return static_cast<ImU32>(x + (y - x) * t + 0.5f) << shift;
  };
  return ch(IM_COL32_R_SHIFT) | ch(IM_COL32_G_SHIFT) | ch(IM_COL32_B_SHIFT) |
         (0xFFu << IM_COL32_A_SHIFT);
}

inline float dist2(ImVec2 a, ImVec2 b) {
  return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y);
}

inline ImVec2 bezier(ImVec2 p0, ImVec2 p1, ImVec2 p2, ImVec2 p3, float t) {
  const float u = 1 - t;
  const float a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
  return ImVec2(a * p0.x + b * p1.x + c * p2.x + d * p3.x,
                a * p0.y + b * p1.y + c * p2.y + d * p3.y);
}

inline int segments_for(ImVec2 a, ImVec2 b) {
  const float len = std::sqrt(dist2(a, b));
  return std::clamp(static_cast<int>(len / 14.0f), 3, 24);
}

// Pastes `frag` under the shown level: with `absolute`, its top-left root at (x, y); else moved
// by (dx, dy). Roots are renamed where their names are taken. One undo step named `label`.
EditResult paste_at(AppState& app, const std::string& frag, float x, float y, bool absolute,
                    float dx, float dy, const std::string& label);

}  // namespace fw::gui::detail
