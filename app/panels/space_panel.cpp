#include "app/panels/space_panel.h"

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "app/gui/ui_probe.h"
#include "core/error.h"
#include "core/format.h"

namespace fw::gui {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  const size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

// check_space's constraint rule, for a space with no choices (check_space refuses those).
void check_constraints(const SpaceConstraints& k) {
  const auto positive = [](const char* name, const std::optional<double>& v) {
    if (v && !(std::isfinite(*v) && *v > 0))
      throw Error(std::string("search space: constraint ") + name +
                  " must be a positive number, got " + format_number(*v));
  };
  positive("params_max", k.params_max);
  positive("macs_max", k.macs_max);
  positive("latency_ms_max", k.latency_ms_max);
}

struct Limit {
  const char* label;  // as shown
  const char* key;    // the JSON key (the refusals name it)
  const char* help;
  std::optional<double> SpaceConstraints::*field;
};
const Limit kLimits[3] = {
    {"params \xE2\x89\xA4", "params_max", "Largest parameter count a subnet may have (e.g. 1.5M)",
     &SpaceConstraints::params_max},
    {"MACs \xE2\x89\xA4", "macs_max", "Largest multiply-accumulates per sample (e.g. 500M)",
     &SpaceConstraints::macs_max},
    {"latency ms \xE2\x89\xA4", "latency_ms_max",
     "Largest measured latency per batch-1 forward pass, in milliseconds",
     &SpaceConstraints::latency_ms_max},
};

}  // namespace

DocumentSpace space_of(const Document& doc) {
  DocumentSpace out;
  try {
    out.space = graph_space(doc.graph());
  } catch (const Error& e) {
    out.error = e.what();
    return out;
  }
  if (out.space.empty()) {
    try {
      check_constraints(out.space.constraints);
    } catch (const Error& e) {
      out.error = e.what();
    }
    return out;
  }
  try {
    out.space = check_space(doc.graph(), out.space);
  } catch (const Error& e) {
    out.error = e.what();
  }
  return out;
}

std::string store_space(Document& doc, const SearchSpace& s, const std::string& label) {
  SearchSpace checked = s;
  try {
    if (s.choices.empty())
      check_constraints(s.constraints);
    else
      checked = check_space(doc.graph(), s);
  } catch (const Error& e) {
    return e.what();
  }
  const std::string v = space_meta_value(checked);
  const EditResult r =
      doc.set_meta(kSearchSpaceMeta, v.empty() ? std::nullopt : std::optional<AttrValue>(v), label);
  return r.ok ? "" : r.reason;
}

std::string value_list_text(const std::vector<AttrValue>& values) {
  std::string out;
  for (const AttrValue& v : values) out += (out.empty() ? "" : ", ") + attr_to_string(v);
  return out;
}

std::vector<AttrValue> parse_value_list(const std::string& text) {
  std::vector<AttrValue> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = trim(text.substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    char* stop = nullptr;
    errno = 0;
    const long long i = std::strtoll(item.c_str(), &stop, 10);
    if (stop && *stop == '\0' && errno == 0) {
      out.emplace_back(std::in_place_type<int64_t>, i);
      continue;
    }
    const double d = std::strtod(item.c_str(), &stop);
    if (stop && *stop == '\0' && std::isfinite(d)) {
      out.emplace_back(std::in_place_type<double>, d);
      continue;
    }
    if (item == "true" || item == "false") {
      out.emplace_back(std::in_place_type<bool>, item == "true");
      continue;
    }
    out.emplace_back(std::in_place_type<std::string>, item);
  }
  return out;
}

std::string subnet_count_text(double n) {
  if (!(n < 9.0e15)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", n);
    return buf;
  }
  const int64_t k = static_cast<int64_t>(std::llround(n));
  std::string s = format_count(k);
  if (k >= 100000) s += " (" + format_si(double(k)) + ")";
  return s;
}

std::string limit_text(const std::optional<double>& v) {
  if (!v) return "";
  // The SI form where it says the value exactly ("1.5M"), else the number.
  const double x = *v;
  const char* suffix[] = {"K", "M", "G", "T"};
  double scale = 1e12;
  for (int i = 3; i >= 0; --i, scale /= 1000) {
    if (std::fabs(x) < scale) continue;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g%s", x / scale, suffix[i]);
    std::optional<double> back;
    if (parse_limit(buf, &back) && back && *back == x) return buf;
    break;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

bool parse_limit(const std::string& text, std::optional<double>* out) {
  std::string t;
  for (char c : trim(text))
    if (c != ',' && c != '_' && c != ' ') t += c;
  if (t.empty()) {
    *out = std::nullopt;
    return true;
  }
  double scale = 1;
  switch (t.back()) {
    case 'k':
    case 'K':
      scale = 1e3;
      break;
    case 'M':
      scale = 1e6;
      break;
    case 'G':
      scale = 1e9;
      break;
    case 'T':
      scale = 1e12;
      break;
    default:
      break;
  }
  if (scale != 1) t.pop_back();
  char* stop = nullptr;
  const double v = std::strtod(t.c_str(), &stop);
  if (t.empty() || !stop || *stop != '\0') return false;
  *out = v * scale;
  return true;
}

NodeId SpacePanel::draw(Document& doc, const Fonts& fonts) {
  NodeId reveal = kNoNode;
  if (!error_.empty() && doc.revision() != error_revision_) error_.clear();
  const DocumentSpace ds = space_of(doc);
  const SearchSpace& s = ds.space;
  const Graph& g = doc.graph();
  auto refuse = [&](const std::string& why) {
    error_ = why;
    error_revision_ = doc.revision();
  };

  // The number of subnets.
  ImGui::PushFont(fonts.bold);
  const std::string count =
      s.empty() ? "no choices"
                : subnet_count_text(s.size()) + " subnet" + (s.size() == 1 ? "" : "s");
  ImGui::TextUnformatted(count.c_str());
  ImGui::PopFont();
  if (probe::enabled())
    if (probe::Drawn* d = probe::drawn_item("space", "size"))
      d->text = s.empty() ? "0" : subnet_count_text(s.size());
  if (s.empty()) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled(
        "Select a stage or block and click \xE2\x97\x86 beside an attribute to make it a choice.");
    ImGui::PopTextWrapPos();
  }
  if (!ds.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::PushTextWrapPos(0);
    ImGui::TextWrapped("\xE2\x9A\xA0 %s", ds.error.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
    if (probe::enabled())
      if (probe::Drawn* d = probe::drawn_item("space", "stored_error")) d->text = ds.error;
  }

  // The choices.
  int remove = -1;
  if (!s.empty() && ImGui::BeginTable("space_choices", 2,
                                      ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_RowBg)) {
    ImGui::TableSetupColumn("choice", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("x", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFrameHeight());
    for (size_t i = 0; i < s.choices.size(); ++i) {
      const SpaceChoice& c = s.choices[i];
      const std::string label = c.label();
      ImGui::PushID(static_cast<int>(i));
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      // The choice (a click shows its node), its values under it.
      ImGui::PushFont(fonts.mono);
      const NodeId id = g.find_path(c.node);
      if (ImGui::Selectable(label.c_str(), false) && id != kNoNode) reveal = id;
      ImGui::PopFont();
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip(id != kNoNode ? "Show %s in the editor" : "%s is not in the graph",
                          c.node.c_str());
      if (probe::enabled()) {
        probe::note("space:choice:" + label);
        if (probe::Drawn* d = probe::drawn_item("choice", "space:" + label)) {
          d->text = value_list_text(c.values);
          d->count = static_cast<int>(c.values.size());
        }
      }
      ImGui::Indent(ImGui::GetFontSize() * 0.8f);
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kTextDim);
      ImGui::TextWrapped("%s", value_list_text(c.values).c_str());
      ImGui::PopStyleColor();
      ImGui::Unindent(ImGui::GetFontSize() * 0.8f);
      ImGui::TableSetColumnIndex(1);
      if (ImGui::SmallButton("\xC3\x97")) remove = static_cast<int>(i);  // ×
      if (probe::enabled()) probe::note("space:remove:" + label);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Remove this choice");
      ImGui::PopID();
    }
    ImGui::EndTable();
  }
  if (remove >= 0) {
    SearchSpace next = s;
    const std::string label = next.choices[size_t(remove)].label();
    next.choices.erase(next.choices.begin() + remove);
    const std::string why = store_space(doc, next, "Remove choice " + label);
    if (!why.empty()) refuse(why);
  }

  // The constraints.
  ImGui::Spacing();
  ImGui::TextDisabled("Constraints (empty: none)");
  if (ImGui::BeginTable("space_limits", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("k", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 6.4f);
    ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
    for (int i = 0; i < 3; ++i) {
      const Limit& l = kLimits[i];
      LimitField& f = limits_[i];
      const std::optional<double>& stored = s.constraints.*l.field;
      if (!f.editing) std::snprintf(f.buf, sizeof f.buf, "%s", limit_text(stored).c_str());
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::AlignTextToFramePadding();
      ImGui::TextUnformatted(l.label);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", l.help);
      ImGui::TableSetColumnIndex(1);
      ImGui::PushID(l.key);
      ImGui::SetNextItemWidth(-FLT_MIN);
      const bool enter = ImGui::InputTextWithHint(
          "##limit", "none", f.buf, sizeof f.buf,
          ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_AutoSelectAll);
      if (probe::enabled()) probe::note(std::string("space:limit:") + l.key);
      if (ImGui::IsItemActive()) f.editing = true;
      if (enter || ImGui::IsItemDeactivated()) {
        f.editing = false;
        std::optional<double> v;
        if (!parse_limit(f.buf, &v)) {
          refuse(std::string("search space: constraint ") + l.key + ": '" + trim(f.buf) +
                 "' is not a number");
        } else if (v != stored) {
          SearchSpace next = s;
          next.constraints.*l.field = v;
          const std::string why = store_space(doc, next,
                                              v ? std::string("Set ") + l.key + " " + limit_text(v)
                                                : std::string("Clear ") + l.key);
          if (!why.empty()) refuse(why);
        }
      }
      ImGui::PopID();
    }
    ImGui::EndTable();
  }
  if (!error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped("\xE2\x9A\xA0 %s", error_.c_str());
    ImGui::PopStyleColor();
    if (probe::enabled())
      if (probe::Drawn* d = probe::drawn_item("space", "error")) d->text = error_;
  }
  return reveal;
}

}  // namespace fw::gui
