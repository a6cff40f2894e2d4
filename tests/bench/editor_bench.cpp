// formwork_editor_bench: CPU time per frame of the editor view (NewFrame -> EditorView::draw ->
// Render; no OpenGL, no swap) while panning and zooming, on
//   1. poolformer_m48 with every group open in place (the whole model on one canvas), and
//   2. a generated 2,000-node level (20 rows x 100 columns, each node fed by two of the previous
//      column).
// Each scene: zoom in from "frame all" to 100 % around the centre, out to 25 %, pan across with the
// middle button, zoom out to "frame all" again - driven through the same synthetic input as the
// UI tests. Prints the median, 90th percentile and worst frame, the median of each phase, and the
// one-off costs (layout, analysis, scene build).
//
//   formwork_editor_bench [--frames N]
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "app/gui/style.h"
#include "core/analysis.h"
#include "core/templates.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

fw::Graph generated_graph(int rows, int cols) {
  fw::Graph g;
  const fw::NodeId in =
      g.add(fw::kNoNode, "input", "input",
            {{"channels", int64_t(8)}, {"height", int64_t(4)}, {"width", int64_t(4)}});
  std::vector<fw::NodeId> prev(rows, in);
  for (int c = 0; c < cols; ++c)
    for (int r = 0; r < rows; ++r) {
      std::string name = "n";
      name += std::to_string(c * rows + r);
      const fw::NodeId n = g.add(fw::kNoNode, "add", name);
      g.connect({prev[r], 0}, n, 0);
      g.connect({prev[(r + 1) % rows], 0}, n, 1);
      prev[r] = n;
    }
  const fw::NodeId out = g.add(fw::kNoNode, "output", "output");
  g.connect({prev[0], 0}, out, 0);
  return g;
}

struct Result {
  double median = 0, p90 = 0, worst = 0;
  double phase_median[4] = {0, 0, 0, 0};
};

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Four phases of frames/4 each: zoom in from "frame all" to 100 %; zoom out to 25 % (the
// densest text: hundreds of nodes with their titles and shapes); pan across at 25 % with the
// middle button (strokes of 600 px, the mouse returning between them); zoom out to "frame all".
Result run(fw::gui::EditorView& view, const fw::gui::Fonts& fonts, int frames) {
  ImGuiIO& io = ImGui::GetIO();
  auto frame = [&] {
    ImGui::NewFrame();
    view.draw(fonts);
    ImGui::Render();
    io.MouseWheel = 0;
  };
  io.MousePos = ImVec2(640, 400);
  for (int i = 0; i < 3; ++i) frame();  // scene built, everything framed
  const ImVec2 cmin = view.canvas().canvas_min(), cmax = view.canvas().canvas_max();
  const ImVec2 center((cmin.x + cmax.x) * 0.5f, (cmin.y + cmax.y) * 0.5f);
  view.run(fw::gui::Action::FrameAll);  // the first view of a level may be closer than "all"
  frame();
  const float fit = view.canvas().pixels_per_unit();
  const int quarter = std::max(8, frames / 4);
  // Wheel steps that take the zoom from its current value to `target` in the remaining frames.
  auto wheel_towards = [&](float target, int remaining) {
    const float z = view.canvas().pixels_per_unit();
    return static_cast<float>(std::log(target / z) / std::log(1.15) / std::max(1, remaining));
  };
  std::vector<double> all, phase[4];
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < quarter; ++i) {
      io.MouseDown[2] = false;
      io.MousePos = center;
      if (p == 0) io.MouseWheel = wheel_towards(1.0f, quarter - i);
      if (p == 1) io.MouseWheel = wheel_towards(0.25f, quarter - i);
      if (p == 3) io.MouseWheel = wheel_towards(fit, quarter - i);
      if (p == 2) {
        const int stroke = i % 40;  // 30 frames dragging, 10 returning
        const float t = static_cast<float>(std::min(stroke, 30)) / 30.0f;
        io.MouseDown[2] = stroke < 30;
        io.MousePos = stroke < 30 ? ImVec2(center.x + 300 - 600 * t, center.y)
                                  : ImVec2(center.x + 300, center.y);
      }
      const auto t0 = Clock::now();
      frame();
      const double ms = ms_since(t0);
      all.push_back(ms);
      phase[p].push_back(ms);
      if (std::getenv("FW_BENCH_TRACE") && (i % 10 == 0 || ms > 2))
        std::printf("    phase %d frame %d: %.3f ms, zoom %.3f, %d vertices\n", p, i, ms,
                    view.canvas().pixels_per_unit(), ImGui::GetDrawData()->TotalVtxCount);
    }
  }
  io.MouseDown[2] = false;
  frame();
  Result r;
  for (int p = 0; p < 4; ++p) r.phase_median[p] = median_of(phase[p]);
  std::sort(all.begin(), all.end());
  r.median = all[all.size() / 2];
  r.p90 = all[all.size() * 9 / 10];
  r.worst = all.back();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int frames = 360;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--frames") == 0) frames = std::max(30, std::atoi(argv[i + 1]));

  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  io.DisplaySize = ImVec2(1280, 800);
  io.DeltaTime = 1.0f / 60;
  const fw::gui::Fonts fonts = fw::gui::load_fonts(1.0f);
  fw::gui::apply_style(1.0f);
  unsigned char* pixels = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);

  std::printf(
      "editor frame time, CPU only (NewFrame -> draw -> Render, no GL), 1280x800, %d frames "
      "of zoom in / pan / zoom out each\n",
      frames);
  struct Case {
    const char* name;
    fw::Graph graph;
    bool open_all;
  };
  std::vector<Case> cases;
  cases.push_back(
      {"poolformer_m48, every group open in place", fw::build_template("poolformer_m48"), true});
  cases.push_back({"generated 2,000-node level", generated_graph(20, 100), false});
  for (Case& c : cases) {
    fw::gui::AppState app;
    const size_t nodes = c.graph.size();
    auto t0 = Clock::now();
    fw::gui::load_graph(app, std::move(c.graph), fw::gui::Source::Untitled, "", c.name);
    const double load_ms = ms_since(t0);
    t0 = Clock::now();
    const fw::Analysis& a = app.doc.analysis();
    const double analysis_ms = ms_since(t0);
    fw::gui::EditorView view(app);
    if (c.open_all) view.run(fw::gui::Action::OpenAll);
    ImGui::NewFrame();
    t0 = Clock::now();
    view.draw(fonts);  // builds the scene
    const double first_ms = ms_since(t0);
    ImGui::Render();
    const Result r = run(view, fonts, frames);
    std::printf("\n%s: %zu nodes, %zu drawn items, %zu links, %s\n", c.name, nodes,
                view.canvas().scene().items.size(), view.canvas().scene().links.size(),
                a.ok() ? "valid" : "with problems");
    std::printf(
        "  one-off: layout+load %.1f ms, analysis %.1f ms, first frame (scene build) %.1f ms\n",
        load_ms, analysis_ms, first_ms);
    std::printf("  per frame: median %.2f ms, p90 %.2f ms, worst %.2f ms\n", r.median, r.p90,
                r.worst);
    std::printf(
        "  median by phase: zoom in to 100%% %.2f ms, out to 25%% %.2f ms, pan at 25%% %.2f ms, "
        "out to fit %.2f ms\n",
        r.phase_median[0], r.phase_median[1], r.phase_median[2], r.phase_median[3]);
  }
  ImGui::DestroyContext();
  return 0;
}
