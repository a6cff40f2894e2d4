// views::Canvas over an ImGui draw list: how the views' drawing code (circuit diagrams, ...)
// reaches the screen. Coordinates are screen pixels; fonts are the canvas fonts of style.h
// (DejaVu, rasterised large and drawn scaled), so text measures as views/text_metrics.h says.
//
// - Dashed strokes are drawn as segments (ImGui has none); polygons must be convex (ImGui's fill).
// - Images are uploaded once per Image::key (key 0: every frame) and kept while the canvas's
//   texture cache lives (textures_ below: one per canvas object; make the canvas a member to
//   keep them across frames).
// - Groups draw nothing (a stack is kept so that begin/end stay balanced in debug checks).
#pragma once
#include <imgui.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/gui/style.h"
#include "app/gui/texture.h"
#include "views/canvas.h"

namespace fw::gui {

class ImGuiCanvas final : public views::Canvas {
 public:
  ImGuiCanvas(ImDrawList* dl, const Fonts& fonts) : dl_(dl), fonts_(fonts) {}
  ~ImGuiCanvas() override;

  void line(views::Vec2 a, views::Vec2 b, const views::Stroke& s) override;
  void polyline(const std::vector<views::Vec2>& points, const views::Stroke& s,
                bool closed) override;
  void bezier(views::Vec2 p0, views::Vec2 p1, views::Vec2 p2, views::Vec2 p3,
              const views::Stroke& s) override;
  void rect(views::Vec2 min, views::Vec2 max, views::Color fill, const views::Stroke& s,
            float rounding, uint8_t corners) override;
  void circle(views::Vec2 centre, float radius, views::Color fill, const views::Stroke& s) override;
  void polygon(const std::vector<views::Vec2>& points, views::Color fill,
               const views::Stroke& s) override;
  void text(views::Vec2 pos, std::string_view utf8, const views::Font& f, views::Color c,
            views::Align align) override;
  void image(views::Vec2 min, views::Vec2 max, const views::Image& img) override;
  void push_clip(views::Vec2 min, views::Vec2 max) override;
  void pop_clip() override;
  void begin_group(std::string_view id) override;
  void end_group() override;

 private:
  ImFont* font_for(views::FontFace face) const;
  void stroke_path(const std::vector<ImVec2>& pts, const views::Stroke& s, bool closed);

  ImDrawList* dl_;
  const Fonts& fonts_;
  int clips_ = 0, groups_ = 0;
  std::map<uint64_t, std::unique_ptr<Texture>> textures_;
  std::vector<std::unique_ptr<Texture>> frame_textures_;
};

}  // namespace fw::gui
