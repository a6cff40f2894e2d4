#include "app/panels/palette.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "app/gui/ui_probe.h"
#include "core/registry.h"

namespace fw::gui {

namespace {

const char* section_of(const OpDef& d) {
  const std::string& c = d.category;
  if (c == "stage") return "Stages";
  if (c == "block") return "Blocks";
  if (c == "head") return "Heads";
  if (c == "mixer" || c == "attention") return "Token mixers";
  if (c == "io" || c == "group") return "Graph";
  return "Layers";
}

std::string mixer_label(const std::string& m) {
  if (m == "sepconv") return "sep-conv";
  if (m == "random_mixing") return "random mixing";
  return m;
}

bool contains_ci(const std::string& hay, const std::string& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

}  // namespace

const std::vector<std::string>& palette_sections() {
  static const std::vector<std::string> s = {"Stages",       "Blocks", "Heads",
                                             "Token mixers", "Layers", "Graph"};
  return s;
}

const std::vector<PaletteEntry>& palette_entries() {
  static const std::vector<PaletteEntry> entries = [] {
    std::vector<PaletteEntry> out;
    for (const std::string& section : palette_sections())
      for (const OpDef* d : all_ops()) {
        if (section != section_of(*d)) continue;
        const AttrSpec* mixer = d->attr("token_mixer");
        if (mixer && mixer->type == AttrType::Choice && d->category == "block") {
          for (const std::string& m : mixer->choices)
            out.push_back({section, d->label + " \xC2\xB7 " + mixer_label(m), mixer_label(m), d->id,
                           Attrs{{"token_mixer", m}}, d->category,
                           d->help + " Token mixer: " + mixer_label(m) + "."});
          continue;
        }
        out.push_back({section, d->label, "", d->id, {}, d->category, d->help});
      }
    return out;
  }();
  return entries;
}

bool palette_matches(const PaletteEntry& e, const char* filter) {
  std::string word;
  const char* p = filter;
  while (true) {
    if (*p == ' ' || *p == '\0') {
      if (!word.empty() && !contains_ci(e.label, word) && !contains_ci(e.kind, word) &&
          !contains_ci(e.category, word) && !contains_ci(e.help, word))
        return false;
      word.clear();
      if (*p == '\0') break;
    } else {
      word += *p;
    }
    ++p;
  }
  return true;
}

void palette_swatch(const std::string& category, float size) {
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float line = ImGui::GetTextLineHeight();
  const float y = p.y + (line - size) * 0.5f;
  ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, y), ImVec2(p.x + size, y + size),
                                            category_color(category), size * 0.25f);
  ImGui::Dummy(ImVec2(size, line));
  ImGui::SameLine();
}

void draw_palette(PaletteState& state, const Fonts& fonts) {
  state.added = -1;
  ImGui::SetNextItemWidth(-FLT_MIN);
  ImGui::InputTextWithHint("##palette_filter", "Search blocks and ops", state.filter,
                           sizeof state.filter);
  const bool filtering = state.filter[0] != '\0';
  ImGui::BeginChild("palette_list", ImVec2(0, 0), false);
  const std::vector<PaletteEntry>& entries = palette_entries();
  const float swatch = ImGui::GetFontSize() * 0.7f;
  int shown = 0;
  for (const std::string& section : palette_sections()) {
    bool any = false;
    for (const PaletteEntry& e : entries)
      any |= e.section == section && palette_matches(e, state.filter);
    if (!any) continue;
    ImGui::PushFont(fonts.bold);
    ImGui::PushStyleColor(ImGuiCol_Header, palette::kHeader);
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kTextDim);
    ImGui::SetNextItemOpen(true, filtering ? ImGuiCond_Always : ImGuiCond_Once);
    const bool open = ImGui::CollapsingHeader(section.c_str());
    ImGui::PopStyleColor(2);
    ImGui::PopFont();
    if (!open) continue;
    for (size_t i = 0; i < entries.size(); ++i) {
      const PaletteEntry& e = entries[i];
      if (e.section != section || !palette_matches(e, state.filter)) continue;
      ++shown;
      ImGui::PushID(static_cast<int>(i));
      // Presets of one kind (the MetaFormer block's mixers): the kind once, then its variants.
      const bool variant = !e.variant.empty();
      if (variant && !filtering && (i == 0 || entries[i - 1].kind != e.kind)) {
        palette_swatch(e.category, swatch);
        ImGui::TextUnformatted(e.label.substr(0, e.label.size() - e.variant.size() - 4).c_str());
      }
      if (variant && !filtering) ImGui::Indent(swatch + ImGui::GetStyle().ItemSpacing.x);
      if (!variant || filtering) palette_swatch(e.category, swatch);
      const char* text = variant && !filtering ? e.variant.c_str() : e.label.c_str();
      if (ImGui::Selectable(text, false, ImGuiSelectableFlags_AllowDoubleClick) &&
          ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left))
        state.added = static_cast<int>(i);
      if (probe::enabled()) probe::note("palette:" + e.label);
      if (variant && !filtering) ImGui::Unindent(swatch + ImGui::GetStyle().ItemSpacing.x);
      if (ImGui::BeginDragDropSource()) {
        const int index = static_cast<int>(i);
        ImGui::SetDragDropPayload(kPalettePayload, &index, sizeof index);
        palette_swatch(e.category, swatch);
        ImGui::TextUnformatted(e.label.c_str());
        ImGui::EndDragDropSource();
      } else if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 24);
        ImGui::PushFont(fonts.bold);
        ImGui::TextUnformatted(e.label.c_str());
        ImGui::PopFont();
        ImGui::TextDisabled("%s \xC2\xB7 %s", e.kind.c_str(), e.category.c_str());
        ImGui::TextUnformatted(e.help.c_str());
        ImGui::TextDisabled("Drag onto the canvas, or double-click to add.");
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
      ImGui::PopID();
    }
  }
  if (shown == 0 && filtering) ImGui::TextDisabled("Nothing matches \"%s\".", state.filter);
  ImGui::EndChild();
}

}  // namespace fw::gui
