// Screenshots: the current OpenGL framebuffer as a PNG file.
#pragma once
#include <string>

namespace fw::gui {

// Reads the back buffer of the current context (width x height pixels, call before swapping),
// flips it to top-row-first and writes it as an RGB PNG. Throws fw::Error naming the file when it
// cannot be written.
void write_framebuffer_png(const std::string& path, int width, int height);

}  // namespace fw::gui
