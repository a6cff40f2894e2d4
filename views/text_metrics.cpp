#include "views/text_metrics.h"

#include <stb/stb_truetype.h>

#include <array>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

#ifndef FORMWORK_FONT_DIR
#define FORMWORK_FONT_DIR "/usr/share/fonts/truetype/dejavu"
#endif

namespace fw::views {

namespace {

constexpr int kFaces = 6;

struct FaceData {
  std::vector<unsigned char> bytes;
  stbtt_fontinfo info{};
  bool ok = false;
  float ascent = 0.928f, descent = 0.236f;  // per unit of (ascent + descent) scale; DejaVu's
  float unit_scale = 1;                     // stbtt_ScaleForPixelHeight(info, 1)
  float em_per_size = 1 / 1.164f;
};

struct Fonts {
  std::array<FaceData, kFaces> faces;
  std::string warning;
};

const char* file_name(FontFace face) {
  switch (face) {
    case FontFace::Sans: return "DejaVuSans.ttf";
    case FontFace::SansBold: return "DejaVuSans-Bold.ttf";
    case FontFace::Mono: return "DejaVuSansMono.ttf";
    case FontFace::MonoBold: return "DejaVuSansMono-Bold.ttf";
    case FontFace::Serif: return "DejaVuSerif.ttf";
    case FontFace::SerifBold: return "DejaVuSerif-Bold.ttf";
  }
  return "DejaVuSans.ttf";
}

const Fonts& fonts() {
  static Fonts f;
  static std::once_flag once;
  std::call_once(once, [] {
    for (int i = 0; i < kFaces; ++i) {
      FaceData& d = f.faces[i];
      const std::string path = font_file(static_cast<FontFace>(i));
      std::ifstream in(path, std::ios::binary);
      if (in) d.bytes.assign(std::istreambuf_iterator<char>(in), {});
      const int offset = d.bytes.empty() ? -1 : stbtt_GetFontOffsetForIndex(d.bytes.data(), 0);
      if (offset < 0 || !stbtt_InitFont(&d.info, d.bytes.data(), offset)) {
        if (f.warning.empty())
          f.warning = "cannot read font " + path +
                      " (install fonts-dejavu-core); text widths are estimated";
        continue;
      }
      d.ok = true;
      int asc = 0, desc = 0, gap = 0;
      stbtt_GetFontVMetrics(&d.info, &asc, &desc, &gap);
      const float height = static_cast<float>(asc - desc);
      d.unit_scale = stbtt_ScaleForPixelHeight(&d.info, 1.0f);
      d.ascent = static_cast<float>(asc) / height;
      d.descent = static_cast<float>(-desc) / height;
      const unsigned char* head = d.info.data + d.info.head;  // 'head' table: unitsPerEm at 18
      const int em = (head[18] << 8) | head[19];
      d.em_per_size = static_cast<float>(em) / height;
    }
  });
  return f;
}

// Next code point of UTF-8 text (invalid bytes decode as U+FFFD, one byte each).
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return ++i, U'\uFFFD';
  char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < len; ++k) {
    const auto cb = static_cast<unsigned char>(s[i + k]);
    if ((cb >> 6) != 2) return ++i, U'\uFFFD';
    c = (c << 6) | (cb & 0x3F);
  }
  i += len;
  return c;
}

bool is_mono(FontFace face) { return face == FontFace::Mono || face == FontFace::MonoBold; }

// Advance of one code point for a font of size 1.
float advance(const FaceData& d, FontFace face, char32_t c) {
  if (!d.ok) return (is_mono(face) ? 0.62f : 0.6f) * d.em_per_size;
  if (c >= 0x300 && c < 0x370) return 0;  // combining marks
  int glyph = stbtt_FindGlyphIndex(&d.info, static_cast<int>(c));
  if (glyph == 0) glyph = stbtt_FindGlyphIndex(&d.info, '?');
  int adv = 0, lsb = 0;
  stbtt_GetGlyphHMetrics(&d.info, glyph, &adv, &lsb);
  return static_cast<float>(adv) * d.unit_scale;
}

}  // namespace

const char* font_family(FontFace face) {
  switch (face) {
    case FontFace::Sans:
    case FontFace::SansBold: return "DejaVu Sans";
    case FontFace::Mono:
    case FontFace::MonoBold: return "DejaVu Sans Mono";
    case FontFace::Serif:
    case FontFace::SerifBold: return "DejaVu Serif";
  }
  return "DejaVu Sans";
}

bool font_bold(FontFace face) {
  return face == FontFace::SansBold || face == FontFace::MonoBold || face == FontFace::SerifBold;
}

std::string font_file(FontFace face) { return std::string(FORMWORK_FONT_DIR) + "/" + file_name(face); }

std::string font_warning() { return fonts().warning; }

float em_per_size(FontFace face) { return fonts().faces[static_cast<int>(face)].em_per_size; }

float text_width(std::string_view utf8, const Font& f) {
  const FaceData& d = fonts().faces[static_cast<int>(f.face)];
  float w = 0;
  for (size_t i = 0; i < utf8.size();) w += advance(d, f.face, next_code_point(utf8, i));
  return w * f.size;
}

float line_height(const Font& f) { return f.size; }

float ascent(const Font& f) { return fonts().faces[static_cast<int>(f.face)].ascent * f.size; }

std::string fit_text(std::string_view utf8, const Font& f, float width) {
  if (text_width(utf8, f) <= width) return std::string(utf8);
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";
  const float room = width - text_width(kEllipsis, f);
  if (room < 0) return "";
  const FaceData& d = fonts().faces[static_cast<int>(f.face)];
  float w = 0;
  size_t cut = 0;
  for (size_t i = 0; i < utf8.size();) {
    const size_t start = i;
    w += advance(d, f.face, next_code_point(utf8, i)) * f.size;
    if (w > room) break;
    cut = i;
    (void)start;
  }
  return std::string(utf8.substr(0, cut)) + std::string(kEllipsis);
}

Vec2 Canvas::measure(std::string_view utf8, const Font& f) const {
  return {text_width(utf8, f), line_height(f)};
}

}  // namespace fw::views
