#include "app/gui/ui_probe.h"

#include <unordered_map>

namespace fw::gui::probe {

namespace {
bool g_enabled = false;
std::unordered_map<std::string, ImVec4>& rects() {
  static std::unordered_map<std::string, ImVec4> r;
  return r;
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

void clear() { rects().clear(); }

}  // namespace fw::gui::probe
