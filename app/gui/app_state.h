// What the editor window works on: the open document and where it came from, the editor's view
// state (level shown, selection, pan/zoom, groups open in place), recent files and the messages
// shown to the user. No ImGui here: the panels read and change it, tests drive it directly.
//
// Contents
//  1. EditorState   - view state only (the graph itself lives in the Document)
//  2. AppState      - document, file, messages, the device chosen
//  3. Files         - open, new from template, save, save as (never throw: errors become
//                     messages, and the open document stays as it was)
//  4. Edits         - the few edits that are more than one Document call (a composite's new
//                     children are laid out in the same undo step)
//  5. Recent files  - ~/.config/formwork/recent.json ($XDG_CONFIG_HOME honoured); a missing or
//                     corrupt file is an empty list
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/gui/device_choice.h"
#include "core/document.h"
#include "core/templates.h"

namespace fw::gui {

// 1. EditorState ----------------------------------------------------------------------------------
struct ViewTransform {
  float pan_x = 0, pan_y = 0;  // screen offset of canvas point (0, 0) from the canvas corner, px
  float zoom = 1;              // canvas units -> px, before the content scale
  bool placed = false;         // false: frame everything when the level is first shown
};

// The refused command, shown at its port (or node) until it expires.
struct Refusal {
  NodeId node = kNoNode;      // kNoNode: shown at canvas point (x, y) of the shown level
  int port = -1;              // input port (or group output), -1: the node itself
  bool group_output = false;  // `port` is node's output, fed from inside
  float x = 0, y = 0;
  std::string reason;
  double until = 0;  // ImGui time; 0: not shown
};

struct EditorState {
  NodeId container = kNoNode;  // the level shown: kNoNode = the model's top level
  std::vector<NodeId> trail;   // lineage of `container`, to climb back after an undo
  std::set<NodeId> selection;
  std::set<NodeId> expanded;              // groups drawn open in place
  int64_t expanded_version = 0;           // bumped on every change of `expanded`
  std::map<NodeId, ViewTransform> views;  // per level
  bool frame_all = false;                 // request: fit everything on the next frame
  bool frame_selection = false;           // request: fit the selection
  Refusal refusal;

  bool selected(NodeId id) const { return selection.count(id) != 0; }
  void select_only(NodeId id) {
    selection.clear();
    if (id != kNoNode) selection.insert(id);
  }
  void set_expanded(NodeId id, bool open);
};

// 2. AppState -------------------------------------------------------------------------------------
enum class Source { Untitled, Template, Json, Project };

struct Message {
  enum Level { Info, Ok, Warning, Error };
  Level level = Info;
  std::string text;
};

struct AppState {
  Document doc;
  Source source = Source::Untitled;
  std::string path;      // the file on disk (Json, Project); "" otherwise
  std::string name;      // what the title shows: template name, file name, "Untitled"
  int64_t generation = 0;  // bumped whenever another document is loaded (open, new)
  bool bundled = false;  // the sample project in assets/: never overwritten (Save asks for a file)
  bool read_only() const {
    return bundled || source == Source::Template || source == Source::Untitled;
  }

  EditorState editor;
  Message status;         // the status bar's message
  std::string error;      // non-empty: shown in an error dialog until dismissed
  std::string clipboard;  // the last copy (Document::copy fragment)

  // A project file a background job (a training run, a search) is writing: saving over it is
  // refused, so neither side loses the other's work. Set by the view each frame; busy_what names
  // the job for the refusal ("a training run", "a search").
  std::string busy_path;
  std::string busy_what = "a training run";

  // The device the views, a training run and a search compute on (the status bar's picker).
  DeviceChoice device;

  std::string config_dir;  // where recent.json lives; "" = do not remember
  std::vector<std::string> recent;
};

// 3. Files ----------------------------------------------------------------------------------------
// Opens a template name, *.json or *.formwork (core/arch.h). On failure sets app.error, keeps the
// current document and returns false (`error_line`, if given, gets the one-line reason).
bool open_spec(AppState& app, const std::string& spec, std::string* error_line = nullptr);
// Replaces the document with a template's graph (unsaved, untitled).
bool new_from_template(AppState& app, const std::string& name, const TemplateOptions& opts);
// Puts a graph into the document (automatic layout where it has none; history cleared).
void load_graph(AppState& app, Graph g, Source source, const std::string& path,
                const std::string& name);

enum class SaveResult { Saved, NeedsPath, Failed };
// Saves to app.path: a project keeps everything else it holds (weights, runs...), a *.json is
// rewritten. Templates and untitled documents return NeedsPath (ask for a file: save_as).
SaveResult save(AppState& app);
// *.formwork (a new project, or the current project's data under a new name) or *.json. A name
// without either extension gets ".formwork".
bool save_as(AppState& app, const std::string& path);

// "poolformer_s12 • — Formwork": a bullet while there are unsaved changes.
std::string window_title(const AppState& app);

// 4. Edits ----------------------------------------------------------------------------------------
// Why structural edits (add, delete, connect, paste, rename) are refused inside `container`: its
// children are built by a composite from its attributes. "" when they are allowed.
std::string locked_reason(const Graph& g, NodeId container);
// `base`, or a variant of it no sibling under `parent` uses: the next number where the siblings
// are numbered (a stage's blocks), else base_1, base_2...
std::string fresh_name(const Graph& g, NodeId parent, const std::string& base);
// Document::set_attr, and for a composite the automatic layout of its rebuilt children, as one
// undo step.
EditResult set_node_attr(AppState& app, NodeId id, const std::string& name, AttrValue value);
// Document::add at (x, y) under the shown level, its children (if any) laid out, one step.
EditResult add_node(AppState& app, const std::string& kind, Attrs attrs, float x, float y);
// Keeps the editor state valid after the graph changed (undo, redo, rebuilds): climbs out of a
// level that no longer exists, drops vanished nodes from the selection.
void sync_editor(AppState& app);
// Shows a level: `container` (kNoNode = top level), remembering the trail.
void enter_level(AppState& app, NodeId container);
// Selects a node and shows the level that holds it (problems list, outline).
void reveal_node(AppState& app, NodeId id);

// 5. Recent files ---------------------------------------------------------------------------------
std::string default_config_dir();
std::vector<std::string> load_recent(const std::string& config_dir);
void save_recent(const std::string& config_dir, const std::vector<std::string>& paths);
// Moves `path` (made absolute) to the front of app.recent (at most 10) and writes the file.
void remember_recent(AppState& app, const std::string& path);

}  // namespace fw::gui
