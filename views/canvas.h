// One small drawing interface for every picture Formwork shows or exports: the editor's graph, the
// circuit diagrams, the views' maps. What is on screen and what goes into an SVG/PDF/PNG come from
// the same calls on this interface; only the implementation differs:
//   - app/gui/imgui_canvas.h  over an ImGui draw list (the screen),
//   - views/qt/               over Qt 6's QPainter (SVG, PDF, PNG files; the only code with Qt),
//   - RecordingCanvas (below) keeps the calls, so a test can compare what two paths drew.
//
// - Coordinates are the output's own units (screen pixels, SVG/PDF units, PNG pixels), y down.
//   A picture is drawn in its own "diagram units" through a Transform the caller picks (the
//   editor's pan and zoom; the exporter's scale to the asked width), so line widths and text
//   sizes are passed already scaled.
// - Colours are 0xAABBGGRR, the same packing as ImGui's IM_COL32 (views::rgba builds one).
// - Text is UTF-8, one line, positioned by the top-left of its line box (ascent + descent) and
//   aligned horizontally by `align`. Widths come from views/text_metrics.h, which reads the same
//   DejaVu fonts both implementations draw with, so a layout measured once fits on every canvas.
// - Groups name what a run of calls draws ("node:stages.0.blocks.1", "wire:C"); they nest, and
//   a recording or an SVG keeps them; drawing does not depend on them.
// - Clips nest and intersect; push_clip/pop_clip and begin_group/end_group must balance.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fw::views {

using Color = uint32_t;  // 0xAABBGGRR (IM_COL32)

constexpr Color rgba(unsigned r, unsigned g, unsigned b, unsigned a = 255) {
  return (static_cast<Color>(a) << 24) | (static_cast<Color>(b) << 16) |
         (static_cast<Color>(g) << 8) | static_cast<Color>(r);
}
constexpr Color rgb_hex(unsigned hex, unsigned a = 255) {  // 0xRRGGBB
  return rgba((hex >> 16) & 0xFF, (hex >> 8) & 0xFF, hex & 0xFF, a);
}
constexpr unsigned red(Color c) { return c & 0xFF; }
constexpr unsigned green(Color c) { return (c >> 8) & 0xFF; }
constexpr unsigned blue(Color c) { return (c >> 16) & 0xFF; }
constexpr unsigned alpha(Color c) { return (c >> 24) & 0xFF; }
constexpr Color with_alpha(Color c, float a) {
  return (c & 0x00FFFFFFu) | (static_cast<Color>(a * 255.0f + 0.5f) << 24);
}
constexpr Color kNone = 0;  // no fill / no stroke

struct Vec2 {
  float x = 0, y = 0;
  friend bool operator==(Vec2, Vec2) = default;
};

// Diagram units -> output units: out = origin + scale * p.
struct Transform {
  Vec2 origin;
  float scale = 1;
  Vec2 operator()(Vec2 p) const { return {origin.x + scale * p.x, origin.y + scale * p.y}; }
  float operator()(float length) const { return scale * length; }
};

struct Stroke {
  Color color = kNone;
  float width = 1;
  bool dashed = false;  // dash and gap of 3 and 2 line widths
  friend bool operator==(const Stroke&, const Stroke&) = default;
};

// DejaVu faces of fonts-dejavu-core; Serif is for the circuit diagrams' symbols (L, d, h).
enum class FontFace : uint8_t { Sans, SansBold, Mono, MonoBold, Serif, SerifBold };
enum class Align : uint8_t { Left, Center, Right };

struct Font {
  FontFace face = FontFace::Sans;
  float size = 13;  // line height (ascent + descent, ImGui's font size), output units
  friend bool operator==(const Font&, const Font&) = default;
};

// Which corners a rounded rectangle rounds (bits).
enum Corners : uint8_t {
  kCornerTL = 1, kCornerTR = 2, kCornerBR = 4, kCornerBL = 8,
  kCornersTop = kCornerTL | kCornerTR, kCornersBottom = kCornerBL | kCornerBR,
  kCornersAll = 15
};

// RGBA8 pixels, row-major, width*height*4 bytes. `key` identifies the pixels for caching (the
// screen uploads a texture once per key): equal keys must mean equal pixels; 0 = do not cache.
struct Image {
  int width = 0, height = 0;
  const uint8_t* rgba = nullptr;
  uint64_t key = 0;
  bool smooth = true;  // bilinear when scaled; false: nearest (a map at its own resolution)
};

class Canvas {
 public:
  virtual ~Canvas() = default;

  virtual void line(Vec2 a, Vec2 b, const Stroke& s) = 0;
  virtual void polyline(const std::vector<Vec2>& points, const Stroke& s, bool closed = false) = 0;
  // One cubic Bézier p0..p3.
  virtual void bezier(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, const Stroke& s) = 0;
  virtual void rect(Vec2 min, Vec2 max, Color fill, const Stroke& s, float rounding = 0,
                    uint8_t corners = kCornersAll) = 0;
  virtual void circle(Vec2 centre, float radius, Color fill, const Stroke& s) = 0;
  // A filled (and/or outlined) convex polygon.
  virtual void polygon(const std::vector<Vec2>& points, Color fill, const Stroke& s) = 0;
  virtual void text(Vec2 pos, std::string_view utf8, const Font& f, Color c,
                    Align align = Align::Left) = 0;
  virtual void image(Vec2 min, Vec2 max, const Image& img) = 0;

  virtual void push_clip(Vec2 min, Vec2 max) = 0;
  virtual void pop_clip() = 0;
  virtual void begin_group(std::string_view id) = 0;
  virtual void end_group() = 0;

  // Measured extents (views/text_metrics.h): width and line height in output units.
  Vec2 measure(std::string_view utf8, const Font& f) const;
};

// RAII for begin_group/end_group and push_clip/pop_clip.
class Group {
 public:
  Group(Canvas& c, std::string_view id) : c_(c) { c_.begin_group(id); }
  ~Group() { c_.end_group(); }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

 private:
  Canvas& c_;
};
class Clip {
 public:
  Clip(Canvas& c, Vec2 min, Vec2 max) : c_(c) { c_.push_clip(min, max); }
  ~Clip() { c_.pop_clip(); }
  Clip(const Clip&) = delete;
  Clip& operator=(const Clip&) = delete;

 private:
  Canvas& c_;
};

// Keeps every call, in order, as one command each. Two recordings are equal when they drew the
// same thing (coordinates compared to 1e-3 of an output unit).
class RecordingCanvas final : public Canvas {
 public:
  enum class Op : uint8_t {
    Line, Polyline, Bezier, Rect, Circle, Polygon, Text, Image, PushClip, PopClip, Begin, End
  };
  struct Command {
    Op op;
    std::vector<Vec2> points{};  // the geometry, in argument order (rect: min, max; circle: centre)
    float value = 0;           // rect: rounding; circle: radius
    uint8_t flags = 0;         // rect: corners; polyline: closed; text: align; image: smooth
    Color fill = kNone;        // fill or text colour
    Stroke stroke{};
    Font font{};
    std::string text{};  // text; group id; image: "WxH#key"
  };

  void line(Vec2 a, Vec2 b, const Stroke& s) override;
  void polyline(const std::vector<Vec2>& points, const Stroke& s, bool closed) override;
  void bezier(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, const Stroke& s) override;
  void rect(Vec2 min, Vec2 max, Color fill, const Stroke& s, float rounding,
            uint8_t corners) override;
  void circle(Vec2 centre, float radius, Color fill, const Stroke& s) override;
  void polygon(const std::vector<Vec2>& points, Color fill, const Stroke& s) override;
  void text(Vec2 pos, std::string_view utf8, const Font& f, Color c, Align align) override;
  void image(Vec2 min, Vec2 max, const Image& img) override;
  void push_clip(Vec2 min, Vec2 max) override;
  void pop_clip() override;
  void begin_group(std::string_view id) override;
  void end_group() override;

  const std::vector<Command>& commands() const { return commands_; }
  // Every text drawn, in order.
  std::vector<std::string> texts() const;
  // Group ids opened, in order.
  std::vector<std::string> groups() const;
  // "" when equal; else where the first difference is ("command 12: text 'C' vs 'H'").
  std::string diff(const RecordingCanvas& other) const;

 private:
  std::vector<Command> commands_;
};

// A picture ready to draw anywhere: its size in diagram units and how to draw it through a
// transform. The exporters (views/picture_export.h) and the screen both take one.
struct Picture {
  Vec2 size;                               // diagram units (the content spans [0, size])
  Color background = rgba(255, 255, 255);  // kNone: transparent (PNG) / no page fill
  std::function<void(Canvas&, const Transform&)> draw;
};

}  // namespace fw::views
