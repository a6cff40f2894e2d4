#include "views/graph_diagram.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "views/graph_style.h"
#include "views/layout.h"
#include "views/node_geometry.h"
#include "views/text_metrics.h"

namespace fw::views {

namespace {

using namespace graph_palette;

// `c` with alpha a * 255 (truncated).
constexpr Color faded(Color c, float a) {
  return (c & 0x00FFFFFFu) | (static_cast<Color>(a * 255.0f) << 24);
}

constexpr Font bold(float size) { return {FontFace::SansBold, size}; }
constexpr Font regular(float size) { return {FontFace::Sans, size}; }
constexpr Font mono(float size) { return {FontFace::Mono, size}; }

constexpr const char* kChevronOpen = "\xE2\x96\xBE";  // ▾
constexpr const char* kChevron = "\xE2\x96\xB8";      // ▸

class Painter {
 public:
  Painter(Canvas& c, const Scene& s, const GraphDrawState& st)
      : c_(c), s_(s), st_(st), z_(st.transform.scale), scale_(st.content_scale) {
    detail_ = st.zoom >= kDetailZoom;
    full_ = st.zoom >= kFullZoom;
    cull_ = st.view_max.x > st.view_min.x && st.view_max.y > st.view_min.y;
    const Vec2 o = st.transform.origin;
    v0_ = {(st.view_min.x - o.x) / z_, (st.view_min.y - o.y) / z_};
    v1_ = {(st.view_max.x - o.x) / z_, (st.view_max.y - o.y) / z_};
  }

  void run() {
    for (int i : s_.frames) {
      const SceneItem& it = s_.items[i];
      const Vec2 off = offset_of(i);
      if (visible(it, off)) frame(i, it, off);
    }
    links();
    for (int i : s_.boxes) {
      const SceneItem& it = s_.items[i];
      const Vec2 off = offset_of(i);
      if (visible(it, off)) box(i, it, off);
    }
  }

 private:
  Vec2 out(float x, float y) const { return st_.transform({x, y}); }

  bool moving(int item) const {
    return st_.moving && item < static_cast<int>(st_.moving->size()) && (*st_.moving)[item];
  }
  // Drag offset of an item, in output units.
  Vec2 offset_of(int item) const {
    if (!moving(item)) return {0, 0};
    return {st_.move_offset.x * z_, st_.move_offset.y * z_};
  }
  Vec2 port_out(int port) const {
    const ScenePort& p = s_.ports[port];
    const Vec2 off = offset_of(p.item);
    const Vec2 q = out(p.x, p.y);
    return {q.x + off.x, q.y + off.y};
  }
  bool selected(NodeId id) const { return st_.selection && st_.selection->count(id) != 0; }
  bool visible(const SceneItem& it, Vec2 off) const {
    if (!cull_) return true;
    const float ox = off.x / z_, oy = off.y / z_;
    return !(it.x1 + ox < v0_.x || it.x0 + ox > v1_.x || it.y1 + oy < v0_.y || it.y0 + oy > v1_.y);
  }
  void report(int item, Vec2 p0, Vec2 p1, Vec2 f0, Vec2 f1, Color fill, Vec2 b0 = {},
              Vec2 b1 = {}) const {
    if (st_.drawn) st_.drawn(item, ItemDrawn{p0, p1, f0, f1, fill, b0, b1});
  }

  // Where the choices badge goes: a pill of text size `size`, its right end at `right`, centred
  // in top..top+h. False when the item has none.
  bool badge_rect(const SceneItem& it, float right, float top, float h, float size, Vec2* b0,
                  Vec2* b1) const {
    if (it.badge.empty()) return false;
    const float k = size / kBadgeSize;
    const float w = it.badge_w * k, bh = std::min(h - 2 * k, size + 5 * k);
    *b0 = {right - w, top + (h - bh) * 0.5f};
    *b1 = {right, b0->y + bh};
    return true;
  }
  void badge(const SceneItem& it, Vec2 b0, Vec2 b1, float size) {
    const float k = size / kBadgeSize;
    c_.rect(b0, b1, mix(kNodeBody, kAccent, 0.22f), {faded(kAccent, 0.8f), std::max(1.0f, k)},
            (b1.y - b0.y) * 0.5f);
    text({b0.x + kBadgePad * k, b0.y + (b1.y - b0.y - size) * 0.5f}, it.badge, bold(size), kAccent);
  }
  void text(Vec2 at, const std::string& s, const Font& f, Color col, Align align = Align::Left) {
    if (!s.empty()) c_.text(at, s, f, col, align);
  }

  void ports(const SceneItem& it) {
    if (!detail_) return;
    const float r = std::max(kPortRadius * z_, 2.5f);
    for (int i = 0; i < it.inputs + it.outputs; ++i) {
      const int index = it.port_begin + i;
      const ScenePort& p = s_.ports[index];
      const Vec2 c = port_out(index);
      if (cull_ && (c.x < st_.view_min.x - r || c.x > st_.view_max.x + r ||
                    c.y < st_.view_min.y - r || c.y > st_.view_max.y + r))
        continue;
      const bool hot = index == st_.hover_port || index == st_.pressed_port;
      const Color col = p.problem ? kError : hot ? kAccent : kPort;
      if (p.connected) {
        c_.circle(c, hot ? r * 1.35f : r, col, {});
      } else {
        const Stroke ring{col, std::max(1.2f, 1.4f * z_)};
        if (hot) {
          c_.circle(c, r, kNodeBody, {});
          c_.circle(c, r * 1.35f, kNone, ring);
        } else {
          c_.circle(c, r, kNodeBody, ring);
        }
      }
    }
  }

  void frame(int index, const SceneItem& it, Vec2 off) {
    Group group(c_, it.group);
    const Vec2 a = out(it.x0, it.y0), b = out(it.x1, it.y1);
    const Vec2 p0{a.x + off.x, a.y + off.y}, p1{b.x + off.x, b.y + off.y};
    const float rounding = 8 * z_;
    const float header = kNodeHeaderHeight * z_;
    c_.rect(p0, p1, faded(mix(kCanvas, it.color, 0.05f), 0.92f), {}, rounding);
    const Color head = mix(kNodeBody, it.color, 0.28f);
    const Vec2 h1{p1.x, p0.y + header};
    c_.rect(p0, h1, head, {}, rounding, kCornersTop);
    Vec2 b0, b1;
    const bool has_badge =
        detail_ && badge_rect(it, p1.x - 24 * z_, p0.y, header, kBadgeSize * z_, &b0, &b1);
    report(index, p0, p1, p0, h1, head, b0, b1);
    Color border = faded(it.color, 0.55f);
    float th = std::max(1.0f, 1.3f * z_);
    if (it.problem || it.problem_inside) border = it.problem ? kError : kWarning;
    if (selected(it.id)) border = kAccent, th = std::max(1.5f, 2.2f * z_);
    c_.rect(p0, p1, kNone, {border, th}, rounding);
    if (detail_) {
      const float tsize =
          std::clamp(kNodeTitleSize * z_, std::min(10.0f * scale_, header * 0.9f), 40.0f);
      const float ty = p0.y + (header - tsize) * 0.5f;
      const float tx = p0.x + kNodePadding * z_;
      {
        Clip clip(c_, p0, {p1.x - 22 * z_, p0.y + header});
        text({tx, ty}, it.title, bold(tsize), kText);
        const float tw = text_width(it.title, bold(tsize));
        const float ssize = kNodeBodySize * z_;
        if (ssize >= 8 * scale_)
          text({tx + tw + 12 * z_, p0.y + (header - ssize) * 0.5f}, it.subtitle, regular(ssize),
               kTextDim);
      }
      text({p1.x - 20 * z_, ty}, kChevronOpen, regular(tsize), kTextDim);
      if (has_badge) badge(it, b0, b1, kBadgeSize * z_);
    }
    ports(it);
  }

  void box(int index, const SceneItem& it, Vec2 off) {
    Group group(c_, it.group);
    const Vec2 a = out(it.x0, it.y0), b = out(it.x1, it.y1);
    const Vec2 p0{a.x + off.x, a.y + off.y}, p1{b.x + off.x, b.y + off.y};
    const bool boundary = it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out;
    const bool sel = !boundary && selected(it.id);
    if (!detail_) {  // far away: plain boxes
      const Color fill = sel ? kAccent : mix(kNodeBody, it.color, 0.45f);
      c_.rect(p0, p1, fill, {});
      if (it.problem) c_.rect(p0, p1, kNone, {kError, 1.5f});
      report(index, p0, p1, p0, p1, fill);
      return;
    }
    const float rounding = 6 * z_;
    const float header = kNodeHeaderHeight * z_;
    // The choices badge: in the header at full detail; zoomed out, as large as the title is drawn
    // (semantic zoom) at the top right, where it fits beside the title.
    Vec2 b0, b1;
    float bsize = kBadgeSize * z_;
    bool has_badge = false;
    if (!boundary && !it.badge.empty()) {
      if (full_) {
        const float right = p1.x - (it.container ? 24 : 8) * z_;  // left of the chevron
        has_badge = badge_rect(it, right, p0.y, header, bsize, &b0, &b1);
      } else {
        // Centred on the title line (as the semantic zoom below places it); no chevron there.
        const float h = p1.y - p0.y;
        const float tsize =
            std::min(std::max(kNodeTitleSize * z_ * 1.5f, 10.0f * scale_), h * 0.34f);
        const float msize = std::min(std::max(kNodeMonoSize * z_ * 1.35f, 9.0f * scale_), h * 0.3f);
        const float gap = (h - tsize - msize) / 3;
        bsize = std::min(std::max(kBadgeSize * z_ * 1.5f, 9.0f * scale_), h * 0.3f);
        has_badge = badge_rect(it, p1.x - std::max(kNodePadding * z_, 4.0f),
                               p0.y + gap - tsize * 0.15f, tsize * 1.3f, bsize, &b0, &b1) &&
                    b1.x - b0.x < (p1.x - p0.x) * 0.45f;
      }
      if (!has_badge) b0 = b1 = {};
    }
    if (it.container && !boundary) {  // a stack: there is more inside
      const float d = 4 * z_;
      c_.rect({p0.x + d, p0.y + d}, {p1.x + d, p1.y + d}, mix(kNodeBody, kCanvas, 0.4f),
              {kNodeBorder, std::max(1.0f, z_)}, rounding);
    }
    if (boundary) {
      c_.rect(p0, p1, kHeader, {}, rounding);
      report(index, p0, p1, p0, p1, kHeader);
    } else if (full_) {
      const Color head = mix(kNodeBody, it.color, 0.30f);
      const Vec2 h1{p1.x, p0.y + header};
      c_.rect(p0, p1, kNodeBody, {}, rounding);
      c_.rect(p0, h1, head, {}, rounding, kCornersTop);
      report(index, p0, p1, p0, h1, head, b0, b1);
    } else {
      const Color fill = mix(kNodeBody, it.color, 0.22f);
      c_.rect(p0, p1, fill, {}, rounding);
      report(index, p0, p1, p0, p1, fill, b0, b1);
    }
    c_.rect(p0, {p0.x + 3.5f * z_, p1.y}, it.color, {}, rounding, kCornerTL | kCornerBL);
    Color border = kNodeBorder;
    float th = std::max(1.0f, z_);
    if (it.problem_inside) border = kWarning, th = std::max(1.2f, 1.5f * z_);
    if (it.problem) border = kError, th = std::max(1.5f, 2.0f * z_);
    if (sel) border = kAccent, th = std::max(1.5f, 2.2f * z_);
    c_.rect(p0, p1, kNone, {border, th}, rounding);

    const float pad = std::max(kNodePadding * z_, 4.0f);
    const Color shape_col = it.problem ? kError : kText;
    const std::string& shape = it.shape.empty() ? unknown_ : it.shape;
    if (boundary) {
      Clip clip(c_, p0, p1);
      const float tsize =
          std::max(kNodeTitleSize * z_, std::min(10.0f * scale_, (p1.y - p0.y) * 0.4f));
      text({p0.x + pad, p0.y + (header - tsize) * 0.5f}, it.title, bold(tsize), kTextDim);
      // The shape beside each port.
      const float msize = std::max(kNodeMonoSize * z_, 9.0f * scale_);
      for (int i = 0; i < it.inputs + it.outputs; ++i) {
        const ScenePort& p = s_.ports[it.port_begin + i];
        const Vec2 c = port_out(it.port_begin + i);
        const float y = c.y - msize * 0.5f;
        if (p.left)
          text({c.x + pad, y}, p.shape, mono(msize), kText);
        else
          text({c.x - pad, y}, p.shape, mono(msize), kText, Align::Right);
      }
    } else if (full_) {
      const float tsize = kNodeTitleSize * z_;
      const float ty = p0.y + (header - tsize) * 0.5f;
      {
        Clip clip(c_, p0, p1);
        text({p0.x + pad, ty}, it.title, bold(tsize), kText);
      }
      if (it.container) text({p1.x - 20 * z_, ty}, kChevron, regular(tsize), kTextDim);
      const float bsize = kNodeBodySize * z_, msize = kNodeMonoSize * z_;
      const float row = kNodeRowHeight * z_;
      const float line1 = p0.y + header + 4 * z_ + (row - bsize) * 0.5f;
      const float line2 = line1 + row;
      {
        Clip clip(c_, p0, p1);
        text({p0.x + pad, line1}, it.subtitle, regular(bsize), kTextDim);
        text({p0.x + pad, line2}, shape, mono(msize), shape_col);
      }
      if (!it.params.empty()) {
        const float sw = text_width(shape, mono(msize));
        const float px = p1.x - pad;
        if (px - text_width(it.params, regular(bsize)) > p0.x + pad + sw + 10 * z_)
          text({px, line2 + (msize - bsize) * 0.5f}, it.params, regular(bsize), kTextDim,
               Align::Right);
      }
    } else {
      // Semantic zoom: the title (then as much of the op line as fits) and the shape, larger
      // than the zoom would make them.
      const float h = p1.y - p0.y;
      const float tsize = std::min(std::max(kNodeTitleSize * z_ * 1.5f, 10.0f * scale_), h * 0.34f);
      const float msize = std::min(std::max(kNodeMonoSize * z_ * 1.35f, 9.0f * scale_), h * 0.3f);
      if (tsize >= 6.0f) {
        const float gap = (h - tsize - msize) / 3;
        const Vec2 tp{p0.x + pad, p0.y + gap};
        const float tw = text_width(it.title, bold(tsize));
        {
          // The title line stops short of the badge.
          const float right = has_badge ? b0.x - 3 * scale_ : p1.x;
          Clip clip(c_, p0, {right, p1.y});
          text(tp, it.title, bold(tsize), kText);
          if (tp.x + tw + 8 * scale_ < right - pad)
            text({tp.x + tw + 6 * scale_, tp.y + tsize * 0.06f}, it.subtitle, regular(tsize * 0.9f),
                 kTextDim);
        }
        if (msize >= 6.0f) {
          Clip clip(c_, p0, p1);
          text({p0.x + pad, p0.y + gap * 2 + tsize}, shape, mono(msize), shape_col);
        }
      }
    }
    if (has_badge) badge(it, b0, b1, bsize);
    if (it.problem) {  // a badge at the top-right corner
      const float r = std::max(6.5f * z_, 4.0f);
      const Vec2 c{p1.x - 2 * z_, p0.y + 2 * z_};
      c_.circle(c, r, kError, {});
      if (r >= 5) text({c.x - r * 0.22f, c.y - r * 0.78f}, "!", bold(r * 1.5f), kBackground);
    }
    ports(it);
  }

  void links() {
    const bool labels = st_.zoom >= kLabelZoom || st_.every_label;
    const float lsize = std::max(kLinkLabelSize * z_, 9.0f * scale_);
    const float th = std::max(1.0f, 1.6f * z_), th_hot = std::max(1.6f, 2.6f * z_);
    for (size_t i = 0; i < s_.links.size(); ++i) {
      const SceneLink& l = s_.links[i];
      const ScenePort& a = s_.ports[l.from];
      const ScenePort& b = s_.ports[l.to];
      const bool moved = moving(a.item) || moving(b.item);
      if (!moved && cull_ && (l.bx1 < v0_.x || l.bx0 > v1_.x || l.by1 < v0_.y || l.by0 > v1_.y))
        continue;
      const SceneItem& ia = s_.items[a.item];
      const SceneItem& ib = s_.items[b.item];
      const int k = static_cast<int>(i);
      const bool hot = k == st_.selected_link || k == st_.hover_link ||
                       ((ia.kind == SceneItem::Kind::Node || ia.kind == SceneItem::Kind::Frame) &&
                        selected(ia.id)) ||
                       ((ib.kind == SceneItem::Kind::Node || ib.kind == SceneItem::Kind::Frame) &&
                        selected(ib.id));
      const Color col = l.problem ? kError : hot ? kAccent : kLink;
      LinkCurve c;
      if (moved) {
        const Vec2 ma = moving(a.item) ? st_.move_offset : Vec2{};
        const Vec2 mb = moving(b.item) ? st_.move_offset : Vec2{};
        c = link_curve({a.x + ma.x, a.y + ma.y}, {b.x + mb.x, b.y + mb.y}, false, 0);
      } else {
        c = link_curve({a.x, a.y}, {b.x, b.y}, l.routed, l.route_y);
      }
      Vec2 s[10];
      const int n = c.beziers == 1 ? 4 : 10;
      for (int q = 0; q < n; ++q) s[q] = out(c.p[q].x, c.p[q].y);
      Group group(c_, l.group);
      const Stroke stroke{col, hot ? th_hot : th};
      if (c.beziers == 1) {
        c_.bezier(s[0], s[1], s[2], s[3], stroke);
      } else {
        c_.bezier(s[0], s[1], s[2], s[3], stroke);
        c_.line(s[3], s[6], stroke);
        c_.bezier(s[6], s[7], s[8], s[9], stroke);
      }
      if (labels && !l.label.empty()) {
        const Vec2 m = c.mid();
        const Vec2 mid = out(m.x, m.y);
        const float tw = text_width(l.label, mono(lsize));
        // Only where it fits: between the boxes, or along an arc's straight run.
        const float span = c.beziers == 3 ? s[6].x - s[3].x : std::fabs(s[n - 1].x - s[0].x);
        if (st_.every_label || span > tw + 20 * scale_) {
          const float px = 4 * scale_, py = 1.5f * scale_;
          const Vec2 q0{mid.x - tw * 0.5f - px, mid.y - lsize * 0.5f - py};
          const Vec2 q1{mid.x + tw * 0.5f + px, mid.y + lsize * 0.5f + py};
          c_.rect(q0, q1, faded(kCanvas, 0.92f), {hot ? kAccent : faded(kLink, 0.6f), 1.0f},
                  3 * scale_);
          text({q0.x + px, q0.y + py}, l.label, mono(lsize), hot ? kText : kTextDim);
        }
      }
    }
  }

  Canvas& c_;
  const Scene& s_;
  const GraphDrawState& st_;
  const float z_, scale_;
  bool detail_ = false, full_ = false, cull_ = false;
  Vec2 v0_, v1_;  // the view in scene units
  const std::string unknown_ = "?";
};

// Scene units spanned by the items and the links' curves.
struct Bounds {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
Bounds picture_bounds(const Scene& s) {
  if (s.items.empty()) return {};
  Bounds b{s.bx0, s.by0, s.bx1, s.by1};
  for (const SceneLink& l : s.links) {
    b.x0 = std::min(b.x0, l.bx0), b.y0 = std::min(b.y0, l.by0);
    b.x1 = std::max(b.x1, l.bx1), b.y1 = std::max(b.y1, l.by1);
  }
  return b;
}

}  // namespace

void draw_graph_scene(Canvas& c, const Scene& s, const GraphDrawState& st) {
  Painter(c, s, st).run();
}

Transform picture_transform(const Scene& s) {
  const Bounds b = picture_bounds(s);
  return {{kPictureMargin - b.x0, kPictureMargin - b.y0}, 1};
}

Picture graph_picture(const Graph& g, const Analysis& a, NodeId level) {
  // A level whose children share one position (a template, a file written by another tool) is
  // laid out first, as the editor does when it opens one; the caller's graph is left as it is.
  std::shared_ptr<const Scene> scene;
  if (level_needs_layout(g, level)) {
    Graph placed = g;
    apply_placements(placed, layout_level(placed, level, node_box));
    scene = std::make_shared<const Scene>(build_scene(placed, a, level, {}));
  } else {
    scene = std::make_shared<const Scene>(build_scene(g, a, level, {}));
  }
  const Bounds b = picture_bounds(*scene);
  const Transform place = picture_transform(*scene);
  Picture p;
  p.size = {b.x1 - b.x0 + 2 * kPictureMargin, b.y1 - b.y0 + 2 * kPictureMargin};
  p.background = graph_palette::kCanvas;
  p.draw = [scene, place](Canvas& c, const Transform& t) {
    GraphDrawState st;
    st.transform = {{t.origin.x + t.scale * place.origin.x, t.origin.y + t.scale * place.origin.y},
                    t.scale};
    st.zoom = 1;
    st.content_scale = t.scale;
    st.every_label = false;  // as on screen: a link label only where it fits
    draw_graph_scene(c, *scene, st);
  };
  return p;
}

}  // namespace fw::views
