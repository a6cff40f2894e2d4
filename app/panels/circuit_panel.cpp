#include "app/panels/circuit_panel.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "app/gui/imgui_canvas.h"
#include "app/gui/ui_probe.h"
#include "app/panels/breadcrumb.h"
#include "core/error.h"
#include "views/picture_export.h"

namespace fw::gui {

namespace {

constexpr float kMinZoom = 0.1f, kMaxZoom = 6.0f;

}  // namespace

void CircuitPanel::rebuild(const AppState& app) {
  const Graph& g = app.doc.graph();
  NodeId level = app.editor.container;
  if (level != kNoNode && !g.contains(level)) level = kNoNode;
  if (circuit_ && revision_ == app.doc.revision() && generation_ == app.generation && level_ == level)
    return;
  if (level_ != level || generation_ != app.generation) fit_ = true;
  circuit_ = std::make_unique<views::Circuit>(views::build_circuit(g, app.doc.analysis(), level));
  revision_ = app.doc.revision();
  generation_ = app.generation;
  level_ = level;
}

const views::Circuit& CircuitPanel::circuit(const AppState& app) {
  rebuild(app);
  return *circuit_;
}

std::string CircuitPanel::export_picture(const AppState& app, const std::string& path) {
  const std::optional<views::PictureFormat> fmt = views::picture_format_for(path);
  if (!fmt) return "cannot export '" + path + "': the name must end in .svg, .pdf or .png";
  const views::PictureFormat f = *fmt;
  try {
    const views::Circuit& c = circuit(app);
    views::Picture p;
    p.size = {c.width, c.height};
    p.background = views::rgb_hex(0xffffff);
    p.draw = [&c](views::Canvas& cv, const views::Transform& t) { views::draw_circuit(cv, c, t); };
    views::export_picture(p, f, path, f == views::PictureFormat::Png ? static_cast<int>(std::ceil(c.width * 2)) : 0);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool CircuitPanel::screen_center(NodeId node, ImVec2& out) const {
  if (!circuit_) return false;
  for (const views::CircuitOp& o : circuit_->ops)
    if (o.node == node) {
      const views::Vec2 c = last_({(o.x0 + o.x1) / 2, (o.y0 + o.y1) / 2});
      return out = ImVec2(c.x, c.y), true;
    }
  for (const views::CircuitBlock& b : circuit_->blocks)
    if (b.node == node) {  // the title bar: inside the block, outside its body
      const views::Vec2 c = last_({b.x0 + 12, b.y0 + 8});
      return out = ImVec2(c.x, c.y), true;
    }
  return false;
}

bool CircuitPanel::draw(AppState& app, const Fonts& fonts, ImVec2 size) {
  rebuild(app);
  const views::Circuit& c = *circuit_;
  bool export_clicked = false;
  ImGui::BeginChild("circuit_view", size, false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  // Toolbar: the editor's breadcrumb, then zoom and export on the right.
  draw_breadcrumb(app, fonts);
  const ImGuiStyle& st = ImGui::GetStyle();
  const char* fit_label = "Fit";
  const char* export_label = "Export picture\xE2\x80\xA6";
  const float right = ImGui::CalcTextSize(fit_label).x + ImGui::CalcTextSize(export_label).x +
                      4 * st.FramePadding.x + st.ItemSpacing.x;
  ImGui::SameLine(std::max(ImGui::GetCursorPosX(), ImGui::GetWindowContentRegionMax().x - right));
  if (ImGui::Button(fit_label)) fit_ = true;
  ImGui::SameLine();
  if (ImGui::Button(export_label)) export_clicked = true;
  if (!c.note.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kWarning);
    ImGui::TextUnformatted(c.note.c_str());
    ImGui::PopStyleColor();
  }

  // The paper.
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const ImVec2 area(std::max(avail.x, 10.0f), std::max(avail.y, 10.0f));
  ImGui::InvisibleButton("##circuit_canvas", area,
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonMiddle);
  const bool hovered = ImGui::IsItemHovered();
  if (fit_) {
    zoom_ = std::clamp(std::min(area.x / std::max(c.width, 1.0f), area.y / std::max(c.height, 1.0f)),
                       kMinZoom, 2.0f);
    pan_ = ImVec2((area.x - c.width * zoom_) / 2, std::max(0.0f, (area.y - c.height * zoom_) / 2));
    fit_ = false;
  }
  ImGuiIO& io = ImGui::GetIO();
  if (hovered && io.MouseWheel != 0) {  // zoom about the pointer
    const float z = std::clamp(zoom_ * std::pow(1.15f, io.MouseWheel), kMinZoom, kMaxZoom);
    const ImVec2 m(io.MousePos.x - p0.x, io.MousePos.y - p0.y);
    pan_ = ImVec2(m.x - (m.x - pan_.x) * z / zoom_, m.y - (m.y - pan_.y) * z / zoom_);
    zoom_ = z;
  }
  if (ImGui::IsItemActive() && (ImGui::IsMouseDragging(ImGuiMouseButton_Left, 3) ||
                                ImGui::IsMouseDragging(ImGuiMouseButton_Middle, 0))) {
    pan_.x += io.MouseDelta.x;
    pan_.y += io.MouseDelta.y;
  }
  const views::Transform t{{p0.x + pan_.x, p0.y + pan_.y}, zoom_};
  last_ = t;
  const auto to_diagram = [&](ImVec2 s) {
    return views::Vec2{(s.x - t.origin.x) / zoom_, (s.y - t.origin.y) / zoom_};
  };
  hovered_ = hovered ? c.hit(to_diagram(io.MousePos)) : kNoNode;
  const Graph& g = app.doc.graph();
  const ImVec2 drag = ImGui::GetMouseDragDelta(ImGuiMouseButton_Left, 0);
  if (hovered && ImGui::IsMouseReleased(ImGuiMouseButton_Left) &&
      drag.x * drag.x + drag.y * drag.y < 9) {
    app.editor.select_only(hovered_);
  }
  if (hovered && hovered_ != kNoNode && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left) &&
      g.contains(hovered_) && hovered_ != app.editor.container) {
    if (!g.node(hovered_).children.empty()) {
      enter_level(app, hovered_);
      app.editor.select_only(kNoNode);
    }
  }

  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(p0, ImVec2(p0.x + area.x, p0.y + area.y), true);
  dl->AddRectFilled(p0, ImVec2(p0.x + area.x, p0.y + area.y), IM_COL32(232, 234, 240, 255));
  const views::Vec2 paper0 = t({0, 0}), paper1 = t({c.width, c.height});
  dl->AddRectFilled(ImVec2(paper0.x, paper0.y), ImVec2(paper1.x, paper1.y), IM_COL32_WHITE);
  {
    ImGuiCanvas canvas(dl, fonts);
    views::CircuitDrawState state;
    state.selected = app.editor.selection.size() == 1 ? *app.editor.selection.begin() : kNoNode;
    state.hovered = hovered_;
    views::draw_circuit(canvas, c, t, state);
  }
  dl->PopClipRect();
  if (probe::enabled()) {
    probe::fact("circuit.level", level_ == kNoNode ? "" : g.path(level_));
    probe::fact("circuit.ops", std::to_string(c.ops.size()));
    probe::fact("circuit.blocks", std::to_string(c.blocks.size()));
    probe::fact("circuit.selected", app.editor.selection.size() == 1 && g.contains(*app.editor.selection.begin())
                                        ? g.path(*app.editor.selection.begin()) : "");
    if (probe::Drawn* d = probe::drawn_item("circuit", c.title)) {
      d->text = c.title;
      d->min = p0;
      d->max = ImVec2(p0.x + area.x, p0.y + area.y);
    }
  }
  if (hovered_ != kNoNode && g.contains(hovered_)) {
    const views::CircuitOp* op = c.op_of(hovered_);
    ImGui::BeginTooltip();
    ImGui::PushFont(fonts.bold);
    ImGui::TextUnformatted(g.path(hovered_).c_str());
    ImGui::PopFont();
    const Node& n = g.node(hovered_);
    const OpDef* def = find_op(n.kind);
    ImGui::TextUnformatted(def ? def->label.c_str() : n.kind.c_str());
    if (op)
      for (const std::string& w : op->weights) ImGui::TextUnformatted(w.c_str());
    if (!n.children.empty()) ImGui::TextDisabled("double-click to enter");
    ImGui::EndTooltip();
  }
  ImGui::EndChild();
  return export_clicked;
}

}  // namespace fw::gui
