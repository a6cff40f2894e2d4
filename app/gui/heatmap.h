// Heat maps on screen: colour maps, map and overlay images (for app/gui/texture.h), and the
// colour scale drawn beside a map with its values.
//
// - Colormap: Turbo (views/image.h's), Viridis and Magma (matplotlib's, polynomial fits), Gray.
// - map_image(): one pixel per cell, values scaled from lo..hi to the colour map (hi <= lo: all 0).
// - overlay_image(): `base` (W x H) with `s` (an H x W saliency, e.g. views/faithfulness.h
//   saliency()) scaled by its max to 0..1, colour-mapped and blended with weight `alpha`
//   (pytorch-grad-cam's show_cam_on_image).
// - draw_color_scale(): a vertical bar at the cursor (an item of `size`), lo at the bottom and
//   hi at the top, with a few values written beside it and a title above.
// - text_error(): "⚠ what: why" in the error colour, wrapped (a view's failure, where its result
//   would be).
// - report_map(): a map drawn at a..b, in the frame report's "map" list (app/gui/ui_probe.h; flag
//   `stale` while it is being recomputed).
#pragma once
#include <imgui.h>

#include <array>
#include <cstdint>
#include <string>

#include "app/gui/style.h"
#include "core/image_io.h"
#include "views/image.h"
#include "views/view_pictures.h"

namespace fw::gui {

enum class Colormap { Turbo, Viridis, Magma, Gray };
inline constexpr const char* kColormapNames[] = {"turbo", "viridis", "magma", "gray"};
std::array<uint8_t, 3> colormap(Colormap c, float x);
ImU32 colormap_u32(Colormap c, float x);

Image map_image(const float* m, int64_t h, int64_t w, Colormap c, float lo, float hi);
// hi > 0: scaled by hi instead of the map's own max (maps that share a colour scale).
Image overlay_image(const Image& base, const float* s, Colormap c, float alpha, float hi = 0);
// An 8-bit image (1 or 3 channels) as RGB.
Image rgb_image(const Image8& img);
// min and max of n values (0, 0 for none).
void value_range(const float* v, int64_t n, float* lo, float* hi);

void draw_color_scale(const char* id, const std::string& title, Colormap c, float lo, float hi,
                      ImVec2 size, const Fonts& fonts);

void text_error(const std::string& what, const std::string& why);
void report_map(const std::string& id, ImVec2 a, ImVec2 b, const std::string& text, bool stale);
// What a view picture drew (views/view_pictures.h PictureItem), in the frame report.
void report_item(const views::PictureItem& it);

}  // namespace fw::gui
