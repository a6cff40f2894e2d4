#include "views/view_pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "views/text_metrics.h"

namespace fw::views {

namespace {

using namespace view_palette;

constexpr Color kWhite = rgba(255, 255, 255, 230);

// Draws in diagram units through a transform: positions, lengths and font sizes scaled.
struct Pen {
  Canvas& c;
  const Transform& t;
  float fs;  // the picture's text line height, diagram units

  Font font(FontFace face, float size = 0) const { return {face, t(size > 0 ? size : fs)}; }
  float width(std::string_view s, FontFace face = FontFace::Sans, float size = 0) const {
    return text_width(s, {face, size > 0 ? size : fs});
  }
  void text(Vec2 p, std::string_view s, Color col, FontFace face = FontFace::Sans, float size = 0,
            Align align = Align::Left) const {
    if (!s.empty()) c.text(t(p), s, font(face, size), col, align);
  }
  void line(Vec2 a, Vec2 b, Color col, float w) const { c.line(t(a), t(b), {col, t(w)}); }
  void rect(Vec2 a, Vec2 b, Color fill, Color stroke = kNone, float w = 1, float rounding = 0) const {
    c.rect(t(a), t(b), fill, {stroke, t(w)}, t(rounding));
  }
  void image(Vec2 a, Vec2 b, const PictureImage& img) const {
    if (img.empty())
      rect(a, b, kPanel);
    else
      c.image(t(a), t(b), img.image());
  }
};

// Words of `s` in lines no wider than `width` ('\n' breaks too); a word wider than the line
// stands alone.
std::vector<std::string> wrap(const std::string& s, const Font& f, float width) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t nl = std::min(s.find('\n', start), s.size());
    const std::string para = s.substr(start, nl - start);
    std::string cur;
    size_t i = 0;
    while (i < para.size()) {
      const size_t sp = std::min(para.find(' ', i), para.size());
      const std::string word = para.substr(i, sp - i);
      const std::string next = cur.empty() ? word : cur + " " + word;
      if (!cur.empty() && text_width(next, f) > width) {
        lines.push_back(cur);
        cur = word;
      } else {
        cur = next;
      }
      i = sp + 1;
    }
    lines.push_back(cur);
    start = nl + 1;
  }
  return lines;
}

// A colour's look over the chart's background (its alpha blended in).
Color over_panel(Color c) {
  return mix(kPanel, c | 0xFF000000u, float(alpha(c)) / 255.0f);
}

double nice_step(double range, int max_ticks) {
  max_ticks = std::max(2, max_ticks);
  const double raw = range / double(max_ticks - 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double f = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
  return f * mag;
}


// The colour scale at p (diagram units) in a box of `size`.
void draw_scale(const Pen& pen, const ColorScale& s, Vec2 p, Vec2 size, const PictureReport& report) {
  const float fs = pen.fs;
  const float bar_w = std::min(14.0f * fs / 15.0f, size.x * 0.3f);
  const float top = p.y + fs + 4 * fs / 15.0f, bottom = p.y + size.y - fs * 0.5f;
  pen.text(p, s.title, kTextDim);
  const size_t n = std::max<size_t>(2, s.colors.size());
  const int steps = 48;
  for (int i = 0; i < steps; ++i) {
    const float y0 = bottom - (bottom - top) * float(i) / steps;
    const float y1 = bottom - (bottom - top) * float(i + 1) / steps;
    const float x = (float(i) + 0.5f) / steps;
    const size_t k = std::min(n - 1, size_t(x * float(n - 1) + 0.5f));
    const Color col = s.colors.empty() ? kPanel : s.colors[std::min(k, s.colors.size() - 1)];
    pen.rect({p.x, y1}, {p.x + bar_w, y0}, col);
  }
  pen.rect({p.x, top}, {p.x + bar_w, bottom}, kNone, kBorder, 1);
  const float lo = s.lo, hi = s.hi;
  const std::vector<double> ticks =
      hi > lo ? nice_ticks(lo, hi, std::max(2, int((bottom - top) / (fs * 1.6f))))
              : std::vector<double>{lo};
  const float mono = fs * 14.0f / 15.0f;
  for (double v : ticks) {
    const float y = hi > lo ? bottom - (bottom - top) * float((v - lo) / (hi - lo)) : bottom;
    char buf[32];
    const double mag = std::max(std::fabs(double(lo)), std::fabs(double(hi)));
    if (mag != 0 && (mag < 1e-2 || mag >= 1e4))
      std::snprintf(buf, sizeof buf, "%.1e", v);
    else
      std::snprintf(buf, sizeof buf, "%.3g", v);
    pen.line({p.x + bar_w, y}, {p.x + bar_w + 3, y}, kTextDim, 1);
    pen.text({p.x + bar_w + 8, y - fs * 0.5f}, buf, kText, FontFace::Mono, mono);
  }
  if (report) {
    PictureItem it;
    it.list = "scale";
    it.id = s.id;
    it.min = pen.t({p.x, top});
    it.max = pen.t({p.x + bar_w, bottom});
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s %.4g..%.4g", s.title.c_str(), double(lo), double(hi));
    it.text = buf;
    it.count = int(ticks.size());
    report(it);
  }
}

struct Curve {
  std::string label;
  Color color;
  const std::vector<float>* y;
};

// The axes of a chart of curves over x = 0..1 in the frame p0..p1 (diagram units): the curves'
// area and the y range with its ticks (fractions, labelled as percentages).
struct CurveAxes {
  float left = 0, right = 0, top = 0, bottom = 0;
  double y_lo = 0, y_hi = 1, y_step = 1;
  std::vector<double> yt;
};
CurveAxes curve_axes(float fs, const std::vector<const std::vector<float>*>& ys, Vec2 p0, Vec2 p1) {
  CurveAxes a;
  const float pad = fs * 0.6f;
  double y_lo = std::numeric_limits<double>::infinity(), y_hi = -y_lo;
  for (const std::vector<float>* y : ys)
    for (float v : *y)
      if (std::isfinite(v)) {
        y_lo = std::min(y_lo, double(v));
        y_hi = std::max(y_hi, double(v));
      }
  if (!(y_hi >= y_lo)) y_lo = y_hi = 0;
  y_lo = std::min(y_lo, 0.0);
  if (y_hi - y_lo < 1e-9) {
    const double d = std::max(std::fabs(y_hi) * 0.05, 1e-3);
    y_lo -= d;
    y_hi += d;
  }
  a.top = p0.y + pad * 0.7f + fs + pad * 0.8f;
  a.bottom = p1.y - pad * 0.5f - 2 * fs;  // the x ticks' line and the x label's
  const int y_ticks_max = std::clamp(int((a.bottom - a.top) / (fs * 1.8f)), 2, 8);
  nice_range(&y_lo, &y_hi, y_ticks_max);
  a.y_lo = std::max(y_lo, 0.0);
  a.y_hi = std::min(y_hi, 1.0);
  a.yt = nice_ticks(a.y_lo, a.y_hi, y_ticks_max);
  a.y_step = a.yt.size() >= 2 ? a.yt[1] - a.yt[0] : 1.0;
  float label_w = 0;
  for (double v : a.yt)
    label_w = std::max(label_w, text_width(tick_label(v, a.y_step, true), {FontFace::Sans, fs}));
  a.left = p0.x + pad + label_w + fs * 0.4f;
  a.right = p1.x - pad;
  return a;
}

// A chart of curves over x = 0..1 (x = i / (n - 1)) in the frame p0..p1, as app/gui/plot draws
// one: title and legend, nice ticks, grid, the x label.
void draw_curves(const Pen& pen, const std::string& title, const std::string& x_label,
                 const std::vector<Curve>& curves, Vec2 p0, Vec2 p1, const PictureReport& report) {
  const float fs = pen.fs;
  const float pad = fs * 0.6f;
  pen.rect(p0, p1, kPanel, kBorder, 1, fs * 0.25f);
  pen.text({p0.x + pad, p0.y + pad * 0.7f}, title, kText, FontFace::SansBold);
  const float title_w = pen.width(title, FontFace::SansBold);
  float lx = p1.x - pad;
  const float swatch = fs * 1.1f;
  for (auto it = curves.rbegin(); it != curves.rend(); ++it) {
    if (it->y->empty()) continue;
    lx -= pen.width(it->label);
    if (lx - swatch - fs * 0.3f < p0.x + pad + title_w + fs) break;  // no room: fewer entries
    pen.text({lx, p0.y + pad * 0.7f}, it->label, kTextDim);
    const float cy = p0.y + pad * 0.7f + fs * 0.55f;
    pen.line({lx - swatch - fs * 0.3f, cy}, {lx - fs * 0.3f, cy}, it->color, 2);
    lx -= swatch + fs * 1.2f;
  }
  std::vector<const std::vector<float>*> ys;
  for (const Curve& c : curves) ys.push_back(c.y);
  const CurveAxes ax = curve_axes(fs, ys, p0, p1);
  const float left = ax.left, right = ax.right, top = ax.top, bottom = ax.bottom;
  const double y_lo = ax.y_lo, y_hi = ax.y_hi, y_step = ax.y_step;
  const std::vector<double>& yt = ax.yt;
  auto px = [&](double x) { return float(left + x * (right - left)); };
  auto py = [&](double y) { return float(bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top)); };
  for (double v : yt) {
    const float y = py(v);
    pen.line({left, y}, {right, y}, kGridMajor, 1);
    pen.text({left - fs * 0.4f, y - fs * 0.5f}, tick_label(v, y_step, true), kTextDim,
             FontFace::Sans, 0, Align::Right);
  }
  const std::vector<double> xt = nice_ticks(0, 1, std::clamp(int((right - left) / (fs * 4)), 2, 12));
  const double x_step = xt.size() >= 2 ? xt[1] - xt[0] : 1.0;
  for (double v : xt) {
    const float x = px(v);
    pen.line({x, top}, {x, bottom}, kGridMinor, 1);
    pen.text({x, bottom + fs * 0.2f}, tick_label(v, x_step, false), kTextDim, FontFace::Sans, 0,
             Align::Center);
  }
  pen.line({left, bottom}, {right, bottom}, kBorder, 1);
  pen.text({(left + right) * 0.5f, bottom + fs * 0.2f + fs}, x_label, kTextDim, FontFace::Sans, 0,
           Align::Center);
  int drawn = 0;
  {
    Clip clip(pen.c, pen.t({left - 4, top - 4}), pen.t({right + 4, bottom + 4}));
    for (const Curve& c : curves) {
      if (c.y->empty()) continue;
      std::vector<Vec2> pts;
      const size_t n = c.y->size();
      for (size_t i = 0; i < n; ++i)
        if (std::isfinite((*c.y)[i]))
          pts.push_back(pen.t({px(double(i) / double(std::max<size_t>(1, n - 1))), py((*c.y)[i])}));
      if (pts.size() >= 2) pen.c.polyline(pts, {c.color, pen.t(2.0f)}, false);
      for (const Vec2 q : pts) pen.c.circle(q, pen.t(3.0f), c.color, {});  // a dot per step
      ++drawn;
      if (report) {
        PictureItem it;
        it.list = "series";
        it.id = title + "/" + c.label;
        it.min = pen.t({left, top});
        it.max = pen.t({right, bottom});
        it.ink = over_panel(c.color);
        it.count = int(pts.size());
        report(it);
      }
    }
  }
  if (report) {
    PictureItem it;
    it.list = "plot";
    it.id = title;
    it.min = pen.t(p0);
    it.max = pen.t(p1);
    it.fill = kPanel;
    it.count = drawn;
    report(it);
  }
}

void report_map(const Pen& pen, const PictureReport& report, const std::string& id, Vec2 a,
                Vec2 b, const std::string& text, bool stale) {
  if (!report) return;
  PictureItem it;
  it.list = "map";
  it.id = id;
  it.min = pen.t(a);
  it.max = pen.t(b);
  it.text = text;
  it.stale = stale;
  report(it);
}

// The Grad-CAM picture's geometry, shared by the layout and the drawing.
struct GradcamGeometry {
  float gap, line, rh, scale_x, scale_w, scale_h, x2, x3, map_y;
};
GradcamGeometry gradcam_geometry(const GradcamPicture& g) {
  GradcamGeometry q{};
  const float fs = g.font;
  q.gap = fs * 0.4f;
  q.line = fs + q.gap;
  q.map_y = q.line;
  q.rh = g.raw.empty() ? 0 : g.raw_width * float(g.raw.height) / float(std::max(1, g.raw.width));
  q.x2 = g.side + fs;
  q.scale_x = q.x2 + g.raw_width + fs * 10 / 15.0f;
  q.scale_w = fs * 4.5f;
  q.scale_h = q.rh + fs * 1.4f;
  q.x3 = q.scale_x + q.scale_w + fs;
  return q;
}

}  // namespace

uint64_t image_key(int width, int height, const uint8_t* rgba, bool smooth) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mixin = [&](uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
  };
  mixin(uint64_t(width));
  mixin(uint64_t(height));
  mixin(smooth ? 1 : 2);
  const size_t n = size_t(std::max(0, width)) * size_t(std::max(0, height)) * 4;
  for (size_t i = 0; i < n; ++i) mixin(rgba[i]);
  return h == 0 ? 1 : h;
}

PictureImage picture_image(int width, int height, const uint8_t* rgb, bool smooth) {
  PictureImage p;
  p.width = std::max(0, width);
  p.height = std::max(0, height);
  p.smooth = smooth;
  p.rgba.resize(size_t(p.width) * size_t(p.height) * 4);
  for (size_t i = 0; i < size_t(p.width) * size_t(p.height); ++i) {
    p.rgba[i * 4 + 0] = rgb[i * 3 + 0];
    p.rgba[i * 4 + 1] = rgb[i * 3 + 1];
    p.rgba[i * 4 + 2] = rgb[i * 3 + 2];
    p.rgba[i * 4 + 3] = 255;
  }
  p.key = p.empty() ? 0 : image_key(p.width, p.height, p.rgba.data(), smooth);
  return p;
}

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  double step = nice_step(hi - lo, max_ticks);
  std::vector<double> t;
  for (int tries = 0; tries < 8; ++tries) {
    t.clear();
    const double eps = step * 1e-9;
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + eps; v += step)
      t.push_back(std::fabs(v) < eps ? 0.0 : v);
    if (int(t.size()) <= std::max(1, max_ticks)) break;
    step = nice_step(step * 2.5 * double(max_ticks - 1), max_ticks);
  }
  return t;
}

void nice_range(double* lo, double* hi, int max_ticks) {
  if (!(*hi > *lo)) return;
  const std::vector<double> t = nice_ticks(*lo, *hi, max_ticks);
  const double step = t.size() >= 2 ? t[1] - t[0] : nice_step(*hi - *lo, max_ticks);
  *lo = std::floor(*lo / step + 1e-9) * step;
  *hi = std::ceil(*hi / step - 1e-9) * step;
}

namespace {

int decimals_for(double step) {
  if (step >= 1) return 0;
  return std::clamp(int(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
}

}  // namespace

std::string tick_label(double v, double step, bool percent) {
  char buf[32];
  if (percent)
    std::snprintf(buf, sizeof buf, "%.*f%%", decimals_for(step * 100), v * 100);
  else
    std::snprintf(buf, sizeof buf, "%.*f", decimals_for(step), v);
  return buf;
}

// ---- Grad-CAM

GradcamLayout gradcam_layout(const GradcamPicture& g) {
  const GradcamGeometry q = gradcam_geometry(g);
  GradcamLayout l;
  l.overlay_min = {0, q.map_y};
  l.overlay_max = {g.side, q.map_y + g.side};
  l.raw_min = {q.x2, q.map_y};
  l.raw_max = {q.x2 + g.raw_width, q.map_y + q.rh};
  l.plot_min = {q.x3, q.line * 4};
  l.plot_max = {q.x3 + g.plot_width, q.line * 4 + g.plot_height};
  const CurveAxes ax = curve_axes(g.font, {&g.deletion, &g.insertion}, l.plot_min, l.plot_max);
  l.area_min = {ax.left, ax.top};
  l.area_max = {ax.right, ax.bottom};
  // room beyond the chart for its last tick label and its frame's stroke
  l.size = {l.plot_max.x + q.line * 1.5f,
            std::max({l.overlay_max.y, l.plot_max.y, q.map_y + q.scale_h + 3 * q.line}) + q.line * 0.5f};
  return l;
}

Picture gradcam_picture(const GradcamPicture& g_in, PictureReport report) {
  auto g = std::make_shared<const GradcamPicture>(g_in);
  Picture p;
  p.size = gradcam_layout(*g).size;
  p.background = kBackground;
  p.draw = [g, report](Canvas& c, const Transform& t) {
    const GradcamPicture& d = *g;
    const GradcamGeometry q = gradcam_geometry(d);
    const GradcamLayout l = gradcam_layout(d);
    const Pen pen{c, t, d.font};
    const float fs = d.font;
    Group all(c, "gradcam");
    // The overlay with the box, the peak and the badge.
    pen.text({0, 0}, d.title, kText, FontFace::SansBold);
    pen.image(l.overlay_min, l.overlay_max, d.overlay);
    if (!d.overlay.empty())
      report_map(pen, report, "gradcam:overlay", l.overlay_min, l.overlay_max, d.title, d.stale);
    const float sx = d.side / float(std::max(1, d.input_w)), sy = d.side / float(std::max(1, d.input_h));
    const Vec2 o = l.overlay_min;
    if (d.box)
      pen.rect({o.x + float((*d.box)[0]) * sx, o.y + float((*d.box)[1]) * sy},
               {o.x + float((*d.box)[2]) * sx, o.y + float((*d.box)[3]) * sy}, kNone, kOk, 2);
    const bool scores = !d.deletion.empty() && !d.insertion.empty();
    if (scores) {
      const Vec2 pk{o.x + (float(d.peak_x) + 0.5f) * sx, o.y + (float(d.peak_y) + 0.5f) * sy};
      c.circle(t(pk), t(6.0f), kNone, {kWhite, t(2.0f)});
      pen.line({pk.x - 10, pk.y}, {pk.x + 10, pk.y}, kWhite, 1.5f);
      pen.line({pk.x, pk.y - 10}, {pk.x, pk.y + 10}, kWhite, 1.5f);
    }
    if (!d.badge.empty()) {
      const float w = pen.width(d.badge);
      pen.rect({o.x + 4, o.y + 4}, {o.x + w + 12, o.y + fs + 8}, rgba(0x11, 0x13, 0x18, 210), kNone,
               1, 3);
      pen.text({o.x + 8, o.y + 6}, d.badge, kWarning);
    }
    // The raw map, its scale and the notes.
    if (!d.raw.empty()) {
      pen.text({q.x2, 0}, d.raw_title, kText, FontFace::SansBold);
      pen.image(l.raw_min, l.raw_max, d.raw);
      report_map(pen, report, "gradcam:raw", l.raw_min, l.raw_max, d.title, d.stale);
      draw_scale(pen, d.scale, {q.scale_x, q.map_y}, {q.scale_w, q.scale_h}, report);
      float y = q.map_y + std::max(q.rh, q.scale_h) + q.gap;
      for (const std::string& s : wrap(d.overlay_note, pen.font(FontFace::Sans, fs), 1e9f)) {
        pen.text({q.x2, y}, s, kTextDim);
        y += q.line;
      }
      for (const std::string& s : wrap(d.warning.empty() ? "" : "\xE2\x9A\xA0 " + d.warning,
                                       {FontFace::Sans, fs}, d.raw_width + fs * 5)) {
        pen.text({q.x2, y}, s, kWarning);
        y += q.line;
      }
    }
    // Faithfulness.
    pen.text({q.x3, 0}, "Faithfulness", kText, FontFace::SansBold);
    if (scores) {
      char buf[64];
      const float sp = fs * 10 / 15.0f;
      std::snprintf(buf, sizeof buf, "\xE2\x80\x94 deletion AUC %.3f", d.deletion_auc);
      pen.text({q.x3, q.line}, buf, kDeletion);
      pen.text({q.x3 + pen.width(buf) + sp, q.line}, "(lower is better)", kTextDim);
      std::snprintf(buf, sizeof buf, "\xE2\x80\x94 insertion AUC %.3f", d.insertion_auc);
      pen.text({q.x3, 2 * q.line}, buf, kInsertion);
      pen.text({q.x3 + pen.width(buf) + sp, 2 * q.line}, "(higher is better)", kTextDim);
      if (d.pointing_hit) {
        std::snprintf(buf, sizeof buf, "pointing game: %s (peak at %d,%d)",
                      *d.pointing_hit ? "hit" : "miss", d.peak_x, d.peak_y);
        pen.text({q.x3, 3 * q.line}, buf, *d.pointing_hit ? kOk : kWarning);
      } else {
        pen.text({q.x3, 3 * q.line}, "pointing game: the input has no box", kTextDim);
      }
      draw_curves(pen, "p(" + d.class_name + ")", "fraction of pixels, most salient first",
                  {{"deletion", kDeletion, &d.deletion}, {"insertion", kInsertion, &d.insertion}},
                  l.plot_min, l.plot_max, report);
    } else {
      float y = q.line;
      for (const std::string& s : wrap(d.scores_note, {FontFace::Sans, fs}, d.plot_width)) {
        pen.text({q.x3, y}, s, d.scores_failed ? kError : kTextDim);
        y += q.line;
      }
    }
  };
  return p;
}

// ---- Attention

namespace {
struct AttentionGeometry {
  float gap, line, tile_h, map_y;
};
AttentionGeometry attention_geometry(const AttentionPicture& a) {
  AttentionGeometry q{};
  q.gap = a.font * 0.4f;
  q.line = a.font + q.gap;
  q.tile_h = a.tile * float(std::max(1, a.input_h)) / float(std::max(1, a.input_w));
  q.map_y = q.line;
  return q;
}
}  // namespace

AttentionLayout attention_layout(const AttentionPicture& a) {
  const AttentionGeometry q = attention_geometry(a);
  AttentionLayout l;
  float x = 0;
  for (size_t i = 0; i < a.tiles.size(); ++i) {
    l.tiles.push_back({{x, q.map_y + q.line}, {x + a.tile, q.map_y + q.line + q.tile_h}});
    x += a.tile + a.spacing;
  }
  const float note_w =
      a.note.empty() ? 0 : std::min(a.tile, text_width(a.note, {FontFace::Sans, a.font})) + a.spacing;
  const float title_w = text_width(a.title, {FontFace::SansBold, a.font}) + a.spacing +
                        text_width(a.subtitle, {FontFace::Sans, a.font});
  l.size = {std::max(x + note_w + a.scale_width, title_w), q.map_y + q.line + q.tile_h};
  return l;
}

Picture attention_picture(const AttentionPicture& a_in, PictureReport report) {
  auto a = std::make_shared<const AttentionPicture>(a_in);
  Picture p;
  p.size = attention_layout(*a).size;
  p.background = kBackground;
  p.draw = [a, report](Canvas& c, const Transform& t) {
    const AttentionPicture& d = *a;
    const AttentionGeometry q = attention_geometry(d);
    const AttentionLayout l = attention_layout(d);
    const Pen pen{c, t, d.font};
    Group all(c, "attention");
    pen.text({0, 0}, d.title, kText, FontFace::SansBold);
    pen.text({pen.width(d.title, FontFace::SansBold) + d.spacing, 0}, d.subtitle, kTextDim);
    for (size_t i = 0; i < d.tiles.size(); ++i) {
      const MapTile& m = d.tiles[i];
      const auto [ta, tb] = l.tiles[i];
      Group tile(c, m.id);
      pen.text({ta.x, q.map_y}, m.caption, kText);
      pen.image(ta, tb, m.image);
      if (d.query_cell >= 0 && d.query_cell < int64_t(d.grid_w) * d.grid_h) {
        const float cw = (tb.x - ta.x) / float(d.grid_w), ch = (tb.y - ta.y) / float(d.grid_h);
        const Vec2 cp{ta.x + float(d.query_cell % d.grid_w) * cw,
                      ta.y + float(d.query_cell / d.grid_w) * ch};
        pen.rect(cp, {cp.x + cw, cp.y + ch}, kNone, rgba(255, 255, 255, 240), 2);
        pen.rect({cp.x - 1, cp.y - 1}, {cp.x + cw + 1, cp.y + ch + 1}, kNone, rgba(0, 0, 0, 200), 1);
      }
      if (m.stale) pen.text({ta.x + 4, ta.y + 2}, "recomputing\xE2\x80\xA6", kWarning);
      report_map(pen, report, m.id, ta, tb, m.caption, m.stale);
    }
    float x = l.tiles.empty() ? 0 : l.tiles.back().second.x + d.spacing;
    if (!d.note.empty()) {
      float y = q.map_y;
      for (const std::string& s : wrap(d.note, {FontFace::Sans, d.font}, d.tile)) {
        pen.text({x, y}, s, d.note_error ? kError : kTextDim);
        y += q.line;
      }
      x += std::min(d.tile, pen.width(d.note)) + d.spacing;
    }
    draw_scale(pen, d.scale, {x, q.map_y}, {d.scale_width, q.tile_h + q.line}, report);
  };
  return p;
}

Picture stack_pictures(std::vector<Picture> parts, float gap) {
  Picture p;
  std::vector<float> at;
  for (const Picture& q : parts) {
    if (!at.empty()) p.size.y += gap;
    at.push_back(p.size.y);
    p.size.y += q.size.y;
    p.size.x = std::max(p.size.x, q.size.x);
  }
  if (!parts.empty()) p.background = parts.front().background;
  auto shared = std::make_shared<const std::vector<Picture>>(std::move(parts));
  p.draw = [shared, at](Canvas& c, const Transform& t) {
    for (size_t i = 0; i < shared->size(); ++i)
      (*shared)[i].draw(c, Transform{t({0, at[i]}), t.scale});
  };
  return p;
}

}  // namespace fw::views
