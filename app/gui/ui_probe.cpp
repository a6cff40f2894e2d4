#include "app/gui/ui_probe.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace fw::gui::probe {

namespace {
bool g_enabled = false;
std::unordered_map<std::string, ImVec4>& rects() {
  static std::unordered_map<std::string, ImVec4> r;
  return r;
}
struct Report {
  std::map<std::string, std::string> facts;
  std::vector<Drawn> items;
};
Report& report() {
  static Report r;
  return r;
}

nlohmann::ordered_json json_rect(ImVec2 a, ImVec2 b) {
  auto r = [](float v) { return std::round(v * 10.0f) / 10.0f; };
  return {r(a.x), r(a.y), r(b.x), r(b.y)};
}

std::string json_colour(ImU32 c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", (c >> IM_COL32_R_SHIFT) & 0xFF,
                (c >> IM_COL32_G_SHIFT) & 0xFF, (c >> IM_COL32_B_SHIFT) & 0xFF);
  return buf;
}
}  // namespace

void enable(bool on) { g_enabled = on; }
bool enabled() { return g_enabled; }

void note(const std::string& key) {
  if (!g_enabled) return;
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  rects()[key] = ImVec4(a.x, a.y, b.x, b.y);
}

bool rect(const std::string& key, ImVec2* min, ImVec2* max) {
  auto it = rects().find(key);
  if (it == rects().end()) return false;
  *min = ImVec2(it->second.x, it->second.y);
  *max = ImVec2(it->second.z, it->second.w);
  return true;
}

ImVec2 center(const std::string& key) {
  ImVec2 a, b;
  if (!rect(key, &a, &b)) return ImVec2(-1, -1);
  return ImVec2((a.x + b.x) * 0.5f, (a.y + b.y) * 0.5f);
}

void clear() {
  rects().clear();
  report() = Report{};
}

// ---- The frame report ---------------------------------------------------------------------------

bool Drawn::has(const std::string& f) const {
  return std::find(flags.begin(), flags.end(), f) != flags.end();
}

Drawn& Drawn::flag(const char* f, bool on) {
  if (on && !has(f)) flags.emplace_back(f);
  return *this;
}

void begin_frame() {
  if (!g_enabled) return;
  report().facts.clear();
  report().items.clear();
}

void fact(const std::string& name, const std::string& value) {
  if (!g_enabled) return;
  report().facts[name] = value;
}

std::string fact_or(const std::string& name, const std::string& otherwise) {
  auto it = report().facts.find(name);
  return it == report().facts.end() ? otherwise : it->second;
}

bool has_fact(const std::string& name) { return report().facts.count(name) != 0; }

void drawn(Drawn d) {
  if (!g_enabled) return;
  report().items.push_back(std::move(d));
}

Drawn* drawn_item(const std::string& list, const std::string& id) {
  if (!g_enabled || !ImGui::IsItemVisible()) return nullptr;
  Drawn d;
  d.list = list;
  d.id = id;
  d.min = ImGui::GetItemRectMin();
  d.max = ImGui::GetItemRectMax();
  // Clipped to where the window shows it (a row half scrolled out shows half): across, to the
  // window (a table row spans its columns); down, also to the clip rectangle (a table's rows
  // scroll under its frozen header).
  const ImVec2 w0 = ImGui::GetWindowPos();
  const ImVec2 w1(w0.x + ImGui::GetWindowSize().x, w0.y + ImGui::GetWindowSize().y);
  const float c0 = ImGui::GetWindowDrawList()->GetClipRectMin().y;
  const float c1 = ImGui::GetWindowDrawList()->GetClipRectMax().y;
  d.min = ImVec2(std::max(d.min.x, w0.x), std::max({d.min.y, w0.y, c0}));
  d.max = ImVec2(std::min(d.max.x, w1.x), std::min({d.max.y, w1.y, c1}));
  if (d.max.x <= d.min.x || d.max.y <= d.min.y) return nullptr;
  report().items.push_back(std::move(d));
  return &report().items.back();
}

void dialog(const char* name) {
  if (!g_enabled) return;
  report().facts["dialog"] = name;
  Drawn d;
  d.list = "dialog";
  d.id = name;
  d.min = ImGui::GetWindowPos();
  d.max = ImVec2(d.min.x + ImGui::GetWindowSize().x, d.min.y + ImGui::GetWindowSize().y);
  report().items.push_back(std::move(d));
}

const std::vector<Drawn>& items() { return report().items; }

std::vector<const Drawn*> items(const std::string& list) {
  std::vector<const Drawn*> out;
  for (const Drawn& d : report().items)
    if (d.list == list) out.push_back(&d);
  return out;
}

const Drawn* find(const std::string& list, const std::string& id) {
  for (const Drawn& d : report().items)
    if (d.list == list && d.id == id) return &d;
  return nullptr;
}

std::vector<std::string> ids(const std::string& list) {
  std::vector<std::string> out;
  for (const Drawn& d : report().items)
    if (d.list == list) out.push_back(d.id);
  return out;
}

std::string report_json(int width, int height) {
  const Report& r = report();
  nlohmann::ordered_json items = nlohmann::ordered_json::array();
  for (const Drawn& d : r.items) {
    nlohmann::ordered_json j = {
        {"list", d.list}, {"id", d.id}, {"rect", json_rect(d.min, d.max)}, {"flags", d.flags}};
    if (!d.text.empty()) j["text"] = d.text;
    if (d.count >= 0) j["count"] = d.count;
    if (d.fill) {
      j["fill"] = json_colour(d.fill);
      j["fill_rect"] = json_rect(d.fill_min, d.fill_max);
    }
    if (d.ink) j["ink"] = json_colour(d.ink);
    items.push_back(std::move(j));
  }
  const nlohmann::ordered_json report = {
      {"width", width}, {"height", height}, {"facts", r.facts}, {"items", std::move(items)}};
  // Invalid UTF-8 in a label is replaced, never thrown.
  return report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace fw::gui::probe
