// The pictures of the Grad-CAM and attention views, drawn through views::Canvas from plain data:
// the screen (app/panels/gradcam_panel, attention_panel through app/gui/imgui_canvas) and
// "Export picture…" (views/picture_export.h) draw the same picture from the same data.
//
// - Units: a picture is laid out in diagram units at the sizes its data gives (the panels pass
//   their on-screen sizes, so an export is what the screen shows); Transform scales everything,
//   text and line widths included.
// - Colours: the app's dark theme (view_palette below; app/gui/style.h's palette refers to it).
// - Images: RGBA pixels owned by the data (PictureImage) with a key derived from the pixels, so
//   the screen uploads a texture once per content (equal keys mean equal pixels, up to a 64-bit
//   hash collision).
// - Reports: a picture's draw can tell the caller where each map, colour scale, chart and curve
//   went, in output units (PictureItem), for the UI probe; drawing does not depend on it.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "views/canvas.h"
#include "views/graph_style.h"

namespace fw::views {

namespace view_palette {
inline constexpr Color kBackground = graph_palette::kBackground;
inline constexpr Color kPanel = rgb_hex(0x171a21);  // charts, empty maps
inline constexpr Color kBorder = rgb_hex(0x2a2f3a);
inline constexpr Color kGridMinor = rgb_hex(0x1a1e26);
inline constexpr Color kGridMajor = rgb_hex(0x20252f);
inline constexpr Color kText = graph_palette::kText;
inline constexpr Color kTextDim = graph_palette::kTextDim;
inline constexpr Color kAccent = graph_palette::kAccent;
inline constexpr Color kOk = rgb_hex(0x6cc38b);
inline constexpr Color kWarning = graph_palette::kWarning;
inline constexpr Color kError = graph_palette::kError;
inline constexpr Color kDeletion = rgb_hex(0xe5a14a);
inline constexpr Color kInsertion = rgb_hex(0x5aa9f0);
}  // namespace view_palette

// RGBA8 pixels owned (row-major, width*height*4), keyed by their content.
struct PictureImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;
  uint64_t key = 0;     // image_key(); 0 while empty
  bool smooth = true;   // false: nearest (a map at its own resolution)
  bool empty() const { return width <= 0 || height <= 0; }
  Image image() const { return {width, height, rgba.data(), key, smooth}; }
};
// From 8-bit RGB (w*h*3 bytes), opaque; the key from the pixels and the size.
PictureImage picture_image(int width, int height, const uint8_t* rgb, bool smooth);
uint64_t image_key(int width, int height, const uint8_t* rgba, bool smooth);

// A vertical colour bar: `colors` evenly from lo (bottom) to hi (top), a title above it and the
// nice values of lo..hi beside it.
struct ColorScale {
  std::string id;     // the report's id ("raw_scale")
  std::string title;  // "cam", "p(attn)"
  float lo = 0, hi = 0;
  std::vector<Color> colors;  // at least 2
};

// Where a picture drew something, in output units (for the UI probe; list as app/gui/ui_probe.h
// names them: "map", "scale", "plot", "series").
struct PictureItem {
  std::string list, id, text;
  Vec2 min, max;
  int count = 0;       // scale: values written; plot: curves drawn; series: points
  Color fill = kNone;  // plot: its background
  Color ink = kNone;   // series: its colour over the chart
  bool stale = false;  // map: recomputing
};
using PictureReport = std::function<void(const PictureItem&)>;

// Tick positions at a "nice" step (1, 2 or 5 times a power of ten) covering [lo, hi] with at most
// max_ticks ticks inside it; lo == hi gives one tick.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks);
// [lo, hi] widened outwards to the nice step that nice_ticks would use.
void nice_range(double* lo, double* hi, int max_ticks);
// A tick's label with the decimals its step needs ("0.25"; percent: "25%").
std::string tick_label(double v, double step, bool percent);

// ---- Grad-CAM

struct GradcamPicture {
  // Layout (diagram units).
  float font = 15;        // text line height
  float side = 256;       // the overlay's width and height
  float raw_width = 128;  // the raw map's width (its height in proportion)
  float plot_width = 360;
  float plot_height = 200;

  std::string title;  // "Grad-CAM · stages.2 · Trouser 91.2%"
  PictureImage overlay;  // the input with the saliency blended in; empty: not computed yet
  int input_w = 0, input_h = 0;         // the overlay's pixel grid (box and peak coordinates)
  std::optional<std::array<int, 4>> box;  // x0, y0, x1, y1 in input pixels
  std::string badge;  // over the overlay ("computing…"), "" for none
  bool stale = false;

  // The raw map (nearest), its colour scale and notes; raw.empty(): none yet.
  PictureImage raw;
  std::string raw_title;  // "raw 4x4"
  ColorScale scale;
  std::string overlay_note;  // "overlay: max-normalised, bilinear to 64x64"
  std::string warning;       // a degenerate map's note, "" for none

  // Faithfulness: the curves (x = i / (n - 1)) and scores; empty curves: `scores_note` instead.
  std::string class_name;
  std::vector<float> deletion, insertion;
  double deletion_auc = 0, insertion_auc = 0;
  std::optional<bool> pointing_hit;  // empty: the input has no box
  int peak_x = 0, peak_y = 0;        // input pixels (drawn when the curves are there)
  std::string scores_note;           // "computing deletion and insertion…", an error line
  bool scores_failed = false;        // scores_note in the error colour
};

// Where gradcam_picture() puts its parts (diagram units), for the panel's hover and clicks.
struct GradcamLayout {
  Vec2 size;
  Vec2 overlay_min, overlay_max;
  Vec2 raw_min, raw_max;
  Vec2 plot_min, plot_max;  // the chart's frame
  Vec2 area_min, area_max;  // its curves' area (x 0..1 from left to right)
};
GradcamLayout gradcam_layout(const GradcamPicture& g);
// The picture of `g` (copied into the picture). `report` gets "map" gradcam:overlay/gradcam:raw,
// "scale" raw_scale, "plot" p(<class>) and "series" p(<class>)/deletion, /insertion.
Picture gradcam_picture(const GradcamPicture& g, PictureReport report = {});

// ---- Attention

struct MapTile {
  std::string id;       // "attention:head0" (the report's)
  std::string caption;  // "head 0"
  PictureImage image;   // over the input (bilinear), at the input's aspect
  bool stale = false;   // "recomputing…" over it
};

// One mixer's row of maps for the query: per head and their mean (and the rollout), or the
// effective mixing map, with one colour scale.
struct AttentionPicture {
  float font = 15;
  float tile = 120;        // a map's width (its height: the input's aspect)
  float scale_width = 75;  // the colour scale's column
  float spacing = 10;      // between maps

  std::string title;     // the mixer's path
  std::string subtitle;  // "attention · 16 tokens (4x4) · query 6 (row 1, col 2)"
  int input_w = 1, input_h = 1;
  int grid_w = 1, grid_h = 1;  // the mixer's token grid
  int64_t query_cell = -1;     // the query's cell in the grid (row * grid_w + col); -1: none
  std::vector<MapTile> tiles;
  std::string note;  // after the maps ("rollout…", an error line), "" for none
  bool note_error = false;
  ColorScale scale;
};

struct AttentionLayout {
  Vec2 size;
  std::vector<std::pair<Vec2, Vec2>> tiles;  // each map's rectangle
};
AttentionLayout attention_layout(const AttentionPicture& a);
// `report` gets a "map" per tile and the "scale".
Picture attention_picture(const AttentionPicture& a, PictureReport report = {});

// Pictures one above the other, `gap` apart, left-aligned (the attention view's mixer and the one
// compared with it); the background of the first.
Picture stack_pictures(std::vector<Picture> parts, float gap);

}  // namespace fw::views
