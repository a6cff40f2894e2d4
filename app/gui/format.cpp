#include "app/gui/format.h"

#include <cmath>
#include <cstdio>

namespace fw::gui {

std::string format_count(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_si(int64_t n) {
  static const char* const kUnits[] = {"", " K", " M", " G", " T", " P"};
  double v = static_cast<double>(n);
  int unit = 0;
  while (std::fabs(v) >= 999.5 && unit < 5) {
    v /= 1000.0;
    ++unit;
  }
  char buf[32];
  if (unit == 0)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  else if (std::fabs(v) < 9.995)
    std::snprintf(buf, sizeof buf, "%.2f%s", v, kUnits[unit]);
  else if (std::fabs(v) < 99.95)
    std::snprintf(buf, sizeof buf, "%.1f%s", v, kUnits[unit]);
  else
    std::snprintf(buf, sizeof buf, "%.0f%s", v, kUnits[unit]);
  return buf;
}

}  // namespace fw::gui
