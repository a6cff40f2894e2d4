#include "app/panels/study_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "app/gui/plot.h"
#include "app/gui/ui_probe.h"
#include "nas/study.h"

namespace fw::gui {

namespace {

// Abdelfattah et al. 2021, NAS-Bench-201 CIFAR-10, Spearman rho (as `formwork study` prints).
double published_rho(const std::string& m) {
  if (m == "synflow_log") return 0.74;
  if (m == "jacob_cov") return 0.73;
  if (m == "grad_norm" || m == "snip") return 0.58;
  if (m == "params") return 0.75;
  return std::nan("");
}

std::string fixed(double v, int digits = 3) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// A small scatter of accuracy (y) against one metric (x).
void small_scatter(const std::vector<SearchRecord>& recs, const ProxyCorrelation& c,
                   const Fonts& fonts, ImVec2 size) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton(("##study_" + c.metric).c_str(), size);
  const float fs = ImGui::GetFontSize();
  dl->AddRectFilled(p0, ImVec2(p0.x + size.x, p0.y + size.y), palette::kPanel, 4);
  dl->AddRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), palette::kBorder, 4);
  std::vector<std::pair<double, double>> pts;
  for (const SearchRecord& r : recs) {
    if (r.status != "ok") continue;
    const auto a = r.metrics.find("accuracy");
    const auto v = r.metrics.find(c.metric);
    if (a == r.metrics.end() || v == r.metrics.end() || !std::isfinite(a->second) ||
        !std::isfinite(v->second))
      continue;
    pts.push_back({v->second, a->second});
  }
  const std::string title =
      c.metric + "   \xCF\x81 " + fixed(c.spearman, 2) + "   \xCF\x84 " + fixed(c.kendall, 2);
  ImGui::PushFont(fonts.bold);
  dl->AddText(ImVec2(p0.x + fs * 0.5f, p0.y + fs * 0.3f), palette::kText, title.c_str());
  ImGui::PopFont();
  const ImVec2 a0(p0.x + fs * 3.2f, p0.y + fs * 1.8f),
      a1(p0.x + size.x - fs * 0.8f, p0.y + size.y - fs * 1.6f);
  if (pts.empty() || a1.x <= a0.x || a1.y <= a0.y) return;
  double x0 = pts[0].first, x1 = x0, y0 = pts[0].second, y1 = y0;
  for (const auto& [x, y] : pts) {
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  if (x1 == x0) x0 -= 1, x1 += 1;
  if (y1 == y0) y0 -= 0.01, y1 += 0.01;
  nice_range(&x0, &x1, 4);
  nice_range(&y0, &y1, 4);
  const auto X = [&](double x) { return a0.x + float((x - x0) / (x1 - x0)) * (a1.x - a0.x); };
  const auto Y = [&](double y) { return a1.y - float((y - y0) / (y1 - y0)) * (a1.y - a0.y); };
  ImFont* small = fonts.regular;
  const float small_size = fs * 0.8f;
  const std::vector<double> xt = nice_ticks(x0, x1, 4), yt = nice_ticks(y0, y1, 4);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1, ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double t : xt) {
    dl->AddLine(ImVec2(X(t), a0.y), ImVec2(X(t), a1.y), palette::kGridMinor);
    const double big = std::max(std::fabs(x0), std::fabs(x1));
    const double unit = big >= 1e6 ? 1e6 : big >= 1e4 ? 1e3 : 1;
    const std::string s = t == 0 ? "0"
                                 : tick_label(t / unit, xstep / unit, false) + (unit == 1e6   ? "M"
                                                                                : unit == 1e3 ? "k"
                                                                                              : "");
    const float w = small->CalcTextSizeA(small_size, 1e9f, 0, s.c_str()).x;
    dl->AddText(small, small_size, ImVec2(X(t) - w / 2, a1.y + 2), palette::kTextDim, s.c_str());
  }
  for (double t : yt) {
    dl->AddLine(ImVec2(a0.x, Y(t)), ImVec2(a1.x, Y(t)), palette::kGridMinor);
    const std::string s = fixed(t * 100, ystep * 100 < 1 ? 1 : 0) + "%";
    const float w = small->CalcTextSizeA(small_size, 1e9f, 0, s.c_str()).x;
    dl->AddText(small, small_size, ImVec2(a0.x - w - 4, Y(t) - small_size / 2), palette::kTextDim,
                s.c_str());
  }
  dl->AddRect(a0, a1, palette::kBorder);
  for (const auto& [x, y] : pts)
    dl->AddCircleFilled(ImVec2(X(x), Y(y)), fs * 0.22f, palette::kAccent);
  if (probe::enabled()) {
    probe::Drawn d;
    d.list = "study_plot";
    d.id = c.metric;
    d.text = title;
    d.min = p0;
    d.max = ImVec2(p0.x + size.x, p0.y + size.y);
    d.ink = palette::kAccent;
    d.count = int(pts.size());
    probe::drawn(d);
  }
}

}  // namespace

bool has_proxy_study(const std::vector<SearchRecord>& records) {
  for (const SearchRecord& r : records) {
    if (r.status != "ok" || !r.metrics.count("accuracy")) continue;
    for (const std::string& m : study_metrics())
      if (r.metrics.count(m)) return true;
  }
  return false;
}

void draw_proxy_study(const std::vector<SearchRecord>& records, const Fonts& fonts, ImVec2 size) {
  const float fs = ImGui::GetFontSize();
  const std::vector<ProxyCorrelation> table = proxy_study(records);
  int64_t n = 0;
  for (const ProxyCorrelation& c : table) n = std::max(n, c.n);
  ImGui::TextWrapped(
      "Rank correlation with accuracy over %lld trained subnets (Kendall tau-b, Spearman rho, as "
      "scipy). "
      "Published: Abdelfattah et al. 2021, NAS-Bench-201 CIFAR-10.",
      (long long)n);
  probe::fact("study.n", std::to_string(n));
  const float table_h = fs * 1.6f * float(table.size() + 1) + fs;
  if (ImGui::BeginTable("##study_table", 5, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH,
                        ImVec2(std::min(size.x, fs * 34), table_h))) {
    ImGui::TableSetupColumn("metric");
    ImGui::TableSetupColumn("n");
    ImGui::TableSetupColumn("Kendall \xCF\x84");
    ImGui::TableSetupColumn("Spearman \xCF\x81");
    ImGui::TableSetupColumn("published \xCF\x81");
    ImGui::TableHeadersRow();
    double best = -2;
    for (const ProxyCorrelation& c : table)
      if (std::isfinite(c.spearman)) best = std::max(best, c.spearman);
    for (const ProxyCorrelation& c : table) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const bool top = std::isfinite(c.spearman) && c.spearman == best;
      if (top) ImGui::PushFont(fonts.bold);
      ImGui::TextUnformatted(c.metric.c_str());
      if (top) ImGui::PopFont();
      if (probe::enabled())
        if (probe::Drawn* d = probe::drawn_item("study_row", c.metric))
          d->text = c.metric + " " + fixed(c.kendall) + " " + fixed(c.spearman);
      ImGui::TableNextColumn();
      ImGui::Text("%lld", (long long)c.n);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(fixed(c.kendall).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(fixed(c.spearman).c_str());
      ImGui::TableNextColumn();
      ImGui::TextDisabled("%s", fixed(published_rho(c.metric), 2).c_str());
    }
    ImGui::EndTable();
  }
  // One scatter per metric, four to a row.
  const ImGuiStyle& st = ImGui::GetStyle();
  const float avail = ImGui::GetContentRegionAvail().x;
  const int cols = 4;
  const float w = (avail - st.ItemSpacing.x * (cols - 1)) / cols;
  const float rest = size.y - (ImGui::GetCursorPosY() - ImGui::GetCursorStartPos().y);
  const float h = std::max(fs * 8, std::min(w * 0.75f, (rest - st.ItemSpacing.y) / 2));
  for (size_t i = 0; i < table.size(); ++i) {
    if (i % cols) ImGui::SameLine();
    small_scatter(records, table[i], fonts, ImVec2(w, h));
  }
}

}  // namespace fw::gui
