#include "app/gui/texture.h"

#include <GL/gl.h>

#include <utility>

#include "app/gui/style.h"

namespace fw::gui {

namespace {
bool g_textures = false;
}

void set_textures_enabled(bool on) { g_textures = on; }
bool textures_enabled() { return g_textures; }

Texture::~Texture() { clear(); }

Texture& Texture::operator=(Texture&& o) noexcept {
  if (this != &o) {
    clear();
    tex_ = std::exchange(o.tex_, 0u);
    w_ = std::exchange(o.w_, 0);
    h_ = std::exchange(o.h_, 0);
  }
  return *this;
}

void Texture::clear() {
  if (tex_ && g_textures) {
    GLuint t = tex_;
    glDeleteTextures(1, &t);
  }
  tex_ = 0;
  w_ = h_ = 0;
}

namespace {

// Uploads w x h pixels of `format` (GL_RGB or GL_RGBA, 8 bits a channel) into `*tex`.
void upload(unsigned* tex, int w, int h, GLenum format, const void* pixels, bool smooth) {
  if (!*tex) {
    GLuint t = 0;
    glGenTextures(1, &t);
    *tex = t;
  }
  glBindTexture(GL_TEXTURE_2D, *tex);
  const GLint filter = smooth ? GL_LINEAR : GL_NEAREST;
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glTexImage2D(GL_TEXTURE_2D, 0, static_cast<GLint>(format), w, h, 0, format, GL_UNSIGNED_BYTE,
               pixels);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
}

}  // namespace

void Texture::set(const Image& img, bool smooth) {
  if (img.w <= 0 || img.h <= 0) {
    clear();
    return;
  }
  w_ = img.w;
  h_ = img.h;
  if (g_textures) upload(&tex_, img.w, img.h, GL_RGB, img.rgb.data(), smooth);
}

void Texture::set_rgba(const uint8_t* rgba, int w, int h, bool smooth) {
  if (w <= 0 || h <= 0 || !rgba) {
    clear();
    return;
  }
  w_ = w;
  h_ = h;
  if (g_textures) upload(&tex_, w, h, GL_RGBA, rgba, smooth);
}

void draw_texture(ImDrawList* dl, const Texture& t, ImVec2 a, ImVec2 b) {
  if (t.id() && !t.empty())
    dl->AddImage(t.id(), a, b);
  else
    dl->AddRectFilled(a, b, palette::kHeader);
}

}  // namespace fw::gui
