// The in-app file browser (drawn with ImGui, no system dialog): a modal to pick a project or
// architecture file to open, or a name to save under.
//
// - Shows one directory: its path (editable: type a path and press Enter), an Up button, Home and
//   the working directory as shortcuts, then folders and the files the filter lets through
//   (Formwork files: *.formwork and *.json; or all files), with size and modification time.
// - Open: double-click a file, or select it and press Open. Save: type a name (the extension is
//   added if missing) or pick a file; replacing an existing file asks first.
// - What is listed and saved is a FileKind: Formwork files by default; the diagram export lists and
//   saves pictures (*.svg, *.pdf, *.png).
// - Unreadable directories say so in the dialog; nothing throws.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "app/gui/style.h"

namespace fw::gui {

// The files a dialog is for.
struct FileKind {
  std::string title = "Save project as";      // Save mode's title
  std::string filter = "*.formwork, *.json";  // the filter menu's first entry
  std::string what = "Formwork files";        // "No folders or <what> here"
  std::vector<std::string> extensions = {".formwork", ".json"};  // listed by that filter
  // Save: a typed name whose extension is not one of `extensions` gets the first of them
  // appended; with `keep_other_extensions` only a name with no extension at all does (the
  // caller refuses the others, saying why).
  bool keep_other_extensions = false;
};

class FileBrowser {
 public:
  enum class Mode { Open, Save };

  // Opens the dialog on the next draw(). `name` pre-fills the file name (Save).
  void open(Mode mode, const std::string& dir, const std::string& name = "", FileKind kind = {});
  bool is_open() const { return open_ || visible_; }
  // Draws the dialog while open. Returns true once, in the frame the user confirms; the path is
  // then in chosen().
  bool draw(const Fonts& fonts);
  const std::string& chosen() const { return chosen_; }
  Mode mode() const { return mode_; }

  // For tests and scripts: navigate, name the file, confirm as if the button were pressed.
  void set_dir(const std::string& dir);
  void set_name(const std::string& name);
  void request_confirm() { confirm_requested_ = true; }
  const std::string& dir() const { return dir_; }
  struct Entry {
    std::string name;
    bool dir = false;
    uintmax_t size = 0;
    std::string modified;  // "2024-05-01 14:03"
  };
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& error() const { return error_; }
  int filter = 0;  // 0: Formwork files, 1: all files

 private:
  void refresh();
  bool accept(const std::string& path);

  bool listed(const std::string& name) const;

  Mode mode_ = Mode::Open;
  FileKind kind_;
  bool open_ = false, visible_ = false, confirm_overwrite_ = false, confirm_requested_ = false;
  std::string dir_, error_, chosen_, pending_;
  std::vector<Entry> entries_;
  int selected_ = -1;
  int listed_filter_ = -1;
  char name_buf_[256] = "";
  char path_buf_[1024] = "";
};

}  // namespace fw::gui
