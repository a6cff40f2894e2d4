// views::Canvas over an ImGui draw list: how the screen draws the pictures of views/ (the editor's
// graph, the circuit diagrams). Output units are screen pixels.
//
// - Text: Fonts' canvas faces (rasterised at 22 px per unit of content scale and drawn scaled;
//   ImGui's default font where one is missing), placed by the top-left of the line box as
//   ImDrawList::AddText places it; Center and Right alignment by views::text_width.
// - Shapes: ImGui's anti-aliased primitives (a stroked rectangle or circle lies inside its edge,
//   as ImDrawList::AddRect/AddCircle draw it); Béziers in clamp(chord / 14 px, 3, 24) segments;
//   dashed strokes cut into dashes of 3 and gaps of 2 line widths.
// - Clips nest and intersect with the draw list's clip rectangle (PushClipRect(intersect = true)).
//   Text under a clip is cut glyph by glyph (AddText's fine clip) and the draw list's rectangle is
//   pushed only when a shape is drawn under the clip, so a clip around a node's text costs no
//   draw call.
// - Images: textures from a TextureCache by Image::key (nearest or bilinear as the Image asks);
//   with no GL context the rectangle is filled as draw_texture() fills it.
// - Groups only nest; they draw nothing. The destructor asserts that clips and groups balanced.
#pragma once
#include <imgui.h>

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "app/gui/style.h"
#include "app/gui/texture.h"
#include "views/canvas.h"

namespace fw::gui {

// Textures of the images drawn through ImGuiCanvas. An image with a key is uploaded when its key
// is first drawn (again when its size or filter changes) and freed once a whole frame has passed
// without drawing it; an image with key 0 is uploaded each time it is drawn and freed the next
// frame. Frames are ImGui's frame count; one thread (the UI's).
class TextureCache {
 public:
  // The texture for `img` this frame (valid until the next call).
  const Texture& get(const views::Image& img);
  // Frees what the frames before this one no longer draw (once a frame; every ImGuiCanvas calls
  // it when made).
  void collect();
  size_t size() const { return keyed_.size() + transient_.size(); }

 private:
  struct Entry {
    Texture texture;
    bool smooth = true;
    int used = 0;
  };
  std::unordered_map<uint64_t, Entry> keyed_;
  std::vector<std::pair<int, Texture>> transient_;  // frame drawn, texture
  int frame_ = -1;
};
TextureCache& texture_cache();  // the GUI's

class ImGuiCanvas final : public views::Canvas {
 public:
  ImGuiCanvas(ImDrawList* dl, const Fonts& fonts, TextureCache& textures = texture_cache());
  ~ImGuiCanvas() override;
  ImGuiCanvas(const ImGuiCanvas&) = delete;
  ImGuiCanvas& operator=(const ImGuiCanvas&) = delete;

  void line(views::Vec2 a, views::Vec2 b, const views::Stroke& s) override;
  void polyline(const std::vector<views::Vec2>& points, const views::Stroke& s,
                bool closed = false) override;
  void bezier(views::Vec2 p0, views::Vec2 p1, views::Vec2 p2, views::Vec2 p3,
              const views::Stroke& s) override;
  void rect(views::Vec2 min, views::Vec2 max, views::Color fill, const views::Stroke& s,
            float rounding = 0, uint8_t corners = views::kCornersAll) override;
  void circle(views::Vec2 centre, float radius, views::Color fill, const views::Stroke& s) override;
  void polygon(const std::vector<views::Vec2>& points, views::Color fill,
               const views::Stroke& s) override;
  void text(views::Vec2 pos, std::string_view utf8, const views::Font& f, views::Color c,
            views::Align align = views::Align::Left) override;
  void image(views::Vec2 min, views::Vec2 max, const views::Image& img) override;
  void push_clip(views::Vec2 min, views::Vec2 max) override;
  void pop_clip() override;
  void begin_group(std::string_view id) override;
  void end_group() override;

 private:
  ImFont* font(views::FontFace face) const;
  // Pushes the clips not yet on the draw list (before a shape is drawn).
  void apply_clips();
  // Strokes the draw list's current path (ImGui's or, when dashed, cut into dashes) and clears it.
  void stroke_path(const views::Stroke& s, bool closed);

  struct PendingClip {
    ImVec4 rect;  // intersected with everything under it
    bool pushed = false;
  };
  ImDrawList* dl_;
  const Fonts& fonts_;
  TextureCache& textures_;
  std::vector<PendingClip> clips_;
  int groups_ = 0;
};

}  // namespace fw::gui
