// Screenshots: the current OpenGL framebuffer as a PNG file, and the state report beside it.
#pragma once
#include <string>

namespace fw::gui {

// Reads the back buffer of the current context (width x height pixels, call before swapping),
// flips it to top-row-first and writes it as an RGB PNG. Throws fw::Error naming the file when it
// cannot be written.
void write_framebuffer_png(const std::string& path, int width, int height);

// Writes the last frame's report (app/gui/ui_probe.h: what it drew, where) as JSON. Throws
// fw::Error naming the file when it cannot be written.
void write_state_report(const std::string& path, int width, int height);

}  // namespace fw::gui
