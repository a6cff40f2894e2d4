// The Search view (`--view nas`): search the open project's search space and look at what the
// searches found.
//
// Left: the search's settings (name, strategy, budget, objectives with min/max, seed,
// population, tournament, training steps when accuracy is an objective, threads), Start /
// Pause / Resume / Stop, the progress (scored of budget, time left) and the search space (its
// choices, its size and constraints, edited in place: app/panels/space_panel.h). Main area, a
// "Results" tab: the search shown (the project's searches in a combo; a running one comes to
// front), a scatter of any two metrics of its ok results with its Pareto front (on the search's
// objectives) drawn as a step line through its points and the base network marked, and a
// sortable, filterable table of every result. Hovering a point shows its choices and metrics;
// clicking a point or a row opens that subnet in a "Subnet #id" tab: its graph on an editor
// canvas with the nodes that differ from the base selected, "Make it the base" (replaces the
// document's graph, one undo step, the search space kept), "Save as project…" and "Export…" (ONNX,
// PyTorch or the architecture file, app/panels/network_export.h, carried out by the view).
//
// A search writes into the project file (nas/session.h): Start needs the document saved as a
// *.formwork project (the view asks for Save As otherwise, and saves unsaved changes first).
// While it writes, saving over that file is refused (AppState::busy_path). The view keeps the
// project's searches and results in memory (a ProjectData holding searches and search_results),
// read once per opened project and extended by every result the running search commits, so the
// scatter and the table grow live; the file holds the same rows, so a later save keeps them.
#pragma once
#include <imgui.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/editor_canvas.h"
#include "app/gui/search_session.h"
#include "app/gui/style.h"
#include "app/panels/network_export.h"
#include "app/panels/space_panel.h"
#include "core/project_store.h"
#include "nas/search.h"

namespace fw::gui {

struct SearchForm {
  char name[64] = "search";
  int strategy = 2;  // 0 random, 1 evolution, 2 nsga2
  int64_t budget = 200;
  // Per metric of search_metrics(): an objective or not, and its direction.
  std::map<std::string, bool> use, maximize;
  uint64_t seed = 1;
  int64_t population = 20, tournament = 5;
  int64_t train_steps = 50;
  int64_t threads = 0;
  std::string for_path;  // the project the form was filled for
};

class SearchPanel {
 public:
  explicit SearchPanel(SearchRun& run);

  enum class Request { None, SaveAs, SaveSubnetAs, ExportSubnet };
  // Draws the view into the current window's remaining content region.
  Request draw(AppState& app, const Fonts& fonts, float height);
  // Every frame, whichever view is in front: takes what the running search committed into the
  // in-memory results. The project's searches are read from the file when this view first shows
  // an opened project (`visible`), or when a search starts.
  void sync(const AppState& app, bool visible);

  // The Start button: saves unsaved changes, checks, starts. Returns "" or why not (also shown).
  std::string start(AppState& app);
  // Why Start is not possible now ("" when it is).
  std::string start_blocker(const AppState& app) const;
  SearchSettings settings() const;  // the form as settings
  SearchForm& form() { return form_; }

  // The project's searches and results as the view holds them.
  const ProjectData& data() const { return data_; }
  // The search shown ("" when the project has none); select_search shows another.
  const std::string& shown() const { return shown_; }
  void select_search(const std::string& name);
  // The shown search's ok results as the scatter draws them, and its Pareto front.
  const std::vector<SearchRecord>& records() const { return records_; }
  const std::set<int64_t>& front() const { return front_; }
  std::optional<std::map<std::string, double>> base_metrics() const { return base_metrics_; }
  // The scatter's axes (metric names).
  std::string x_metric, y_metric;
  // Where result `id` was drawn in the last frame's scatter (false: not drawn).
  bool point_pos(int64_t id, ImVec2* pos) const;

  // Opens result `id` in the Subnet tab; "" or why not (also shown).
  std::string open_result(int64_t id);
  int64_t opened() const { return opened_; }
  // The opened subnet, as the Subnet tab's canvas shows it (its own document and editor state).
  AppState& preview() { return preview_; }
  // Module paths of the nodes that differ from the base (the ones selected on its canvas).
  const std::vector<std::string>& changed() const { return changed_; }
  // "Make it the base": the document's graph becomes the opened subnet (its search space kept),
  // one undo step. False (with app.status saying why) when nothing is opened.
  bool make_base(AppState& app);
  // Shows search `name` once the project's searches are read (`--search`), with the proxy-study
  // tab in front when `study` (`--search-tab study`).
  void request(const std::string& name, bool study) {
    requested_ = name;
    select_study_tab_ = study;
  }
  // "Save as project…": a new project holding the opened subnet (the project's dataset and the
  // search space carried over). "" or the error line.
  std::string save_subnet_as(const AppState& app, const std::string& path);
  std::string subnet_file_name() const;
  // "Export…" of the opened subnet: the format chosen (Request::ExportSubnet), and the model's
  // name, as `formwork export PROJECT --result ID` names it ("sample_result_12").
  NetworkFormat export_format() const { return export_format_; }
  std::string subnet_export_name() const;

 private:
  void settings_column(AppState& app, const Fonts& fonts, float width, float height);
  void results_area(AppState& app, const Fonts& fonts, ImVec2 size);
  void results_tab(const Fonts& fonts, ImVec2 size);
  void subnet_tab(AppState& app, const Fonts& fonts, ImVec2 size);
  void scatter(const Fonts& fonts, ImVec2 size);
  void table(const Fonts& fonts, ImVec2 size);
  void fill_form(const SearchSettings& s);
  void rebuild();
  void reload(const AppState& app);

  SearchRun& run_;
  SearchForm form_;
  std::string message_;
  bool pending_save_as_ = false, pending_subnet_save_ = false, pending_export_ = false;
  NetworkFormat export_format_ = NetworkFormat::Onnx;

  // The open project's searches and results.
  ProjectData data_;
  std::string data_path_;
  int64_t data_generation_ = -1;
  bool loaded_ = false;
  std::set<int64_t> ids_;  // of data_.search_results (a result read and also received is one)
  std::string load_error_;
  int64_t data_revision_ = 0;
  int64_t seen_run_ = 0;
  bool filled_ = false;

  // The shown search, derived from data_ (rebuilt when data_revision_ or shown_ changes).
  std::string shown_;
  int64_t built_revision_ = -1;
  std::string built_for_;
  std::vector<SearchRecord> all_, records_;  // every result of the search; its ok ones
  std::vector<std::string> all_text_;        // all_'s choices as the table shows them
  std::set<int64_t> front_;
  std::vector<Objective> objectives_;
  std::optional<std::map<std::string, double>> base_metrics_;
  bool base_analytic_ = false;  // only params and macs (until the running search scores it)
  std::string base_key_;
  struct DrawnPoint {
    int64_t id;
    ImVec2 pos;
  };
  std::vector<DrawnPoint> drawn_points_;

  // The table: sorting and filtering (indices into all_).
  ImGuiTextFilter filter_;
  int sort_column_ = 0;
  bool sort_descending_ = false;
  std::vector<int> rows_;
  int64_t rows_revision_ = -1;
  std::string rows_key_;

  SpacePanel space_panel_;  // the document's search space

  // The opened subnet.
  int64_t opened_ = 0;
  bool select_subnet_tab_ = false;
  std::string requested_;          // --search
  bool select_study_tab_ = false;  // --search-tab study
  AppState preview_;
  EditorCanvas preview_canvas_;
  std::vector<std::string> changed_;
  std::string opened_space_meta_;  // the search's space, for "Make it the base" / "Save as"
  std::string open_error_;
};

}  // namespace fw::gui
