// The window's content: the editor view, or the training view (app/panels/training_panel.h) when
// that tab is in front; the menu bar, the status bar and the dialogs are shared.
//
// The editor view: menu bar; a toolbar
// with the breadcrumb; the palette (with the outline tree in a second tab) on the left; the
// canvas; the inspector and the problems list on the right; the status bar. It carries out the
// menu and keyboard actions (app/panels/project_menu.h) and owns the dialogs: new from template,
// the file browser, "save changes?" before New/Open/Quit, errors, shortcuts help.
//
// The view holds view state only; the document is app.doc. Nothing here needs a renderer: the UI
// tests create an ImGui context, set io.DisplaySize and the font atlas, and call draw() between
// NewFrame() and Render().
#pragma once
#include <imgui.h>

#include <functional>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/arch_table.h"
#include "app/gui/editor_canvas.h"
#include "app/gui/search_session.h"
#include "app/gui/style.h"
#include "app/gui/training_session.h"
#include "app/gui/view_model.h"
#include "app/panels/attention_panel.h"
#include "app/panels/diagram_export.h"
#include "app/panels/file_browser.h"
#include "app/panels/circuit_panel.h"
#include "app/panels/gradcam_panel.h"
#include "app/panels/input_panel.h"
#include "app/panels/network_export.h"
#include "app/panels/inspector.h"
#include "app/panels/node_list.h"
#include "app/panels/palette.h"
#include "app/panels/project_menu.h"
#include "app/panels/search_panel.h"
#include "app/panels/template_gallery.h"
#include "app/panels/training_panel.h"

namespace fw::gui {

class EditorView {
 public:
  explicit EditorView(AppState& app) : app_(app) {}

  // Draws the full window (call between ImGui::NewFrame and ImGui::Render). An exception from
  // inside the frame (one the code did not expect: a library failing, a bug) never ends the
  // program: ImGui's stacks are unwound, the reason goes to the error dialog, and the document
  // stays as it was (every edit is one command, applied whole or not at all).
  void draw(const Fonts& fonts);

  // The window's close button: true = close now; false = a prompt is shown ("save changes?", or
  // "stop the training?" while a run is going).
  bool request_close();
  // The user confirmed quitting (File > Quit, or the prompt): the window should close.
  bool quit_requested() const { return quit_; }

  // Carries out an action as if chosen from the menu (tests, scripts).
  void run(Action a, const std::string& arg = "");

  // Dialogs to show first (screenshots, tests).
  void show_templates() { gallery_.open(); }
  void show_open_dialog(const std::string& dir = "");
  void show_shortcuts() { show_shortcuts_ = true; }

  EditorCanvas& canvas() { return canvas_; }
  FileBrowser& files() { return files_; }
  DiagramExport& diagram_export() { return diagram_export_; }
  // File → Export network ▸ and the Search view's "Export…" of a subnet.
  NetworkExport& network_export() { return network_export_; }
  TemplateGallery& gallery() { return gallery_; }
  PaletteState& palette() { return palette_; }
  InspectorState& inspector() { return inspector_; }
  PanelVisibility& panels() { return panels_; }
  TrainingSession& training() { return training_; }
  TrainingPanel& training_panel() { return training_panel_; }
  // The search view: the background search and the panel that drives and shows it.
  SearchRun& search() { return search_; }
  SearchPanel& search_panel() { return search_panel_; }
  // The attention and Grad-CAM views: the model they compute on, their shared input panel.
  ViewModel& view_model() { return view_model_; }
  InputPanel& input_panel() { return input_; }
  AttentionPanel& attention() { return attention_; }
  GradcamPanel& gradcam() { return gradcam_; }
  CircuitPanel& circuit() { return circuit_; }
  // True while the view in front waits for results it asked for (an input loading, a request
  // queued or running): screenshot mode renders until this is false.
  bool settling() const;
  // A file dropped onto the window: an image goes to the input of the attention and Grad-CAM
  // views (which comes to front unless one of them is), a *.formwork or *.json is opened.
  void drop_files(const std::vector<std::string>& paths);
  // "editor", "training", "attention", "gradcam", "circuit", "nas" (one of `views`); show_view
  // ignores a view this build does not have.
  const std::string& active_view() const { return active_view_; }
  void show_view(const std::string& v);
  // The views this build has (the View menu lists them when there is more than one).
  std::vector<std::string> views = {"editor", "training", "attention", "gradcam", "circuit", "nas"};
  // True while the view wants frames without input (progress, timed messages).
  bool animating() const;
  // The prompt in front, for tests: "", "unsaved", "training", "error", "files", "templates",
  // "export_weights" (the ONNX export's question about weights).
  std::string dialog() const;

 private:
  void draw_frame(const Fonts& fonts);
  enum class Pending { None, New, Open, Quit };
  bool editor_action(Action a) const;

  void layout(const Fonts& fonts);
  void toolbar(const Fonts& fonts);
  void left_panel(const Fonts& fonts, float width, float height);
  void right_panel(const Fonts& fonts, float width, float height);
  void splitter(const char* id, float* width, float min, float max, bool left_side, float height);
  void dialogs(const Fonts& fonts);
  void status_bar(const Fonts& fonts);
  // New/Open/Quit: asks to save first when there are unsaved changes.
  void guarded(Pending what, const std::string& arg);
  void proceed(Pending what, const std::string& arg);
  void do_save_as();
  // Export network ▸ (the document's graph) and a search subnet's "Export…".
  void export_network(NetworkFormat format);
  void export_subnet(NetworkFormat format);
  NetworkExportRequest export_request(NetworkFormat format, const Graph& g, const std::string& name);

  AppState& app_;
  EditorCanvas canvas_;
  FileBrowser files_;
  DiagramExport diagram_export_;
  NetworkExport network_export_;
  TemplateGallery gallery_;
  PaletteState palette_;
  InspectorState inspector_;
  PanelVisibility panels_;
  NodeListState outline_;
  ArchTable outline_table_;
  int64_t outline_revision_ = -1;
  const Document* outline_doc_ = nullptr;
  NodeId outline_synced_ = kNoNode;
  int left_tab_ = 0;  // 0: palette, 1: outline
  std::string active_view_ = "editor";
  TrainingSession training_;  // before the panel that refers to it
  TrainingPanel training_panel_{training_};
  bool ask_stop_training_ = false, stop_training_visible_ = false;
  SearchRun search_;  // before the panel that refers to it
  SearchPanel search_panel_{search_};
  bool save_subnet_ = false;  // the file browser is choosing where to save the opened subnet
  // The views on the model (after training_: a finished run reloads their weights).
  ViewModel view_model_;
  InputPanel input_;
  AttentionPanel attention_;
  GradcamPanel gradcam_;
  int64_t seen_cpu_retries_ = 0;  // the views' requests retried on the CPU (InferenceService)
  int64_t training_seen_run_ = 0;
  TrainingLive::Phase training_seen_phase_ = TrainingLive::Phase::Idle;
  void model_view(const Fonts& fonts);
  void circuit_view(const Fonts& fonts);
  // "Export picture…": opens the modal for the picture `picture` gives when the file is written
  // (the view in front's), the path field holding `file_name` in the working directory.
  void ask_export_picture(std::function<views::Picture()> picture, const std::string& file_name);
  void export_picture_dialog();

 public:
  // The export modal's Export button: writes the asked picture to `path`; "" or the error line.
  std::string export_picture_to(const std::string& path);
  // The path the export modal holds ("" before any "Export picture…").
  std::string export_path() const { return export_path_; }

 private:
  CircuitPanel circuit_;
  std::function<views::Picture()> export_source_;
  bool ask_export_picture_ = false;
  char export_path_[1024] = "";
  std::string export_error_;
  std::string activity_line() const;

  float left_w_ = 0, right_w_ = 0;  // 0: defaults from the font size
  Pending pending_ = Pending::None;
  std::string pending_arg_;
  bool ask_unsaved_ = false;
  bool save_then_continue_ = false;  // the file browser is choosing where to save before pending_
  bool quit_ = false;
  bool show_shortcuts_ = false;
  bool unsaved_visible_ = false, error_visible_ = false;  // drawn in the last frame
  bool focus_problems_ = false;
};

namespace testing {
// Test-only: called once inside the next frame drawn (after the main window began), e.g. to
// throw. Not thread-safe.
void set_frame_hook(std::function<void()> hook);
}  // namespace testing

}  // namespace fw::gui
