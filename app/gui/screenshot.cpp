#include "app/gui/screenshot.h"

#include <GLFW/glfw3.h>  // GL/gl.h: glReadPixels and friends (OpenGL 1.x, also core profile)
// Debian's libstb ships the implementation in libstb.so: no STB_IMAGE_WRITE_IMPLEMENTATION here.
#include <stb/stb_image_write.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "app/gui/ui_probe.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace fw::gui {

void write_framebuffer_png(const std::string& path, int width, int height) {
  FW_ASSERT(width > 0 && height > 0, "write_framebuffer_png needs the framebuffer size");
  const size_t row = static_cast<size_t>(width) * 3;
  std::vector<unsigned char> pixels(row * height);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  if (GLenum err = glGetError(); err != GL_NO_ERROR) {
    char code[16];
    std::snprintf(code, sizeof code, "0x%04x", err);
    throw Error(std::string("screenshot: glReadPixels failed (OpenGL error ") + code + ")");
  }

  // OpenGL's origin is the bottom-left corner; PNG rows go top to bottom.
  std::vector<unsigned char> flipped(pixels.size());
  for (int y = 0; y < height; ++y)
    std::memcpy(&flipped[static_cast<size_t>(y) * row],
                &pixels[static_cast<size_t>(height - 1 - y) * row], row);

  errno = 0;
  if (!stbi_write_png(path.c_str(), width, height, 3, flipped.data(), static_cast<int>(row)))
    throw Error("screenshot: cannot write " + path +
                (errno ? std::string(": ") + std::strerror(errno) : std::string()));
}

void write_state_report(const std::string& path, int width, int height) {
  const std::string text = probe::report_json(width, height);
  write_file_atomic(path, [&](int fd) { write_all(fd, text.data(), text.size(), path); });
}

}  // namespace fw::gui
