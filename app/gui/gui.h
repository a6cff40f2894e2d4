// The Formwork window: GLFW + OpenGL 3.3 core + Dear ImGui.
//
// - run_gui(opts) opens `opts.project` (a template name, an architecture or project file; empty:
//   the bundled sample project in assets/) and shows it until the window is closed; returns 0.
// - Screenshot mode (`opts.screenshot` set): renders `opts.frames` frames of `opts.view`, writes
// the
//   framebuffer as PNG to that path and returns 0. The window is 1280x800 pixels at content scale 1
//   (what Xvfb gives), so screenshots have a known size.
// - Failures print one line on stderr ("formwork: error: ...") and return the exit status: 1 when
// the work
//   failed (no display, no OpenGL 3.3 context, a bad project, an unwritable PNG), 2 for wrong usage
//   (unknown view, frames < 1).
#pragma once
#include <string>

namespace fw {

struct GuiOptions {
  std::string project;     // path or template name; empty = bundled sample
  std::string screenshot;  // PNG path; empty = interactive
  std::string view = "editor";
  int frames = 3;
};

int run_gui(const GuiOptions& opts);

}  // namespace fw
