#include "app/panels/file_browser.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "core/format.h"
#include "app/gui/ui_probe.h"

namespace fw::gui {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string time_text(fs::file_time_type t) {
  const auto sys = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      t - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
  const std::time_t tt = std::chrono::system_clock::to_time_t(sys);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::localtime(&tt));
  return buf;
}

std::string size_text(uintmax_t n) {
  char buf[32];
  if (n < 1024)
    std::snprintf(buf, sizeof buf, "%ju B", n);
  else if (n < 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f KB", static_cast<double>(n) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(n) / (1024.0 * 1024));
  return buf;
}

}  // namespace

bool FileBrowser::listed(const std::string& name) const {
  for (const std::string& ext : kind_.extensions)
    if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
      return true;
  return false;
}

void FileBrowser::open(Mode mode, const std::string& dir, const std::string& name, FileKind kind) {
  mode_ = mode;
  kind_ = std::move(kind);
  open_ = true;
  confirm_overwrite_ = false;
  chosen_.clear();
  std::snprintf(name_buf_, sizeof name_buf_, "%s", name.c_str());
  set_dir(dir.empty() ? fs::current_path().string() : dir);
}

void FileBrowser::set_dir(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir, ec).lexically_normal();
  if (p.has_filename() == false && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  dir_ = p.string();
  std::snprintf(path_buf_, sizeof path_buf_, "%s", dir_.c_str());
  selected_ = -1;
  refresh();
}

void FileBrowser::set_name(const std::string& name) {
  std::snprintf(name_buf_, sizeof name_buf_, "%s", name.c_str());
}

void FileBrowser::refresh() {
  entries_.clear();
  error_.clear();
  listed_filter_ = filter;
  std::error_code ec;
  fs::directory_iterator it(dir_, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    error_ = "Cannot list " + dir_ + ": " + ec.message();
    return;
  }
  for (const fs::directory_entry& e : it) {
    Entry en;
    en.name = e.path().filename().string();
    if (en.name.empty() || en.name[0] == '.') continue;
    std::error_code ec2;
    en.dir = e.is_directory(ec2);
    if (!en.dir) {
      if (filter == 0 && !listed(en.name)) continue;
      en.size = e.file_size(ec2);
    }
    const auto t = e.last_write_time(ec2);
    if (!ec2) en.modified = time_text(t);
    entries_.push_back(std::move(en));
  }
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.dir != b.dir) return a.dir;
    return lower(a.name) < lower(b.name);
  });
}

bool FileBrowser::accept(const std::string& path) {
  chosen_ = path;
  visible_ = false;
  return true;
}

bool FileBrowser::draw(const Fonts& fonts) {
  const std::string title =
      (mode_ == Mode::Open ? std::string("Open project or architecture") : kind_.title) + "###files";
  if (open_) {
    open_ = false;
    visible_ = true;
    ImGui::OpenPopup("###files");
  }
  if (!visible_) return false;
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowSize(ImVec2(std::min(vp->WorkSize.x * 0.9f, ImGui::GetFontSize() * 52),
                                  std::min(vp->WorkSize.y * 0.85f, ImGui::GetFontSize() * 34)),
                           ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(
      ImVec2(vp->WorkPos.x + vp->WorkSize.x * 0.5f, vp->WorkPos.y + vp->WorkSize.y * 0.5f),
      ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  bool keep = true;
  bool done = false;
  if (!ImGui::BeginPopupModal(title.c_str(), &keep)) {
    visible_ = false;
    return false;
  }
  if (listed_filter_ != filter) refresh();
  probe::dialog("files");
  if (probe::enabled()) probe::fact("files.dir", dir_);

  // Path bar.
  if (ImGui::Button("\xE2\x86\x91 Up")) set_dir(fs::path(dir_).parent_path().string());
  ImGui::SameLine();
  if (ImGui::Button("Home"))
    if (const char* home = std::getenv("HOME")) set_dir(home);
  ImGui::SameLine();
  if (ImGui::Button("Working dir")) set_dir(fs::current_path().string());
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-FLT_MIN);
  if (ImGui::InputText("##path", path_buf_, sizeof path_buf_,
                       ImGuiInputTextFlags_EnterReturnsTrue)) {
    std::error_code ec;
    if (fs::is_directory(path_buf_, ec)) {
      set_dir(path_buf_);
    } else if (mode_ == Mode::Open && fs::is_regular_file(path_buf_, ec)) {
      done = accept(path_buf_);
    } else {
      error_ = std::string("No such folder: ") + path_buf_;
    }
  }

  // Listing.
  const float footer = ImGui::GetFrameHeightWithSpacing() + ImGui::GetTextLineHeightWithSpacing() +
                       ImGui::GetStyle().ItemSpacing.y;
  if (ImGui::BeginTable("files", 3,
                        ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg |
                            ImGuiTableFlags_BordersOuter | ImGuiTableFlags_SizingStretchProp,
                        ImVec2(0, -footer))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("Name", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("Size", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 6);
    ImGui::TableSetupColumn("Modified", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 9);
    ImGui::TableHeadersRow();
    std::string go;
    for (size_t i = 0; i < entries_.size() && !done; ++i) {
      const Entry& e = entries_[i];
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::PushID(static_cast<int>(i));
      const std::string label = e.dir ? e.name + "/" : e.name;
      if (e.dir) ImGui::PushStyleColor(ImGuiCol_Text, palette::kAccent);
      if (ImGui::Selectable(
              label.c_str(), selected_ == static_cast<int>(i),
              ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowDoubleClick)) {
        selected_ = static_cast<int>(i);
        if (!e.dir) std::snprintf(name_buf_, sizeof name_buf_, "%s", e.name.c_str());
        if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) {
          if (e.dir)
            go = (fs::path(dir_) / e.name).string();
          else if (mode_ == Mode::Open)
            done = accept((fs::path(dir_) / e.name).string());
          else
            pending_ = (fs::path(dir_) / e.name).string(), confirm_overwrite_ = true;
        }
      }
      if (e.dir) ImGui::PopStyleColor();
      if (probe::enabled())
        if (probe::Drawn* d = probe::drawn_item("file", label)) {
          if (e.dir) d->ink = palette::kAccent;
          d->flag("dir", e.dir).flag("selected", selected_ == static_cast<int>(i));
        }
      ImGui::PopID();
      ImGui::TableSetColumnIndex(1);
      if (!e.dir) ImGui::TextDisabled("%s", size_text(e.size).c_str());
      ImGui::TableSetColumnIndex(2);
      ImGui::TextDisabled("%s", e.modified.c_str());
    }
    if (entries_.empty() && error_.empty()) {
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::TextDisabled("%s", filter == 0 ? ("No folders or " + kind_.what + " here").c_str()
                                            : "Empty folder");
    }
    ImGui::EndTable();
    if (!go.empty()) set_dir(go);
  }
  if (!error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextUnformatted(error_.c_str());
    ImGui::PopStyleColor();
  } else {
    ImGui::Spacing();
  }

  // Name, filter, buttons.
  const float button_w = ImGui::GetFontSize() * 6;
  ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - button_w * 2 -
                          ImGui::GetFontSize() * 10 - ImGui::GetStyle().ItemSpacing.x * 3);
  const bool enter =
      ImGui::InputTextWithHint("##name", mode_ == Mode::Save ? "file name" : "file", name_buf_,
                               sizeof name_buf_, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  const char* filters[] = {kind_.filter.c_str(), "All files"};
  ImGui::Combo("##filter", &filter, filters, 2);
  ImGui::SameLine();
  const char* verb = mode_ == Mode::Open ? "Open" : "Save";
  const bool confirm = ImGui::Button(verb, ImVec2(button_w, 0));
  probe::note("files:confirm");
  if ((confirm || enter || confirm_requested_) && name_buf_[0] && !done) {
    confirm_requested_ = false;
    fs::path p =
        fs::path(name_buf_).is_absolute() ? fs::path(name_buf_) : fs::path(dir_) / name_buf_;
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      set_dir(p.string());
      name_buf_[0] = '\0';
    } else if (mode_ == Mode::Open) {
      if (fs::is_regular_file(p, ec))
        done = accept(p.string());
      else
        error_ = "No such file: " + p.string();
    } else {
      std::string s = p.string();
      const bool bare = p.extension().empty();
      if (!listed(s) && !kind_.extensions.empty() && (bare || !kind_.keep_other_extensions))
        s += kind_.extensions.front();
      if (fs::exists(s, ec)) {
        pending_ = s;
        confirm_overwrite_ = true;
      } else {
        done = accept(s);
      }
    }
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel", ImVec2(button_w, 0)) ||
      ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
    visible_ = false;
    ImGui::CloseCurrentPopup();
  }

  if (confirm_overwrite_) {
    ImGui::OpenPopup("Replace file?");
    confirm_overwrite_ = false;
  }
  if (ImGui::BeginPopupModal("Replace file?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::PushFont(fonts.bold);
    ImGui::Text("%s already exists.", fs::path(pending_).filename().string().c_str());
    ImGui::PopFont();
    ImGui::TextUnformatted("Replace it? Its contents are overwritten.");
    const bool replace = ImGui::Button("Replace", ImVec2(button_w, 0));
    probe::note("files:replace");
    if (replace) {
      ImGui::CloseCurrentPopup();
      chosen_ = pending_;
      visible_ = false;
      done = true;
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel##replace", ImVec2(button_w, 0))) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  if (done) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
  if (!keep) visible_ = false;
  return done;
}

}  // namespace fw::gui
