#include "app/panels/diagram_export.h"

#include <exception>
#include <filesystem>

#include "views/graph_diagram.h"
#include "views/picture_export.h"

namespace fw::gui {

namespace fs = std::filesystem;

std::string export_graph_diagram(const Graph& g, const Analysis& a, NodeId level,
                                 const std::string& path, std::string* written) {
  const std::optional<views::PictureFormat> format = views::picture_format_for(path);
  if (!format) return path + ": the extension says which picture to write: .svg, .pdf or .png";
  try {
    const views::Picture picture = views::graph_picture(g, a, level);
    views::export_picture(picture, *format, path);
    const views::PictureSize s = views::picture_output_size(picture, *format);
    if (written)
      *written = path + " (" + views::picture_format_name(*format) + ", " +
                 std::to_string(s.width) + "\xC3\x97" + std::to_string(s.height) + ")";
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void DiagramExport::open(const AppState& app) {
  const Graph& g = app.doc.graph();
  std::string stem = app.name.empty() ? std::string("diagram") : fs::path(app.name).stem().string();
  if (app.editor.container != kNoNode && g.contains(app.editor.container))
    if (const std::string level = g.path(app.editor.container); !level.empty()) stem += "-" + level;
  const std::string dir =
      app.path.empty() ? std::string() : fs::path(app.path).parent_path().string();
  FileKind kind;
  kind.title = "Export diagram";
  kind.filter = "*.svg, *.pdf, *.png";
  kind.what = "pictures";
  kind.extensions = {".svg", ".pdf", ".png"};
  kind.keep_other_extensions = true;
  files_.open(FileBrowser::Mode::Save, dir, stem + ".svg", kind);
}

void DiagramExport::draw(AppState& app, const Fonts& fonts) {
  if (!files_.draw(fonts)) return;
  const Graph& g = app.doc.graph();
  const NodeId level = app.editor.container != kNoNode && g.contains(app.editor.container)
                           ? app.editor.container
                           : kNoNode;
  std::string written;
  const std::string error =
      export_graph_diagram(g, app.doc.analysis(), level, files_.chosen(), &written);
  if (!error.empty()) {
    app.error = "Cannot export the diagram: " + error;
    return;
  }
  const std::string what = level == kNoNode ? std::string("the top level") : g.path(level);
  app.status = {Message::Ok, "Exported the diagram of " + what + " to " + written};
}

}  // namespace fw::gui
