// The Formwork window: GLFW + OpenGL 3.3 core + Dear ImGui, showing the editor view.
//
// - run_gui(opts) opens `opts.project` (a template name, an architecture or project file) and
//   shows it until the window is closed (asking to save unsaved changes first); returns 0. With
//   no project it opens the bundled sample project (assets/sample.formwork; never saved over:
//   Save asks for a new file, which gets its weights and data too); when that file is
//   missing it shows the built-in template poolformer_s12 and says so in the status bar. A
//   project that cannot be opened is shown as an error in the window, over an empty document.
// - Screenshot mode (`opts.screenshot` set): renders `opts.frames` frames of `opts.view`, writes
//   the framebuffer as PNG to that path and returns 0. The window is 1280x800 pixels at content
//   scale 1 (what Xvfb gives), so screenshots have a known size. Recent files are not touched.
//   `enter`, `select`, `expand` and `dialog` put the editor in a given state first. With `state`
//   the last frame's report (app/gui/ui_probe.h: the view, level, nodes, inspector rows, dialog,
//   curves... it drew, with their screen rectangles) is written to that file as JSON too.
// - Failures print one line on stderr ("formwork: error: ...") and return the exit status: 1 when
//   the work failed (no display, no OpenGL 3.3 context, a bad project in screenshot mode, an
//   unwritable PNG), 2 for wrong usage (a view this build does not have, frames < 1, a module
//   that is not in the graph, `state` without `screenshot`, an unknown --method, --input that is
//   not understood).
// - In screenshot mode the frames go on until the view in front has every result it asked for
//   (the model's requests, the input loading; at most kSettleSeconds), so the picture shows real
//   maps and scores.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fw {

struct GuiOptions {
  std::string project;     // path or template name; empty = bundled sample
  std::string screenshot;  // PNG path; empty = interactive
  std::string view = "editor";
  int frames = 3;
  std::string enter;                // module path of a group or block to show the inside of
  std::string select;               // module path of a node to select (its level is shown)
  std::vector<std::string> expand;  // module paths of groups to open in place, or "all"
  std::string dialog;               // "templates", "open" or "shortcuts": a dialog in front
  std::string state;                // screenshot mode: the frame report's JSON path; empty = none
  // The attention and Grad-CAM views' state (README, "The views"):
  std::string input;    // "sample:K" (stored sample K), "dataset:NAME:SPLIT:I", or an image
                        // file / .npy; empty = stored sample 0
  std::string layer;    // attention: the token mixer; gradcam: the target (default: last stage)
  std::string compare;  // attention: a second mixer shown beside it
  int64_t query = -1;   // attention: the pinned query token of the mixer's grid
  int64_t cls = -1;     // gradcam: the class (-1 = top-1)
  std::string method;   // gradcam: gradcam or gradcam++
  // The Search view's state:
  std::string search;      // the search shown (default: the most recent)
  std::string search_tab;  // "results" (default) or "study" (the proxy study)
};

// The views of CONTRACT.md and those this build has.
const std::vector<std::string>& contract_views();
const std::vector<std::string>& built_views();

int run_gui(const GuiOptions& opts);

}  // namespace fw
