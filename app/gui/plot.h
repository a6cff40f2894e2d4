// A small line chart for the Training view (Debian has no ImPlot): a titled frame, "nice" axis
// ticks with grid lines, lines and markers, a legend, and a hover read-out of every series at the
// x under the mouse. Long series are reduced to one point per pixel column (the column's mean)
// before drawing, so a run of 100,000 steps draws as fast as one of 500.
#pragma once
#include "views/view_pictures.h"
#include <imgui.h>

#include <span>
#include <string>
#include <vector>

#include "app/gui/style.h"

namespace fw::gui {

// A series points at the caller's arrays (x ascending, as long as y): nothing is copied per frame.
struct PlotSeries {
  std::string label;
  ImU32 color = 0;
  std::span<const float> x, y;
  bool markers = false;  // a dot at each point (per-epoch values)
  float thickness = 1.5f;
};

struct PlotSpec {
  std::string title;
  std::string x_label;             // under the axis, e.g. "epoch"
  double x_min = 0, x_max = 1;     // the x range shown (data beyond is clipped)
  bool y_percent = false;          // values are fractions, labelled as percentages
  bool y_include_zero = false;     // the y range reaches down to 0
  std::vector<PlotSeries> series;  // empty series are skipped (and left out of the legend)
  std::string empty_text;          // shown when there is nothing to draw
};

// Draws at the cursor, taking `size` (an item: hover works, the cursor moves past it).
void draw_plot(const char* id, const PlotSpec& spec, ImVec2 size, const Fonts& fonts);

// The axes' "nice" ticks and ranges are views/view_pictures.h's: one rule for the screen's plots
// and the exported pictures.
using views::nice_ticks;
using views::nice_range;
using views::tick_label;

// Exponential moving average (the smoothed curve of noisy per-step values), bias-corrected at the
// start like TensorBoard's: add(v) returns the EMA of every value so far, weight `alpha` on the
// newest. Carried on value by value, so a growing curve is never smoothed again from its start.
struct MovingAverage {
  double alpha = 0.1;
  double m = 0, w = 0;
  float add(float v) {
    m = (1 - alpha) * m + alpha * double(v);
    w = (1 - alpha) * w + alpha;
    return float(m / w);
  }
};
// MovingAverage over a whole series.
std::vector<float> smooth(const std::vector<float>& v, float alpha);

}  // namespace fw::gui
