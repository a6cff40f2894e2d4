// The canvas's drawing: the grid, the scene (views/graph_diagram.h draw_graph_scene on an
// ImGuiCanvas: frames, boxes, ports, links with their shape labels), overlays (box selection, the
// link being dragged, a refusal at its port), tooltips and context menus.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "app/gui/editor_canvas.h"
#include "app/gui/editor_canvas_internal.h"
#include "app/gui/imgui_canvas.h"
#include "app/gui/ui_probe.h"
#include "app/panels/palette.h"
#include "core/format.h"
#include "views/node_geometry.h"
#include "views/tee_canvas.h"

namespace fw::gui {

using namespace detail;
using views::kNodeHeaderHeight;
using views::node_title;
using views::shape_text;

// The frame report (ui_probe.h): a node as drawn, clipped to the canvas, with the colour painted
// solid over f0..f1 (the header, or the whole box).
void EditorCanvas::report_node(const AppState& app, const SceneItem& it, ImVec2 p0, ImVec2 p1,
                               ImVec2 f0, ImVec2 f1, ImU32 fill) const {
  auto clip = [&](ImVec2 q) {
    return ImVec2(std::clamp(q.x, min_.x, max_.x), std::clamp(q.y, min_.y, max_.y));
  };
  probe::Drawn d;
  d.list = "node";
  const bool boundary = it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out;
  const bool selected = !boundary && app.editor.selected(it.id);
  d.id =
      boundary ? (it.kind == SceneItem::Kind::In ? "<in>" : "<out>") : app.doc.graph().path(it.id);
  d.text = it.title;
  d.min = clip(p0);
  d.max = clip(p1);
  d.fill_min = clip(f0);
  d.fill_max = clip(f1);
  d.fill = fill;
  d.flag("selected", selected)
      .flag("open", it.kind == SceneItem::Kind::Frame)
      .flag("container", it.container && !boundary)
      .flag("problem", it.problem)
      .flag("problem_inside", it.problem_inside)
      .flag("boundary", boundary);
  probe::drawn(std::move(d));
}

// The choices badge of a node (views/scene.h): its rectangle, its count, its accent ink.
void EditorCanvas::report_badge(const AppState& app, const SceneItem& it,
                                const views::ItemDrawn& d) const {
  auto clip = [&](views::Vec2 q) {
    return ImVec2(std::clamp(q.x, min_.x, max_.x), std::clamp(q.y, min_.y, max_.y));
  };
  probe::Drawn b;
  b.list = "badge";
  b.id = app.doc.graph().path(it.id);
  b.text = it.badge;
  b.min = clip(d.badge_min);
  b.max = clip(d.badge_max);
  if (b.max.x <= b.min.x || b.max.y <= b.min.y) return;  // outside the canvas
  b.count = it.choices;
  b.ink = palette::kAccent;
  probe::drawn(std::move(b));
}

// ---- Drawing
// -------------------------------------------------------------------------------------

void EditorCanvas::draw_grid(ImDrawList* dl) const {
  dl->AddRectFilled(min_, max_, palette::kCanvas);
  float step = 32 * z_;
  if (step < 10) step *= 5;  // only the major lines when zoomed out
  if (step < 10) return;
  const float major = 32 * 5 * z_;
  auto lines = [&](float s, ImU32 col) {
    const float x_start = origin_.x + std::ceil((min_.x - origin_.x) / s) * s;
    for (float x = x_start; x < max_.x; x += s)
      dl->AddLine(ImVec2(x, min_.y), ImVec2(x, max_.y), col);
    const float y_start = origin_.y + std::ceil((min_.y - origin_.y) / s) * s;
    for (float y = y_start; y < max_.y; y += s)
      dl->AddLine(ImVec2(min_.x, y), ImVec2(max_.x, y), col);
  };
  if (step < major * 0.99f) lines(step, palette::kGridMinor);
  if (major >= 10) lines(major, palette::kGridMajor);
}

void EditorCanvas::draw_scene(ImDrawList* dl, const AppState& app) {
  views::GraphDrawState st;
  st.transform = {{origin_.x, origin_.y}, z_};
  st.zoom = z_ / scale_;  // this frame's zoom (the level may have changed under the gesture)
  st.content_scale = scale_;
  st.view_min = {min_.x, min_.y};
  st.view_max = {max_.x, max_.y};
  st.selection = &app.editor.selection;
  st.selected_link = selected_link_;
  st.hover_link = hover_link_;
  st.hover_port = hover_port_;
  st.pressed_port = gesture_ == Gesture::Link ? press_port_ : -1;
  if (gesture_ == Gesture::Move) {
    st.moving = &moving_;
    st.move_offset = {move_delta_.x, move_delta_.y};
  }
  if (probe::enabled())
    st.drawn = [&](int item, const views::ItemDrawn& d) {
      report_node(app, scene_.items[item], ImVec2(d.min.x, d.min.y), ImVec2(d.max.x, d.max.y),
                  ImVec2(d.fill_min.x, d.fill_min.y), ImVec2(d.fill_max.x, d.fill_max.y), d.fill);
      if (d.badge_max.x > d.badge_min.x) report_badge(app, scene_.items[item], d);
    };
  ImGuiCanvas screen(dl, *ui_fonts_);
  if (tee_) {
    views::TeeCanvas both(screen, *tee_);
    views::draw_graph_scene(both, scene_, st);
  } else {
    views::draw_graph_scene(screen, scene_, st);
  }
}

void EditorCanvas::draw_overlays(ImDrawList* dl, AppState& app) {
  drawn_refusal_.clear();
  const ImVec2 m = ImGui::GetIO().MousePos;
  if (gesture_ == Gesture::Box) {
    const ImVec2 a(std::min(press_pos_.x, m.x), std::min(press_pos_.y, m.y));
    const ImVec2 b(std::max(press_pos_.x, m.x), std::max(press_pos_.y, m.y));
    dl->AddRectFilled(a, b, with_alpha(palette::kAccent, 0.10f));
    dl->AddRect(a, b, with_alpha(palette::kAccent, 0.8f));
  }
  if (gesture_ == Gesture::Link && press_port_ >= 0) {
    const ScenePort& p = scene_.ports[press_port_];
    const ImVec2 s = port_screen(press_port_);
    ImVec2 t = m;
    if (hover_port_ >= 0) t = port_screen(hover_port_);
    const ImVec2 from = p.left ? t : s, to = p.left ? s : t;
    const ImVec2 cf = to_canvas(from), ct = to_canvas(to);
    const views::LinkCurve c = views::link_curve({cf.x, cf.y}, {ct.x, ct.y}, false, 0);
    dl->AddBezierCubic(to_screen(c.p[0].x, c.p[0].y), to_screen(c.p[1].x, c.p[1].y),
                       to_screen(c.p[2].x, c.p[2].y), to_screen(c.p[3].x, c.p[3].y),
                       palette::kAccent, std::max(1.6f, 2.4f * z_));
  }
  // The last refusal, at its port.
  Refusal& f = app.editor.refusal;
  if (f.until > 0 && ImGui::GetTime() > f.until) f = {};
  if (f.until > 0 && !f.reason.empty()) {
    ImVec2 at = to_screen(f.x, f.y);
    const int item = f.node != kNoNode ? scene_.find(f.node) : -1;
    if (item >= 0) {
      const SceneItem& it = scene_.items[item];
      at = to_screen(it.x0, it.y0 + kNodeHeaderHeight * 0.5f);
      if (f.port >= 0) {
        const int index =
            f.group_output ? it.port_begin + it.inputs + f.port : it.port_begin + f.port;
        if (index < it.port_begin + it.inputs + it.outputs) at = port_screen(index);
      }
    } else if (f.node != kNoNode && f.node == scene_container_ && scene_.out_item >= 0) {
      const SceneItem& it = scene_.items[scene_.out_item];
      at = port_screen(it.port_begin + std::max(0, std::min(f.port, it.inputs - 1)));
    }
    ImFont* font = ui_fonts_ && ui_fonts_->regular ? ui_fonts_->regular : ImGui::GetFont();
    const float size = font->FontSize;
    const float wrap = 340 * scale_;
    const std::string text = "\xE2\x9A\xA0 " + f.reason;  // ⚠
    const ImVec2 ts = font->CalcTextSizeA(size, FLT_MAX, wrap, text.c_str());
    const float pad = 8 * scale_;
    ImVec2 q0(at.x - 12 * scale_, at.y + 12 * scale_);
    q0.x = std::clamp(q0.x, min_.x + 4, std::max(min_.x + 4, max_.x - ts.x - 2 * pad - 4));
    q0.y = std::clamp(q0.y, min_.y + 4, std::max(min_.y + 4, max_.y - ts.y - 2 * pad - 4));
    const ImVec2 q1(q0.x + ts.x + 2 * pad, q0.y + ts.y + 2 * pad);
    dl->AddLine(at, ImVec2(q0.x + 12 * scale_, q0.y), palette::kError, 1.5f * scale_);
    dl->AddCircleFilled(at, 4 * scale_, palette::kError);
    dl->AddRectFilled(q0, q1, mix(palette::kBackground, palette::kError, 0.16f), 5 * scale_);
    dl->AddRect(q0, q1, palette::kError, 5 * scale_, 0, 1.2f * scale_);
    dl->AddText(font, size, ImVec2(q0.x + pad, q0.y + pad), palette::kText, text.c_str(), nullptr,
                wrap);
    drawn_refusal_ = f.reason;
  }
}

void EditorCanvas::tooltips(const AppState& app) const {
  if (!hovered_ || gesture_ != Gesture::None ||
      ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId))
    return;
  const Graph& g = app.doc.graph();
  const Fonts* f = ui_fonts_;
  if (hover_port_ >= 0) {
    const ScenePort& p = scene_.ports[hover_port_];
    const SceneItem& it = scene_.items[p.item];
    const bool inside_view = it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out;
    ImGui::BeginTooltip();
    const char* role =
        inside_view ? (p.left ? "group output" : "group input") : (p.left ? "input" : "output");
    ImGui::Text("%s '%s'", role, p.name.c_str());
    if (f) ImGui::PushFont(f->mono);
    ImGui::TextUnformatted(p.shape.empty() ? "shape unknown" : p.shape.c_str());
    if (f) ImGui::PopFont();
    if (!p.connected) ImGui::TextDisabled("not connected \xE2\x80\x94 drag to a port to connect");
    ImGui::EndTooltip();
    return;
  }
  if (hover_link_ >= 0) {
    const SceneLink& l = scene_.links[hover_link_];
    ImGui::BeginTooltip();
    if (f) ImGui::PushFont(f->mono);
    ImGui::TextUnformatted(l.label.empty() ? "shape unknown" : l.label.c_str());
    if (f) ImGui::PopFont();
    ImGui::TextDisabled("click to select, Del to delete");
    ImGui::EndTooltip();
    return;
  }
  if (hover_item_ < 0 || hover_chevron_) {
    if (hover_chevron_) {
      ImGui::BeginTooltip();
      ImGui::TextUnformatted(app.editor.expanded.count(scene_.items[hover_item_].id)
                                 ? "Close in place (E)"
                                 : "Open in place (E); double-click to enter");
      ImGui::EndTooltip();
    }
    return;
  }
  const SceneItem& it = scene_.items[hover_item_];
  if (it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out) return;
  const Node* n = g.find(it.id);
  if (!n) return;
  const OpDef* def = find_op(n->kind);
  const NodeInfo* info = app.doc.analysis().of(it.id);
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
  if (f) ImGui::PushFont(f->mono);
  const std::string path = g.path(it.id);
  ImGui::TextUnformatted(path.empty() ? node_title(*n).c_str() : path.c_str());
  if (f) ImGui::PopFont();
  ImGui::TextDisabled("%s (%s)", def ? def->label.c_str() : n->kind.c_str(), n->kind.c_str());
  if (info) {
    for (size_t k = 0; k < info->out.size(); ++k)
      ImGui::Text("output %s", info->out[k].empty() ? "?" : shape_text(info->out[k]).c_str());
    ImGui::Text("%s params \xC2\xB7 %s MACs", format_count(info->params).c_str(),
                format_si(info->macs).c_str());
  }
  if (it.container)
    ImGui::TextDisabled("%zu children \xC2\xB7 double-click to enter", n->children.size());
  for (const Problem& p : app.doc.analysis().problems)
    if (p.node == it.id) {
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
      ImGui::TextUnformatted(("\xE2\x9A\xA0 " + p.message).c_str());
      ImGui::PopStyleColor();
    }
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

// ---- Menus
// ---------------------------------------------------------------------------------------

void EditorCanvas::context_menus(AppState& app, const Fonts& fonts) {
  if (open_ctx_) {
    open_ctx_ = false;
    ctx_filter_[0] = '\0';
    if (ctx_link_ >= 0)
      ImGui::OpenPopup("##link_menu");
    else if (ctx_item_ >= 0 && (scene_.items[ctx_item_].kind == SceneItem::Kind::Node ||
                                scene_.items[ctx_item_].kind == SceneItem::Kind::Frame))
      ImGui::OpenPopup("##node_menu");
    else
      ImGui::OpenPopup("##canvas_menu");
  }
  const bool locked = !locked_reason(app.doc.graph(), app.editor.container).empty();
  if (ImGui::BeginPopup("##node_menu")) {
    const int n_sel = static_cast<int>(app.editor.selection.size());
    const SceneItem* it = ctx_item_ >= 0 && ctx_item_ < static_cast<int>(scene_.items.size())
                              ? &scene_.items[ctx_item_]
                              : nullptr;
    if (it && it->container) {
      if (ImGui::MenuItem("Enter", "Enter")) enter_level(app, it->id);
      const bool open = app.editor.expanded.count(it->id) != 0;
      if (ImGui::MenuItem(open ? "Close in place" : "Open in place", "E"))
        app.editor.set_expanded(it->id, !open);
      ImGui::Separator();
    }
    if (ImGui::MenuItem("Rename\xE2\x80\xA6", "F2", false, n_sel == 1 && !locked))
      rename_selected(app);
    if (ImGui::MenuItem("Duplicate", "Ctrl+D", false, !locked)) duplicate(app);
    probe::note("menu:duplicate");
    if (ImGui::MenuItem("Copy", "Ctrl+C")) copy_selection(app);
    if (ImGui::MenuItem("Delete", "Del", false, !locked)) delete_selection(app);
    probe::note("menu:delete");
    if (locked) ImGui::TextDisabled("Built by its block: edit the block's attributes");
    ImGui::EndPopup();
  }
  if (ImGui::BeginPopup("##link_menu")) {
    if (ctx_link_ >= 0 && ctx_link_ < static_cast<int>(scene_.links.size())) {
      ImGui::PushFont(fonts.mono);
      ImGui::TextDisabled("%s", scene_.links[ctx_link_].label.c_str());
      ImGui::PopFont();
    }
    const bool del = ImGui::MenuItem("Delete link", "Del", false, !locked);
    probe::note("menu:delete_link");
    if (del) {
      selected_link_ = ctx_link_;
      delete_selection(app);
    }
    ImGui::EndPopup();
  }
  if (ImGui::BeginPopup("##canvas_menu")) {
    const bool add_open = ImGui::BeginMenu("Add node here", !locked);
    probe::note("menu:add");
    if (add_open) {
      if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 14);
      ImGui::InputTextWithHint("##add_filter", "Search", ctx_filter_, sizeof ctx_filter_);
      const std::vector<PaletteEntry>& entries = palette_entries();
      const float swatch = ImGui::GetFontSize() * 0.7f;
      auto item = [&](size_t i) {
        palette_swatch(entries[i].category, swatch);
        const bool chosen = ImGui::MenuItem(entries[i].label.c_str());
        if (probe::enabled()) probe::note("menu:add:" + entries[i].label);
        if (chosen) {
          add_entry(app, static_cast<int>(i), ctx_canvas_.x, ctx_canvas_.y);
          ImGui::CloseCurrentPopup();
        }
      };
      if (ctx_filter_[0]) {
        int shown = 0;
        for (size_t i = 0; i < entries.size() && shown < 30; ++i)
          if (palette_matches(entries[i], ctx_filter_)) item(i), ++shown;
        if (!shown) ImGui::TextDisabled("Nothing matches");
      } else {
        for (const std::string& section : palette_sections())
          if (ImGui::BeginMenu(section.c_str())) {
            for (size_t i = 0; i < entries.size(); ++i)
              if (entries[i].section == section) item(i);
            ImGui::EndMenu();
          }
      }
      ImGui::EndMenu();
    }
    const bool can_paste = !app.clipboard.empty() ||
                           (ImGui::GetClipboardText() && ImGui::GetClipboardText()[0] == '{');
    if (ImGui::MenuItem("Paste here", "Ctrl+V", false, can_paste && !locked)) {
      const std::string frag = app.clipboard;
      const EditResult r = paste_at(app, frag.empty() ? ImGui::GetClipboardText() : frag,
                                    ctx_canvas_.x, ctx_canvas_.y, true, 0, 0, "Paste");
      if (r.ok) app.editor.selection = std::set<NodeId>(r.created.begin(), r.created.end());
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Select all", "Ctrl+A")) select_all(app);
    if (ImGui::MenuItem("Arrange this level", "Ctrl+L")) arrange(app);
    if (ImGui::MenuItem("Frame all", "F")) app.editor.frame_all = true;
    if (ImGui::MenuItem("Up one level", "Esc", false, app.editor.container != kNoNode))
      up_level(app);
    ImGui::EndPopup();
  }
}

void EditorCanvas::rename_popup(AppState& app) {
  if (open_rename_) {
    open_rename_ = false;
    ImGui::OpenPopup("Rename node");
  }
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 22, 0));
  if (ImGui::BeginPopupModal("Rename node", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextDisabled("The name is the node's module-path segment (parameter names follow it).");
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    ImGui::SetNextItemWidth(-FLT_MIN);
    const bool enter = ImGui::InputText("##name", rename_buf_, sizeof rename_buf_,
                                        ImGuiInputTextFlags_EnterReturnsTrue);
    if (ImGui::Button("Rename") || enter) {
      const EditResult r = app.doc.rename(rename_id_, rename_buf_);
      if (!r.ok)
        refuse(app, r, rename_id_, -1);
      else
        app.status = {Message::Info, std::string("Renamed to ") + rename_buf_};
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
      ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

}  // namespace fw::gui
