#include "app/gui/app_state.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/project_store.h"
#include "views/layout.h"

namespace fw::gui {

namespace fs = std::filesystem;

void EditorState::set_expanded(NodeId id, bool open) {
  const bool changed = open ? expanded.insert(id).second : expanded.erase(id) != 0;
  if (changed) ++expanded_version;
}

// ---- Files
// ---------------------------------------------------------------------------------------

void load_graph(AppState& app, Graph g, Source source, const std::string& path,
                const std::string& name) {
  views::apply_placements(g, views::layout_unplaced(g, kNoNode, views::node_box));
  app.doc.reset(std::move(g));
  ++app.generation;
  app.source = source;
  app.path = path;
  app.name = name;
  app.bundled = false;
  app.editor = EditorState{};
}

bool open_spec(AppState& app, const std::string& spec, std::string* error_line) {
  try {
    LoadedArch la = load_arch(spec);
    Source source = Source::Template;
    std::string path, name = spec;
    if (la.source == "json" || la.source == "project") {
      source = la.source == "json" ? Source::Json : Source::Project;
      path = fs::absolute(spec).lexically_normal().string();
      name = fs::path(spec).filename().string();
    }
    load_graph(app, std::move(la.graph), source, path, name);
    const Analysis& a = app.doc.analysis();
    app.status = {a.ok() ? Message::Ok : Message::Warning,
                  "Opened " + name +
                      (a.ok() ? ""
                              : " \xE2\x80\x94 " + std::to_string(a.problems.size()) +
                                    (a.problems.size() == 1 ? " problem" : " problems"))};
    if (!path.empty()) remember_recent(app, path);
    return true;
  } catch (const std::exception& e) {
    app.error = std::string("Cannot open ") + spec + ":\n" + e.what();
    if (error_line) *error_line = e.what();
    app.status = {Message::Error, std::string("Cannot open ") + spec};
    return false;
  }
}

bool new_from_template(AppState& app, const std::string& name, const TemplateOptions& opts) {
  try {
    Graph g = build_template(name, opts);
    load_graph(app, std::move(g), Source::Untitled, "", "Untitled (" + name + ")");
    app.status = {Message::Ok, "New project from " + name};
    return true;
  } catch (const std::exception& e) {
    app.error = "Cannot create " + name + ":\n" + e.what();
    return false;
  }
}

namespace {

void write_project(const AppState& app, const std::string& path, bool keep_existing_data) {
  // The project's write lock for the whole read-modify-write: a training run or a search of
  // another process cannot write between the read and the save (or is refused, or refuses it).
  const ProjectLock lock(path, "saving");
  ProjectData p;
  if (keep_existing_data && fs::exists(path))
    p = load_project(path);  // weights, runs, results...: kept as they are
  p.graph_json = graph_to_json(app.doc.graph());
  p.graph_format = kGraphFormatVersion;
  if (!keep_existing_data) {
    p.meta["created"] = now_iso8601();
    p.meta["created_by"] = "formwork 0.1.0";
  }
  p.meta["modified"] = now_iso8601();
  if (app.doc.graph().meta.has("template"))
    p.meta["template"] = attr_to_string(app.doc.graph().meta.get("template"));
  save_project(path, p, &lock);
}

}  // namespace

namespace {

// Saving over the file a training run or a search writes would undo the run's epochs or the
// search's results (or the job would undo the save): refused with what to do instead.
bool refuse_busy(AppState& app, const std::string& path) {
  if (app.busy_path.empty() || app.busy_path != path) return false;
  std::string what = app.busy_what.empty() ? "a background job" : app.busy_what;
  std::string stop = what == "a search" ? "Stop the search first" : "Stop the run first";
  app.status = {Message::Error, "Not saved: " + what + " is writing this project"};
  what[0] = char(std::toupper(static_cast<unsigned char>(what[0])));
  app.error = "Cannot save " + path + ":\n" + what + " is writing this project. " + stop +
              ", or use Save As to keep your changes in another file.";
  return true;
}

}  // namespace

SaveResult save(AppState& app) {
  if (app.read_only() || app.path.empty()) return SaveResult::NeedsPath;
  if (refuse_busy(app, app.path)) return SaveResult::Failed;
  try {
    if (app.source == Source::Project)
      write_project(app, app.path, /*keep_existing_data=*/true);
    else
      write_graph_file(app.path, app.doc.graph());
    app.doc.mark_saved();
    app.status = {Message::Ok, "Saved " + app.path};
    remember_recent(app, app.path);
    return SaveResult::Saved;
  } catch (const std::exception& e) {
    app.error = std::string("Cannot save ") + app.path + ":\n" + e.what();
    app.status = {Message::Error, "Not saved"};
    return SaveResult::Failed;
  }
}

bool save_as(AppState& app, const std::string& given) {
  std::string path = given;
  if (!ends_with(path, ".formwork") && !ends_with(path, ".json")) path += ".formwork";
  path = fs::absolute(path).lexically_normal().string();
  if (refuse_busy(app, path)) return false;
  try {
    if (ends_with(path, ".json")) {
      write_graph_file(path, app.doc.graph());
      app.source = Source::Json;
    } else {
      // Save As of a project carries its data (weights, runs...) into the new file.
      if (app.source == Source::Project && path != app.path) {
        ProjectData p = load_project(app.path);
        p.graph_json = graph_to_json(app.doc.graph());
        p.graph_format = kGraphFormatVersion;
        p.meta["modified"] = now_iso8601();
        save_project(path, p);
      } else {
        write_project(app, path, /*keep_existing_data=*/app.source == Source::Project);
      }
      app.source = Source::Project;
    }
    app.path = path;
    app.name = fs::path(path).filename().string();
    app.bundled = false;
    app.doc.mark_saved();
    app.status = {Message::Ok, "Saved " + path};
    remember_recent(app, path);
    return true;
  } catch (const std::exception& e) {
    app.error = "Cannot save " + path + ":\n" + e.what();
    app.status = {Message::Error, "Not saved"};
    return false;
  }
}

std::string window_title(const AppState& app) {
  std::string t = app.name.empty() ? "Untitled" : app.name;
  if (app.doc.dirty()) t += " \xE2\x80\xA2";  // •
  return t + " \xE2\x80\x94 Formwork";        // —
}

// ---- Edits
// ---------------------------------------------------------------------------------------

std::string locked_reason(const Graph& g, NodeId container) {
  if (container == kNoNode || !g.contains(container)) return "";
  for (NodeId a : g.lineage(container)) {
    const Node& n = g.node(a);
    const OpDef* def = find_op(n.kind);
    if (def && def->cls == OpClass::Composite) {
      const std::string path = g.path(a);
      return (path.empty() ? def->label : path) + " (" + def->label +
             ") builds its children from its attributes: change those in the inspector";
    }
  }
  return "";
}

std::string fresh_name(const Graph& g, NodeId parent, const std::string& base) {
  std::set<std::string> taken;
  bool numbered = !g.children(parent).empty();
  int64_t next_number = 0;
  for (NodeId s : g.children(parent)) {
    const std::string& nm = g.node(s).name;
    taken.insert(nm);
    const bool digits =
        !nm.empty() && nm.size() < 10 &&
        std::all_of(nm.begin(), nm.end(), [](char c) { return c >= '0' && c <= '9'; });
    numbered = numbered && digits;
    if (digits) next_number = std::max<int64_t>(next_number, std::stoll(nm) + 1);
  }
  if (numbered) return std::to_string(next_number);
  if (!taken.count(base)) return base;
  // "conv_2" -> base "conv"
  std::string stem = base;
  if (const size_t cut = stem.rfind('_');
      cut != std::string::npos && cut + 1 < stem.size() &&
      std::all_of(stem.begin() + cut + 1, stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
    stem.resize(cut);
  std::string name = stem;
  for (int i = 1; taken.count(name); ++i) name = stem + "_" + std::to_string(i);
  return name;
}

EditResult set_node_attr(AppState& app, NodeId id, const std::string& name, AttrValue value) {
  const Graph& g = app.doc.graph();
  const Node* n = g.find(id);
  const OpDef* def = n ? find_op(n->kind) : nullptr;
  if (!def || def->cls != OpClass::Composite) return app.doc.set_attr(id, name, std::move(value));
  app.doc.begin_group("Set " + name);
  EditResult r = app.doc.set_attr(id, name, std::move(value));
  if (r.ok) {
    const std::vector<Placement> where =
        views::layout_unplaced(app.doc.graph(), id, views::node_box);
    if (!where.empty()) app.doc.place(where);
  }
  app.doc.end_group();
  return r;
}

EditResult add_node(AppState& app, const std::string& kind, Attrs attrs, float x, float y) {
  const NodeId parent = app.editor.container;
  if (std::string why = locked_reason(app.doc.graph(), parent); !why.empty()) {
    EditResult r;
    r.ok = false;
    r.reason = why;
    return r;
  }
  const std::string name = fresh_name(app.doc.graph(), parent, kind);
  app.doc.begin_group("Add " + kind);
  EditResult r = app.doc.add(parent, kind, name, std::move(attrs), x, y);
  if (r.ok) {
    const std::vector<Placement> where =
        views::layout_unplaced(app.doc.graph(), r.node, views::node_box);
    if (!where.empty()) app.doc.place(where);
  }
  app.doc.end_group();
  return r;
}

void enter_level(AppState& app, NodeId container) {
  EditorState& e = app.editor;
  const Graph& g = app.doc.graph();
  if (container != kNoNode && !g.contains(container)) container = kNoNode;
  e.container = container;
  e.trail = container == kNoNode ? std::vector<NodeId>{} : g.lineage(container);
  e.selection.clear();
}

void reveal_node(AppState& app, NodeId id) {
  const Graph& g = app.doc.graph();
  if (!g.contains(id)) return;
  enter_level(app, g.node(id).parent);
  app.editor.select_only(id);
  app.editor.frame_selection = true;
}

void sync_editor(AppState& app) {
  EditorState& e = app.editor;
  const Graph& g = app.doc.graph();
  if (e.container != kNoNode && !g.contains(e.container)) {
    NodeId keep = kNoNode;
    for (NodeId a : e.trail)
      if (g.contains(a))
        keep = a;
      else
        break;
    e.container = keep;
    e.trail = keep == kNoNode ? std::vector<NodeId>{} : g.lineage(keep);
  }
  for (auto it = e.selection.begin(); it != e.selection.end();)
    it = g.contains(*it) ? std::next(it) : e.selection.erase(it);
  bool changed = false;
  for (auto it = e.expanded.begin(); it != e.expanded.end();) {
    if (g.contains(*it)) {
      ++it;
    } else {
      it = e.expanded.erase(it);
      changed = true;
    }
  }
  if (changed) ++e.expanded_version;
  if (e.refusal.node != kNoNode && !g.contains(e.refusal.node)) e.refusal = {};
}

// ---- Recent files
// --------------------------------------------------------------------------------

std::string default_config_dir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    return std::string(xdg) + "/formwork";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.config/formwork";
  return "";
}

std::vector<std::string> load_recent(const std::string& config_dir) {
  std::vector<std::string> out;
  if (config_dir.empty()) return out;
  try {
    const std::vector<uint8_t> bytes = read_file_bytes(config_dir + "/recent.json");
    const nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end());
    const nlohmann::json& list = j.is_object() && j.contains("recent") ? j["recent"] : j;
    if (!list.is_array()) return out;
    for (const auto& v : list)
      if (v.is_string() && out.size() < 10) out.push_back(v.get<std::string>());
  } catch (const std::exception&) {
    // Missing or corrupt: no recent files (the next save rewrites it).
  }
  return out;
}

void save_recent(const std::string& config_dir, const std::vector<std::string>& paths) {
  if (config_dir.empty()) return;
  std::error_code ec;
  fs::create_directories(config_dir, ec);
  const std::string body = nlohmann::json{{"version", 1}, {"recent", paths}}.dump(1) + "\n";
  write_file_atomic(config_dir + "/recent.json",
                    [&](int fd) { write_all(fd, body.data(), body.size(), "recent.json"); });
}

void remember_recent(AppState& app, const std::string& path) {
  if (app.config_dir.empty() || path.empty()) return;
  const std::string abs = fs::absolute(path).lexically_normal().string();
  app.recent.erase(std::remove(app.recent.begin(), app.recent.end(), abs), app.recent.end());
  app.recent.insert(app.recent.begin(), abs);
  if (app.recent.size() > 10) app.recent.resize(10);
  try {
    save_recent(app.config_dir, app.recent);
  } catch (const std::exception& e) {
    app.status = {Message::Warning, std::string("Recent files not saved: ") + e.what()};
  }
}

}  // namespace fw::gui
