#include "app/panels/arch_header.h"

#include <cstdio>
#include <string>

#include "app/gui/format.h"

namespace fw::gui {

void draw_arch_header(const ArchTable& t, const Fonts& fonts) {
  ImGui::PushFont(fonts.title);
  const float title_height = ImGui::GetTextLineHeight();
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kAccent);
  ImGui::TextUnformatted("Formwork");
  ImGui::PopStyleColor();
  ImGui::SameLine();
  ImGui::TextUnformatted(t.title.c_str());
  ImGui::PopFont();

  // Status on the right: valid, or how many problems.
  const bool ok = t.problems.empty();
  char status[64];
  if (ok)
    std::snprintf(status, sizeof status, "\xE2\x9C\x93 valid graph");  // ✓
  else
    std::snprintf(status, sizeof status, "\xE2\x9A\xA0 %zu problem%s", t.problems.size(),  // ⚠
                  t.problems.size() == 1 ? "" : "s");
  ImGui::PushFont(fonts.bold);
  const float w = ImGui::CalcTextSize(status).x;
  ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - w);
  ImGui::SetCursorPosY(ImGui::GetCursorPosY() + (title_height - ImGui::GetTextLineHeight()) * 0.5f);
  ImGui::PushStyleColor(ImGuiCol_Text, ok ? palette::kOk : palette::kError);
  ImGui::TextUnformatted(status);
  ImGui::PopStyleColor();
  ImGui::PopFont();

  // One line of facts.
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kTextDim);
  std::string facts;
  if (!t.input_shape.empty()) facts += "input " + t.input_shape;
  if (!t.output_shape.empty()) facts += " \xE2\x86\x92 " + t.output_shape;  // →
  if (!facts.empty()) facts += "   \xC2\xB7   ";                            // ·
  facts += format_si(t.total_params) + " params";
  if (t.total_trainable != t.total_params)
    facts += " (" + format_si(t.total_trainable) + " trainable)";
  facts += "   \xC2\xB7   " + format_si(t.total_macs) + " MACs   \xC2\xB7   " +
           std::to_string(t.rows.size()) + " nodes";
  ImGui::TextUnformatted(facts.c_str());
  ImGui::PopStyleColor();
  ImGui::Spacing();
}

}  // namespace fw::gui
