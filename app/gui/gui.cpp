// run_gui: checks the options, opens the architecture and runs the chosen view in the window
// (app/gui/window.h). A view is one full-window ImGui window whose panels live in app/panels/.
#include "app/gui/gui.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app/gui/arch_table.h"
#include "app/gui/window.h"
#include "app/panels/arch_header.h"
#include "app/panels/node_list.h"
#include "core/analysis.h"
#include "core/arch.h"
#include "core/error.h"

namespace fw {

namespace {

// The views of CONTRACT.md, and those this build has.
const std::vector<std::string> kAllViews = {"editor",  "attention", "gradcam",
                                            "circuit", "nas",       "training"};
const std::vector<std::string> kBuiltViews = {"editor"};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// ---- What to show ------------------------------------------------------------------------------
struct Opened {
  std::string title;  // template name or file name
  Graph graph;
};

// PROJECT as CONTRACT.md's ARCH: a template name, *.json or *.formwork; empty: the bundled sample.
Opened open_architecture(const std::string& project) {
  namespace fs = std::filesystem;
  const std::string spec =
      project.empty() ? std::string(FORMWORK_ASSETS_DIR) + "/sample.formwork" : project;
  if (project.empty() && !fs::exists(spec))
    throw Error("the bundled sample project " + spec + " is missing");
  LoadedArch loaded = load_arch(spec);
  std::string title = loaded.source == "template" ? spec : fs::path(spec).filename().string();
  return {std::move(title), std::move(loaded.graph)};
}

// ---- The editor view: header + node list -------------------------------------------------------
struct EditorView {
  gui::ArchTable table;
  gui::NodeListState nodes;
};

void draw_editor(EditorView& v, const gui::Fonts& fonts) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoBringToFrontOnFocus;
  if (ImGui::Begin("Editor", nullptr, flags)) {
    gui::draw_arch_header(v.table, fonts);
    gui::draw_node_list(v.table, v.nodes, fonts);
  }
  ImGui::End();
}

}  // namespace

int run_gui(const GuiOptions& opts) {
  if (!contains(kAllViews, opts.view)) {
    std::fprintf(stderr, "formwork: error: unknown view '%s' (views: %s)\n", opts.view.c_str(),
                 join(kAllViews).c_str());
    return 2;
  }
  if (!contains(kBuiltViews, opts.view)) {
    std::fprintf(stderr, "formwork: error: the '%s' view is not built yet (available: %s)\n",
                 opts.view.c_str(), join(kBuiltViews).c_str());
    return 2;
  }
  if (opts.frames < 1) {
    std::fprintf(stderr, "formwork: error: --frames must be at least 1 (got %d)\n", opts.frames);
    return 2;
  }

  EditorView editor;
  try {
    Opened opened = open_architecture(opts.project);
    editor.table = gui::make_arch_table(opened.graph, analyze(opened.graph), opened.title);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "formwork: error: %s\n", e.what());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "formwork: error: %s\n", e.what());
    return 1;
  }

  const gui::DrawFn draw = [&](const gui::Fonts& fonts) { draw_editor(editor, fonts); };
  return gui::run_window(
      {"Formwork \xE2\x80\x94 " + editor.table.title, opts.screenshot, opts.frames}, draw);
}

}  // namespace fw
