#include "app/gui/editor_view.h"

#include <imgui_internal.h>  // ErrorCheckEndFrameRecover

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "app/gui/ui_probe.h"
#include "app/panels/breadcrumb.h"
#include "app/panels/problems.h"
#include "app/panels/status_bar.h"
#include "core/error.h"
#include "views/picture_export.h"

namespace fw::gui {

namespace fs = std::filesystem;

namespace {

// Writes the picture `source` gives to `path` in the format its extension names (PNG: twice the
// picture's size); "" or the one error line. A failed write leaves no file (views/picture_export.h).
std::string write_picture(const std::function<views::Picture()>& source, const std::string& path) {
  const std::optional<views::PictureFormat> f = views::picture_format_for(path);
  if (!f) return "cannot export '" + path + "': the name must end in .svg, .pdf or .png";
  if (!source) return "cannot export '" + path + "': this view has no picture";
  try {
    const views::Picture p = source();
    views::export_picture(p, *f, path,
                          *f == views::PictureFormat::Png ? static_cast<int>(std::ceil(p.size.x * 2)) : 0);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---- Actions
// ---------------------------------------------------------------------------------------

void EditorView::show_open_dialog(const std::string& dir) {
  std::string start = dir;
  if (start.empty() && !app_.path.empty()) start = fs::path(app_.path).parent_path().string();
  files_.open(FileBrowser::Mode::Open, start);
}

void EditorView::do_save_as() {
  std::string dir, name;
  if (!app_.path.empty()) {
    dir = fs::path(app_.path).parent_path().string();
    name = fs::path(app_.path).filename().string();
  } else {
    name = (app_.doc.graph().meta.has("template")
                ? attr_to_string(app_.doc.graph().meta.get("template"))
                : std::string("untitled")) +
           ".formwork";
  }
  files_.open(FileBrowser::Mode::Save, dir, name);
}

NetworkExportRequest EditorView::export_request(NetworkFormat format, const Graph& g,
                                                const std::string& name) {
  view_model_.sync(app_);  // the open project's weights, read once per project
  NetworkExportRequest r;
  r.format = format;
  r.graph = g;
  r.name = name;
  if (!app_.path.empty()) r.dir = fs::path(app_.path).parent_path().string();
  if (app_.source == Source::Project && view_model_.project_path() == app_.path) {
    r.weights = view_model_.weights_snapshot();
    r.weights_source = fs::path(app_.path).filename().string();
  }
  return r;
}

// The document's network, named as `formwork export` names it: the file's stem, else the template.
void EditorView::export_network(NetworkFormat format) {
  const Graph& g = app_.doc.graph();
  std::string name = "model";
  if (!app_.path.empty())
    name = fs::path(app_.path).stem().string();
  else if (g.meta.has("template"))
    name = attr_to_string(g.meta.get("template"));
  network_export_.open(app_, export_request(format, g, name));
}

// The opened search result: "sample_result_12", as `formwork export sample.formwork --result 12`.
void EditorView::export_subnet(NetworkFormat format) {
  if (search_panel_.opened() == 0) return;
  network_export_.open(app_, export_request(format, search_panel_.preview().doc.graph(),
                                            search_panel_.subnet_export_name()));
}

void EditorView::proceed(Pending what, const std::string& arg) {
  switch (what) {
    case Pending::New:
      gallery_.open();
      break;
    case Pending::Open:
      if (arg.empty())
        show_open_dialog();
      else
        open_spec(app_, arg);
      break;
    case Pending::Quit:
      quit_ = true;
      break;
    case Pending::None:
      break;
  }
}

void EditorView::guarded(Pending what, const std::string& arg) {
  if (what == Pending::Quit && training_.active()) {
    pending_ = what;
    pending_arg_ = arg;
    ask_stop_training_ = true;
    return;
  }
  if (app_.doc.dirty()) {
    pending_ = what;
    pending_arg_ = arg;
    ask_unsaved_ = true;
    return;
  }
  proceed(what, arg);
}

bool EditorView::request_close() {
  if (quit_) return true;
  if (!app_.doc.dirty() && !training_.active()) return true;
  guarded(Pending::Quit, "");
  return false;
}

void EditorView::show_view(const std::string& v) {
  if (std::find(views.begin(), views.end(), v) != views.end()) active_view_ = v;
}

// Actions on the graph or the canvas: only while the editor is in front (in the training view
// Ctrl+Z would change a graph the user cannot see).
bool EditorView::editor_action(Action a) const {
  switch (a) {
    case Action::Undo:
    case Action::Redo:
    case Action::Cut:
    case Action::Copy:
    case Action::Paste:
    case Action::Duplicate:
    case Action::Delete:
    case Action::SelectAll:
    case Action::Rename:
    case Action::FrameAll:
    case Action::FrameSelection:
    case Action::Arrange:
    case Action::ToggleOpen:
    case Action::OpenAll:
    case Action::CloseAll:
    case Action::Enter:
    case Action::Up:
    case Action::Escape:
      return true;
    default:
      return false;
  }
}

void EditorView::run(Action a, const std::string& arg) {
  AppState& app = app_;
  switch (a) {
    case Action::None:
      break;
    case Action::New:
      guarded(Pending::New, "");
      break;
    case Action::Open:
      guarded(Pending::Open, "");
      break;
    case Action::OpenRecent:
      guarded(Pending::Open, arg);
      break;
    case Action::ClearRecent:
      app.recent.clear();
      try {
        save_recent(app.config_dir, app.recent);
      } catch (const std::exception& e) {
        app.status = {Message::Warning, e.what()};
      }
      break;
    case Action::Save:
      if (save(app) == SaveResult::NeedsPath) do_save_as();
      break;
    case Action::SaveAs:
      do_save_as();
      break;
    case Action::ExportDiagram:
      diagram_export_.open(app);
      break;
    case Action::ExportOnnx:
      export_network(NetworkFormat::Onnx);
      break;
    case Action::ExportTorch:
      export_network(NetworkFormat::Torch);
      break;
    case Action::ExportJson:
      export_network(NetworkFormat::Json);
      break;
    case Action::Quit:
      guarded(Pending::Quit, "");
      break;
    case Action::Undo: {
      const std::string label = app.doc.undo_label();
      if (app.doc.undo()) app.status = {Message::Info, "Undid " + label};
      break;
    }
    case Action::Redo: {
      const std::string label = app.doc.redo_label();
      if (app.doc.redo()) app.status = {Message::Info, "Redid " + label};
      break;
    }
    case Action::Cut:
      canvas_.cut_selection(app);
      break;
    case Action::Copy:
      canvas_.copy_selection(app);
      break;
    case Action::Paste:
      canvas_.paste(app);
      break;
    case Action::Duplicate:
      canvas_.duplicate(app);
      break;
    case Action::Delete:
      canvas_.delete_selection(app);
      break;
    case Action::SelectAll:
      canvas_.select_all(app);
      break;
    case Action::Rename:
      canvas_.rename_selected(app);
      break;
    case Action::FrameAll:
      app.editor.frame_all = true;
      break;
    case Action::FrameSelection:
      app.editor.frame_selection = true;
      break;
    case Action::Arrange:
      canvas_.arrange(app);
      break;
    case Action::ToggleOpen:
      canvas_.toggle_open_selected(app);
      break;
    case Action::OpenAll: {
      // Every group below the shown level.
      std::vector<NodeId> stack(app.doc.graph().children(app.editor.container));
      while (!stack.empty()) {
        const NodeId id = stack.back();
        stack.pop_back();
        const Node& n = app.doc.graph().node(id);
        if (n.children.empty()) continue;
        app.editor.set_expanded(id, true);
        stack.insert(stack.end(), n.children.begin(), n.children.end());
      }
      app.editor.frame_all = true;
      break;
    }
    case Action::CloseAll:
      app.editor.expanded.clear();
      ++app.editor.expanded_version;
      app.editor.frame_all = true;
      break;
    case Action::Enter:
      canvas_.enter_selected(app);
      break;
    case Action::Up:
      canvas_.up_level(app);
      break;
    case Action::Escape:
      canvas_.escape(app);
      break;
    case Action::TogglePalette:
      panels_.palette = !panels_.palette;
      break;
    case Action::ToggleInspector:
      panels_.inspector = !panels_.inspector;
      break;
    case Action::Shortcuts:
      show_shortcuts_ = true;
      break;
    case Action::ShowEditor:
      show_view("editor");
      break;
    case Action::ShowTraining:
      show_view("training");
      break;
    case Action::ShowAttention:
      show_view("attention");
      break;
    case Action::ShowGradcam:
      show_view("gradcam");
      break;
    case Action::ShowView:
      show_view(arg);
      break;
  }
}

bool EditorView::animating() const {
  return app_.editor.refusal.until > 0 || gallery_.is_open() || training_.active() ||
         search_.active() || network_export_.active() || settling();
}

bool EditorView::settling() const {
  if (active_view_ != "attention" && active_view_ != "gradcam") return false;
  const InferenceService::Activity a = view_model_.service().activity();
  if (a.busy || a.queued > 0) return true;
  if (input_.pending(view_model_)) return true;
  return active_view_ == "attention" ? attention_.pending() : gradcam_.pending();
}

void EditorView::drop_files(const std::vector<std::string>& paths) {
  for (const std::string& p : paths) {
    const std::string ext = fs::path(p).extension().string();
    if (ext == ".formwork" || ext == ".json") {
      run(Action::OpenRecent, p);  // asks to save unsaved changes first
      return;
    }
    input_.choose_file(p);
    if (active_view_ != "attention" && active_view_ != "gradcam") show_view("gradcam");
    app_.status = {Message::Info, "Input: " + fs::path(p).filename().string()};
    return;  // one input at a time: the first file
  }
}

// "Grad-CAM of stages.2 · 3 waiting" while the views' service works.
std::string EditorView::activity_line() const {
  const InferenceService::Activity a = view_model_.service().activity();
  if (!a.busy && a.queued == 0) return "";
  std::string s = "\xE2\x9F\xB3 ";  // ⟳
  if (a.busy) s.append(a.status.empty() ? a.what.substr(0, a.what.find('|')) : a.status);
  if (a.busy && a.total > 0) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " %d%%", int(100.0 * double(a.done) / double(a.total)));
    s.append(pct);
  }
  if (a.queued > 0) {
    if (a.busy) s.append(" \xC2\xB7 ");
    s.append(std::to_string(a.queued));
    s.append(" waiting");
  }
  return s;
}

std::string EditorView::dialog() const {
  if (unsaved_visible_) return "unsaved";
  if (stop_training_visible_) return "training";
  if (error_visible_) return "error";
  if (network_export_.asking_weights()) return "export_weights";
  if (files_.is_open() || diagram_export_.is_open() || network_export_.choosing_file())
    return "files";
  if (gallery_.is_open()) return "templates";
  return "";
}

// ---- Layout
// ----------------------------------------------------------------------------------------

void EditorView::toolbar(const Fonts& fonts) {
  draw_breadcrumb(app_, fonts);
  // Right: undo/redo and view actions.
  const ImGuiStyle& st = ImGui::GetStyle();
  const char* labels[] = {"\xE2\x86\xB6 Undo", "\xE2\x86\xB7 Redo", "Arrange", "Frame all"};
  float w = 0;
  for (const char* l : labels)
    w += ImGui::CalcTextSize(l).x + st.FramePadding.x * 2 + st.ItemSpacing.x;
  ImGui::SameLine(std::max(ImGui::GetCursorPosX(),
                           ImGui::GetWindowContentRegionMax().x - w + st.ItemSpacing.x));
  ImGui::BeginDisabled(!app_.doc.can_undo());
  if (ImGui::Button(labels[0])) run(Action::Undo);
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    ImGui::SetTooltip("Undo %s (Ctrl+Z)", app_.doc.undo_label().c_str());
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(!app_.doc.can_redo());
  if (ImGui::Button(labels[1])) run(Action::Redo);
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    ImGui::SetTooltip("Redo %s (Ctrl+Shift+Z)", app_.doc.redo_label().c_str());
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (ImGui::Button(labels[2])) run(Action::Arrange);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Automatic layout of this level (Ctrl+L)");
  ImGui::SameLine();
  if (ImGui::Button(labels[3])) run(Action::FrameAll);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Fit everything in view (F)");
}

void EditorView::left_panel(const Fonts& fonts, float width, float height) {
  ImGui::BeginChild("left", ImVec2(width, height), true);
  if (ImGui::BeginTabBar("left_tabs")) {
    if (ImGui::BeginTabItem("Palette")) {
      left_tab_ = 0;
      draw_palette(palette_, fonts);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Outline")) {
      left_tab_ = 1;
      if (outline_doc_ != &app_.doc || outline_revision_ != app_.doc.revision()) {
        outline_table_ = make_arch_table(app_.doc.graph(), app_.doc.analysis(), app_.name);
        outline_doc_ = &app_.doc;
        outline_revision_ = app_.doc.revision();
        outline_.reveal_first_problem = false;
      }
      // The canvas's single selection is the outline's, and a click in the outline shows its node.
      const NodeId sel =
          app_.editor.selection.size() == 1 ? *app_.editor.selection.begin() : kNoNode;
      if (sel != outline_synced_) {
        outline_.selected = sel;
        if (sel != kNoNode) outline_.reveal = sel;
        outline_synced_ = sel;
      }
      draw_node_list(outline_table_, outline_, fonts);
      if (outline_.selected != outline_synced_ && outline_.selected != kNoNode) {
        reveal_node(app_, outline_.selected);
        outline_synced_ = outline_.selected;
      }
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
}

void EditorView::right_panel(const Fonts& fonts, float width, float height) {
  ImGui::BeginGroup();
  const bool problems = !app_.doc.analysis().problems.empty();
  const float problems_h = problems ? std::max(height * 0.32f, ImGui::GetFrameHeight() * 5)
                                    : ImGui::GetTextLineHeightWithSpacing() * 2 +
                                          ImGui::GetStyle().WindowPadding.y * 2 + 4;
  const float inspector_h = height - problems_h - ImGui::GetStyle().ItemSpacing.y;
  ImGui::BeginChild("inspector", ImVec2(width, inspector_h), true);
  draw_inspector(app_, inspector_, fonts);
  ImGui::EndChild();
  if (focus_problems_) {
    ImGui::SetNextWindowFocus();
    focus_problems_ = false;
  }
  ImGui::BeginChild("problems", ImVec2(width, problems_h), true);
  draw_problems(app_, fonts);
  ImGui::EndChild();
  ImGui::EndGroup();
}

void EditorView::splitter(const char* id, float* width, float min, float max, bool left_side,
                          float height) {
  const float thickness = std::max(4.0f, ImGui::GetFontSize() * 0.45f);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton(id, ImVec2(thickness, height));
  const bool hot = ImGui::IsItemHovered() || ImGui::IsItemActive();
  if (hot) ImGui::SetMouseCursor(ImGuiMouseCursor_ResizeEW);
  if (ImGui::IsItemActive()) {
    const float d = ImGui::GetIO().MouseDelta.x;
    *width = std::clamp(*width + (left_side ? d : -d), min, max);
  }
  if (hot)
    ImGui::GetWindowDrawList()->AddLine(ImVec2(p.x + thickness * 0.5f, p.y),
                                        ImVec2(p.x + thickness * 0.5f, p.y + height),
                                        palette::kAccent, 2);
}

void EditorView::layout(const Fonts& fonts) {
  const float fs = ImGui::GetFontSize();
  if (probe::enabled()) probe::fact("view", active_view_);
  if (active_view_ == "attention" || active_view_ == "gradcam") {
    model_view(fonts);
    return;
  }
  if (active_view_ == "circuit") {
    circuit_view(fonts);
    return;
  }
  if (active_view_ == "nas") {
    const float status_h = ImGui::GetFrameHeight();
    const float height = ImGui::GetContentRegionAvail().y - status_h - ImGui::GetStyle().ItemSpacing.y;
    switch (search_panel_.draw(app_, fonts, height)) {
      case SearchPanel::Request::SaveAs:
        do_save_as();
        break;
      case SearchPanel::Request::SaveSubnetAs: {
        const std::string dir =
            app_.path.empty() ? std::string() : fs::path(app_.path).parent_path().string();
        files_.open(FileBrowser::Mode::Save, dir, search_panel_.subnet_file_name());
        save_subnet_ = true;
        break;
      }
      case SearchPanel::Request::ExportSubnet:
        export_subnet(search_panel_.export_format());
        break;
      case SearchPanel::Request::None:
        break;
    }
    status_bar(fonts);
    return;
  }
  if (active_view_ == "training") {
    const float status_h = ImGui::GetFrameHeight();
    const float height = ImGui::GetContentRegionAvail().y - status_h - ImGui::GetStyle().ItemSpacing.y;
    if (training_panel_.draw(app_, fonts, height) == TrainingPanel::Request::SaveAs) do_save_as();
    status_bar(fonts);
    return;
  }
  if (left_w_ <= 0) left_w_ = fs * 15;
  if (right_w_ <= 0) right_w_ = fs * 20;
  toolbar(fonts);
  const ImGuiStyle& st = ImGui::GetStyle();
  const float status_h = ImGui::GetFrameHeight();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float height = avail.y - status_h - st.ItemSpacing.y;
  const float sp = std::max(4.0f, fs * 0.45f);  // the splitters
  float center = avail.x;
  if (panels_.palette) center -= left_w_ + sp;
  if (panels_.inspector) center -= right_w_ + sp;
  if (center < fs * 12) {  // a narrow window: panels give way to the canvas
    const float give = fs * 12 - center;
    if (panels_.palette) left_w_ = std::max(fs * 8, left_w_ - give * 0.5f);
    if (panels_.inspector) right_w_ = std::max(fs * 10, right_w_ - give * 0.5f);
    center = std::max(fs * 4, avail.x - (panels_.palette ? left_w_ + sp : 0) -
                                  (panels_.inspector ? right_w_ + sp : 0));
  }
  if (panels_.palette) {
    left_panel(fonts, left_w_, height);
    ImGui::SameLine(0, 0);
    splitter("##split_left", &left_w_, fs * 8, avail.x * 0.4f, true, height);
    ImGui::SameLine(0, 0);
  }
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
  ImGui::BeginChild(
      "canvas", ImVec2(center, height), true,
      ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse | ImGuiWindowFlags_NoMove);
  ImGui::PopStyleVar();
  const ImVec2 wmin = ImGui::GetWindowPos();
  const ImVec2 wsize = ImGui::GetWindowSize();
  // The canvas fills the child, inside its 1px border.
  ImGui::SetCursorScreenPos(ImVec2(wmin.x + 1, wmin.y + 1));
  canvas_.draw(app_, fonts, ImVec2(wsize.x - 2, wsize.y - 2));
  ImGui::EndChild();
  if (panels_.inspector) {
    ImGui::SameLine(0, 0);
    splitter("##split_right", &right_w_, fs * 12, avail.x * 0.45f, false, height);
    ImGui::SameLine(0, 0);
    right_panel(fonts, right_w_, height);
  }
  status_bar(fonts);
}

// The attention and Grad-CAM views: the input column on the left, the view on the right.
void EditorView::model_view(const Fonts& fonts) {
  const float fs = ImGui::GetFontSize();
  const ImGuiStyle& st = ImGui::GetStyle();
  const float status_h = ImGui::GetFrameHeight();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float height = avail.y - status_h - st.ItemSpacing.y;
  input_.update(view_model_);
  const float left = std::clamp(avail.x * 0.24f, fs * 14, fs * 20);
  input_.draw(view_model_, fonts, ImVec2(left, height));
  ImGui::SameLine();
  const ImVec2 size(avail.x - left - st.ItemSpacing.x, height);
  if (active_view_ == "attention")
    attention_.draw(view_model_, input_, app_, fonts, size);
  else
    gradcam_.draw(view_model_, input_, app_, fonts, size);
  if (active_view_ == "attention" && attention_.take_export())
    ask_export_picture([this] { return attention_.picture(); },
                       "attention." + attention_.shown_layer(view_model_) + ".svg");
  if (active_view_ != "attention" && gradcam_.take_export())
    ask_export_picture([this] { return gradcam_.picture(); },
                       "gradcam." + gradcam_.shown_layer(view_model_) + ".svg");
  status_bar(fonts);
}

// The circuit view: the diagram of the editor's level, the inspector on the right (an edit there
// redraws the diagram at once).
void EditorView::circuit_view(const Fonts& fonts) {
  const float fs = ImGui::GetFontSize();
  const ImGuiStyle& st = ImGui::GetStyle();
  const float status_h = ImGui::GetFrameHeight();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float height = avail.y - status_h - st.ItemSpacing.y;
  if (right_w_ <= 0) right_w_ = fs * 20;
  const float right = panels_.inspector ? std::min(right_w_, avail.x * 0.4f) : 0;
  const float sp = std::max(4.0f, fs * 0.45f);
  const float center = avail.x - (panels_.inspector ? right + sp : 0);
  if (circuit_.draw(app_, fonts, ImVec2(center, height))) {
    const Graph& g = app_.doc.graph();
    const NodeId level = app_.editor.container;
    const std::string stem = level == kNoNode || !g.contains(level)
                                 ? (app_.name.empty() ? "model" : app_.name)
                                 : g.path(level);
    ask_export_picture(
        [this] {
          const views::Circuit& c = circuit_.circuit(app_);
          views::Picture p;
          p.size = {c.width, c.height};
          p.background = views::rgb_hex(0xffffff);
          p.draw = [&c](views::Canvas& cv, const views::Transform& t) { views::draw_circuit(cv, c, t); };
          return p;
        },
        stem + ".circuit.svg");
  }
  if (panels_.inspector) {
    ImGui::SameLine(0, 0);
    splitter("##split_circuit", &right_w_, fs * 12, avail.x * 0.45f, false, height);
    ImGui::SameLine(0, 0);
    right_panel(fonts, right, height);
  }
  status_bar(fonts);
}

void EditorView::ask_export_picture(std::function<views::Picture()> picture,
                                    const std::string& file_name) {
  std::string name = file_name;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') ch = '_';
  export_source_ = std::move(picture);
  std::snprintf(export_path_, sizeof export_path_, "%s", (fs::current_path() / name).string().c_str());
  export_error_.clear();
  ask_export_picture_ = true;
}

std::string EditorView::export_picture_to(const std::string& path) {
  return write_picture(export_source_, path);
}

// "Export picture…" of the view in front: a path (the extension picks SVG, PDF or PNG; a PNG is
// twice the picture's size).
void EditorView::export_picture_dialog() {
  if (ask_export_picture_) {
    ImGui::OpenPopup("Export picture");
    ask_export_picture_ = false;
  }
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 34, 0), ImGuiCond_Appearing);
  if (!ImGui::BeginPopupModal("Export picture", nullptr, ImGuiWindowFlags_NoSavedSettings)) return;
  if (probe::enabled()) probe::dialog("export_picture");
  ImGui::TextUnformatted("File (.svg, .pdf or .png):");
  ImGui::SetNextItemWidth(-1);
  if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
  const bool enter = ImGui::InputText("##export_path", export_path_, sizeof export_path_,
                                      ImGuiInputTextFlags_EnterReturnsTrue);
  if (!export_error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped("%s", export_error_.c_str());
    ImGui::PopStyleColor();
  }
  const float bw = ImGui::GetFontSize() * 7;
  if (ImGui::Button("Export", ImVec2(bw, 0)) || enter) {
    export_error_ = export_picture_to(export_path_);
    if (export_error_.empty()) {
      app_.status = {Message::Ok, std::string("Exported ") + export_path_};
      ImGui::CloseCurrentPopup();
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel", ImVec2(bw, 0)) || ImGui::IsKeyPressed(ImGuiKey_Escape))
    ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

// The status bar of every view; a click on its problem count shows the problems in the editor.
void EditorView::status_bar(const Fonts& fonts) {
  const ViewTransform& v = app_.editor.views[app_.editor.container];
  if (!draw_status_bar(app_, fonts, v.zoom, activity_line())) return;
  show_view("editor");
  panels_.inspector = true;
  focus_problems_ = true;
  if (!app_.doc.analysis().problems.empty()) {
    const NodeId n = app_.doc.analysis().problems.front().node;
    if (n != kNoNode && app_.doc.graph().contains(n)) reveal_node(app_, n);
  }
}

// ---- Dialogs
// ---------------------------------------------------------------------------------------

void EditorView::dialogs(const Fonts& fonts) {
  const float bw = ImGui::GetFontSize() * 7;
  export_picture_dialog();
  // Save changes?
  if (ask_unsaved_) {
    ask_unsaved_ = false;
    ImGui::OpenPopup("Save changes?");
  }
  unsaved_visible_ =
      ImGui::BeginPopupModal("Save changes?", nullptr, ImGuiWindowFlags_AlwaysAutoResize);
  if (unsaved_visible_) {
    probe::dialog("unsaved");
    ImGui::PushFont(fonts.bold);
    ImGui::Text("Save the changes to %s?", app_.name.empty() ? "Untitled" : app_.name.c_str());
    ImGui::PopFont();
    const char* what = pending_ == Pending::Quit  ? "quitting"
                       : pending_ == Pending::New ? "starting a new project"
                                                  : "opening another file";
    ImGui::Text("They are lost when %s without saving.", what);
    ImGui::Spacing();
    const bool save_clicked = ImGui::Button("Save", ImVec2(bw, 0));
    probe::note("unsaved:save");
    if (save_clicked) {
      ImGui::CloseCurrentPopup();
      const SaveResult r = save(app_);
      if (r == SaveResult::Saved) {
        proceed(pending_, pending_arg_);
        pending_ = Pending::None;
      } else if (r == SaveResult::NeedsPath) {
        save_then_continue_ = true;
        do_save_as();
      } else {
        pending_ = Pending::None;  // the error dialog says why
      }
    }
    ImGui::SameLine();
    const bool discard = ImGui::Button("Don't save", ImVec2(bw, 0));
    probe::note("unsaved:discard");
    if (discard) {
      ImGui::CloseCurrentPopup();
      const Pending p = pending_;
      pending_ = Pending::None;
      proceed(p, pending_arg_);
    }
    ImGui::SameLine();
    const bool cancel = ImGui::Button("Cancel", ImVec2(bw, 0));
    probe::note("unsaved:cancel");
    if (cancel || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
      ImGui::CloseCurrentPopup();
      pending_ = Pending::None;
    }
    ImGui::EndPopup();
  }

  // Stop the training? (before quitting)
  if (ask_stop_training_) {
    ask_stop_training_ = false;
    ImGui::OpenPopup("Training is running");
  }
  stop_training_visible_ =
      ImGui::BeginPopupModal("Training is running", nullptr, ImGuiWindowFlags_AlwaysAutoResize);
  if (stop_training_visible_) {
    probe::dialog("training");
    ImGui::PushFont(fonts.bold);
    ImGui::Text("A training run is writing to %s.",
                std::filesystem::path(training_.busy_path()).filename().string().c_str());
    ImGui::PopFont();
    ImGui::TextUnformatted("Stopping it keeps the last completed epoch in the project.");
    ImGui::Spacing();
    const bool stop = ImGui::Button("Stop and quit", ImVec2(bw * 1.4f, 0));
    probe::note("training:stop_quit");
    if (stop || !training_.active()) {  // (or the run ended by itself meanwhile)
      ImGui::CloseCurrentPopup();
      training_.cancel();
      training_.wait();  // at the next step: well under a second
      const Pending p = pending_;
      pending_ = Pending::None;
      guarded(p, pending_arg_);  // unsaved changes are asked about next
    }
    ImGui::SameLine();
    const bool keep = ImGui::Button("Keep training", ImVec2(bw * 1.4f, 0));
    probe::note("training:keep");
    if (keep || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
      ImGui::CloseCurrentPopup();
      pending_ = Pending::None;
    }
    ImGui::EndPopup();
  }

  // File browser: open or save.
  if (files_.draw(fonts)) {
    if (save_subnet_) {
      save_subnet_ = false;
      const std::string err = search_panel_.save_subnet_as(app_, files_.chosen());
      if (err.empty())
        app_.status = {Message::Ok, "Saved search result #" +
                                        std::to_string(search_panel_.opened()) + " as " +
                                        files_.chosen()};
      else
        app_.error = err;
    } else if (files_.mode() == FileBrowser::Mode::Open) {
      open_spec(app_, files_.chosen());
    } else if (save_as(app_, files_.chosen()) && save_then_continue_) {
      save_then_continue_ = false;
      const Pending p = pending_;
      pending_ = Pending::None;
      proceed(p, pending_arg_);
    }
  } else if (!files_.is_open() && save_subnet_) {
    save_subnet_ = false;  // cancelled
  } else if (!files_.is_open() && save_then_continue_) {
    save_then_continue_ = false;  // cancelled: so is what was waiting for the save
    pending_ = Pending::None;
  }

  diagram_export_.draw(app_, fonts);
  network_export_.draw(app_, fonts);

  // New from template.
  if (gallery_.draw(fonts)) new_from_template(app_, gallery_.chosen(), gallery_.options());

  // Errors (a bad file, a failed save): the window stays open.
  if (!app_.error.empty() && !ImGui::IsPopupOpen("Error")) ImGui::OpenPopup("Error");
  ImGui::SetNextWindowSizeConstraints(ImVec2(ImGui::GetFontSize() * 20, 0),
                                      ImVec2(ImGui::GetFontSize() * 44, FLT_MAX));
  error_visible_ = ImGui::BeginPopupModal("Error", nullptr, ImGuiWindowFlags_AlwaysAutoResize);
  if (error_visible_) {
    probe::dialog("error");
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::PushFont(fonts.bold);
    ImGui::TextUnformatted("\xE2\x9A\xA0 Something went wrong");
    ImGui::PopFont();
    ImGui::PopStyleColor();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 42);
    ImGui::TextUnformatted(app_.error.c_str());
    ImGui::PopTextWrapPos();
    ImGui::Spacing();
    const bool ok = ImGui::Button("OK", ImVec2(bw, 0));
    probe::note("error:ok");
    if (ok || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)) ||
        ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
      app_.error.clear();
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }

  // Shortcuts.
  if (show_shortcuts_) {
    show_shortcuts_ = false;
    ImGui::OpenPopup("Keyboard and mouse");
  }
  bool keep = true;
  if (ImGui::BeginPopupModal("Keyboard and mouse", &keep, ImGuiWindowFlags_AlwaysAutoResize)) {
    probe::dialog("shortcuts");
    if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
      for (const auto& [keys, what] : shortcut_list()) {
        ImGui::TableNextRow();
        ImGui::TableSetColumnIndex(0);
        ImGui::PushFont(fonts.mono);
        ImGui::TextUnformatted(keys);
        ImGui::PopFont();
        if (probe::enabled())
          if (probe::Drawn* d = probe::drawn_item("shortcut", keys)) d->text = what;
        ImGui::TableSetColumnIndex(1);
        ImGui::TextUnformatted(what);
      }
      ImGui::EndTable();
    }
    if (ImGui::Button("Close", ImVec2(bw, 0)) ||
        ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
      ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

// ---- Frame
// -----------------------------------------------------------------------------------------

namespace {
std::function<void()>& frame_hook() {
  static std::function<void()> hook;
  return hook;
}
}  // namespace

void testing::set_frame_hook(std::function<void()> hook) { frame_hook() = std::move(hook); }

void EditorView::draw(const Fonts& fonts) {
  try {
    draw_frame(fonts);
  } catch (const std::exception& e) {
    ImGui::ErrorCheckEndFrameRecover(nullptr);
    app_.error = std::string("Internal error: ") + e.what() +
                 ". The document is as it was before; please report this.";
  }
}

void EditorView::draw_frame(const Fonts& fonts) {
  probe::begin_frame();
  sync_editor(app_);
  training_.poll();
  // The project a background job writes: saving over it is refused (AppState::busy_path).
  // Polls the search, mirrors its results into the view's project.
  search_panel_.sync(app_, active_view_ == "nas");
  if (const std::string sp = search_.busy_path(); !sp.empty()) {
    app_.busy_path = sp;
    app_.busy_what = "a search";
  } else {
    app_.busy_path = training_.busy_path();
    app_.busy_what = "a training run";
  }
  // A run that ended saved new weights into its project: the views reload them.
  const TrainingLive& tl = training_.live();
  if ((tl.run != training_seen_run_ || tl.phase != training_seen_phase_) &&
      (tl.phase == TrainingLive::Phase::Done || tl.phase == TrainingLive::Phase::Cancelled) &&
      tl.path == app_.path)
    view_model_.reload_weights();
  training_seen_run_ = tl.run;
  training_seen_phase_ = tl.phase;
  view_model_.sync(app_);
  // A view request the device had no memory for ran on the CPU: the status bar says so.
  if (const InferenceService::Activity a = view_model_.service().activity();
      a.cpu_retries != seen_cpu_retries_) {
    seen_cpu_retries_ = a.cpu_retries;
    app_.status = {Message::Warning, a.retry_notice};
  }
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_MenuBar |
                                 ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8 * fonts.scale, 6 * fonts.scale));
  if (ImGui::Begin("Formwork", nullptr, flags)) {
    ImGui::PopStyleVar();
    if (frame_hook()) std::exchange(frame_hook(), nullptr)();
    std::string badge;
    if (training_.active()) {
      const TrainingLive& l = training_.live();
      char b[32];
      if (l.paused)
        std::snprintf(b, sizeof b, "\xE2\x9D\x9A\xE2\x9D\x9A");  // ❚❚, as on the Pause button
      else
        std::snprintf(b, sizeof b, "%.0f%%", l.total > 0 ? 100.0 * double(l.done) / double(l.total) : 0.0);
      badge = b;
    }
    const MenuChoice menu = draw_main_menu(app_, panels_, views, active_view_, badge, fonts);
    layout(fonts);
    // Keyboard: not while a dialog is up.
    const bool modal = ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId);
    Action key = modal ? Action::None : shortcut_pressed();
    if (active_view_ != "editor" && editor_action(key) &&
        !(active_view_ == "circuit" &&
          (key == Action::Undo || key == Action::Redo || key == Action::Up)))
      key = Action::None;
    run(menu.action, menu.path);
    if (key != Action::None) run(key);
    if (palette_.added >= 0 && active_view_ == "editor")
      canvas_.add_entry_at_center(app_, palette_.added);
    dialogs(fonts);
  } else {
    ImGui::PopStyleVar();
  }
  ImGui::End();
}

}  // namespace fw::gui
