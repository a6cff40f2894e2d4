#include "app/panels/inspector.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>

#include "core/format.h"
#include "views/node_geometry.h"
#include "app/gui/ui_probe.h"
#include "app/panels/palette.h"

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

// One attribute row. Returns true when a value was committed.
void attribute_row(AppState& app, InspectorState& st, NodeId id, const AttrSpec& spec,
                   const Attrs& attrs, bool read_only) {
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
      d->flag("changed", !is_default).flag("read_only", read_only);
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
  ImGui::PopID();
}

void no_selection(AppState& app, const Fonts& fonts) {
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
    no_selection(app, fonts);
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
      if (ImGui::BeginTable("attrs", 2, ImGuiTableFlags_SizingStretchProp)) {
        ImGui::TableSetupColumn("name", ImGuiTableColumnFlags_WidthFixed,
                                ImGui::GetFontSize() * 8.2f);
        ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
        for (const AttrSpec& spec : def->attrs) {
          attribute_row(app, st, id, spec, node.attrs, read_only);
          if (!app.doc.graph().contains(id)) break;
        }
        ImGui::EndTable();
      }
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
