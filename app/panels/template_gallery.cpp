#include "app/panels/template_gallery.h"

#include <algorithm>
#include <cstdio>

#include "core/format.h"
#include "app/gui/ui_probe.h"
#include "core/analysis.h"

namespace fw::gui {

void TemplateGallery::open() {
  open_ = true;
  chosen_.clear();
  error_.clear();
}

TemplateOptions TemplateGallery::options() const {
  TemplateOptions o;
  if (use_defaults) return o;
  o.input = {input[0], input[1], input[2]};
  o.num_classes = classes;
  return o;
}

void TemplateGallery::compute_next() {
  const std::vector<TemplateInfo>& list = template_list();
  if (stats_.size() != list.size()) stats_.assign(list.size(), Stats{});
  for (size_t i = 0; i < list.size(); ++i) {
    if (stats_[i].done) continue;
    try {
      const Graph g = build_template(list[i].name);
      const Analysis a = analyze(g);
      stats_[i].params = a.total_params;
      stats_[i].macs = a.total_macs;
      const std::vector<NodeId> in = g.top_level_of_kind("input");
      const std::vector<NodeId> out = g.top_level_of_kind("output");
      if (!in.empty())
        if (const NodeInfo* ni = a.of(in.front()); ni && !ni->out.empty()) {
          for (size_t k = 0; k < ni->out[0].size(); ++k)
            stats_[i].input += (k ? "\xC3\x97" : "") + std::to_string(ni->out[0][k]);
        }
      if (!out.empty())
        if (const NodeInfo* no = a.of(out.front()); no && !no->in.empty() && !no->in[0].empty())
          stats_[i].classes = no->in[0].back();
    } catch (const std::exception& e) {
      stats_[i].error = e.what();
    }
    stats_[i].done = true;
    return;
  }
}

bool TemplateGallery::draw(const Fonts& fonts) {
  if (open_) {
    open_ = false;
    visible_ = true;
    ImGui::OpenPopup("New from template");
  }
  if (!visible_) return false;
  compute_next();
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowSize(ImVec2(std::min(vp->WorkSize.x * 0.92f, ImGui::GetFontSize() * 60),
                                  std::min(vp->WorkSize.y * 0.88f, ImGui::GetFontSize() * 40)),
                           ImGuiCond_Appearing);
  ImGui::SetNextWindowPos(
      ImVec2(vp->WorkPos.x + vp->WorkSize.x * 0.5f, vp->WorkPos.y + vp->WorkSize.y * 0.5f),
      ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  bool keep = true, done = false;
  if (!ImGui::BeginPopupModal("New from template", &keep)) {
    visible_ = false;
    return false;
  }
  probe::dialog("templates");
  const std::vector<TemplateInfo>& list = template_list();
  selected = std::clamp(selected, 0, static_cast<int>(list.size()) - 1);
  ImGui::TextDisabled(
      "Pick an architecture to start from; parameters and MACs at its default input size.");

  const float footer = ImGui::GetFrameHeightWithSpacing() * 2 + ImGui::GetStyle().ItemSpacing.y * 2;
  ImGui::BeginChild("cards", ImVec2(0, -footer), false);
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float avail = ImGui::GetContentRegionAvail().x;
  const int per_row = std::max(1, static_cast<int>((avail + gap) / (ImGui::GetFontSize() * 17)));
  const float card_w =
      (avail - gap * static_cast<float>(per_row - 1)) / static_cast<float>(per_row);
  const float card_h = ImGui::GetTextLineHeightWithSpacing() * 5.6f;
  for (size_t i = 0; i < list.size(); ++i) {
    const TemplateInfo& t = list[i];
    if (i % per_row) ImGui::SameLine();
    ImGui::PushID(static_cast<int>(i));
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const ImVec2 p1(p0.x + card_w, p0.y + card_h);
    const bool sel = selected == static_cast<int>(i);
    if (ImGui::InvisibleButton("card", ImVec2(card_w, card_h))) selected = static_cast<int>(i);
    probe::Drawn* card = nullptr;
    if (probe::enabled()) {
      probe::note("template:" + t.name);
      card = probe::drawn_item("template", t.name);
    }
    if (ImGui::IsItemHovered() && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) {
      selected = static_cast<int>(i);
      chosen_ = t.name;
      done = true;
    }
    const bool hot = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 fill = hot ? palette::rgb(0x232833) : palette::kPanel;
    dl->AddRectFilled(p0, p1, fill, 6);
    if (card) {
      card->fill = fill;
      card->fill_min = card->min;
      card->fill_max = card->max;
      card->text = t.family;
      card->flag("selected", sel).flag("counted", i < stats_.size() && stats_[i].done);
    }
    dl->AddRect(p0, p1, sel ? palette::kAccent : palette::kBorder, 6, 0, sel ? 2.0f : 1.0f);
    const float pad = ImGui::GetFontSize() * 0.7f;
    const float line = ImGui::GetTextLineHeightWithSpacing();
    ImVec2 at(p0.x + pad, p0.y + pad * 0.8f);
    dl->AddText(fonts.bold, fonts.bold->FontSize, at, palette::kText, t.name.c_str());
    at.y += line;
    std::string family = t.family;
    if (i < stats_.size() && !stats_[i].input.empty())
      family +=
          "  \xC2\xB7  " + stats_[i].input + ", " + std::to_string(stats_[i].classes) + " classes";
    dl->AddText(fonts.regular, fonts.regular->FontSize, at, palette::kAccent, family.c_str());
    at.y += line;
    const ImVec4 clip(p0.x, p0.y, p1.x - pad * 0.5f, p1.y);
    dl->AddText(fonts.regular, fonts.regular->FontSize, at, palette::kTextDim,
                t.description.c_str(), nullptr, card_w - 2 * pad, &clip);
    at.y = p1.y - pad * 0.8f - ImGui::GetTextLineHeight();
    char facts[96];
    if (i < stats_.size() && stats_[i].done && stats_[i].error.empty())
      std::snprintf(facts, sizeof facts, "%s params  \xC2\xB7  %s MACs",
                    format_si(stats_[i].params).c_str(), format_si(stats_[i].macs).c_str());
    else if (i < stats_.size() && !stats_[i].error.empty())
      std::snprintf(facts, sizeof facts, "cannot build at this size");
    else
      std::snprintf(facts, sizeof facts, "counting\xE2\x80\xA6");
    dl->AddText(fonts.mono, fonts.mono->FontSize, at, palette::kText, facts);
    ImGui::PopID();
  }
  ImGui::EndChild();

  ImGui::Separator();
  ImGui::AlignTextToFramePadding();
  ImGui::Checkbox("Default size", &use_defaults);
  ImGui::SameLine();
  ImGui::BeginDisabled(use_defaults);
  ImGui::TextUnformatted("input C, H, W");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
  ImGui::InputInt3("##input", input);
  for (int& v : input) v = std::clamp(v, 1, 4096);
  ImGui::SameLine();
  ImGui::TextUnformatted("classes");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
  ImGui::InputInt("##classes", &classes, 0);
  classes = std::clamp(classes, 1, 1 << 20);
  ImGui::EndDisabled();
  const float button_w = ImGui::GetFontSize() * 6;
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - button_w * 2 -
                  ImGui::GetStyle().ItemSpacing.x);
  const bool create = ImGui::Button("Create", ImVec2(button_w, 0));
  probe::note("template:create");
  if (create) {
    chosen_ = list[selected].name;
    done = true;
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel", ImVec2(button_w, 0)) ||
      ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
    keep = false;
  if (!error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped("%s", error_.c_str());
    ImGui::PopStyleColor();
  }
  if (done || !keep) {
    visible_ = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
  return done;
}

}  // namespace fw::gui
