// The main menu bar (File, Edit, View, Help) and the keyboard shortcuts that mirror it. Both only
// report an Action: the view (app/gui/editor_view.h) carries it out, so a menu item and its
// shortcut always do the same thing.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/style.h"

namespace fw::gui {

enum class Action {
  None,
  // File
  New,
  Open,
  OpenRecent,
  ClearRecent,
  Save,
  SaveAs,
  ExportDiagram,  // the level shown, as the graph diagram (app/panels/diagram_export.h)
  ExportOnnx,     // the network (app/panels/network_export.h)
  ExportTorch,
  ExportJson,
  Quit,
  // Edit
  Undo,
  Redo,
  Cut,
  Copy,
  Paste,
  Duplicate,
  Delete,
  SelectAll,
  Rename,
  // View
  FrameAll,
  FrameSelection,
  Arrange,
  ToggleOpen,
  OpenAll,
  CloseAll,
  Enter,
  Up,
  Escape,
  TogglePalette,
  ToggleInspector,
  ShowEditor,
  ShowTraining,
  ShowAttention,
  ShowGradcam,
  ShowView,  // MenuChoice::path: the view
  // Help
  Shortcuts,
};

struct MenuChoice {
  Action action = Action::None;
  std::string path;  // OpenRecent: the file; ShowView: the view
};

struct PanelVisibility {
  bool palette = true;
  bool inspector = true;
};

// Draws the menu bar of the current window (it needs ImGuiWindowFlags_MenuBar). With more than
// one view, the views are tabs on the bar (and items of the View menu); `badge` is drawn after
// the Training tab while a run is going ("43%").
MenuChoice draw_main_menu(const AppState& app, const PanelVisibility& panels,
                          const std::vector<std::string>& views, const std::string& active_view,
                          const std::string& badge, const Fonts& fonts);

// The shortcut pressed this frame, if any (none while a text field has the keyboard).
Action shortcut_pressed();

// Rows of the shortcuts help: {keys, what}.
const std::vector<std::pair<const char*, const char*>>& shortcut_list();

// Key helpers: letters are the GLFW key codes ('A'..'Z'), as Debian's imgui_impl_glfw fills
// io.KeysDown; named keys go through io.KeyMap.
bool key_pressed(int glfw_key);
bool named_key_pressed(ImGuiKey key);

}  // namespace fw::gui
