// The window every view draws into: GLFW + an OpenGL 3.3 core context + Dear ImGui (Debian's
// libimgui with its imgui_impl_glfw and imgui_impl_opengl3 backends), fonts and style applied.
//
// run_window(opts, draw) calls `draw` once per frame inside ImGui::NewFrame()/Render():
// - interactive (opts.screenshot empty): until the window is closed; sleeps between events.
// - screenshot: opts.frames frames in a window of exactly kScreenshotWidth x kScreenshotHeight
//   pixels (at content scale 1, as under Xvfb), then the last frame's framebuffer goes to
//   opts.screenshot as PNG (and, with opts.state, the probe's report of that frame to that file:
//   the caller enables the probe). The mouse is kept off the window, so no hover shows. With
//   opts.settling, frames go on after opts.frames while it says results are still coming (the
//   views' background requests), for at most kSettleSeconds, and the frame after it settled is
//   the one captured.
// Interactive mode asks on_close() before closing (the editor's "save changes?" prompt) and
// closes when should_quit() says so.
// Returns the exit status: 0, or 1 after printing one line on stderr ("formwork: error: cannot open
// a window (no display?): X11: The DISPLAY environment variable is missing").
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "app/gui/style.h"

namespace fw::gui {

constexpr int kScreenshotWidth = 1280, kScreenshotHeight = 800;
constexpr double kSettleSeconds = 120;
constexpr float kScreenshotFrameSeconds = 0.2f;  // ImGui clock step per screenshot frame

struct WindowOptions {
  std::string title;       // window title
  std::string screenshot;  // PNG path; empty = interactive
  int frames = 3;          // screenshot mode: frames rendered before the capture (>= 1)
  std::string state;       // screenshot mode: also the last frame's report (ui_probe.h) as JSON
  // Interactive mode (each optional):
  std::function<std::string()> title_fn;  // polled after each frame; the title follows it
  std::function<bool()> on_close;         // the close button: true = close now, false = not yet
  std::function<bool()> should_quit;      // the app has decided to close
  std::function<bool()> animating;        // true: keep drawing without waiting for input
  // Both modes:
  std::function<bool()> settling;  // screenshot: true while the frame still waits for results
  std::function<void(const std::vector<std::string>&)> on_drop;  // files dropped on the window
};

using DrawFn = std::function<void(const Fonts&)>;

int run_window(const WindowOptions& opts, const DrawFn& draw);

}  // namespace fw::gui
