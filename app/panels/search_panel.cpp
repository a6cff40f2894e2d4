#include "app/panels/search_panel.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "app/gui/form_rows.h"
#include "app/gui/plot.h"
#include "app/gui/ui_probe.h"
#include "app/panels/study_panel.h"
#include "core/analysis.h"
#include "core/arch.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "nas/space.h"

namespace fw::gui {

using Phase = SearchLive::Phase;

namespace {

const char* const kStrategies[] = {"random", "evolution", "nsga2"};
const char* const kStrategyTitles[] = {"Random", "Regularised evolution", "NSGA-II"};

// Colours of the scatter: every ok result, the Pareto front, the base network.
constexpr ImU32 kPointColor = palette::rgb(0x8a93a5, 200);
constexpr ImU32 kFrontColor = palette::kWarning;
constexpr ImU32 kBaseColor = palette::kOk;

ImU32 with_alpha(ImU32 c, unsigned a) {
  return (c & ~IM_COL32_A_MASK) | (ImU32(a) << IM_COL32_A_SHIFT);
}

// A colour as it shows over the chart's background (its alpha blended in).
ImU32 over_panel(ImU32 c) {
  const float a = float((c >> IM_COL32_A_SHIFT) & 0xFF) / 255.0f;
  auto ch = [&](int shift) {
    const float x = float((palette::kPanel >> shift) & 0xFF), y = float((c >> shift) & 0xFF);
    return ImU32(x + (y - x) * a + 0.5f) << shift;
  };
  return ch(IM_COL32_R_SHIFT) | ch(IM_COL32_G_SHIFT) | ch(IM_COL32_B_SHIFT) | IM_COL32_A_MASK;
}

// A metric's value as the table and the tooltips show it.
std::string metric_text(const std::string& metric, double v) {
  if (!std::isfinite(v)) return "-";
  char b[48];
  if (metric == "params" || metric == "macs")
    std::snprintf(b, sizeof b, "%s", format_count(int64_t(v)).c_str());
  else if (metric == "accuracy")
    std::snprintf(b, sizeof b, "%.2f%%", 100 * v);
  else if (metric == "latency_ms")
    std::snprintf(b, sizeof b, "%.3g ms", v);
  else if (std::fabs(v) >= 100)
    std::snprintf(b, sizeof b, "%.1f", v);
  else if (std::fabs(v) >= 1)
    std::snprintf(b, sizeof b, "%.3f", v);
  else
    std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// Tick labels: large numbers with k / M, as the parameter counts read best.
std::string axis_label(double v, double step) {
  const double a = std::max(std::fabs(v), std::fabs(step));
  double unit = 1;
  const char* suffix = "";
  if (a >= 1e9) {
    unit = 1e9, suffix = "G";
  } else if (a >= 1e6) {
    unit = 1e6, suffix = "M";
  } else if (a >= 1e4) {
    unit = 1e3, suffix = "k";
  }
  const double s = step / unit;
  const int decimals = s >= 1 ? 0 : std::clamp(int(std::ceil(-std::log10(s) - 1e-9)), 0, 4);
  char b[48];
  std::snprintf(b, sizeof b, "%.*f%s", decimals, v / unit, suffix);
  return b;
}

// "stages.1.token_mixer: sepconv, stages.1.depth: 3, ..." from a choices object.
std::string choices_text(const std::string& json) {
  try {
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(json);
    std::string s;
    for (const auto& [k, v] : j.items()) {
      if (!s.empty()) s += "  ";
      s += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    return s;
  } catch (const std::exception&) {
    return json;
  }
}

std::vector<std::pair<std::string, std::string>> choices_list(const std::string& json) {
  std::vector<std::pair<std::string, std::string>> out;
  try {
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(json);
    for (const auto& [k, v] : j.items())
      out.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  } catch (const std::exception&) {
  }
  return out;
}

double metric_of(const SearchRecord& r, const std::string& m) {
  const auto it = r.metrics.find(m);
  return it == r.metrics.end() ? std::nan("") : it->second;
}

// Module paths of the top-most nodes of `g` that differ from `base` (missing there, another kind
// or other attributes), found by module path.
std::vector<std::string> changed_paths(const Graph& base, const Graph& g) {
  std::vector<std::string> out;
  std::set<NodeId> changed;
  for (const auto& [id, n] : g.nodes()) {
    const std::string path = g.path(id);
    const NodeId b = base.find_path(path);
    if (b == kNoNode || base.node(b).kind != n.kind || !(base.node(b).attrs == n.attrs))
      changed.insert(id);
  }
  for (NodeId id : changed) {
    bool inside = false;
    for (NodeId p = g.node(id).parent; p != kNoNode; p = g.node(p).parent)
      if (changed.count(p)) inside = true;
    if (!inside) out.push_back(g.path(id));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

SearchPanel::SearchPanel(SearchRun& run) : run_(run) {
  for (const std::string& m : search_metrics()) {
    form_.use[m] = false;
    form_.maximize[m] = m == "naswot" || m == "synflow_log" || m == "snip" || m == "grad_norm" ||
                        m == "jacob_cov" || m == "accuracy";
  }
  form_.use["naswot"] = true;
  form_.use["params"] = true;
}

// ---- Project state
// ----------------------------------------------------------------------------------

void SearchPanel::reload(const AppState& app) {
  data_ = ProjectData{};
  ids_.clear();
  data_path_ = app.source == Source::Project ? app.path : "";
  data_generation_ = app.generation;
  loaded_ = true;
  load_error_.clear();
  if (!data_path_.empty()) {
    try {
      ProjectData p = load_project(data_path_);
      data_.searches = std::move(p.searches);
      data_.search_results = std::move(p.search_results);
      data_.meta = std::move(p.meta);
      for (const SearchResult& r : data_.search_results) ids_.insert(r.id);
    } catch (const std::exception& e) {
      load_error_ = e.what();
    }
  }
  ++data_revision_;
  const std::string was = requested_.empty() ? shown_ : requested_;
  shown_.clear();
  for (const SearchRow& r : data_.searches)
    if (r.name == was) shown_ = was;
  if (shown_.empty() && !data_.searches.empty()) {
    // The most recent search.
    const auto last = std::max_element(
        data_.searches.begin(), data_.searches.end(),
        [](const SearchRow& a, const SearchRow& b) { return a.created < b.created; });
    shown_ = last->name;
  }
  // The form: the shown search's settings (Start continues it), else the defaults.
  if (form_.for_path != data_path_ || !filled_) {
    form_.for_path = data_path_;
    filled_ = true;
    for (const SearchRow& r : data_.searches)
      if (r.name == shown_) {
        try {
          fill_form(info_from_row(r).settings);
        } catch (const std::exception&) {
        }
      }
  }
  opened_ = 0;
}

void SearchPanel::fill_form(const SearchSettings& s) {
  std::snprintf(form_.name, sizeof form_.name, "%s", s.name.c_str());
  for (int i = 0; i < 3; ++i)
    if (s.strategy.name == kStrategies[i]) form_.strategy = i;
  form_.budget = s.budget;
  for (auto& [m, on] : form_.use) on = false;
  for (const Objective& o : s.objectives) {
    form_.use[o.metric] = true;
    form_.maximize[o.metric] = o.maximize;
  }
  form_.seed = s.strategy.seed;
  form_.population = s.strategy.population;
  form_.tournament = s.strategy.tournament;
  if (s.train_steps > 0) form_.train_steps = s.train_steps;
  form_.threads = s.threads;
}

void SearchPanel::sync(const AppState& app, bool visible) {
  const std::string want = app.source == Source::Project ? app.path : "";
  if (want != data_path_ || app.generation != data_generation_) {
    data_ = ProjectData{};
    ids_.clear();
    data_path_ = want;
    data_generation_ = app.generation;
    loaded_ = false;
    ++data_revision_;
  }
  if (visible && !loaded_) reload(app);
  run_.poll();
  const SearchLive& l = run_.live();
  std::vector<SearchRecord> fresh = run_.take_new();
  if (l.run != seen_run_ && l.path == data_path_ && l.phase != Phase::Idle) {
    seen_run_ = l.run;
    shown_ = l.name;  // a search just started on this project comes to front
  }
  if (l.path != data_path_ || data_path_.empty() || !loaded_) return;
  bool changed = false;
  if (l.row) {
    auto it = std::find_if(data_.searches.begin(), data_.searches.end(),
                           [&](const SearchRow& r) { return r.name == l.row->name; });
    if (it == data_.searches.end()) {
      data_.searches.push_back(*l.row);
      std::sort(data_.searches.begin(), data_.searches.end(),
                [](const SearchRow& a, const SearchRow& b) { return a.name < b.name; });
      changed = true;
    } else if (!(*it == *l.row)) {
      *it = *l.row;
      changed = true;
    }
  }
  for (const SearchRecord& r : fresh) {
    if (!ids_.insert(r.id).second) continue;  // read from the file already
    data_.search_results.push_back(row_from_record(r));
    changed = true;
  }
  if (changed) ++data_revision_;
}

void SearchPanel::select_search(const std::string& name) {
  shown_ = name;
  for (const SearchRow& r : data_.searches)
    if (r.name == name && !run_.active()) {
      try {
        fill_form(info_from_row(r).settings);
      } catch (const std::exception&) {
      }
    }
}

// The shown search's records, front and base, from data_.
void SearchPanel::rebuild() {
  const SearchLive& l = run_.live();
  const bool live_base = l.base_metrics && l.path == data_path_ && l.name == shown_;
  if (built_revision_ == data_revision_ && built_for_ == shown_ && !(live_base && base_analytic_))
    return;
  built_revision_ = data_revision_;
  built_for_ = shown_;
  all_.clear();
  all_text_.clear();
  records_.clear();
  front_.clear();
  objectives_.clear();
  base_metrics_.reset();
  base_analytic_ = false;
  base_key_.clear();
  rows_revision_ = -1;
  const auto row = std::find_if(data_.searches.begin(), data_.searches.end(),
                                [&](const SearchRow& r) { return r.name == shown_; });
  if (row == data_.searches.end()) return;
  SearchInfo info;
  try {
    info = info_from_row(*row);
  } catch (const std::exception&) {
    return;
  }
  objectives_ = info.settings.objectives;
  std::optional<SearchSpace> space;
  std::optional<Graph> base;
  try {
    base = graph_from_json(info.base_json, "base");
    space = check_space(*base, info.space);
  } catch (const std::exception&) {
  }
  for (const SearchResult& r : data_.search_results)
    if (r.search == shown_) {
      all_.push_back(record_from_row(r));
      if (all_.back().key.empty() && space) try {
          all_.back().key = subnet_key(*space, pick_from_choices_json(*space, r.subnet_json));
        } catch (const std::exception&) {
        }
      all_text_.push_back(choices_text(r.subnet_json));
      if (r.status == "ok") records_.push_back(all_.back());
    }
  for (int64_t id : pareto_ids(all_, objectives_)) front_.insert(id);
  // The base: its own result when the search scored it, else the live run's score of it, else
  // its analytic numbers.
  try {
    if (!base || !space) throw Error("the search's base or space cannot be read");
    if (const std::optional<Pick> bp = base_pick(*base, *space))
      base_key_ = subnet_key(*space, *bp);
    for (const SearchRecord& r : records_)
      if (!base_key_.empty() && r.key == base_key_) base_metrics_ = r.metrics;
    if (!base_metrics_ && live_base) base_metrics_ = l.base_metrics;
    if (!base_metrics_) {
      base_analytic_ = true;
      const Analysis a = analyze(*base);
      base_metrics_ = std::map<std::string, double>{{"params", double(a.total_params)},
                                                    {"macs", double(a.total_macs)}};
    }
  } catch (const std::exception&) {
  }
  // Axes: the objectives (cost on x, quality on y) unless the user chose others that exist.
  const auto known = [&](const std::string& m) {
    for (const SearchRecord& r : records_)
      if (r.metrics.count(m)) return true;
    return false;
  };
  if (x_metric.empty() || y_metric.empty() || !known(x_metric) || !known(y_metric)) {
    std::string x, y;
    if (objectives_.size() >= 2) {
      x = objectives_[0].metric, y = objectives_[1].metric;
      if (objectives_[0].maximize && !objectives_[1].maximize) std::swap(x, y);
    } else if (objectives_.size() == 1) {
      y = objectives_[0].metric;
      x = y == "params" ? "macs" : "params";
    }
    if (!x.empty()) x_metric = x, y_metric = y;
  }
}

bool SearchPanel::point_pos(int64_t id, ImVec2* pos) const {
  for (const DrawnPoint& p : drawn_points_)
    if (p.id == id) {
      *pos = p.pos;
      return true;
    }
  return false;
}

// ---- Start
// ------------------------------------------------------------------------------------------

SearchSettings SearchPanel::settings() const {
  SearchSettings s;
  s.name = form_.name;
  s.strategy.name = kStrategies[std::clamp(form_.strategy, 0, 2)];
  s.strategy.seed = form_.seed;
  s.strategy.population = int(form_.population);
  s.strategy.tournament = int(form_.tournament);
  // The tournament is evolution's: elsewhere it only has to fit the population.
  if (form_.strategy != 1)
    s.strategy.tournament = int(std::min(form_.tournament, form_.population));
  s.budget = form_.budget;
  for (const std::string& m : search_metrics())
    if (form_.use.at(m)) s.objectives.push_back({m, form_.maximize.at(m)});
  const bool accuracy = form_.use.at("accuracy");
  s.train_steps = accuracy ? form_.train_steps : 0;
  s.threads = int(form_.threads);
  return s;
}

std::string SearchPanel::start_blocker(const AppState& app) const {
  if (run_.active()) return "A search is running.";
  if (app.bundled)
    return "This is the bundled sample, which is never written to: save it as your own project "
           "first (Save As) to search it.";
  if (app.source != Source::Project || app.path.empty())
    return "A search stores its results in a project file: save the document as a .formwork "
           "project first (Save As).";
  // (app.busy_path names this view's own search until the next frame after it ended.)
  if (!app.busy_path.empty() && app.busy_path == app.path && app.busy_what != "a search")
    return "A training run is writing this project: wait for it or stop it first.";
  if (!app.doc.analysis().ok())
    return "The graph has problems: fix them in the editor first (see Problems).";
  SearchSpace space;
  try {
    space = graph_space(app.doc.graph());
  } catch (const std::exception& e) {
    return e.what();
  }
  if (space.empty())
    return "The graph has no search space: mark the choices first (`formwork space PROJECT --set "
           "FILE.json`).";
  const SearchSettings s = settings();
  if (std::string(form_.name).empty()) return "Give the search a name.";
  if (s.objectives.empty()) return "Choose at least one objective.";
  if (std::string why = s.problem(); !why.empty()) {
    why[0] = char(std::toupper(static_cast<unsigned char>(why[0])));
    return why + ".";
  }
  for (const SearchRow& r : data_.searches)
    if (r.name == s.name) {
      try {
        const std::vector<std::string> diff = s.differences(info_from_row(r).settings);
        if (!diff.empty())
          return "A search named '" + s.name + "' was started with other settings (" +
                 format_list(diff) +
                 "): give the same settings to continue it, or a new name for another search.";
      } catch (const std::exception&) {
      }
    }
  return "";
}

std::string SearchPanel::start(AppState& app) {
  sync(app, true);
  message_ = start_blocker(app);
  if (!message_.empty()) return message_;
  if (app.doc.dirty()) {
    if (save(app) != SaveResult::Saved) {
      message_ = "The project could not be saved, so the search did not start.";
      return message_;
    }
  }
  SearchRequest req;
  req.path = app.path;
  req.graph_json = graph_to_json(app.doc.graph());
  req.settings = settings();
  req.backend = &app.device.backend();
  message_ = run_.start(std::move(req));
  if (message_.empty()) {
    const Backend& on = app.device.backend();
    app.status = {Message::Info, "Searching " + app.name +
                                     (&on == &cpu_backend() ? "" : " (" + device_label(on) + ")")};
    shown_ = form_.name;
  }
  return message_;
}

// ---- Subnets
// ----------------------------------------------------------------------------------------

std::string SearchPanel::open_result(int64_t id) {
  open_error_.clear();
  try {
    const Graph g = result_graph(data_, id, data_path_.empty() ? "project" : data_path_);
    const auto r = std::find_if(data_.search_results.begin(), data_.search_results.end(),
                                [&](const SearchResult& x) { return x.id == id; });
    const auto row = std::find_if(data_.searches.begin(), data_.searches.end(),
                                  [&](const SearchRow& x) { return x.name == r->search; });
    const SearchInfo info = info_from_row(*row);
    const Graph base = graph_from_json(info.base_json, "base");
    opened_space_meta_ = space_meta_value(info.space);
    load_graph(preview_, g, Source::Untitled, "", "#" + std::to_string(id));
    changed_ = changed_paths(base, preview_.doc.graph());
    // The changed nodes selected, the groups that hold them open in place.
    const Graph& pg = preview_.doc.graph();
    for (const std::string& p : changed_) {
      const NodeId n = pg.find_path(p);
      if (n == kNoNode) continue;
      preview_.editor.selection.insert(n);
      for (NodeId a = pg.node(n).parent; a != kNoNode; a = pg.node(a).parent)
        preview_.editor.set_expanded(a, true);
    }
    preview_.editor.frame_all = true;
    opened_ = id;
    select_subnet_tab_ = true;
  } catch (const std::exception& e) {
    open_error_ = e.what();
  }
  return open_error_;
}

bool SearchPanel::make_base(AppState& app) {
  if (opened_ == 0) {
    app.status = {Message::Warning, "No subnet is open"};
    return false;
  }
  Graph g = preview_.doc.graph();
  if (!opened_space_meta_.empty()) g.meta.set(kSearchSpaceMeta, opened_space_meta_);
  for (const char* key : {"template"})
    if (app.doc.graph().meta.has(key)) g.meta.set(key, app.doc.graph().meta.get(key));
  const EditResult r =
      app.doc.replace(std::move(g), "Make #" + std::to_string(opened_) + " the base");
  if (!r) {
    app.status = {Message::Error, r.reason};
    return false;
  }
  app.editor.selection.clear();
  for (const std::string& p : changed_) {
    const NodeId n = app.doc.graph().find_path(p);
    if (n != kNoNode && app.doc.graph().node(n).parent == kNoNode) app.editor.selection.insert(n);
  }
  sync_editor(app);
  app.status = {Message::Ok, "The graph is now search result #" + std::to_string(opened_) +
                                 " (Undo brings the previous one back)"};
  return true;
}

std::string SearchPanel::subnet_file_name() const {
  std::string stem =
      data_path_.empty() ? "subnet" : std::filesystem::path(data_path_).stem().string();
  return stem + "_" + std::to_string(opened_) + ".formwork";
}

std::string SearchPanel::subnet_export_name() const {
  const std::string stem =
      data_path_.empty() ? "subnet" : std::filesystem::path(data_path_).stem().string();
  return stem + "_result_" + std::to_string(opened_);
}

std::string SearchPanel::save_subnet_as(const AppState& app, const std::string& given) {
  if (opened_ == 0) return "no subnet is open";
  std::string path = given;
  if (!ends_with(path, ".formwork")) path += ".formwork";
  path = std::filesystem::absolute(path).lexically_normal().string();
  if (path == app.path)
    return "Cannot save over the open project: choose another file for search result #" +
           std::to_string(opened_);
  if (!app.busy_path.empty() && path == app.busy_path)
    return "Cannot save " + path + ": " + app.busy_what + " is writing it";
  try {
    Graph g = preview_.doc.graph();
    if (!opened_space_meta_.empty()) g.meta.set(kSearchSpaceMeta, opened_space_meta_);
    ProjectData p;
    p.graph_json = graph_to_json(g);
    p.graph_format = kGraphFormatVersion;
    p.meta["created"] = now_iso8601();
    p.meta["created_by"] = "formwork 0.1.0";
    p.meta["modified"] = now_iso8601();
    p.meta["from_search"] = data_path_ + " #" + std::to_string(opened_);
    for (const char* key : {"dataset", "input_norm", "input_pipeline", "class_names", "template"})
      if (const auto it = data_.meta.find(key); it != data_.meta.end()) p.meta[key] = it->second;
    save_project(path, p);
  } catch (const std::exception& e) {
    return "Cannot save " + path + ":\n" + e.what();
  }
  return "";
}

// ---- Drawing
// ----------------------------------------------------------------------------------------

SearchPanel::Request SearchPanel::draw(AppState& app, const Fonts& fonts, float height) {
  sync(app, true);
  rebuild();
  pending_save_as_ = pending_subnet_save_ = pending_export_ = false;
  if (probe::enabled()) {
    probe::fact("search", shown_);
    probe::fact("search.results", std::to_string(records_.size()));
    probe::fact("search.front", std::to_string(front_.size()));
    probe::fact("search.phase", phase_name(run_.live().phase));
  }
  const float fs = ImGui::GetFontSize();
  const float avail = ImGui::GetContentRegionAvail().x;
  const float left = std::clamp(avail * 0.27f, fs * 18, fs * 25);
  settings_column(app, fonts, left, height);
  ImGui::SameLine();
  results_area(app, fonts, ImVec2(ImGui::GetContentRegionAvail().x, height));
  if (pending_subnet_save_) return Request::SaveSubnetAs;
  if (pending_export_) return Request::ExportSubnet;
  return pending_save_as_ ? Request::SaveAs : Request::None;
}

void SearchPanel::settings_column(AppState& app, const Fonts& fonts, float width, float height) {
  ImGui::BeginChild("search_settings", ImVec2(width, height), true);
  const bool busy = run_.active();
  const SearchLive& live = run_.live();
  ImGui::PushFont(fonts.bold);
  ImGui::TextUnformatted("Search");
  ImGui::PopFont();
  ImGui::BeginDisabled(busy);
  if (ImGui::BeginTable("search_form", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("k", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 6.5f);
    ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
    row_label("Name", "The same name and settings continue a search; a new name starts another");
    ImGui::InputText("##name", form_.name, sizeof form_.name);
    row_label("Strategy");
    ImGui::Combo("##strategy", &form_.strategy, kStrategyTitles, 3);
    probe::note("search:strategy");
    row_label("Budget", "Subnets to score in all (invalid and filtered ones do not count)");
    input_i64("##budget", &form_.budget, 1, int64_t(1) << 40);
    probe::note("search:budget");
    row_label("Seed", "Seeds the strategy and every subnet's initialisation");
    const uint64_t one = 1;
    ImGui::InputScalar("##seed", ImGuiDataType_U64, &form_.seed, &one, nullptr, "%llu");
    if (form_.strategy != 0) {
      row_label("Population");
      input_i64("##population", &form_.population, 2, 100000);
    }
    if (form_.strategy == 1) {
      row_label("Tournament", "Evolution: the tournament size S");
      input_i64("##tournament", &form_.tournament, 1, 100000);
    }
    if (form_.use["accuracy"]) {
      row_label("Train steps", "Accuracy: training steps per subnet on the project's dataset");
      input_i64("##train_steps", &form_.train_steps, 1, int64_t(1) << 30);
    }
    row_label("Threads", "Subnets scored at once (0: all cores)");
    input_i64("##threads", &form_.threads, 0, 1024);
    ImGui::EndTable();
  }
  ImGui::TextDisabled("Objectives (min/max: click to switch)");
  // Two metrics a row, each a checkbox and its direction, in compact rows.
  ImGui::PushStyleVar(ImGuiStyleVar_FramePadding,
                      ImVec2(ImGui::GetStyle().FramePadding.x, ImGui::GetFontSize() * 0.12f));
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing,
                      ImVec2(ImGui::GetStyle().ItemSpacing.x, ImGui::GetFontSize() * 0.2f));
  if (ImGui::BeginTable("objectives", 2, ImGuiTableFlags_SizingStretchSame)) {
    int k = 0;
    for (const std::string& m : search_metrics()) {
      if (k % 2 == 0) ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(k % 2);
      ++k;
      bool on = form_.use[m];
      if (ImGui::Checkbox(m.c_str(), &on)) form_.use[m] = on;
      probe::note("search:objective:" + m);
      if (on) {
        const bool max = form_.maximize[m];
        ImGui::SameLine(0, ImGui::GetStyle().ItemInnerSpacing.x);
        if (ImGui::SmallButton(((max ? "max" : "min") + std::string("##dir_") + m).c_str()))
          form_.maximize[m] = !max;
        probe::note("search:dir:" + m);
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip(max ? "maximised: click to minimise" : "minimised: click to maximise");
      }
    }
    ImGui::EndTable();
  }
  ImGui::PopStyleVar(2);
  ImGui::EndDisabled();
  ImGui::Spacing();

  // Start / pause / stop.
  const float bw = ImGui::GetFontSize() * 6.5f;
  if (!busy) {
    const std::string blocker = start_blocker(app);
    bool exists = false;
    for (const SearchRow& r : data_.searches) exists = exists || r.name == form_.name;
    std::string label = exists ? "\xE2\x96\xB6 Continue" : "\xE2\x96\xB6 Start";
    if (app.doc.dirty())
      label = exists ? "\xE2\x96\xB6 Save and continue" : "\xE2\x96\xB6 Save and start";
    ImGui::BeginDisabled(!blocker.empty());
    ImGui::PushStyleColor(ImGuiCol_Button, with_alpha(palette::kAccent, 110));
    const bool clicked = ImGui::Button((label + "##start").c_str(), ImVec2(bw * 1.6f, 0));
    ImGui::PopStyleColor();
    probe::note("search:start");
    ImGui::EndDisabled();
    if (clicked) start(app);
    if (!blocker.empty()) {
      if (app.source != Source::Project || app.bundled) {
        ImGui::SameLine();
        if (ImGui::Button("Save As\xE2\x80\xA6")) pending_save_as_ = true;
        probe::note("search:save_as");
      }
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("%s", blocker.c_str());
      ImGui::PopTextWrapPos();
    } else if (app.doc.dirty()) {
      ImGui::TextDisabled("The search runs on the saved project: Start saves your changes first.");
    }
  } else {
    const bool paused = live.paused;
    if (ImGui::Button(paused ? "\xE2\x96\xB6 Resume" : "\xE2\x9D\x9A\xE2\x9D\x9A Pause",
                      ImVec2(bw, 0))) {
      if (paused)
        run_.resume();
      else
        run_.pause();
    }
    probe::note("search:pause");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Pauses before the next batch of proposals");
    ImGui::SameLine();
    if (ImGui::Button("\xE2\x96\xA0 Stop", ImVec2(bw, 0))) run_.cancel();
    probe::note("search:stop");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Stops at the next subnet; every result so far stays in the project");
  }
  if (!message_.empty() && !busy) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(message_.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  }

  // Progress of the live search (on this project), or what the shown one holds.
  ImGui::Spacing();
  const bool live_here = live.phase != Phase::Idle && live.path == data_path_;
  if (live_here) {
    const SearchProgress& p = live.progress;
    const float frac = p.budget > 0 ? float(double(p.scored) / double(p.budget)) : 0.0f;
    char overlay[96];
    std::snprintf(overlay, sizeof overlay, "%lld / %lld scored", (long long)p.scored,
                  (long long)std::max<int64_t>(p.budget, live.settings.budget));
    ImGui::ProgressBar(live.phase == Phase::Done ? 1.0f : frac, ImVec2(-FLT_MIN, 0), overlay);
    probe::note("search:progress");
    std::string state = phase_name(live.phase);
    if (live.paused) state = "paused";
    if (live.phase == Phase::Done || live.phase == Phase::Cancelled)
      state = live.status.empty() ? state : live.status;
    if (busy && p.seconds_left >= 0 && !live.paused)
      state += " \xC2\xB7 " + format_duration(p.seconds_left) + " left";
    if (busy) state += " \xC2\xB7 " + format_duration(live.seconds);
    ImGui::TextWrapped("%s", state.c_str());
    if (p.invalid + p.filtered + p.failed + p.cached > 0)
      ImGui::TextDisabled("%lld invalid, %lld filtered, %lld failed, %lld repeats",
                          (long long)p.invalid, (long long)p.filtered, (long long)p.failed,
                          (long long)p.cached);
    if (live.phase == Phase::Failed) {
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
      ImGui::TextWrapped("%s", live.error.c_str());
      ImGui::PopStyleColor();
    }
    if (probe::enabled()) probe::fact("search.error", live.error);
  }
  if (!load_error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped("%s", load_error_.c_str());
    ImGui::PopStyleColor();
  }

  // The search space of the document's graph, edited here as in the inspector (SpacePanel: each
  // change one undo step; a click on a choice selects its node in the editor).
  ImGui::Spacing();
  ImGui::Separator();
  ImGui::PushFont(fonts.bold);
  ImGui::TextUnformatted("Search space");
  ImGui::PopFont();
  const NodeId clicked_node = space_panel_.draw(app.doc, fonts);
  if (clicked_node != kNoNode && app.doc.graph().contains(clicked_node)) {
    reveal_node(app, clicked_node);
    app.status = {Message::Info,
                  "Selected " + app.doc.graph().path(clicked_node) + " (in the editor)"};
  }
  ImGui::EndChild();
}

void SearchPanel::results_area(AppState& app, const Fonts& fonts, ImVec2 size) {
  ImGui::BeginChild("search_results", size, false);
  if (ImGui::BeginTabBar("search_tabs")) {
    if (ImGui::BeginTabItem("Results")) {
      results_tab(fonts, ImGui::GetContentRegionAvail());
      ImGui::EndTabItem();
    }
    if (has_proxy_study(all_)) {
      const ImGuiTabItemFlags f = select_study_tab_ ? ImGuiTabItemFlags_SetSelected : 0;
      select_study_tab_ = false;
      if (ImGui::BeginTabItem("Proxy study", nullptr, f)) {
        draw_proxy_study(all_, fonts, ImGui::GetContentRegionAvail());
        ImGui::EndTabItem();
      }
      probe::note("search:study_tab");
    }
    if (opened_ != 0) {
      bool open = true;
      const std::string label = "Subnet #" + std::to_string(opened_) + "###subnet";
      const ImGuiTabItemFlags f = select_subnet_tab_ ? ImGuiTabItemFlags_SetSelected : 0;
      select_subnet_tab_ = false;
      if (ImGui::BeginTabItem(label.c_str(), &open, f)) {
        subnet_tab(app, fonts, ImGui::GetContentRegionAvail());
        ImGui::EndTabItem();
      }
      probe::note("search:subnet_tab");
      if (!open) opened_ = 0;
    }
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
}

void SearchPanel::results_tab(const Fonts& fonts, ImVec2 size) {
  const float fs = ImGui::GetFontSize();
  const ImGuiStyle& st = ImGui::GetStyle();
  const ImVec2 top = ImGui::GetCursorPos();
  // The search shown, the axes.
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("Search");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(fs * 9);
  if (ImGui::BeginCombo("##shown", shown_.empty() ? "none" : shown_.c_str())) {
    for (const SearchRow& r : data_.searches) {
      int64_t n = 0;
      for (const SearchResult& x : data_.search_results) n += x.search == r.name;
      const std::string label =
          r.name + "  (" + std::to_string(n) + " results, " + r.created.substr(0, 10) + ")";
      if (ImGui::Selectable(label.c_str(), r.name == shown_)) select_search(r.name);
      if (probe::enabled())
        if (probe::Drawn* d = probe::drawn_item("search", r.name)) d->text = label;
    }
    ImGui::EndCombo();
  }
  probe::note("search:shown");
  std::vector<std::string> metrics;
  for (const std::string& m : search_metrics())
    for (const SearchRecord& r : records_)
      if (r.metrics.count(m)) {
        metrics.push_back(m);
        break;
      }
  for (auto [label, which, key] :
       {std::tuple{"x", &x_metric, "search:x"}, std::tuple{"y", &y_metric, "search:y"}}) {
    ImGui::SameLine(0, fs);
    ImGui::TextUnformatted(label);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(fs * 7);
    if (ImGui::BeginCombo((std::string("##axis_") + label).c_str(), which->c_str())) {
      for (const std::string& m : metrics)
        if (ImGui::Selectable(m.c_str(), m == *which)) *which = m;
      ImGui::EndCombo();
    }
    probe::note(key);
  }
  ImGui::SameLine(0, fs);
  ImGui::AlignTextToFramePadding();
  if (!shown_.empty())
    ImGui::TextDisabled("%zu ok of %zu results \xC2\xB7 Pareto front %zu \xC2\xB7 %s",
                        records_.size(), all_.size(), front_.size(),
                        objectives_str(objectives_).c_str());
  if (probe::enabled()) {
    probe::fact("search.x", x_metric);
    probe::fact("search.y", y_metric);
  }
  const float used = ImGui::GetCursorPosY() - top.y;
  const float rest = size.y - used;
  const float plot_h = std::max(fs * 10, rest * 0.58f);
  scatter(fonts, ImVec2(size.x, plot_h));
  table(fonts, ImVec2(size.x, std::max(fs * 4, rest - plot_h - st.ItemSpacing.y)));
}

void SearchPanel::scatter(const Fonts& fonts, ImVec2 size) {
  const std::string title = "Results";
  ImGui::PushID("scatter");
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  ImGui::InvisibleButton("##scatter", size);
  const bool hovered = ImGui::IsItemHovered();
  const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  const float pad = fs * 0.6f;
  const float line_h = ImGui::GetTextLineHeight();
  dl->AddRectFilled(p0, p1, palette::kPanel, fs * 0.25f);
  dl->AddRect(p0, p1, palette::kBorder, fs * 0.25f);
  drawn_points_.clear();

  // The points with both metrics.
  struct Pt {
    double x, y;
    int64_t id;
    bool front;
  };
  std::vector<Pt> pts;
  for (const SearchRecord& r : records_) {
    const double x = metric_of(r, x_metric), y = metric_of(r, y_metric);
    if (std::isfinite(x) && std::isfinite(y)) pts.push_back({x, y, r.id, front_.count(r.id) > 0});
  }
  std::optional<std::pair<double, double>> base;
  if (base_metrics_) {
    const auto bx = base_metrics_->find(x_metric), by = base_metrics_->find(y_metric);
    if (bx != base_metrics_->end() && by != base_metrics_->end() && std::isfinite(bx->second) &&
        std::isfinite(by->second))
      base = {bx->second, by->second};
  }

  // Title and legend.
  ImGui::PushFont(fonts.bold);
  const std::string heading = shown_.empty() ? title : title + " \xC2\xB7 " + shown_;
  dl->AddText(ImVec2(p0.x + pad, p0.y + pad * 0.7f), palette::kText, heading.c_str());
  ImGui::PopFont();
  {
    float lx = p1.x - pad;
    const float cy = p0.y + pad * 0.7f + fs * 0.55f;
    const auto entry = [&](const char* label, ImU32 c, int shape) {
      lx -= ImGui::CalcTextSize(label).x;
      dl->AddText(ImVec2(lx, p0.y + pad * 0.7f), palette::kTextDim, label);
      lx -= fs * 0.9f;
      const ImVec2 q(lx, cy);
      if (shape == 0) dl->AddCircleFilled(q, 3.5f, c);
      if (shape == 1) {
        dl->AddLine(ImVec2(q.x - fs * 0.6f, q.y), ImVec2(q.x + fs * 0.3f, q.y), c, 2.0f);
        dl->AddCircleFilled(q, 4.0f, c);
      }
      if (shape == 2) {
        const float r = fs * 0.45f;
        dl->AddQuad(ImVec2(q.x, q.y - r), ImVec2(q.x + r, q.y), ImVec2(q.x, q.y + r),
                    ImVec2(q.x - r, q.y), c, 2.0f);
      }
      lx -= fs * 1.2f;
    };
    if (base) entry("base network", kBaseColor, 2);
    if (!front_.empty()) entry("Pareto front", kFrontColor, 1);
    if (!pts.empty()) entry("results", kPointColor, 0);
  }

  const float top = p0.y + pad * 0.7f + line_h * 2 + pad * 1.4f;  // the title, the y title
  const float bottom = p1.y - pad * 0.5f - line_h * 2 - fs * 0.3f;
  if (pts.empty()) {
    const char* text =
        shown_.empty() ? "no search yet: Start one on the left" : "no scored results yet";
    const ImVec2 ts = ImGui::CalcTextSize(text);
    dl->AddText(ImVec2((p0.x + p1.x - ts.x) * 0.5f, (top + bottom - ts.y) * 0.5f),
                palette::kTextDim, text);
    if (probe::enabled()) {
      probe::Drawn d;
      d.list = "plot";
      d.id = title;
      d.min = d.fill_min = p0;
      d.max = d.fill_max = p1;
      d.fill = palette::kPanel;
      d.count = 0;
      d.flag("empty");
      d.text = text;
      probe::drawn(std::move(d));
    }
    ImGui::PopID();
    return;
  }
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  const auto widen = [&](double x, double y) {
    x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
    y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
  };
  for (const Pt& p : pts) widen(p.x, p.y);
  if (base) widen(base->first, base->second);
  const auto spread = [](double& lo, double& hi) {
    if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
      const double d = std::max(std::fabs(hi) * 0.05, 1e-3);
      lo -= d, hi += d;
    } else {
      const double m = (hi - lo) * 0.04;
      lo -= m, hi += m;
    }
  };
  spread(x_lo, x_hi);
  spread(y_lo, y_hi);
  const int y_ticks_max = std::clamp(int((bottom - top) / (line_h * 1.8f)), 2, 8);
  nice_range(&y_lo, &y_hi, y_ticks_max);
  const std::vector<double> yt = nice_ticks(y_lo, y_hi, y_ticks_max);
  const double y_step = yt.size() >= 2 ? yt[1] - yt[0] : 1.0;
  float label_w = 0;
  for (double v : yt)
    label_w = std::max(label_w, ImGui::CalcTextSize(axis_label(v, y_step).c_str()).x);
  const float left = p0.x + pad + line_h + fs * 0.3f + label_w + fs * 0.4f;
  const float right = p1.x - pad - ImGui::CalcTextSize("000.0k").x * 0.5f;
  const int x_ticks_max = std::clamp(int((right - left) / (fs * 5)), 2, 12);
  nice_range(&x_lo, &x_hi, x_ticks_max);
  const std::vector<double> xt = nice_ticks(x_lo, x_hi, x_ticks_max);
  const double x_step = xt.size() >= 2 ? xt[1] - xt[0] : 1.0;
  auto px = [&](double x) { return float(left + (x - x_lo) / (x_hi - x_lo) * (right - left)); };
  auto py = [&](double y) { return float(bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top)); };

  // Grid, ticks, axis titles.
  for (double v : yt) {
    const float y = py(v);
    dl->AddLine(ImVec2(left, y), ImVec2(right, y), palette::kGridMajor, 1.0f);
    dl->AddLine(ImVec2(left - fs * 0.25f, y), ImVec2(left, y), palette::kBorder, 1.0f);
    const std::string s = axis_label(v, y_step);
    dl->AddText(ImVec2(left - fs * 0.4f - ImGui::CalcTextSize(s.c_str()).x, y - line_h * 0.5f),
                palette::kTextDim, s.c_str());
  }
  for (double v : xt) {
    const float x = px(v);
    dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), palette::kGridMajor, 1.0f);
    dl->AddLine(ImVec2(x, bottom), ImVec2(x, bottom + fs * 0.25f), palette::kBorder, 1.0f);
    const std::string s = axis_label(v, x_step);
    dl->AddText(ImVec2(x - ImGui::CalcTextSize(s.c_str()).x * 0.5f, bottom + fs * 0.3f),
                palette::kTextDim, s.c_str());
  }
  dl->AddLine(ImVec2(left, bottom), ImVec2(right, bottom), palette::kBorder, 1.0f);
  dl->AddLine(ImVec2(left, top), ImVec2(left, bottom), palette::kBorder, 1.0f);
  const auto dir_of = [&](const std::string& m) -> std::string {
    for (const Objective& o : objectives_)
      if (o.metric == m) return o.maximize ? "  (max \xE2\x86\x91)" : "  (min)";
    return "";
  };
  {
    const std::string xl = x_metric + dir_of(x_metric);
    const ImVec2 ts = ImGui::CalcTextSize(xl.c_str());
    dl->AddText(ImVec2((left + right - ts.x) * 0.5f, bottom + fs * 0.3f + line_h), palette::kText,
                xl.c_str());
    // The y title, written vertically (one glyph per line would be unreadable): beside the
    // axis, at the top.
    const std::string yl = y_metric + dir_of(y_metric);
    dl->AddText(ImVec2(left - ImGui::CalcTextSize("0").x, top - line_h - pad * 0.6f),
                palette::kText, yl.c_str());
  }

  // The points, the front as a step line through its points, the base.
  dl->PushClipRect(ImVec2(left - 6, top - 6), ImVec2(right + 6, bottom + 6), true);
  int shown = 0;
  for (const Pt& p : pts) {
    const ImVec2 q(px(p.x), py(p.y));
    drawn_points_.push_back({p.id, q});
    if (p.front) continue;
    dl->AddCircleFilled(q, 3.5f, kPointColor);
    ++shown;
  }
  std::vector<const Pt*> fr;
  for (const Pt& p : pts)
    if (p.front) fr.push_back(&p);
  std::sort(fr.begin(), fr.end(),
            [](const Pt* a, const Pt* b) { return a->x < b->x || (a->x == b->x && a->y < b->y); });
  bool objective_axes = false;
  {
    int hits = 0;
    for (const Objective& o : objectives_) hits += o.metric == x_metric || o.metric == y_metric;
    objective_axes = hits == 2 && objectives_.size() == 2;
  }
  if (fr.size() >= 2 && objective_axes) {
    std::vector<ImVec2> line;
    for (size_t i = 0; i < fr.size(); ++i) {
      const ImVec2 q(px(fr[i]->x), py(fr[i]->y));
      if (i > 0) line.emplace_back(q.x, line.back().y);
      line.push_back(q);
    }
    dl->AddPolyline(line.data(), int(line.size()), with_alpha(kFrontColor, 200), 0, 2.0f);
  }
  for (const Pt* p : fr) {
    const ImVec2 q(px(p->x), py(p->y));
    dl->AddCircleFilled(q, 5.0f, kFrontColor);
    dl->AddCircle(q, 5.5f, palette::kPanel, 0, 1.0f);
  }
  if (base) {
    const ImVec2 q(px(base->first), py(base->second));
    const float r = fs * 0.55f;
    dl->AddQuad(ImVec2(q.x, q.y - r), ImVec2(q.x + r, q.y), ImVec2(q.x, q.y + r),
                ImVec2(q.x - r, q.y), kBaseColor, 2.0f);
    dl->AddText(ImVec2(q.x + r + 3, q.y - line_h - 1), kBaseColor, "base");
  }
  if (opened_ != 0)
    for (const DrawnPoint& d : drawn_points_)
      if (d.id == opened_) dl->AddCircle(d.pos, 8.0f, palette::kAccent, 0, 2.0f);
  dl->PopClipRect();

  if (probe::enabled()) {
    int series = 0;
    const auto report = [&](const char* label, ImU32 ink, int count) {
      probe::Drawn d;
      d.list = "series";
      d.id = title + "/" + label;
      d.min = ImVec2(left, top);
      d.max = ImVec2(right, bottom);
      d.ink = over_panel(ink);
      d.count = count;
      probe::drawn(std::move(d));
      ++series;
    };
    if (shown > 0) report("results", kPointColor, shown);
    if (!fr.empty()) report("Pareto front", kFrontColor, int(fr.size()));
    if (base) report("base", kBaseColor, 1);
    probe::Drawn d;
    d.list = "plot";
    d.id = title;
    d.min = d.fill_min = p0;
    d.max = d.fill_max = p1;
    d.fill = palette::kPanel;
    d.count = series;
    d.flag("front_line", fr.size() >= 2 && objective_axes);
    probe::drawn(std::move(d));
    probe::fact("search.base", base ? "marked" : "none");
    probe::fact("search.x_ticks", std::to_string(xt.size()));
    probe::fact("search.y_ticks", std::to_string(yt.size()));
  }

  // Hover: the nearest point within reach; a click opens it.
  const ImVec2 m = ImGui::GetIO().MousePos;
  if (hovered) {
    const DrawnPoint* best = nullptr;
    float best_d = fs * 0.8f * fs * 0.8f;
    for (const DrawnPoint& d : drawn_points_) {
      const float dx = d.pos.x - m.x, dy = d.pos.y - m.y;
      if (dx * dx + dy * dy <= best_d) best = &d, best_d = dx * dx + dy * dy;
    }
    if (best) {
      dl->AddCircle(best->pos, 7.0f, palette::kText, 0, 1.5f);
      const auto r = std::find_if(records_.begin(), records_.end(),
                                  [&](const SearchRecord& x) { return x.id == best->id; });
      if (r != records_.end()) {
        ImGui::BeginTooltip();
        ImGui::PushFont(fonts.bold);
        ImGui::Text("#%lld%s", (long long)r->id,
                    front_.count(r->id) ? "  on the Pareto front" : "");
        ImGui::PopFont();
        ImGui::TextDisabled("generation %lld \xC2\xB7 %s \xC2\xB7 %.2f s", (long long)r->generation,
                            r->status.c_str(), r->seconds);
        if (r->key == base_key_) ImGui::TextDisabled("the base network");
        ImGui::Separator();
        for (const auto& [k, v] : choices_list(r->choices_json))
          ImGui::Text("%s = %s", k.c_str(), v.c_str());
        ImGui::Separator();
        for (const auto& [k, v] : r->metrics)
          ImGui::Text("%s %s", k.c_str(), metric_text(k, v).c_str());
        ImGui::TextDisabled("Click to open it");
        ImGui::EndTooltip();
        if (probe::enabled()) probe::fact("search.hover", std::to_string(r->id));
        if (clicked) open_result(r->id);
      }
    }
  }
  ImGui::PopID();
}

void SearchPanel::table(const Fonts& fonts, ImVec2 size) {
  const float fs = ImGui::GetFontSize();
  ImGui::SetNextItemWidth(fs * 14);
  filter_.Draw("##filter", fs * 14);
  probe::note("search:filter");
  ImGui::SameLine();
  ImGui::TextDisabled("filter (e.g. sepconv, -failed, 16)");
  if (!open_error_.empty()) {
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kWarning);
    ImGui::TextUnformatted(open_error_.c_str());
    ImGui::PopStyleColor();
  }
  // Columns: id, generation, status, each objective, params, macs (if not objectives), choices.
  std::vector<std::string> metric_cols;
  for (const Objective& o : objectives_) metric_cols.push_back(o.metric);
  for (const char* m : {"params", "macs"})
    if (std::find(metric_cols.begin(), metric_cols.end(), m) == metric_cols.end())
      metric_cols.push_back(m);
  const int ncols = 3 + int(metric_cols.size()) + 1;
  const ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg |
                                ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersOuter |
                                ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_Resizable |
                                ImGuiTableFlags_SizingFixedFit;
  const float h = size.y - ImGui::GetFrameHeightWithSpacing();
  if (!ImGui::BeginTable("results_table", ncols, flags, ImVec2(size.x, std::max(h, fs * 3))))
    return;
  ImGui::TableSetupScrollFreeze(0, 1);
  // Sorted by the first objective, best first, until the user sorts otherwise.
  ImGui::TableSetupColumn("id", objectives_.empty() ? ImGuiTableColumnFlags_DefaultSort : 0,
                          fs * 3);
  ImGui::TableSetupColumn("gen", 0, fs * 2.5f);
  ImGui::TableSetupColumn("status", 0, fs * 4);
  for (size_t c = 0; c < metric_cols.size(); ++c) {
    ImGuiTableColumnFlags f = 0;
    if (c == 0 && !objectives_.empty())
      f = ImGuiTableColumnFlags_DefaultSort |
          (objectives_[0].maximize ? ImGuiTableColumnFlags_PreferSortDescending
                                   : ImGuiTableColumnFlags_PreferSortAscending);
    ImGui::TableSetupColumn(metric_cols[c].c_str(), f, fs * 5);
  }
  ImGui::TableSetupColumn("choices", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  if (ImGuiTableSortSpecs* ss = ImGui::TableGetSortSpecs(); ss && ss->SpecsCount > 0) {
    const int col = ss->Specs[0].ColumnIndex;
    const bool desc = ss->Specs[0].SortDirection == ImGuiSortDirection_Descending;
    if (ss->SpecsDirty || col != sort_column_ || desc != sort_descending_) {
      sort_column_ = col;
      sort_descending_ = desc;
      rows_revision_ = -1;
      ss->SpecsDirty = false;
    }
  }
  const std::string key = std::string(filter_.InputBuf) + "|" + shown_;
  if (rows_revision_ != built_revision_ || rows_key_ != key) {
    rows_revision_ = built_revision_;
    rows_key_ = key;
    rows_.clear();
    for (size_t i = 0; i < all_.size(); ++i) {
      const SearchRecord& r = all_[i];
      const std::string text = "#" + std::to_string(r.id) + " " + std::to_string(r.id) + " " +
                               r.status + " " + all_text_[i] + " " + r.reason +
                               (front_.count(r.id) ? " pareto" : "");
      if (filter_.PassFilter(text.c_str())) rows_.push_back(int(i));
    }
    const int col = sort_column_;
    const auto value = [&](const SearchRecord& r) -> double {
      if (col == 0) return double(r.id);
      if (col == 1) return double(r.generation);
      if (col >= 3 && col < 3 + int(metric_cols.size())) {
        const double v = metric_of(r, metric_cols[size_t(col - 3)]);
        return std::isfinite(v) ? v : -std::numeric_limits<double>::infinity();
      }
      return 0;
    };
    std::stable_sort(rows_.begin(), rows_.end(), [&](int a, int b) {
      const SearchRecord &ra = all_[size_t(a)], &rb = all_[size_t(b)];
      bool less;
      if (col == 2)
        less = ra.status < rb.status;
      else if (col == ncols - 1)
        less = ra.choices_json < rb.choices_json;
      else
        less = value(ra) < value(rb);
      bool greater;
      if (col == 2)
        greater = rb.status < ra.status;
      else if (col == ncols - 1)
        greater = rb.choices_json < ra.choices_json;
      else
        greater = value(rb) < value(ra);
      return sort_descending_ ? greater : less;
    });
  }
  ImGuiListClipper clip;
  clip.Begin(int(rows_.size()));
  while (clip.Step()) {
    for (int k = clip.DisplayStart; k < clip.DisplayEnd; ++k) {
      const size_t index = size_t(rows_[size_t(k)]);
      const SearchRecord& r = all_[index];
      const bool on_front = front_.count(r.id) > 0;
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      const std::string id = std::to_string(r.id);
      if (on_front) ImGui::PushStyleColor(ImGuiCol_Text, kFrontColor);
      const bool clicked = ImGui::Selectable((id + "##row").c_str(), r.id == opened_,
                                             ImGuiSelectableFlags_SpanAllColumns);
      if (on_front) ImGui::PopStyleColor();
      probe::note("search:row:" + id);
      if (probe::enabled())
        if (probe::Drawn* d = probe::drawn_item("result", id)) {
          d->flag("pareto", on_front);
          d->flag("opened", r.id == opened_);
          d->flag("base", r.key == base_key_);
          d->text = r.status;
        }
      if (ImGui::IsItemHovered() && !r.reason.empty()) ImGui::SetTooltip("%s", r.reason.c_str());
      ImGui::TableSetColumnIndex(1);
      ImGui::Text("%lld", (long long)r.generation);
      ImGui::TableSetColumnIndex(2);
      if (r.status == "ok")
        ImGui::TextUnformatted(r.key == base_key_ ? "ok (base)" : "ok");
      else
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(palette::kWarning), "%s",
                           r.status.c_str());
      for (size_t c = 0; c < metric_cols.size(); ++c) {
        ImGui::TableSetColumnIndex(3 + int(c));
        ImGui::PushFont(fonts.mono);
        ImGui::TextUnformatted(metric_text(metric_cols[c], metric_of(r, metric_cols[c])).c_str());
        ImGui::PopFont();
      }
      ImGui::TableSetColumnIndex(ncols - 1);
      ImGui::TextUnformatted(all_text_[index].c_str());
      if (clicked && r.status != "invalid") open_result(r.id);
    }
  }
  ImGui::EndTable();
  if (probe::enabled()) probe::fact("search.rows", std::to_string(rows_.size()));
}

void SearchPanel::subnet_tab(AppState& app, const Fonts& fonts, ImVec2 size) {
  const float fs = ImGui::GetFontSize();
  const ImVec2 top = ImGui::GetCursorPos();
  const auto r = std::find_if(data_.search_results.begin(), data_.search_results.end(),
                              [&](const SearchResult& x) { return x.id == opened_; });
  if (r != data_.search_results.end()) {
    const SearchRecord rec = record_from_row(*r);
    ImGui::PushFont(fonts.bold);
    ImGui::Text("Search result #%lld", (long long)rec.id);
    ImGui::PopFont();
    ImGui::SameLine();
    std::string m;
    for (const auto& [k, v] : rec.metrics) m += "  " + k + " " + metric_text(k, v);
    ImGui::TextDisabled("%s \xC2\xB7 generation %lld%s \xC2\xB7%s", rec.search.c_str(),
                        (long long)rec.generation,
                        front_.count(rec.id) ? " \xC2\xB7 Pareto front" : "", m.c_str());
    ImGui::TextWrapped("%s", choices_text(rec.choices_json).c_str());
  }
  if (changed_.empty())
    ImGui::TextDisabled("The same graph as the base network.");
  else
    ImGui::TextWrapped("Differs from the base in %s (selected on the canvas).",
                       format_list(changed_).c_str());
  if (ImGui::Button("Make it the base")) make_base(app);
  probe::note("search:make_base");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Replace the document's graph with this subnet (Undo brings it back)");
  ImGui::SameLine();
  if (ImGui::Button("Save as project\xE2\x80\xA6")) pending_subnet_save_ = true;
  probe::note("search:save_subnet");
  ImGui::SameLine();
  if (ImGui::Button("Export\xE2\x80\xA6")) ImGui::OpenPopup("subnet_export");
  probe::note("search:export_subnet");
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("This subnet as ONNX, a PyTorch file or an architecture file");
  if (ImGui::BeginPopup("subnet_export")) {
    const struct {
      const char *label, *key;
      NetworkFormat format;
    } formats[] = {{"ONNX\xE2\x80\xA6", "search:export_onnx", NetworkFormat::Onnx},
                   {"PyTorch\xE2\x80\xA6", "search:export_torch", NetworkFormat::Torch},
                   {"Architecture (JSON)\xE2\x80\xA6", "search:export_json", NetworkFormat::Json}};
    for (const auto& f : formats) {
      if (ImGui::Selectable(f.label)) {
        export_format_ = f.format;
        pending_export_ = true;
      }
      probe::note(f.key);
    }
    ImGui::EndPopup();
  }
  if (probe::enabled()) {
    probe::fact("subnet", std::to_string(opened_));
    std::string c;
    for (const std::string& p : changed_) c += (c.empty() ? "" : ",") + p;
    probe::fact("subnet.changed", c);
  }
  const float used = ImGui::GetCursorPosY() - top.y;
  const ImVec2 canvas(size.x, std::max(fs * 6, size.y - used));
  preview_canvas_.draw(preview_, fonts, canvas);
}

}  // namespace fw::gui
