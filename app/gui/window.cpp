#include "app/gui/window.h"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cstdio>
#include <thread>
#include <utility>

#include "app/gui/screenshot.h"
#include "app/gui/texture.h"
#include "core/error.h"

namespace fw::gui {

namespace {

std::string g_glfw_error;  // the last GLFW error, for the one-line failure message

std::vector<std::string> g_dropped;  // paths dropped since the last frame

void on_drop(GLFWwindow*, int count, const char** paths) {
  for (int i = 0; i < count; ++i) g_dropped.emplace_back(paths[i]);
}

void on_glfw_error(int code, const char* description) {
  (void)code;
  g_glfw_error = description ? description : "unknown GLFW error";
}

// GLFW + GL context + ImGui, torn down in reverse order.
class Window {
 public:
  Window() = default;
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;
  ~Window() {
    set_textures_enabled(false);  // textures still alive are not freed through a dead context
    if (imgui_gl_) ImGui_ImplOpenGL3_Shutdown();
    if (imgui_glfw_) ImGui_ImplGlfw_Shutdown();
    if (ImGui::GetCurrentContext()) ImGui::DestroyContext();
    if (window_) glfwDestroyWindow(window_);
    if (glfw_) glfwTerminate();
  }

  // Returns an empty string on success, else the reason.
  std::string open(const std::string& title, bool screenshot) {
    screenshot_ = screenshot;
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) return "cannot open a window (no display?): " + g_glfw_error;
    glfw_ = true;

    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    int width = kScreenshotWidth, height = kScreenshotHeight;
    if (!screenshot) {
      // Interactive: the window follows the monitor's scale and fits on it.
      glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
      if (const GLFWvidmode* mode = glfwGetVideoMode(glfwGetPrimaryMonitor())) {
        width = std::min(1440, mode->width * 9 / 10);
        height = std::min(900, mode->height * 9 / 10);
      }
    }
    window_ = glfwCreateWindow(width, height, title.c_str(), nullptr, nullptr);
    if (!window_) return "cannot create an OpenGL 3.3 core window: " + g_glfw_error;
    glfwMakeContextCurrent(window_);
    glfwSwapInterval(screenshot ? 0 : 1);

    float xscale = 1, yscale = 1;
    glfwGetWindowContentScale(window_, &xscale, &yscale);
    const float scale = std::clamp(std::max(xscale, yscale), 1.0f, 4.0f);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // the layout is fixed; nothing to remember between runs
    // No keyboard navigation: Space, Enter, Esc and the arrows belong to the editor's shortcuts
    // (Tab still moves between text fields).
    fonts_ = load_fonts(scale);
    apply_style(scale);

    imgui_glfw_ = ImGui_ImplGlfw_InitForOpenGL(window_, true);
    if (!imgui_glfw_) return "cannot start ImGui's GLFW backend";
    imgui_gl_ = ImGui_ImplOpenGL3_Init("#version 330 core");
    if (!imgui_gl_) return "cannot start ImGui's OpenGL 3 backend";
    set_textures_enabled(true);
    glfwSetDropCallback(window_, on_drop);
    return {};
  }

  // One frame: ImGui frame around `draw`, clear, render. The caller swaps.
  void render(const DrawFn& draw) {
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    // A screenshot shows the state asked for, not what the pointer happens to hover (under Xvfb
    // it sits in the middle of the screen).
    // Its frames also advance ImGui's clock by a fixed step, so time-driven fades (the dimming
    // behind a modal needs about 1/6 s) are complete however fast the machine draws.
    if (screenshot_) {
      ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
      ImGui::GetIO().DeltaTime = kScreenshotFrameSeconds;
    }
    ImGui::NewFrame();
    draw(fonts_);
    ImGui::Render();
    int w = 0, h = 0;
    glfwGetFramebufferSize(window_, &w, &h);
    glViewport(0, 0, w, h);
    const ImVec4 bg = ImGui::ColorConvertU32ToFloat4(palette::kBackground);
    glClearColor(bg.x, bg.y, bg.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  }

  GLFWwindow* handle() const { return window_; }

 private:
  bool glfw_ = false, imgui_glfw_ = false, imgui_gl_ = false, screenshot_ = false;
  GLFWwindow* window_ = nullptr;
  Fonts fonts_;
};

}  // namespace

int run_window(const WindowOptions& opts, const DrawFn& draw) {
  FW_ASSERT(opts.frames >= 1, "run_window needs at least one frame (check --frames first)");
  const bool screenshot = !opts.screenshot.empty();
  Window window;
  if (std::string err = window.open(opts.title, screenshot); !err.empty()) {
    std::fprintf(stderr, "formwork: error: %s\n", err.c_str());
    return 1;
  }

  if (screenshot) {
    // opts.frames frames, then on while the views wait for results (bounded), then one more.
    const auto start = std::chrono::steady_clock::now();
    int settled = 0;
    for (int i = 0;; ++i) {
      glfwPollEvents();
      window.render(draw);
      bool last = i + 1 >= opts.frames;
      if (last && opts.settling) {
        const bool waiting = opts.settling() &&
                             std::chrono::steady_clock::now() - start <
                                 std::chrono::duration<double>(kSettleSeconds);
        settled = waiting ? 0 : settled + 1;
        last = settled >= 2;  // a frame drawn with every result in, then the captured one
        if (waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (last) {
        int w = 0, h = 0;
        glfwGetFramebufferSize(window.handle(), &w, &h);
        try {
          write_framebuffer_png(opts.screenshot, w, h);
          if (!opts.state.empty()) write_state_report(opts.state, w, h);
        } catch (const Error& e) {
          std::fprintf(stderr, "formwork: error: %s\n", e.what());
          return 1;
        }
        glfwSwapBuffers(window.handle());
        return 0;
      }
      glfwSwapBuffers(window.handle());
    }
  }

  // Interactive: render a few frames after each event (ImGui settles hover and layout over a
  // frame or two), then sleep until the next one.
  int eager = 3;
  std::string title = opts.title;
  while (true) {
    if (glfwWindowShouldClose(window.handle())) {
      if (!opts.on_close || opts.on_close()) break;
      glfwSetWindowShouldClose(window.handle(), GLFW_FALSE);  // the app asks first
      eager = 3;
    }
    if (opts.should_quit && opts.should_quit()) break;
    if (eager > 0) {
      glfwPollEvents();
      --eager;
    } else if (opts.animating && opts.animating()) {
      glfwWaitEventsTimeout(1.0 / 30);
    } else {
      glfwWaitEvents();
      eager = 2;
    }
    if (!g_dropped.empty() && opts.on_drop) opts.on_drop(std::exchange(g_dropped, {}));
    window.render(draw);
    glfwSwapBuffers(window.handle());
    if (opts.title_fn) {
      std::string t = opts.title_fn();
      if (t != title) {
        title = std::move(t);
        glfwSetWindowTitle(window.handle(), title.c_str());
      }
    }
  }
  return 0;
}

}  // namespace fw::gui
