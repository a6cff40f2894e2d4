// Internals shared by editor_canvas.cpp (geometry, input, commands) and editor_canvas_draw.cpp
// (drawing, tooltips, menus). Not part of the canvas's interface.
#pragma once
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "app/gui/app_state.h"
#include "views/canvas.h"
#include "views/graph_diagram.h"
#include "views/graph_style.h"
#include "views/scene.h"

namespace fw::gui::detail {

using views::kDetailZoom;
using views::mix;
using views::Scene;
using views::SceneItem;
using views::SceneLink;
using views::ScenePort;

inline constexpr float kMinZoom = 0.04f, kMaxZoom = 3.0f;
inline constexpr float kReadableZoom = 0.55f;  // a level is first shown at least this close
inline constexpr double kRefusalSeconds = 6.0;

inline ImU32 with_alpha(ImU32 c, float a) {
  return (c & ~IM_COL32_A_MASK) | (static_cast<ImU32>(a * 255.0f) << IM_COL32_A_SHIFT);
}

inline float dist2(ImVec2 a, ImVec2 b) {
  return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y);
}

inline ImVec2 bezier(views::Vec2 p0, views::Vec2 p1, views::Vec2 p2, views::Vec2 p3, float t) {
  const float u = 1 - t;
  const float a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
  return ImVec2(a * p0.x + b * p1.x + c * p2.x + d * p3.x,
                a * p0.y + b * p1.y + c * p2.y + d * p3.y);
}

// Pastes `frag` under the shown level: with `absolute`, its top-left root at (x, y); else moved
// by (dx, dy). Roots are renamed where their names are taken. One undo step named `label`.
EditResult paste_at(AppState& app, const std::string& frag, float x, float y, bool absolute,
                    float dx, float dy, const std::string& label);

}  // namespace fw::gui::detail
