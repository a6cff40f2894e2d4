// Images on screen: an RGB fw::Image (views/image.h) uploaded as an OpenGL texture that ImGui
// draws (ImGui::Image / ImDrawList::AddImage). The only GL in the views' code; views/ stays free
// of it.
//
// - Uploads happen only once the window has a GL context (set_textures_enabled(true), called by
//   app/gui/window.cpp after ImGui's OpenGL backend started). Without one (the panel tests drive
//   the views with no renderer) a Texture keeps its size and reports id() == 0; draw_texture()
//   then fills the rectangle with the panel header colour, so layout and the frame report are
//   the same as with a renderer.
// - Texture::set(img, smooth): replaces the pixels (GL_LINEAR filtering when `smooth`: a map
//   shown larger than its resolution is upsampled bilinearly by the GPU; GL_NEAREST shows the
//   cells of a raw map). set_rgba(): the same from RGBA8 pixels (views::Image, the canvases'
//   images). The texture is freed with the object (or on the next set of another size).
#pragma once
#include <imgui.h>

#include <cstdint>

#include "views/image.h"

namespace fw::gui {

void set_textures_enabled(bool on);
bool textures_enabled();

class Texture {
 public:
  Texture() = default;
  ~Texture();
  Texture(const Texture&) = delete;
  Texture& operator=(const Texture&) = delete;
  Texture(Texture&& o) noexcept { *this = std::move(o); }
  Texture& operator=(Texture&& o) noexcept;

  void set(const Image& img, bool smooth);
  // `rgba`: w * h * 4 bytes, row-major.
  void set_rgba(const uint8_t* rgba, int w, int h, bool smooth);
  void clear();
  bool empty() const { return w_ == 0; }
  int width() const { return w_; }
  int height() const { return h_; }
  ImTextureID id() const { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(tex_)); }

 private:
  unsigned tex_ = 0;
  int w_ = 0, h_ = 0;
};

// Draws `t` into the screen rectangle a..b of the current window's draw list (filled with the
// panel header colour when there is no GL context or no image).
void draw_texture(ImDrawList* dl, const Texture& t, ImVec2 a, ImVec2 b);

}  // namespace fw::gui
