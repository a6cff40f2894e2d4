// The canvas's drawing: grid, frames, boxes, ports, links with their shape labels, overlays (box
// selection, the link being dragged, a refusal at its port), tooltips and context menus.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "app/gui/editor_canvas.h"
#include "app/gui/editor_canvas_internal.h"
#include "core/format.h"
#include "app/gui/node_geometry.h"
#include "app/gui/ui_probe.h"
#include "app/panels/palette.h"

namespace fw::gui {

using namespace detail;

// The frame report (ui_probe.h): a node as drawn, clipped to the canvas, with the colour painted
// solid over f0..f1 (the header, or the whole box).
void EditorCanvas::report_node(const AppState& app, const SceneItem& it, ImVec2 p0, ImVec2 p1,
                               ImVec2 f0, ImVec2 f1, ImU32 fill, bool selected) const {
  auto clip = [&](ImVec2 q) {
    return ImVec2(std::clamp(q.x, min_.x, max_.x), std::clamp(q.y, min_.y, max_.y));
  };
  probe::Drawn d;
  d.list = "node";
  const bool boundary = it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out;
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

void EditorCanvas::draw_ports(ImDrawList* dl, const SceneItem& it, ImVec2 off) const {
  (void)off;
  if (z_ < kDetailZoom * scale_) return;
  const float r = std::max(kPortRadius * z_, 2.5f);
  for (int i = 0; i < it.inputs + it.outputs; ++i) {
    const int index = it.port_begin + i;
    const ScenePort& p = scene_.ports[index];
    const ImVec2 c = port_screen(index);
    if (c.x < min_.x - r || c.x > max_.x + r || c.y < min_.y - r || c.y > max_.y + r) continue;
    const bool hot = index == hover_port_ || (gesture_ == Gesture::Link && index == press_port_);
    const ImU32 col = p.problem ? palette::kError : hot ? palette::kAccent : palette::kPort;
    if (p.connected) {
      dl->AddCircleFilled(c, hot ? r * 1.35f : r, col, 12);
    } else {
      dl->AddCircleFilled(c, r, palette::kNodeBody, 12);
      dl->AddCircle(c, hot ? r * 1.35f : r, col, 12, std::max(1.2f, 1.4f * z_));
    }
  }
}

void EditorCanvas::draw_frame(ImDrawList* dl, const SceneItem& it, ImVec2 off, bool selected,
                              const AppState& app) const {
  const ImVec2 a = to_screen(it.x0, it.y0), b = to_screen(it.x1, it.y1);
  const ImVec2 p0(a.x + off.x, a.y + off.y), p1(b.x + off.x, b.y + off.y);
  const float rounding = 8 * z_;
  const float header = kNodeHeaderHeight * z_;
  dl->AddRectFilled(p0, p1, with_alpha(mix(palette::kCanvas, it.color, 0.05f), 0.92f), rounding);
  const ImU32 head = mix(palette::kNodeBody, it.color, 0.28f);
  dl->AddRectFilled(p0, ImVec2(p1.x, p0.y + header), head, rounding, ImDrawFlags_RoundCornersTop);
  if (probe::enabled())
    report_node(app, it, p0, p1, p0, ImVec2(p1.x, p0.y + header), head, selected);
  ImU32 border = with_alpha(it.color, 0.55f);
  float th = std::max(1.0f, 1.3f * z_);
  if (it.problem || it.problem_inside) border = it.problem ? palette::kError : palette::kWarning;
  if (selected) border = palette::kAccent, th = std::max(1.5f, 2.2f * z_);
  dl->AddRect(p0, p1, border, rounding, 0, th);
  if (z_ >= kDetailZoom * scale_) {
    const float tsize =
        std::clamp(kNodeTitleSize * z_, std::min(10.0f * scale_, header * 0.9f), 40.0f);
    const float ty = p0.y + (header - tsize) * 0.5f;
    const float tx = p0.x + kNodePadding * z_;
    const ImVec4 clip(p0.x, p0.y, p1.x - 22 * z_, p0.y + header);
    dl->AddText(fonts_.bold, tsize, ImVec2(tx, ty), palette::kText, it.title.c_str(), nullptr, 0,
                &clip);
    const float tw = fonts_.bold->CalcTextSizeA(tsize, FLT_MAX, 0, it.title.c_str()).x;
    const float ssize = kNodeBodySize * z_;
    if (ssize >= 8 * scale_)
      dl->AddText(fonts_.regular, ssize, ImVec2(tx + tw + 12 * z_, p0.y + (header - ssize) * 0.5f),
                  palette::kTextDim, it.subtitle.c_str(), nullptr, 0, &clip);
    dl->AddText(fonts_.regular, tsize, ImVec2(p1.x - 20 * z_, ty), palette::kTextDim,
                "\xE2\x96\xBE");  // ▾
  }
  draw_ports(dl, it, off);
}

void EditorCanvas::draw_box(ImDrawList* dl, const SceneItem& it, ImVec2 off, bool selected,
                            const AppState& app) const {
  const ImVec2 a = to_screen(it.x0, it.y0), b = to_screen(it.x1, it.y1);
  const ImVec2 p0(a.x + off.x, a.y + off.y), p1(b.x + off.x, b.y + off.y);
  const bool boundary = it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out;
  if (z_ < kDetailZoom * scale_) {  // far away: plain boxes
    const ImU32 fill = selected ? palette::kAccent : mix(palette::kNodeBody, it.color, 0.45f);
    dl->AddRectFilled(p0, p1, fill);
    if (it.problem) dl->AddRect(p0, p1, palette::kError, 0, 0, 1.5f);
    if (probe::enabled()) report_node(app, it, p0, p1, p0, p1, fill, selected);
    return;
  }
  const bool full = z_ >= kFullZoom * scale_;
  const float rounding = 6 * z_;
  const float header = kNodeHeaderHeight * z_;
  if (it.container && !boundary) {  // a stack: there is more inside
    const float d = 4 * z_;
    dl->AddRectFilled(ImVec2(p0.x + d, p0.y + d), ImVec2(p1.x + d, p1.y + d),
                      mix(palette::kNodeBody, palette::kCanvas, 0.4f), rounding);
    dl->AddRect(ImVec2(p0.x + d, p0.y + d), ImVec2(p1.x + d, p1.y + d), palette::kNodeBorder,
                rounding, 0, std::max(1.0f, z_));
  }
  if (boundary) {
    dl->AddRectFilled(p0, p1, palette::kHeader, rounding);
    if (probe::enabled()) report_node(app, it, p0, p1, p0, p1, palette::kHeader, selected);
  } else if (full) {
    const ImU32 head = mix(palette::kNodeBody, it.color, 0.30f);
    dl->AddRectFilled(p0, p1, palette::kNodeBody, rounding);
    dl->AddRectFilled(p0, ImVec2(p1.x, p0.y + header), head, rounding, ImDrawFlags_RoundCornersTop);
    if (probe::enabled())
      report_node(app, it, p0, p1, p0, ImVec2(p1.x, p0.y + header), head, selected);
  } else {
    const ImU32 fill = mix(palette::kNodeBody, it.color, 0.22f);
    dl->AddRectFilled(p0, p1, fill, rounding);
    if (probe::enabled()) report_node(app, it, p0, p1, p0, p1, fill, selected);
  }
  dl->AddRectFilled(p0, ImVec2(p0.x + 3.5f * z_, p1.y), it.color, rounding,
                    ImDrawFlags_RoundCornersLeft);
  ImU32 border = palette::kNodeBorder;
  float th = std::max(1.0f, z_);
  if (it.problem_inside) border = palette::kWarning, th = std::max(1.2f, 1.5f * z_);
  if (it.problem) border = palette::kError, th = std::max(1.5f, 2.0f * z_);
  if (selected) border = palette::kAccent, th = std::max(1.5f, 2.2f * z_);
  dl->AddRect(p0, p1, border, rounding, 0, th);

  const ImVec4 clip(p0.x, p0.y, p1.x, p1.y);
  const float pad = std::max(kNodePadding * z_, 4.0f);
  const ImU32 shape_col = it.problem ? palette::kError : palette::kText;
  const char* shape = it.shape.empty() ? "?" : it.shape.c_str();
  if (boundary) {
    const float tsize =
        std::max(kNodeTitleSize * z_, std::min(10.0f * scale_, (p1.y - p0.y) * 0.4f));
    dl->AddText(fonts_.bold, tsize, ImVec2(p0.x + pad, p0.y + (header - tsize) * 0.5f),
                palette::kTextDim, it.title.c_str(), nullptr, 0, &clip);
    // The shape beside each port.
    const float msize = std::max(kNodeMonoSize * z_, 9.0f * scale_);
    for (int i = 0; i < it.inputs + it.outputs; ++i) {
      const ScenePort& p = scene_.ports[it.port_begin + i];
      const ImVec2 c = port_screen(it.port_begin + i);
      const float w = fonts_.mono->CalcTextSizeA(msize, FLT_MAX, 0, p.shape.c_str()).x;
      const float x = p.left ? c.x + pad : c.x - pad - w;
      dl->AddText(fonts_.mono, msize, ImVec2(x, c.y - msize * 0.5f), palette::kText,
                  p.shape.c_str(), nullptr, 0, &clip);
    }
  } else if (full) {
    const float tsize = kNodeTitleSize * z_;
    const float ty = p0.y + (header - tsize) * 0.5f;
    dl->AddText(fonts_.bold, tsize, ImVec2(p0.x + pad, ty), palette::kText, it.title.c_str(),
                nullptr, 0, &clip);
    if (it.container)
      dl->AddText(fonts_.regular, tsize, ImVec2(p1.x - 20 * z_, ty), palette::kTextDim,
                  "\xE2\x96\xB8");  // ▸
    const float bsize = kNodeBodySize * z_, msize = kNodeMonoSize * z_;
    const float row = kNodeRowHeight * z_;
    const float line1 = p0.y + header + 4 * z_ + (row - bsize) * 0.5f;
    const float line2 = line1 + row;
    dl->AddText(fonts_.regular, bsize, ImVec2(p0.x + pad, line1), palette::kTextDim,
                it.subtitle.c_str(), nullptr, 0, &clip);
    dl->AddText(fonts_.mono, msize, ImVec2(p0.x + pad, line2), shape_col, shape, nullptr, 0, &clip);
    if (!it.params.empty()) {
      const float sw = fonts_.mono->CalcTextSizeA(msize, FLT_MAX, 0, shape).x;
      const float pw = fonts_.regular->CalcTextSizeA(bsize, FLT_MAX, 0, it.params.c_str()).x;
      const float px = p1.x - pad - pw;
      if (px > p0.x + pad + sw + 10 * z_)
        dl->AddText(fonts_.regular, bsize, ImVec2(px, line2 + (msize - bsize) * 0.5f),
                    palette::kTextDim, it.params.c_str());
    }
  } else {
    // Semantic zoom: the title (then as much of the op line as fits) and the shape, larger
    // than the zoom would make them.
    const float h = p1.y - p0.y;
    const float tsize = std::min(std::max(kNodeTitleSize * z_ * 1.5f, 10.0f * scale_), h * 0.34f);
    const float msize = std::min(std::max(kNodeMonoSize * z_ * 1.35f, 9.0f * scale_), h * 0.3f);
    if (tsize >= 6.0f) {
      const float gap = (h - tsize - msize) / 3;
      const ImVec2 tp(p0.x + pad, p0.y + gap);
      dl->AddText(fonts_.bold, tsize, tp, palette::kText, it.title.c_str(), nullptr, 0, &clip);
      const float tw = fonts_.bold->CalcTextSizeA(tsize, FLT_MAX, 0, it.title.c_str()).x;
      if (tp.x + tw + 8 * scale_ < p1.x - pad)
        dl->AddText(fonts_.regular, tsize * 0.9f,
                    ImVec2(tp.x + tw + 6 * scale_, tp.y + tsize * 0.06f), palette::kTextDim,
                    it.subtitle.c_str(), nullptr, 0, &clip);
      if (msize >= 6.0f)
        dl->AddText(fonts_.mono, msize, ImVec2(p0.x + pad, p0.y + gap * 2 + tsize),
                    it.problem ? palette::kError : palette::kText, shape, nullptr, 0, &clip);
    }
  }
  if (it.problem) {  // a badge at the top-right corner
    const float r = std::max(6.5f * z_, 4.0f);
    const ImVec2 c(p1.x - 2 * z_, p0.y + 2 * z_);
    dl->AddCircleFilled(c, r, palette::kError, 16);
    if (r >= 5)
      dl->AddText(fonts_.bold, r * 1.5f, ImVec2(c.x - r * 0.22f, c.y - r * 0.78f),
                  palette::kBackground, "!");
  }
  draw_ports(dl, it, off);
}

void EditorCanvas::draw_links(ImDrawList* dl, const AppState& app) const {
  const ImVec2 v0 = to_canvas(min_), v1 = to_canvas(max_);
  const bool labels = z_ >= 0.3f * scale_;
  const float lsize = std::max(kLinkLabelSize * z_, 9.0f * scale_);
  const float th = std::max(1.0f, 1.6f * z_), th_hot = std::max(1.6f, 2.6f * z_);
  for (size_t i = 0; i < scene_.links.size(); ++i) {
    const SceneLink& l = scene_.links[i];
    const ScenePort& a = scene_.ports[l.from];
    const ScenePort& b = scene_.ports[l.to];
    const bool moved = gesture_ == Gesture::Move &&
                       ((a.item < static_cast<int>(moving_.size()) && moving_[a.item]) ||
                        (b.item < static_cast<int>(moving_.size()) && moving_[b.item]));
    if (!moved && (l.bx1 < v0.x || l.bx0 > v1.x || l.by1 < v0.y || l.by0 > v1.y)) continue;
    const SceneItem& ia = scene_.items[a.item];
    const SceneItem& ib = scene_.items[b.item];
    const bool hot = static_cast<int>(i) == selected_link_ || static_cast<int>(i) == hover_link_ ||
                     ((ia.kind == SceneItem::Kind::Node || ia.kind == SceneItem::Kind::Frame) &&
                      app.editor.selected(ia.id)) ||
                     ((ib.kind == SceneItem::Kind::Node || ib.kind == SceneItem::Kind::Frame) &&
                      app.editor.selected(ib.id));
    const ImU32 col = l.problem ? palette::kError : hot ? palette::kAccent : palette::kLink;
    LinkCurve c;
    if (moved) {
      const ImVec2 sa = port_screen(l.from), sb = port_screen(l.to);
      c = link_curve(to_canvas(sa), to_canvas(sb), false, 0);
    } else {
      c = link_curve(ImVec2(a.x, a.y), ImVec2(b.x, b.y), l.routed, l.route_y);
    }
    ImVec2 s[10];
    const int n = c.beziers == 1 ? 4 : 10;
    for (int k = 0; k < n; ++k) s[k] = to_screen(c.p[k].x, c.p[k].y);
    if (c.beziers == 1) {
      dl->AddBezierCubic(s[0], s[1], s[2], s[3], col, hot ? th_hot : th, segments_for(s[0], s[3]));
    } else {
      dl->PathLineTo(s[0]);
      dl->PathBezierCubicCurveTo(s[1], s[2], s[3], segments_for(s[0], s[3]));
      dl->PathLineTo(s[6]);
      dl->PathBezierCubicCurveTo(s[7], s[8], s[9], segments_for(s[6], s[9]));
      dl->PathStroke(col, 0, hot ? th_hot : th);
    }
    if (labels && !l.label.empty()) {
      const ImVec2 mid = to_screen(c.mid().x, c.mid().y);
      const ImVec2 ts = fonts_.mono->CalcTextSizeA(lsize, FLT_MAX, 0, l.label.c_str());
      // Only where it fits: between the boxes, or along an arc's straight run.
      const float span = c.beziers == 3 ? s[6].x - s[3].x : std::fabs(s[n - 1].x - s[0].x);
      if (span > ts.x + 20 * scale_) {
        const float px = 4 * scale_, py = 1.5f * scale_;
        const ImVec2 q0(mid.x - ts.x * 0.5f - px, mid.y - ts.y * 0.5f - py);
        const ImVec2 q1(mid.x + ts.x * 0.5f + px, mid.y + ts.y * 0.5f + py);
        dl->AddRectFilled(q0, q1, with_alpha(palette::kCanvas, 0.92f), 3 * scale_);
        dl->AddRect(q0, q1, hot ? palette::kAccent : with_alpha(palette::kLink, 0.6f), 3 * scale_);
        dl->AddText(fonts_.mono, lsize, ImVec2(q0.x + px, q0.y + py),
                    hot ? palette::kText : palette::kTextDim, l.label.c_str());
      }
    }
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
    const LinkCurve c = link_curve(to_canvas(from), to_canvas(to), false, 0);
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
