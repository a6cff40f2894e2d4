// Drives the real editor view through ImGui frames with no renderer: a context with a display
// size and a built font atlas, synthetic mouse and keyboard input as Dear ImGui 1.86 takes it
// (io.MousePos, io.MouseDown[], io.KeysDown[] with GLFW key codes, io.KeyCtrl/KeyShift), and
// NewFrame -> EditorView::draw -> Render per simulated frame.
#pragma once
#include <imgui.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "app/gui/style.h"
#include "app/gui/ui_probe.h"

namespace fw::gui::testing {

// A fresh, empty directory under the system temp dir for one test ("formwork_gui_NAME_PID").
inline std::string temp_dir(const std::string& name) {
  const std::filesystem::path p = std::filesystem::temp_directory_path() /
                                  ("formwork_gui_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// GLFW key codes (imgui_impl_glfw fills io.KeysDown with them; letters are ASCII).
enum Key {
  kKeySpace = 32,
  kKeyEscape = 256,
  kKeyEnter = 257,
  kKeyTab = 258,
  kKeyBackspace = 259,
  kKeyInsert = 260,
  kKeyDelete = 261,
  kKeyRight = 262,
  kKeyLeft = 263,
  kKeyDown = 264,
  kKeyUp = 265,
  kKeyPageUp = 266,
  kKeyPageDown = 267,
  kKeyHome = 268,
  kKeyEnd = 269,
  kKeyF2 = 291,
  kKeyPadEnter = 335,
};

class UiDriver {
 public:
  UiDriver() {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(1280, 800);
    io.DeltaTime = 1.0f / 60;
    const int map[][2] = {{ImGuiKey_Tab, kKeyTab},
                          {ImGuiKey_LeftArrow, kKeyLeft},
                          {ImGuiKey_RightArrow, kKeyRight},
                          {ImGuiKey_UpArrow, kKeyUp},
                          {ImGuiKey_DownArrow, kKeyDown},
                          {ImGuiKey_PageUp, kKeyPageUp},
                          {ImGuiKey_PageDown, kKeyPageDown},
                          {ImGuiKey_Home, kKeyHome},
                          {ImGuiKey_End, kKeyEnd},
                          {ImGuiKey_Insert, kKeyInsert},
                          {ImGuiKey_Delete, kKeyDelete},
                          {ImGuiKey_Backspace, kKeyBackspace},
                          {ImGuiKey_Space, kKeySpace},
                          {ImGuiKey_Enter, kKeyEnter},
                          {ImGuiKey_Escape, kKeyEscape},
                          {ImGuiKey_KeyPadEnter, kKeyPadEnter},
                          {ImGuiKey_A, 'A'},
                          {ImGuiKey_C, 'C'},
                          {ImGuiKey_V, 'V'},
                          {ImGuiKey_X, 'X'},
                          {ImGuiKey_Y, 'Y'},
                          {ImGuiKey_Z, 'Z'}};
    for (const auto& m : map) io.KeyMap[m[0]] = m[1];
    fonts = load_fonts(1.0f);
    apply_style(1.0f);
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // builds the atlas; no texture upload
    probe::enable(true);
    view = std::make_unique<EditorView>(app);
  }
  ~UiDriver() {
    view.reset();
    probe::enable(false);
    probe::clear();
    ImGui::DestroyContext();
  }
  UiDriver(const UiDriver&) = delete;
  UiDriver& operator=(const UiDriver&) = delete;

  // One frame (or n): NewFrame -> draw -> Render. What the last one drew is in the probe's frame
  // report (probe::items(), probe::fact_or(): ui_probe.h).
  void frame(int n = 1) {
    for (int i = 0; i < n; ++i) {
      ImGui::NewFrame();
      view->draw(fonts);
      ImGui::Render();
      ImGui::GetIO().MouseWheel = 0;
    }
  }
  void wait(double seconds) { frame(static_cast<int>(seconds * 60) + 1); }
  // Frames until `done()` holds (true) or `seconds` pass (false); background work runs meanwhile.
  template <class F>
  bool frames_until(F done, double seconds = 120) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      frame();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  void mouse(ImVec2 p) {
    ImGui::GetIO().MousePos = p;
    frame();
  }
  void press(int button = 0) {
    ImGui::GetIO().MouseDown[button] = true;
    frame();
  }
  void release(int button = 0) {
    ImGui::GetIO().MouseDown[button] = false;
    frame();
  }
  void click(ImVec2 p, int button = 0) {
    mouse(p);
    press(button);
    release(button);
  }
  void double_click(ImVec2 p) {
    click(p);
    press();
    release();
  }
  // Press at a, move there in steps, release at b.
  void drag(ImVec2 a, ImVec2 b, int steps = 8, int button = 0) {
    mouse(a);
    press(button);
    for (int i = 1; i <= steps; ++i) {
      const float t = static_cast<float>(i) / static_cast<float>(steps);
      mouse(ImVec2(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t));
    }
    frame();  // hover the target once more before letting go
    release(button);
  }
  void key(int k, bool ctrl = false, bool shift = false) {
    ImGuiIO& io = ImGui::GetIO();
    io.KeyCtrl = ctrl;
    io.KeyShift = shift;
    io.KeysDown[k] = true;
    frame();
    io.KeysDown[k] = false;
    frame();
    io.KeyCtrl = io.KeyShift = false;
    frame();
  }
  void type(const std::string& text) {
    for (char c : text) ImGui::GetIO().AddInputCharacter(static_cast<unsigned>(c));
    frame();
  }
  void wheel(ImVec2 at, float steps) {
    ImGui::GetIO().MousePos = at;
    frame();
    ImGui::GetIO().MouseWheel = steps;
    frame();
  }
  // The centre of a widget the probe recorded (fails the test when it was not drawn).
  ImVec2 at(const std::string& key) const { return probe::center(key); }

  EditorCanvas& canvas() { return view->canvas(); }
  ImVec2 node_center(NodeId id) {
    ImVec2 a, b;
    if (!canvas().node_rect(id, &a, &b)) return ImVec2(-1, -1);
    return ImVec2((a.x + b.x) * 0.5f, (a.y + b.y) * 0.5f);
  }
  // A point in a node's header (clear of the chevron).
  ImVec2 node_header(NodeId id) {
    ImVec2 a, b;
    if (!canvas().node_rect(id, &a, &b)) return ImVec2(-1, -1);
    return ImVec2(a.x + std::min(40.0f, (b.x - a.x) * 0.35f), a.y + 6);
  }
  ImVec2 port(NodeId id, int port, bool output) {
    ImVec2 p(-1, -1);
    canvas().port_pos(id, port, output, &p);
    return p;
  }

  Fonts fonts;
  AppState app;
  std::unique_ptr<EditorView> view;
};

}  // namespace fw::gui::testing
