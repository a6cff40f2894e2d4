#include "views/qt/svg_canvas.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"
#include "core/image_io.h"
#include "views/text_metrics.h"

namespace fw::views {

namespace {

// Locale-independent, at most 3 decimals, no trailing zeros ("12.5", "-3", "0.125").
std::string num(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
  std::string s(buf, r.ptr);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::string hex(Color c) {
  static const char* digits = "0123456789abcdef";
  std::string s = "#";
  for (unsigned v : {red(c), green(c), blue(c)}) {
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

// XML-escaped text; invalid UTF-8 and characters XML 1.0 forbids become U+FFFD.
std::string xml_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      switch (b) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        default:
          if (b < 0x20 && b != '\t' && b != '\n' && b != '\r')
            out += "\xEF\xBF\xBD";
          else
            out += static_cast<char>(b);
      }
      ++i;
      continue;
    }
    const int len = (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    char32_t c = len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; ok && k < len; ++k) {
      const auto cb = static_cast<unsigned char>(s[i + k]);
      ok = (cb >> 6) == 2;
      c = (c << 6) | (cb & 0x3F);
    }
    // Overlong forms, surrogates, beyond U+10FFFF and U+FFFE/U+FFFF are not XML characters.
    ok = ok && !(len == 2 && c < 0x80) && !(len == 3 && c < 0x800) && !(len == 4 && c < 0x10000) &&
         !(c >= 0xD800 && c <= 0xDFFF) && c <= 0x10FFFF && c != 0xFFFE && c != 0xFFFF;
    if (ok) {
      out.append(s.substr(i, static_cast<size_t>(len)));
      i += static_cast<size_t>(len);
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string base64(const std::vector<uint8_t>& b) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  s.reserve((b.size() + 2) / 3 * 4);
  for (size_t i = 0; i < b.size(); i += 3) {
    const uint32_t n = (uint32_t(b[i]) << 16) | (i + 1 < b.size() ? uint32_t(b[i + 1]) << 8 : 0) |
                       (i + 2 < b.size() ? uint32_t(b[i + 2]) : 0);
    s += t[(n >> 18) & 63];
    s += t[(n >> 12) & 63];
    s += i + 1 < b.size() ? t[(n >> 6) & 63] : '=';
    s += i + 2 < b.size() ? t[n & 63] : '=';
  }
  return s;
}

bool strokes(const Stroke& s) { return alpha(s.color) != 0 && s.width > 0; }

std::string points_attr(const std::vector<Vec2>& points) {
  std::string s;
  for (Vec2 p : points) {
    if (!s.empty()) s += ' ';
    s += num(p.x) + "," + num(p.y);
  }
  return s;
}

std::string family(FontFace f) {
  const char* generic = f == FontFace::Mono || f == FontFace::MonoBold     ? "monospace"
                        : f == FontFace::Serif || f == FontFace::SerifBold ? "serif"
                                                                           : "sans-serif";
  return std::string(font_family(f)) + ", " + generic;
}

}  // namespace

SvgCanvas::SvgCanvas(Vec2 size, const std::string& title, Color background) {
  const int w = static_cast<int>(std::ceil(size.x)), h = static_cast<int>(std::ceil(size.y));
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out_ +=
      "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
      "version=\"1.1\" width=\"" +
      std::to_string(w) + "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " + num(size.x) +
      " " + num(size.y) + "\">\n";
  out_ += "  <title>" + xml_text(title) + "</title>\n";
  out_ += "  <desc>Drawn by Formwork</desc>\n";
  if (alpha(background) != 0) {
    out_ += "  <rect x=\"0\" y=\"0\" width=\"" + num(size.x) + "\" height=\"" + num(size.y) +
            "\" fill=\"" + hex(background) + "\"";
    if (alpha(background) < 255) out_ += " fill-opacity=\"" + num(alpha(background) / 255.0) + "\"";
    out_ += "/>\n";
  }
}

void SvgCanvas::indent() { out_.append(depth_ * 2, ' '); }

void SvgCanvas::paint(Color fill, const Stroke& s) {
  if (alpha(fill) == 0) {
    out_ += " fill=\"none\"";
  } else {
    out_ += " fill=\"" + hex(fill) + "\"";
    if (alpha(fill) < 255) out_ += " fill-opacity=\"" + num(alpha(fill) / 255.0) + "\"";
  }
  if (!strokes(s)) return;
  out_ += " stroke=\"" + hex(s.color) + "\" stroke-width=\"" + num(s.width) + "\"";
  if (alpha(s.color) < 255) out_ += " stroke-opacity=\"" + num(alpha(s.color) / 255.0) + "\"";
  if (s.dashed) out_ += " stroke-dasharray=\"" + num(3 * s.width) + " " + num(2 * s.width) + "\"";
}

void SvgCanvas::line(Vec2 a, Vec2 b, const Stroke& s) {
  if (!strokes(s)) return;
  indent();
  out_ += "<line x1=\"" + num(a.x) + "\" y1=\"" + num(a.y) + "\" x2=\"" + num(b.x) + "\" y2=\"" +
          num(b.y) + "\"";
  paint(kNone, s);
  out_ += "/>\n";
}

void SvgCanvas::polyline(const std::vector<Vec2>& points, const Stroke& s, bool closed) {
  if (!strokes(s) || points.size() < 2) return;
  indent();
  out_ +=
      std::string(closed ? "<polygon" : "<polyline") + " points=\"" + points_attr(points) + "\"";
  paint(kNone, s);
  out_ += "/>\n";
}

void SvgCanvas::bezier(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, const Stroke& s) {
  if (!strokes(s)) return;
  indent();
  out_ += "<path d=\"M" + num(p0.x) + "," + num(p0.y) + " C" + num(p1.x) + "," + num(p1.y) + " " +
          num(p2.x) + "," + num(p2.y) + " " + num(p3.x) + "," + num(p3.y) + "\"";
  paint(kNone, s);
  out_ += "/>\n";
}

void SvgCanvas::rect(Vec2 min, Vec2 max, Color fill, const Stroke& s, float rounding,
                     uint8_t corners) {
  if (alpha(fill) == 0 && !strokes(s)) return;
  const float x0 = std::min(min.x, max.x), x1 = std::max(min.x, max.x);
  const float y0 = std::min(min.y, max.y), y1 = std::max(min.y, max.y);
  const float w = x1 - x0, h = y1 - y0;
  // Clamped as ImGui (and QtCanvas) clamp it.
  const bool both_h =
      (corners & kCornersTop) == kCornersTop || (corners & kCornersBottom) == kCornersBottom;
  const bool both_v = (corners & (kCornerTL | kCornerBL)) == (kCornerTL | kCornerBL) ||
                      (corners & (kCornerTR | kCornerBR)) == (kCornerTR | kCornerBR);
  const float r = std::min({rounding, w * (both_h ? 0.5f : 1.0f), h * (both_v ? 0.5f : 1.0f)});
  indent();
  if (r <= 0 || (corners & kCornersAll) == 0) {
    out_ += "<rect x=\"" + num(x0) + "\" y=\"" + num(y0) + "\" width=\"" + num(w) + "\" height=\"" +
            num(h) + "\"";
  } else if ((corners & kCornersAll) == kCornersAll) {
    out_ += "<rect x=\"" + num(x0) + "\" y=\"" + num(y0) + "\" width=\"" + num(w) + "\" height=\"" +
            num(h) + "\" rx=\"" + num(r) + "\"";
  } else {
    const float tl = corners & kCornerTL ? r : 0, tr = corners & kCornerTR ? r : 0;
    const float br = corners & kCornerBR ? r : 0, bl = corners & kCornerBL ? r : 0;
    auto arc = [&](float rr, float x, float y) {
      return rr > 0 ? " A" + num(rr) + "," + num(rr) + " 0 0 1 " + num(x) + "," + num(y)
                    : std::string();
    };
    out_ += "<path d=\"M" + num(x0 + tl) + "," + num(y0) + " H" + num(x1 - tr) +
            arc(tr, x1, y0 + tr) + " V" + num(y1 - br) + arc(br, x1 - br, y1) + " H" +
            num(x0 + bl) + arc(bl, x0, y1 - bl) + " V" + num(y0 + tl) + arc(tl, x0 + tl, y0) +
            " Z\"";
  }
  paint(fill, s);
  out_ += "/>\n";
}

void SvgCanvas::circle(Vec2 centre, float radius, Color fill, const Stroke& s) {
  if ((alpha(fill) == 0 && !strokes(s)) || radius <= 0) return;
  indent();
  out_ +=
      "<circle cx=\"" + num(centre.x) + "\" cy=\"" + num(centre.y) + "\" r=\"" + num(radius) + "\"";
  paint(fill, s);
  out_ += "/>\n";
}

void SvgCanvas::polygon(const std::vector<Vec2>& points, Color fill, const Stroke& s) {
  if ((alpha(fill) == 0 && !strokes(s)) || points.size() < 3) return;
  indent();
  out_ += "<polygon points=\"" + points_attr(points) + "\"";
  paint(fill, s);
  out_ += "/>\n";
}

void SvgCanvas::text(Vec2 pos, std::string_view utf8, const Font& f, Color c, Align align) {
  if (utf8.empty() || alpha(c) == 0 || f.size <= 0) return;
  indent();
  out_ += "<text x=\"" + num(pos.x) + "\" y=\"" + num(pos.y + ascent(f)) + "\" font-family=\"" +
          family(f.face) + "\" font-size=\"" + num(f.size * em_per_size(f.face)) + "\"";
  if (font_bold(f.face)) out_ += " font-weight=\"bold\"";
  if (align != Align::Left)
    out_ += std::string(" text-anchor=\"") + (align == Align::Center ? "middle" : "end") + "\"";
  out_ += " fill=\"" + hex(c) + "\"";
  if (alpha(c) < 255) out_ += " fill-opacity=\"" + num(alpha(c) / 255.0) + "\"";
  out_ += " xml:space=\"preserve\">" + xml_text(utf8) + "</text>\n";
}

void SvgCanvas::image(Vec2 min, Vec2 max, const Image& img) {
  if (img.width <= 0 || img.height <= 0 || !img.rgba) return;
  Image8 im(img.width, img.height, 4);
  std::copy(img.rgba, img.rgba + im.data.size(), im.data.begin());
  indent();
  out_ += "<image x=\"" + num(std::min(min.x, max.x)) + "\" y=\"" + num(std::min(min.y, max.y)) +
          "\" width=\"" + num(std::fabs(max.x - min.x)) + "\" height=\"" +
          num(std::fabs(max.y - min.y)) + "\" preserveAspectRatio=\"none\"";
  if (!img.smooth) out_ += " style=\"image-rendering:pixelated\"";
  out_ += " xlink:href=\"data:image/png;base64," + base64(encode_png(im)) + "\"/>\n";
}

void SvgCanvas::push_clip(Vec2 min, Vec2 max) {
  std::string id;
  do id = "clip" + std::to_string(next_clip_++);
  while (!ids_.insert(id).second);
  indent();
  out_ += "<clipPath id=\"" + id + "\"><rect x=\"" + num(std::min(min.x, max.x)) + "\" y=\"" +
          num(std::min(min.y, max.y)) + "\" width=\"" + num(std::fabs(max.x - min.x)) +
          "\" height=\"" + num(std::fabs(max.y - min.y)) + "\"/></clipPath>\n";
  indent();
  out_ += "<g clip-path=\"url(#" + id + ")\">\n";
  ++depth_;
  ++clips_;
}

void SvgCanvas::pop_clip() {
  FW_ASSERT(clips_ > 0, "pop_clip() without push_clip(): use views::Clip to keep them paired");
  --clips_;
  --depth_;
  indent();
  out_ += "</g>\n";
}

void SvgCanvas::begin_group(std::string_view id) {
  std::string unique(id);
  for (int n = 2; !ids_.insert(unique).second; ++n)
    unique = std::string(id) + "#" + std::to_string(n);
  indent();
  out_ += "<g id=\"" + xml_text(unique) + "\">\n";
  ++depth_;
  ++groups_;
}

void SvgCanvas::end_group() {
  FW_ASSERT(groups_ > 0, "end_group() without begin_group(): use views::Group to pair them");
  --groups_;
  --depth_;
  indent();
  out_ += "</g>\n";
}

std::string SvgCanvas::finish() {
  FW_ASSERT(clips_ == 0 && groups_ == 0,
            "the picture left a clip or group open: pair push_clip/pop_clip and "
            "begin_group/end_group (views::Clip, views::Group)");
  return out_ + "</svg>\n";
}

}  // namespace fw::views
