// run_gui: checks the options, opens the project and runs the editor view in the window
// (app/gui/window.h).
#include "app/gui/gui.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "app/gui/ui_probe.h"
#include "app/gui/window.h"
#include "core/error.h"
#include "core/format.h"
#include "views/gradcam.h"
#include "views/node_geometry.h"

namespace fw {

namespace {

constexpr const char* kFallbackTemplate = "poolformer_s12";

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

int usage(const std::string& msg) {
  std::fprintf(stderr, "formwork: error: %s\n", msg.c_str());
  return 2;
}

// Puts the editor in the state the options ask for. Returns an error line, or "".
std::string apply_state(gui::AppState& app, gui::EditorView& view, const GuiOptions& o) {
  const Graph& g = app.doc.graph();
  auto find = [&](const std::string& path, const char* flag, NodeId* id) -> std::string {
    *id = g.find_path(path);
    if (*id == kNoNode) return std::string(flag) + ": no node '" + path + "' in this graph";
    return "";
  };
  for (const std::string& e : o.expand) {
    if (e == "all") {
      for (const auto& [id, n] : g.nodes())
        if (!n.children.empty()) app.editor.set_expanded(id, true);
      continue;
    }
    NodeId id;
    if (std::string err = find(e, "--expand", &id); !err.empty()) return err;
    if (!views::is_container(g.node(id))) return "--expand: '" + e + "' is not a group or block";
    app.editor.set_expanded(id, true);
  }
  if (!o.enter.empty()) {
    NodeId id;
    if (std::string err = find(o.enter, "--enter", &id); !err.empty()) return err;
    if (!views::is_container(g.node(id)))
      return "--enter: '" + o.enter + "' is not a group or block";
    gui::enter_level(app, id);
  }
  if (!o.select.empty()) {
    NodeId id;
    if (std::string err = find(o.select, "--select", &id); !err.empty()) return err;
    if (o.enter.empty())
      gui::reveal_node(app, id);
    else
      app.editor.select_only(id);
  }
  // The views on the model.
  for (const auto& [flag, path] : {std::pair<const char*, const std::string*>{"--layer", &o.layer},
                                   {"--compare", &o.compare}}) {
    if (path->empty()) continue;
    NodeId id;
    if (std::string err = find(*path, flag, &id); !err.empty()) return err;
  }
  if (!o.method.empty()) {
    try {
      view.gradcam().method = parse_cam_method(o.method);
    } catch (const UsageError& e) {
      return e.what();
    }
  }
  view.gradcam().layer = o.layer;
  view.gradcam().cls = o.cls;
  view.attention().layer = o.layer;
  view.attention().compare = o.compare;
  if (o.query >= 0) view.attention().query = o.query;
  if (std::string err = view.input_panel().choose(o.input.empty() ? "sample:0" : o.input);
      !err.empty())
    return err;
  if (!o.search_tab.empty() && o.search_tab != "results" && o.search_tab != "study")
    return "--search-tab: expected results or study (got '" + o.search_tab + "')";
  view.search_panel().request(o.search, o.search_tab == "study");
  if (o.dialog == "templates")
    view.show_templates();
  else if (o.dialog == "open")
    view.show_open_dialog();
  else if (o.dialog == "shortcuts")
    view.show_shortcuts();
  else if (!o.dialog.empty())
    return "--dialog: expected templates, open or shortcuts (got '" + o.dialog + "')";
  return "";
}

}  // namespace

const std::vector<std::string>& contract_views() {
  static const std::vector<std::string> v = {"editor",  "attention", "gradcam",
                                             "circuit", "nas",       "training"};
  return v;
}

const std::vector<std::string>& built_views() {
  static const std::vector<std::string> v = {"editor",  "training", "attention",
                                             "gradcam", "circuit",  "nas"};
  return v;
}

int run_gui(const GuiOptions& opts) {
  if (!contains(contract_views(), opts.view))
    return usage("unknown view '" + opts.view + "' (views: " + format_list(contract_views()) + ")");
  if (!contains(built_views(), opts.view))
    return usage("view '" + opts.view + "' is not available in this build (available: " +
                 format_list(built_views()) + ")");
  if (opts.frames < 1)
    return usage("--frames must be at least 1 (got " + std::to_string(opts.frames) + ")");
  const bool screenshot = !opts.screenshot.empty();
  if (!opts.state.empty() && !screenshot) return usage("--state needs --screenshot");

  gui::AppState app;
  if (!screenshot) {
    app.config_dir = gui::default_config_dir();
    app.recent = gui::load_recent(app.config_dir);
  }
  std::string error_line;
  if (opts.project.empty()) {
    const std::string sample = std::string(FORMWORK_ASSETS_DIR) + "/sample.formwork";
    if (std::filesystem::exists(sample)) {
      // Opened like any project, but never saved over (nor listed as recent).
      const std::string config = app.config_dir;
      app.config_dir.clear();
      const bool ok = gui::open_spec(app, sample, &error_line);
      app.config_dir = config;
      if (!ok && screenshot)
        return std::fprintf(stderr, "formwork: error: %s\n", error_line.c_str()), 1;
      app.bundled = ok;
    } else {
      gui::open_spec(app, kFallbackTemplate);
      app.status = {gui::Message::Warning,
                    "assets/sample.formwork is missing: showing the built-in template " +
                        std::string(kFallbackTemplate)};
    }
  } else if (!gui::open_spec(app, opts.project, &error_line)) {
    if (screenshot) return std::fprintf(stderr, "formwork: error: %s\n", error_line.c_str()), 1;
    app.name = "Untitled";  // the error dialog says why; the window stays
  }

  gui::EditorView view(app);
  view.views = built_views();
  view.show_view(opts.view);
  if (std::string err = apply_state(app, view, opts); !err.empty()) return usage(err);

  gui::WindowOptions w;
  w.title = gui::window_title(app);
  w.screenshot = opts.screenshot;
  w.frames = opts.frames;
  w.state = opts.state;
  if (!opts.state.empty()) gui::probe::enable(true);  // the drawing code records what it draws
  w.title_fn = [&] { return gui::window_title(app); };
  w.on_close = [&] { return view.request_close(); };
  w.should_quit = [&] { return view.quit_requested(); };
  w.animating = [&] { return view.animating(); };
  w.settling = [&] { return view.settling(); };
  w.on_drop = [&](const std::vector<std::string>& paths) { view.drop_files(paths); };
  return gui::run_window(w, [&](const gui::Fonts& fonts) { view.draw(fonts); });
}

}  // namespace fw
