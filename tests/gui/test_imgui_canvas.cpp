// ImGuiCanvas (app/gui/imgui_canvas.h): what its calls put in an ImGui draw list, headless.
#include <gtest/gtest.h>
#include <imgui.h>

#include <vector>

#include "app/gui/imgui_canvas.h"
#include "tests/gui/ui_driver.h"
#include "views/canvas.h"

using fw::gui::ImGuiCanvas;
using fw::gui::TextureCache;
using fw::gui::testing::UiDriver;
namespace v = fw::views;

namespace {

// Runs `draw` on a window's draw list inside one ImGui frame.
template <class F>
void in_frame(F draw) {
  ImGui::NewFrame();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(400, 300));
  ImGui::Begin("canvas test");
  draw(ImGui::GetWindowDrawList());
  ImGui::End();
  ImGui::Render();
}

bool same_rect(const ImVec4& a, const ImVec4& b) {
  return a.x == b.x && a.y == b.y && a.z == b.z && a.w == b.w;
}

}  // namespace

TEST(ImGuiCanvas, AClipCostsADrawCommandOnlyUnderAShape) {
  UiDriver ui;
  in_frame([&](ImDrawList* dl) {
    ImGuiCanvas c(dl, ui.fonts);
    c.rect({10, 10}, {20, 20}, v::rgba(255, 0, 0), {});  // something in the current command
    const int cmds = dl->CmdBuffer.Size;
    const ImVec4 outer = dl->CmdBuffer.back().ClipRect;
    c.push_clip({50, 60}, {90, 80});
    c.text({52, 62}, "clipped text", {v::FontFace::Sans, 14}, v::rgba(255, 255, 255));
    EXPECT_EQ(dl->CmdBuffer.Size, cmds);  // text is cut glyph by glyph
    EXPECT_TRUE(same_rect(dl->CmdBuffer.back().ClipRect, outer));
    c.push_clip({70, 0}, {200, 200});  // nested: the intersection
    c.rect({55, 65}, {85, 75}, v::rgba(0, 255, 0), {});
    EXPECT_TRUE(same_rect(dl->CmdBuffer.back().ClipRect, ImVec4(70, 60, 90, 80)));
    c.pop_clip();
    c.pop_clip();
    c.rect({10, 10}, {20, 20}, v::rgba(0, 0, 255), {});
    EXPECT_TRUE(same_rect(dl->CmdBuffer.back().ClipRect, outer));
  });
}

TEST(ImGuiCanvas, DashedStrokesAreCutIntoDashes) {
  UiDriver ui;
  in_frame([&](ImDrawList* dl) {
    ImGuiCanvas c(dl, ui.fonts);
    int before = dl->VtxBuffer.Size;
    c.line({0, 10}, {100, 10}, {v::rgba(255, 255, 255), 2, false});
    const int solid = dl->VtxBuffer.Size - before;
    before = dl->VtxBuffer.Size;
    c.line({0, 20}, {100, 20}, {v::rgba(255, 255, 255), 2, true});
    const int dashed = dl->VtxBuffer.Size - before;
    // 100 px in dashes of 6 and gaps of 4: 10 dashes, each drawn like the solid line.
    EXPECT_EQ(dashed, 10 * solid);
    // Nothing for no colour.
    before = dl->VtxBuffer.Size;
    c.rect({0, 0}, {10, 10}, v::kNone, {});
    c.text({0, 0}, "", {}, v::rgba(255, 255, 255));
    EXPECT_EQ(dl->VtxBuffer.Size, before);
  });
}

TEST(ImGuiCanvas, ImagesAreCachedByKeyAndFreedWhenNoLongerDrawn) {
  UiDriver ui;
  TextureCache cache;
  const std::vector<uint8_t> px(4 * 3 * 2, 200);
  const v::Image keyed{3, 2, px.data(), 42, false}, once{3, 2, px.data(), 0, true};
  in_frame([&](ImDrawList* dl) {
    ImGuiCanvas c(dl, ui.fonts, cache);
    c.image({0, 0}, {30, 20}, keyed);
    c.image({40, 0}, {70, 20}, keyed);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.get(keyed).width(), 3);
    c.image({0, 30}, {30, 50}, once);
    EXPECT_EQ(cache.size(), 2u);
  });
  in_frame([&](ImDrawList* dl) {
    ImGuiCanvas c(dl, ui.fonts, cache);  // the next frame: the key-0 image is gone
    EXPECT_EQ(cache.size(), 1u);
    c.image({0, 0}, {30, 20}, keyed);
  });
  in_frame([&](ImDrawList* dl) { ImGuiCanvas c(dl, ui.fonts, cache); });  // not drawn
  EXPECT_EQ(cache.size(), 1u);  // drawn the frame before: kept
  in_frame([&](ImDrawList* dl) { ImGuiCanvas c(dl, ui.fonts, cache); });
  EXPECT_EQ(cache.size(), 0u);
}
