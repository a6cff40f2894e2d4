// File → Export diagram…: the level the editor shows, as the graph diagram (views/graph_diagram.h:
// the picture `formwork export --diagram graph --level MODULE` writes), to an SVG, PDF or PNG file
// chosen in the file browser; the format comes from the file's extension.
//
// - open(app): the file browser in Save mode, in the document's folder, named after the document
//   and the level ("caformer_s18-stages.2.svg"), listing pictures.
// - draw(app, fonts): the browser while it is open; once a file is chosen, the export. The status
//   bar says what was written; a failure (an extension that names no picture format, a folder
//   that cannot be written, a build without Qt 6) goes to the error dialog, and an existing file
//   is left as it was.
#pragma once
#include <string>

#include "app/gui/app_state.h"
#include "app/gui/style.h"
#include "app/panels/file_browser.h"

namespace fw::gui {

class DiagramExport {
 public:
  void open(const AppState& app);
  void draw(AppState& app, const Fonts& fonts);
  bool is_open() const { return files_.is_open(); }
  FileBrowser& files() { return files_; }

 private:
  FileBrowser files_;
};

// Writes the graph diagram of `level` to `path`, in the format its extension names. Returns ""
// or the one-line reason; on success `written` (if given) gets "PATH (svg, W×H)".
std::string export_graph_diagram(const Graph& g, const Analysis& a, NodeId level,
                                 const std::string& path, std::string* written = nullptr);

}  // namespace fw::gui
