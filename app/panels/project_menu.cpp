#include "app/panels/project_menu.h"

#include <filesystem>

#include "app/gui/ui_probe.h"

namespace fw::gui {

namespace {
constexpr int kKeyF2 = 291;  // GLFW_KEY_F2

const char* view_title(const std::string& v) {
  if (v == "editor") return "Editor";
  if (v == "training") return "Training";
  if (v == "attention") return "Attention";
  if (v == "gradcam") return "Grad-CAM";
  if (v == "circuit") return "Circuit diagram";
  if (v == "nas") return "Search";
  return v.c_str();
}
}  // namespace

bool key_pressed(int glfw_key) { return ImGui::IsKeyPressed(glfw_key, false); }

bool named_key_pressed(ImGuiKey key) {
  const int index = ImGui::GetKeyIndex(key);
  return index >= 0 && ImGui::IsKeyPressed(index, false);
}

const std::vector<std::pair<const char*, const char*>>& shortcut_list() {
  static const std::vector<std::pair<const char*, const char*>> rows = {
      {"Ctrl+N", "New project from a template"},
      {"Ctrl+O", "Open a project or architecture"},
      {"Ctrl+S", "Save"},
      {"Ctrl+Shift+S", "Save as"},
      {"Ctrl+Q", "Quit"},
      {"Ctrl+1 / Ctrl+2", "The editor / the training view"},
      {"Ctrl+3 / Ctrl+4", "The attention / the Grad-CAM view"},
      {"Ctrl+Z", "Undo"},
      {"Ctrl+Shift+Z, Ctrl+Y", "Redo"},
      {"Ctrl+X / Ctrl+C / Ctrl+V", "Cut / copy / paste (at the mouse)"},
      {"Ctrl+D", "Duplicate"},
      {"Del, Backspace", "Delete the selected nodes or link"},
      {"Ctrl+A", "Select all nodes of the level"},
      {"F2", "Rename"},
      {"F", "Frame all"},
      {"Shift+F", "Frame the selection"},
      {"Ctrl+L", "Arrange the level (automatic layout)"},
      {"E", "Open or close the selected groups in place"},
      {"Enter, double-click", "Enter the selected group or block"},
      {"Esc", "Cancel, clear the selection, then go up a level"},
      {"Mouse wheel", "Zoom around the cursor"},
      {"Middle/right drag, Space+drag", "Pan"},
      {"Drag on empty canvas", "Box selection (Shift: add)"},
      {"Shift/Ctrl+click", "Add to or remove from the selection"},
      {"Drag port to port", "Connect (refused with the reason when shapes do not fit)"},
      {"Right click", "Context menu: add node here, node and link actions"},
  };
  return rows;
}

Action shortcut_pressed() {
  const ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return Action::None;
  const bool ctrl = io.KeyCtrl, shift = io.KeyShift;
  if (ctrl) {
    if (key_pressed('N')) return Action::New;
    if (key_pressed('O')) return Action::Open;
    if (key_pressed('S')) return shift ? Action::SaveAs : Action::Save;
    if (key_pressed('Q')) return Action::Quit;
    if (key_pressed('Z')) return shift ? Action::Redo : Action::Undo;
    if (key_pressed('Y')) return Action::Redo;
    if (key_pressed('X')) return Action::Cut;
    if (key_pressed('C')) return Action::Copy;
    if (key_pressed('V')) return Action::Paste;
    if (key_pressed('D')) return Action::Duplicate;
    if (key_pressed('A')) return Action::SelectAll;
    if (key_pressed('L')) return Action::Arrange;
    if (key_pressed('1')) return Action::ShowEditor;
    if (key_pressed('2')) return Action::ShowTraining;
    if (key_pressed('3')) return Action::ShowAttention;
    if (key_pressed('4')) return Action::ShowGradcam;
    return Action::None;
  }
  if (io.KeyAlt || io.KeySuper) return Action::None;
  if (named_key_pressed(ImGuiKey_Escape)) return Action::Escape;  // also cancels a canvas drag
  // Plain keys act on the canvas; not while a widget (a field, a drag) has the focus.
  if (ImGui::IsAnyItemActive()) return Action::None;
  if (named_key_pressed(ImGuiKey_Delete) || named_key_pressed(ImGuiKey_Backspace))
    return Action::Delete;
  if (named_key_pressed(ImGuiKey_Enter) || named_key_pressed(ImGuiKey_KeyPadEnter))
    return Action::Enter;
  if (key_pressed('F')) return shift ? Action::FrameSelection : Action::FrameAll;
  if (key_pressed('E')) return Action::ToggleOpen;
  if (key_pressed(kKeyF2)) return Action::Rename;
  return Action::None;
}

MenuChoice draw_main_menu(const AppState& app, const PanelVisibility& panels,
                          const std::vector<std::string>& views, const std::string& active_view,
                          const std::string& badge, const Fonts& fonts) {
  MenuChoice c;
  if (!ImGui::BeginMenuBar()) return c;
  // The mark: a small accent square and the name.
  {
    const float h = ImGui::GetFontSize() * 0.8f;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float y = p.y + (ImGui::GetFrameHeight() - h) * 0.5f;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(ImVec2(p.x, y), ImVec2(p.x + h, y + h), palette::kAccent, h * 0.22f);
    dl->AddRectFilled(ImVec2(p.x + h * 0.28f, y + h * 0.28f),
                      ImVec2(p.x + h * 0.72f, y + h * 0.72f), palette::kHeader, h * 0.1f);
    ImGui::Dummy(ImVec2(h, h));
    ImGui::PushFont(fonts.bold);
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kAccent);
    ImGui::TextUnformatted("Formwork");
    ImGui::PopStyleColor();
    ImGui::PopFont();
  }
  const bool has_selection = !app.editor.selection.empty();
  const bool file_menu = ImGui::BeginMenu("File");
  probe::note("menubar:file");
  if (file_menu) {
    if (ImGui::MenuItem("New from template\xE2\x80\xA6", "Ctrl+N")) c.action = Action::New;
    if (ImGui::MenuItem("Open\xE2\x80\xA6", "Ctrl+O")) c.action = Action::Open;
    if (ImGui::BeginMenu("Open recent", !app.recent.empty() || !app.config_dir.empty())) {
      if (app.recent.empty()) ImGui::TextDisabled("No recent files");
      for (const std::string& p : app.recent) {
        const std::string name = std::filesystem::path(p).filename().string();
        if (ImGui::MenuItem(name.c_str())) c = {Action::OpenRecent, p};
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", p.c_str());
      }
      ImGui::Separator();
      if (ImGui::MenuItem("Clear recent files", nullptr, false, !app.recent.empty()))
        c.action = Action::ClearRecent;
      ImGui::EndMenu();
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Save", "Ctrl+S")) c.action = Action::Save;
    if (ImGui::MenuItem("Save as\xE2\x80\xA6", "Ctrl+Shift+S")) c.action = Action::SaveAs;
    ImGui::Separator();
    if (ImGui::MenuItem("Export diagram\xE2\x80\xA6")) c.action = Action::ExportDiagram;
    probe::note("menu:export_diagram");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("The level shown, as a picture: SVG, PDF or PNG (by the file's extension)");
    const bool network_menu = ImGui::BeginMenu("Export network");
    probe::note("menu:export_network");
    if (network_menu) {
      if (ImGui::MenuItem("ONNX\xE2\x80\xA6")) c.action = Action::ExportOnnx;
      probe::note("menu:export_onnx");
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("ONNX opset 17 with the weights inside (the project's, or fresh ones)");
      if (ImGui::MenuItem("PyTorch\xE2\x80\xA6")) c.action = Action::ExportTorch;
      probe::note("menu:export_torch");
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("One Python file: nn.Modules whose state_dict names are Formwork's");
      if (ImGui::MenuItem("Architecture (JSON)\xE2\x80\xA6")) c.action = Action::ExportJson;
      probe::note("menu:export_json");
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("The architecture file (every formwork command reads it)");
      ImGui::EndMenu();
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) c.action = Action::Quit;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Edit")) {
    const std::string undo = "Undo " + app.doc.undo_label();
    const std::string redo = "Redo " + app.doc.redo_label();
    if (ImGui::MenuItem(app.doc.can_undo() ? undo.c_str() : "Undo", "Ctrl+Z", false,
                        app.doc.can_undo()))
      c.action = Action::Undo;
    if (ImGui::MenuItem(app.doc.can_redo() ? redo.c_str() : "Redo", "Ctrl+Shift+Z", false,
                        app.doc.can_redo()))
      c.action = Action::Redo;
    ImGui::Separator();
    if (ImGui::MenuItem("Cut", "Ctrl+X", false, has_selection)) c.action = Action::Cut;
    if (ImGui::MenuItem("Copy", "Ctrl+C", false, has_selection)) c.action = Action::Copy;
    if (ImGui::MenuItem("Paste", "Ctrl+V")) c.action = Action::Paste;
    if (ImGui::MenuItem("Duplicate", "Ctrl+D", false, has_selection)) c.action = Action::Duplicate;
    if (ImGui::MenuItem("Delete", "Del", false, has_selection)) c.action = Action::Delete;
    ImGui::Separator();
    if (ImGui::MenuItem("Select all", "Ctrl+A")) c.action = Action::SelectAll;
    if (ImGui::MenuItem("Rename\xE2\x80\xA6", "F2", false, app.editor.selection.size() == 1))
      c.action = Action::Rename;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    if (ImGui::MenuItem("Frame all", "F")) c.action = Action::FrameAll;
    if (ImGui::MenuItem("Frame selection", "Shift+F", false, has_selection))
      c.action = Action::FrameSelection;
    if (ImGui::MenuItem("Arrange this level", "Ctrl+L")) c.action = Action::Arrange;
    ImGui::Separator();
    if (ImGui::MenuItem("Open selected in place", "E", false, has_selection))
      c.action = Action::ToggleOpen;
    if (ImGui::MenuItem("Open all groups in place")) c.action = Action::OpenAll;
    if (ImGui::MenuItem("Close all groups")) c.action = Action::CloseAll;
    if (ImGui::MenuItem("Enter selected group", "Enter", false, app.editor.selection.size() == 1))
      c.action = Action::Enter;
    if (ImGui::MenuItem("Up one level", "Esc", false, app.editor.container != kNoNode))
      c.action = Action::Up;
    ImGui::Separator();
    if (ImGui::MenuItem("Palette", nullptr, panels.palette)) c.action = Action::TogglePalette;
    if (ImGui::MenuItem("Inspector and problems", nullptr, panels.inspector))
      c.action = Action::ToggleInspector;
    if (views.size() > 1) {
      ImGui::Separator();
      ImGui::TextDisabled("Views");
      for (const std::string& v : views) {
        const char* keys = v == "editor"      ? "Ctrl+1"
                           : v == "training"  ? "Ctrl+2"
                           : v == "attention" ? "Ctrl+3"
                           : v == "gradcam"   ? "Ctrl+4"
                                              : nullptr;
        if (ImGui::MenuItem(view_title(v), keys, v == active_view)) c = {Action::ShowView, v};
      }
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    if (ImGui::MenuItem("Keyboard and mouse\xE2\x80\xA6")) c.action = Action::Shortcuts;
    ImGui::EndMenu();
  }
  // The views as tabs.
  if (views.size() > 1) {
    ImGui::SameLine(0, ImGui::GetFontSize() * 2);
    for (const std::string& v : views) {
      const bool active = v == active_view;
      std::string label = view_title(v);
      if (v == "training" && !badge.empty()) label += "  " + badge;
      ImGui::PushStyleColor(ImGuiCol_Text, active ? palette::kText : palette::kTextDim);
      const ImVec2 size(ImGui::CalcTextSize(label.c_str()).x, 0);
      const bool clicked = ImGui::Selectable((label + "##view_" + v).c_str(), active, 0, size);
      ImGui::PopStyleColor();
      if (active) {
        const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
        ImGui::GetWindowDrawList()->AddLine(ImVec2(a.x, b.y - 1), ImVec2(b.x, b.y - 1),
                                            palette::kAccent, 2.0f);
      }
      probe::note("view:" + v);
      if (probe::enabled())
        if (probe::Drawn* d = probe::drawn_item("tab", v)) {
          d->text = label;
          d->flag("active", active);
        }
      if (clicked) c = {Action::ShowView, v};
      ImGui::SameLine(0, ImGui::GetFontSize());
    }
  }
  ImGui::EndMenuBar();
  return c;
}

}  // namespace fw::gui
