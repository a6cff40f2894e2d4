#include "app/panels/inspector.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>

#include "app/gui/ui_probe.h"
#include "app/panels/palette.h"
#include "core/format.h"
#include "core/registry.h"
#include "views/node_geometry.h"

namespace fw::gui {

std::string pretty_name(const std::string& id) {
  std::string out = id;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

namespace {

void section(const char* title, const Fonts& fonts) {
  ImGui::Spacing();
  ImGui::PushFont(fonts.bold);
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kTextDim);
  ImGui::TextUnformatted(title);
  ImGui::PopStyleColor();
  ImGui::PopFont();
  ImGui::Separator();
}

void fact(const char* label, const std::string& value, const Fonts& fonts, ImU32 color = 0) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::TextDisabled("%s", label);
  ImGui::TableSetColumnIndex(1);
  ImGui::PushFont(fonts.mono);
  if (color) ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextWrapped("%s", value.c_str());
  if (color) ImGui::PopStyleColor();
  ImGui::PopFont();
}

std::string shapes(const std::vector<Shape>& v) {
  std::string out;
  for (const Shape& s : v) {
    if (!out.empty()) out += ", ";
    out += s.empty() ? "?" : views::shape_text(s);
  }
  return out.empty() ? "\xE2\x80\x94" : out;  // —
}

std::string count_and_si(int64_t n) {
  return n >= 1000 ? format_count(n) + "  (" + format_si(n) + ")" : format_count(n);
}

// The composite that builds `id`, or kNoNode.
NodeId builder_of(const Graph& g, NodeId id) {
  for (NodeId a = g.node(id).parent; a != kNoNode; a = g.node(a).parent) {
    const OpDef* d = find_op(g.node(a).kind);
    if (d && d->cls == OpClass::Composite) return a;
  }
  return kNoNode;
}

std::string attr_tooltip(const AttrSpec& s) {
  std::string t = s.help;
  char buf[96];
  if ((s.type == AttrType::Int || s.type == AttrType::Float) && s.min != s.max) {
    std::snprintf(buf, sizeof buf, "\nrange %g to %g", s.min, s.max);
    t += buf;
  }
  t += "\ndefault " + attr_to_string(s.def) + "  \xC2\xB7  '" + s.name + "'";
  return t;
}

// ---- Search-space choices

// The attribute types a search space can choose among.
bool choosable_type(AttrType t) {
  return t == AttrType::Int || t == AttrType::Float || t == AttrType::Bool || t == AttrType::Choice;
}

void refuse_choice(AppState& app, InspectorState& st, const std::string& key,
                   const std::string& why) {
  st.choice_error_key = key;
  st.choice_error = why;
  st.choice_error_revision = app.doc.revision();
  app.status = {Message::Error, why};
}

// Stores `next` (one undo step); a refusal is shown under the row `key`.
bool store_choice(AppState& app, InspectorState& st, const std::string& key,
                  const SearchSpace& next, const std::string& label) {
  const std::string why = store_space(app.doc, next, label);
  if (!why.empty()) {
    refuse_choice(app, st, key, why);
    return false;
  }
  if (st.choice_error_key == key) st.choice_error.clear();
  const DocumentSpace now = space_of(app.doc);
  app.status = {Message::Info,
                label + "  \xC2\xB7  " + subnet_count_text(now.space.size()) + " subnets"};
  return true;
}

// The ◆ toggle beside an attribute (the current table cell): makes it a choice of the search
// space or removes it.
void choice_toggle(AppState& app, InspectorState& st, const std::string& path, const AttrSpec& spec,
                   const Attrs& attrs, const DocumentSpace& ds) {
  const std::string key = path + "." + spec.name;
  const int index = ds.space.find(path, spec.name);
  const bool on = index >= 0;
  ImGui::PushStyleColor(ImGuiCol_Text, on ? palette::kAccent : palette::kTextDim);
  if (!on) ImGui::PushStyleColor(ImGuiCol_Button, IM_COL32(0, 0, 0, 0));
  const bool clicked =
      ImGui::Button("\xE2\x97\x86##choice", ImVec2(ImGui::GetFrameHeight(), 0));  // ◆
  ImGui::PopStyleColor(on ? 1 : 2);
  if (probe::enabled()) probe::note("choice:toggle:" + spec.name);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip(
        on ? "Remove %s from the search space" : "Make %s a choice of the search space",
        key.c_str());
  if (!clicked) return;
  SearchSpace next = ds.space;
  if (on) {
    next.choices.erase(next.choices.begin() + index);
    store_choice(app, st, key, next, "Remove choice " + key);
    return;
  }
  SpaceChoice c{path, spec.name, {}};
  if (spec.type == AttrType::Bool)
    c.values = {AttrValue(false), AttrValue(true)};
  else
    c.values = {attrs.has(spec.name) ? attrs.get(spec.name) : spec.def};
  next.choices.push_back(std::move(c));
  store_choice(app, st, key, next, "Make " + key + " a choice");
}

// Under a chosen attribute, the width of the inspector (between two parts of the attribute
// table): its values. Choice and bool attributes: a checkbox per option; ints and floats: a
// comma-separated list.
void choice_values(AppState& app, InspectorState& st, const std::string& path, const AttrSpec& spec,
                   const DocumentSpace& ds) {
  const int index = ds.space.find(path, spec.name);
  if (index < 0) return;
  const SpaceChoice& c = ds.space.choices[size_t(index)];
  const std::string key = c.label();
  if (st.choice_error_key == key && app.doc.revision() != st.choice_error_revision)
    st.choice_error.clear();
  ImGui::PushID((spec.name + "#choice").c_str());
  const float fs = ImGui::GetFontSize();
  const ImVec2 top = ImGui::GetCursorScreenPos();
  ImGui::Indent(fs * 0.9f);
  ImGui::BeginGroup();
  if (spec.type == AttrType::Choice || spec.type == AttrType::Bool) {
    std::vector<AttrValue> options;
    if (spec.type == AttrType::Bool)
      options = {AttrValue(false), AttrValue(true)};
    else
      for (const std::string& o : spec.choices) options.push_back(o);
    const float right = ImGui::GetCursorScreenPos().x + ImGui::GetContentRegionAvail().x;
    const ImGuiStyle& style = ImGui::GetStyle();
    for (size_t k = 0; k < options.size(); ++k) {
      const AttrValue& o = options[k];
      const std::string text = pretty_name(attr_to_string(o));
      const float w =
          ImGui::GetFrameHeight() + style.ItemInnerSpacing.x + ImGui::CalcTextSize(text.c_str()).x;
      if (k > 0 && ImGui::GetItemRectMax().x + style.ItemSpacing.x * 2 + w <= right)
        ImGui::SameLine(0, style.ItemSpacing.x * 2);
      auto at = std::find(c.values.begin(), c.values.end(), o);
      bool checked = at != c.values.end();
      ImGui::PushID(static_cast<int>(k));
      const bool changed = ImGui::Checkbox(text.c_str(), &checked);
      ImGui::PopID();
      if (probe::enabled()) probe::note("choice:" + spec.name + ":" + attr_to_string(o));
      if (!changed) continue;
      SearchSpace next = ds.space;
      std::vector<AttrValue>& values = next.choices[size_t(index)].values;
      if (checked) {
        values.push_back(o);
      } else {
        values.erase(values.begin() + (at - c.values.begin()));
        if (values.empty()) {
          refuse_choice(app, st, key,
                        "search space: " + key +
                            ": keep at least one value (\xE2\x97\x86 removes the choice)");
          continue;
        }
      }
      store_choice(
          app, st, key, next,
          (checked ? "Add " : "Remove ") + attr_to_string(o) + (checked ? " to " : " from ") + key);
    }
  } else {
    ImGui::AlignTextToFramePadding();
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kAccent);
    ImGui::TextUnformatted("values");
    ImGui::PopStyleColor();
    ImGui::SameLine();
    const bool mine = st.choice_key == key;
    char local[sizeof st.choice_buf];
    char* buf = mine ? st.choice_buf : local;
    if (!mine || (!st.choice_active && !(st.choice_error_key == key && !st.choice_error.empty())))
      std::snprintf(buf, sizeof local, "%s", value_list_text(c.values).c_str());
    ImGui::SetNextItemWidth(-FLT_MIN);
    const bool enter = ImGui::InputTextWithHint(
        "##values", "1, 2, 3", buf, sizeof local,
        ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_AutoSelectAll);
    if (probe::enabled()) probe::note("choice:" + spec.name + ":values");
    if (ImGui::IsItemHovered() && !ImGui::IsItemActive())
      ImGui::SetTooltip(
          "Values separated by commas%s; Enter stores them",
          spec.min != spec.max
              ? (", from " + format_number(spec.min) + " to " + format_number(spec.max)).c_str()
              : "");
    const bool active = ImGui::IsItemActive();
    if (!mine && active) {
      st.choice_key = key;
      std::snprintf(st.choice_buf, sizeof st.choice_buf, "%s", local);
      buf = st.choice_buf;
    }
    if (mine || active) st.choice_active = active;
    if (enter || ImGui::IsItemDeactivatedAfterEdit()) {
      SearchSpace next = ds.space;
      next.choices[size_t(index)].values = parse_value_list(buf);
      if (next.choices[size_t(index)].values.empty())
        refuse_choice(app, st, key,
                      "search space: " + key + ": no values (\xE2\x97\x86 removes the choice)");
      else if (next.choices[size_t(index)].values != c.values)
        store_choice(app, st, key, next, "Set " + key + " to " + std::string(buf));
    }
  }
  ImGui::EndGroup();
  if (probe::enabled())
    if (probe::Drawn* d = probe::drawn_item("choice", key)) {
      d->text = value_list_text(c.values);
      d->count = static_cast<int>(c.values.size());
    }
  if (st.choice_error_key == key && !st.choice_error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped("\xE2\x9A\xA0 %s", st.choice_error.c_str());
    ImGui::PopStyleColor();
    if (probe::enabled())
      if (probe::Drawn* d = probe::drawn_item("choice_error", key)) d->text = st.choice_error;
  }
  ImGui::Unindent(fs * 0.9f);
  // An accent bar on the left ties the values to the attribute above.
  const float bottom = ImGui::GetCursorScreenPos().y - ImGui::GetStyle().ItemSpacing.y;
  ImGui::GetWindowDrawList()->AddLine(ImVec2(top.x + fs * 0.35f, top.y + 1),
                                      ImVec2(top.x + fs * 0.35f, bottom - 1), palette::kAccent,
                                      std::max(1.5f, fs * 0.13f));
  ImGui::PopID();
}

// One attribute row. `path` and `ds`: the node's module path and the document's space, when the
// attribute can be made a choice (choosable: a ◆ toggle in the third column); else ignored.
void attribute_row(AppState& app, InspectorState& st, NodeId id, const AttrSpec& spec,
                   const Attrs& attrs, bool read_only, bool choosable, const std::string& path,
                   const DocumentSpace& ds) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::AlignTextToFramePadding();
  const ImVec2 row_min = probe::enabled() ? ImGui::GetCursorScreenPos() : ImVec2(0, 0);
  // Names of values changed from the default stand out; defaults are dim.
  const bool is_default = attrs.has(spec.name) && attrs.get(spec.name) == spec.def;
  ImGui::PushStyleColor(ImGuiCol_Text, is_default ? palette::kTextDim : palette::kText);
  ImGui::TextUnformatted(pretty_name(spec.name).c_str());
  ImGui::PopStyleColor();
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 22);
    ImGui::TextUnformatted(attr_tooltip(spec).c_str());
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
  ImGui::TableSetColumnIndex(1);
  ImGui::PushID(spec.name.c_str());
  ImGui::SetNextItemWidth(-FLT_MIN);
  ImGui::BeginDisabled(read_only);
  bool changed = false;
  AttrValue value;
  const bool bounded = spec.min != spec.max;
  const bool continuous = spec.type == AttrType::Int || spec.type == AttrType::Float;
  switch (spec.type) {
    case AttrType::Int: {
      int64_t v = attrs.i(spec.name);
      const int64_t lo = static_cast<int64_t>(spec.min), hi = static_cast<int64_t>(spec.max);
      const float speed =
          bounded ? std::clamp(static_cast<float>(spec.max - spec.min) / 2000.0f, 0.1f, 1.0f)
                  : 0.25f;
      changed = ImGui::DragScalar("##v", ImGuiDataType_S64, &v, speed, bounded ? &lo : nullptr,
                                  bounded ? &hi : nullptr, "%lld", ImGuiSliderFlags_AlwaysClamp);
      value = v;
      break;
    }
    case AttrType::Float: {
      double v = attrs.f(spec.name);
      const double lo = spec.min, hi = spec.max;
      const float speed = bounded ? static_cast<float>((spec.max - spec.min) / 1000.0)
                                  : static_cast<float>(std::max(std::fabs(v) * 0.01, 1e-7));
      changed = ImGui::DragScalar("##v", ImGuiDataType_Double, &v, speed, bounded ? &lo : nullptr,
                                  bounded ? &hi : nullptr, "%.6g", ImGuiSliderFlags_AlwaysClamp);
      value = v;
      break;
    }
    case AttrType::Bool: {
      bool v = attrs.b(spec.name);
      changed = ImGui::Checkbox("##v", &v);
      value = v;
      break;
    }
    case AttrType::Choice: {
      const std::string cur = attrs.s(spec.name);
      if (ImGui::BeginCombo("##v", pretty_name(cur).c_str())) {
        for (const std::string& c : spec.choices) {
          if (ImGui::Selectable(pretty_name(c).c_str(), c == cur) && c != cur) {
            changed = true;
            value = c;
          }
          if (c == cur) ImGui::SetItemDefaultFocus();
        }
        ImGui::EndCombo();
      }
      break;
    }
    case AttrType::String: {
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s", attrs.s(spec.name).c_str());
      if (ImGui::InputText("##v", buf, sizeof buf, ImGuiInputTextFlags_EnterReturnsTrue)) {
        changed = true;
        value = std::string(buf);
      }
      break;
    }
  }
  if (probe::enabled()) {
    probe::note("attr:" + spec.name);
    if (probe::Drawn* d = probe::drawn_item("attr", spec.name)) {
      // The row: from the name to the widget's end.
      d->min = ImVec2(row_min.x, std::min(row_min.y, d->min.y));
      d->text = attrs.has(spec.name) ? attr_to_string(attrs.get(spec.name)) : "";
      d->flag("changed", !is_default)
          .flag("read_only", read_only)
          .flag("choice", choosable && ds.space.find(path, spec.name) >= 0);
    }
  }
  if (continuous && ImGui::IsItemActivated() && !st.group_open) {
    app.doc.begin_group("Set " + spec.name);
    st.group_open = true;
  }
  if (changed) {
    const EditResult r = set_node_attr(app, id, spec.name, value);
    if (r.ok) {
      if (st.error_node == id && st.error_attr == spec.name) st.error.clear();
      app.status = {Message::Info, "Set " + pretty_name(spec.name) + " = " + attr_to_string(value)};
    } else {
      st.error_node = id;
      st.error_attr = spec.name;
      st.error = r.reason;
      app.status = {Message::Error, r.reason};
    }
  }
  if (continuous && ImGui::IsItemDeactivated() && st.group_open) {
    app.doc.end_group();
    st.group_open = false;
  }
  ImGui::EndDisabled();
  if (st.error_node == id && st.error_attr == spec.name && !st.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped("\xE2\x9A\xA0 %s", st.error.c_str());
    ImGui::PopStyleColor();
  }
  const bool can_choose = choosable && choosable_type(spec.type);
  if (can_choose) {
    ImGui::TableSetColumnIndex(2);
    choice_toggle(app, st, path, spec, attrs, ds);
  }
  ImGui::PopID();
}

void no_selection(AppState& app, InspectorState& st, const Fonts& fonts) {
  const Graph& g = app.doc.graph();
  const Analysis& a = app.doc.analysis();
  const NodeId c = app.editor.container;
  ImGui::PushFont(fonts.bold);
  if (c == kNoNode) {
    ImGui::TextUnformatted(app.name.empty() ? "Model" : app.name.c_str());
  } else {
    const std::string path = g.path(c);
    ImGui::TextUnformatted(path.empty() ? views::node_title(g.node(c)).c_str() : path.c_str());
  }
  ImGui::PopFont();
  ImGui::TextDisabled("Select a node to edit its attributes.");
  if (c != kNoNode) {
    const Node& n = g.node(c);
    const OpDef* def = find_op(n.kind);
    const NodeInfo* info = a.of(c);
    section("This level", fonts);
    if (ImGui::BeginTable("level", 2, ImGuiTableFlags_SizingStretchProp)) {
      ImGui::TableSetupColumn("k", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 5.6f);
      ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
      fact("kind", def ? def->label : n.kind, fonts);
      if (info) {
        fact("input", shapes(info->in), fonts);
        fact("output", shapes(info->out), fonts);
        fact("params", count_and_si(info->params), fonts);
        fact("MACs", count_and_si(info->macs), fonts);
      }
      fact("children", std::to_string(n.children.size()), fonts);
      ImGui::EndTable();
    }
  }
  section("Model", fonts);
  if (ImGui::BeginTable("facts", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("k", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 5.6f);
    ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
    const std::vector<NodeId> inputs = g.top_level_of_kind("input");
    const std::vector<NodeId> outputs = g.top_level_of_kind("output");
    if (!inputs.empty())
      if (const NodeInfo* i = a.of(inputs.front())) fact("input", shapes(i->out), fonts);
    if (!outputs.empty())
      if (const NodeInfo* o = a.of(outputs.front())) fact("output", shapes(o->in), fonts);
    fact("params", count_and_si(a.total_params), fonts);
    if (a.total_trainable != a.total_params)
      fact("trainable", count_and_si(a.total_trainable), fonts);
    fact("MACs", count_and_si(a.total_macs), fonts);
    fact("nodes", format_count(static_cast<int64_t>(g.size())), fonts);
    ImGui::EndTable();
  }
  ImGui::Spacing();
  const bool open = ImGui::CollapsingHeader("Search space", ImGuiTreeNodeFlags_DefaultOpen);
  if (probe::enabled()) probe::note("space:header");
  if (open) {
    const NodeId reveal = st.space.draw(app.doc, fonts);
    if (reveal != kNoNode && app.doc.graph().contains(reveal)) reveal_node(app, reveal);
  }
}

}  // namespace

void draw_inspector(AppState& app, InspectorState& st, const Fonts& fonts) {
  // A drag that ended without a deactivation event (its widget vanished): close its step.
  if (st.group_open && !ImGui::IsAnyItemActive()) {
    app.doc.end_group();
    st.group_open = false;
  }
  const Graph& g = app.doc.graph();
  const EditorState& e = app.editor;
  if (probe::enabled()) {
    const bool one = e.selection.size() == 1;
    probe::fact("inspector", one ? g.path(*e.selection.begin()) : "");
    probe::fact("inspector.mode", one                      ? "node"
                                  : e.selection.size() > 1 ? "multiple"
                                  : e.container != kNoNode ? "level"
                                                           : "model");
  }
  if (e.selection.empty()) {
    no_selection(app, st, fonts);
  } else if (e.selection.size() > 1) {
    int64_t params = 0, macs = 0;
    for (NodeId id : e.selection) {
      bool nested = false;
      for (NodeId a = g.node(id).parent; a != kNoNode; a = g.node(a).parent)
        nested |= e.selected(a);
      if (nested) continue;
      if (const NodeInfo* i = app.doc.analysis().of(id)) params += i->params, macs += i->macs;
    }
    ImGui::PushFont(fonts.bold);
    ImGui::Text("%zu nodes selected", e.selection.size());
    ImGui::PopFont();
    if (ImGui::BeginTable("facts", 2, ImGuiTableFlags_SizingStretchProp)) {
      ImGui::TableSetupColumn("k", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 5.6f);
      ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
      fact("params", count_and_si(params), fonts);
      fact("MACs", count_and_si(macs), fonts);
      ImGui::EndTable();
    }
    ImGui::TextDisabled("Select one node to edit its attributes.");
  } else {
    const NodeId id = *e.selection.begin();
    const Node node = g.node(id);  // a copy: edits below change the graph
    const OpDef* def = find_op(node.kind);
    const NodeId builder = builder_of(g, id);
    const bool read_only = builder != kNoNode;

    // Header: swatch, title, op.
    palette_swatch(def ? def->category : "", ImGui::GetFontSize() * 0.8f);
    ImGui::PushFont(fonts.bold);
    ImGui::TextUnformatted(views::node_title(node).c_str());
    ImGui::PopFont();
    ImGui::TextDisabled("%s  \xC2\xB7  %s", def ? def->label.c_str() : node.kind.c_str(),
                        def ? def->category.c_str() : "?");
    const std::string path = g.path(id);
    ImGui::PushFont(fonts.mono);
    ImGui::TextDisabled("%s", path.empty() ? "(model root)" : path.c_str());
    ImGui::PopFont();
    if (def && !def->help.empty()) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("%s", def->help.c_str());
      ImGui::PopTextWrapPos();
    }
    if (read_only) {
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kWarning);
      ImGui::TextWrapped(
          "Built by %s from its attributes: edit those instead.",
          g.path(builder).empty() ? views::node_title(g.node(builder)).c_str() : g.path(builder).c_str());
      ImGui::PopStyleColor();
      if (ImGui::SmallButton("Select the block that builds it")) {
        reveal_node(app, builder);
        return;
      }
    }

    section("Node", fonts);
    if (st.name_node != id || !ImGui::IsAnyItemActive()) {
      if (st.name_node != id) st.error.clear();
      st.name_node = id;
      std::snprintf(st.name_buf, sizeof st.name_buf, "%s", node.name.c_str());
    }
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("name");
    ImGui::SameLine(ImGui::GetFontSize() * 7.0f);
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::BeginDisabled(read_only);
    ImGui::InputText("##name", st.name_buf, sizeof st.name_buf);
    if (probe::enabled()) probe::note("attr:name");
    if (ImGui::IsItemDeactivatedAfterEdit() && node.name != st.name_buf) {
      const EditResult r = app.doc.rename(id, st.name_buf);
      if (!r.ok) {
        st.error_node = id;
        st.error_attr = "";
        st.error = r.reason;
        app.status = {Message::Error, r.reason};
      } else {
        app.status = {Message::Info, std::string("Renamed to ") + st.name_buf};
      }
    }
    ImGui::EndDisabled();
    if (st.error_node == id && st.error_attr.empty() && !st.error.empty()) {
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
      ImGui::TextWrapped("\xE2\x9A\xA0 %s", st.error.c_str());
      ImGui::PopStyleColor();
    }

    if (def && !def->attrs.empty()) {
      section("Attributes", fonts);
      // A composite's attributes can be choices of the search space (nas/space.h).
      const bool choosable = def->cls == OpClass::Composite && !read_only && !path.empty();
      const DocumentSpace ds = choosable ? space_of(app.doc) : DocumentSpace{};
      if (choosable) {
        int on_node = 0;
        for (const SpaceChoice& c : ds.space.choices) on_node += c.node == path;
        ImGui::PushTextWrapPos(0);
        if (on_node > 0) {
          ImGui::PushStyleColor(ImGuiCol_Text, palette::kAccent);
          ImGui::Text("\xE2\x97\x86 %d search choice%s here  \xC2\xB7  %s subnets in all", on_node,
                      on_node == 1 ? "" : "s", subnet_count_text(ds.space.size()).c_str());
          ImGui::PopStyleColor();
        } else {
          ImGui::TextDisabled("\xE2\x97\x86 beside a value makes it a search-space choice.");
        }
        ImGui::PopTextWrapPos();
        if (!ds.error.empty()) {
          ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
          ImGui::TextWrapped("\xE2\x9A\xA0 %s", ds.error.c_str());
          ImGui::PopStyleColor();
        }
      }
      // The table is interrupted under each chosen attribute for its values (the inspector's
      // whole width); its parts share one ID, so ImGui keeps their columns in step.
      const auto begin_table = [&] {
        if (!ImGui::BeginTable("attrs", choosable ? 3 : 2, ImGuiTableFlags_SizingStretchProp))
          return false;
        ImGui::TableSetupColumn("name", ImGuiTableColumnFlags_WidthFixed,
                                ImGui::GetFontSize() * 8.2f);
        ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
        if (choosable)
          ImGui::TableSetupColumn("choice", ImGuiTableColumnFlags_WidthFixed,
                                  ImGui::GetFrameHeight());
        return true;
      };
      bool table = begin_table();
      for (const AttrSpec& spec : def->attrs) {
        if (table) attribute_row(app, st, id, spec, node.attrs, read_only, choosable, path, ds);
        if (!app.doc.graph().contains(id)) break;
        if (choosable && choosable_type(spec.type) && ds.space.find(path, spec.name) >= 0) {
          if (table) ImGui::EndTable();
          choice_values(app, st, path, spec, ds);
          table = begin_table();
        }
      }
      if (table) ImGui::EndTable();
    }

    if (!app.doc.graph().contains(id)) return;
    // After the edits above: the analysis may be a new one.
    const NodeInfo* info = app.doc.analysis().of(id);
    section("Analysis", fonts);
    if (ImGui::BeginTable("facts", 2, ImGuiTableFlags_SizingStretchProp)) {
      ImGui::TableSetupColumn("k", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 5.6f);
      ImGui::TableSetupColumn("v", ImGuiTableColumnFlags_WidthStretch);
      if (info) {
        if (!info->in.empty())
          fact(info->in.size() > 1 ? "inputs" : "input", shapes(info->in), fonts);
        if (!info->out.empty()) fact("output", shapes(info->out), fonts);
        fact("params", count_and_si(info->params), fonts);
        fact("MACs", count_and_si(info->macs), fonts);
      } else {
        fact("shapes", "not inferred", fonts, palette::kWarning);
      }
      if (!node.children.empty()) fact("children", std::to_string(node.children.size()), fonts);
      ImGui::EndTable();
    }
    bool any_problem = false;
    for (const Problem& p : app.doc.analysis().problems) {
      if (p.node != id) continue;
      if (!any_problem) section("Problems", fonts);
      any_problem = true;
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
      ImGui::TextWrapped("\xE2\x9A\xA0 %s", p.message.c_str());
      ImGui::PopStyleColor();
    }
  }
  // A drag that ended without a deactivation event (the widget vanished): close its step.
  if (st.group_open && !ImGui::IsAnyItemActive()) {
    app.doc.end_group();
    st.group_open = false;
  }
}

}  // namespace fw::gui
