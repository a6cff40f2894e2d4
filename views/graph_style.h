// The colours of the graph picture (views/graph_diagram.h): the editor's dark theme as far as a
// node, a link and the canvas under them need it, and one colour per op family. app/gui/style.h's
// palette and category_color() are these, so the screen and an export cannot drift apart.
//
// - Colours are views::Color (0xAABBGGRR, ImGui's IM_COL32 packing).
// - category_color(): the colour of an op category ("conv", "norm", ...; core/registry.h); an
//   unknown category gets kTextDim. Status colours (ok green, warning amber, error red) are kept
//   out of the categories.
#pragma once
#include <string_view>

#include "views/canvas.h"

namespace fw::views {

namespace graph_palette {
inline constexpr Color kBackground = rgb_hex(0x111318);  // behind everything
inline constexpr Color kHeader = rgb_hex(0x1f232c);      // headers; the shown group's ports
inline constexpr Color kText = rgb_hex(0xd9dee8);
inline constexpr Color kTextDim = rgb_hex(0x8a93a5);
inline constexpr Color kAccent = rgb_hex(0x5aa9f0);  // selection, the port under the mouse
inline constexpr Color kWarning = rgb_hex(0xe5a14a);
inline constexpr Color kError = rgb_hex(0xe7625a);
inline constexpr Color kCanvas = rgb_hex(0x13161c);  // under the nodes
inline constexpr Color kNodeBody = rgb_hex(0x1e222b);
inline constexpr Color kNodeBorder = rgb_hex(0x313847);
inline constexpr Color kLink = rgb_hex(0x66718a);
inline constexpr Color kPort = rgb_hex(0x9aa6bd);
}  // namespace graph_palette

Color category_color(std::string_view category);

// a*(1-t) + b*t per channel, rounded; opaque.
constexpr Color mix(Color a, Color b, float t) {
  auto ch = [&](unsigned x, unsigned y) {
    const float fx = static_cast<float>(x), fy = static_cast<float>(y);
    return static_cast<unsigned>(fx + (fy - fx) * t + 0.5f);
  };
  return rgba(ch(red(a), red(b)), ch(green(a), green(b)), ch(blue(a), blue(b)));
}

}  // namespace fw::views
