#include "core/format.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace fw {

std::string format_count(int64_t n) {
  if (n == INT64_MAX) return ">9.2E";  // a saturated count (core/tensor.h kCountOverflow)
  const uint64_t mag = n < 0 ? uint64_t(0) - uint64_t(n) : uint64_t(n);
  const std::string digits = std::to_string(mag);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_si(double v, const char* sep) {
  static const char* const kUnits[] = {"", "K", "M", "G", "T", "P", "E"};
  int unit = 0;
  while (std::fabs(v) >= 999.5 && unit < 6) {
    v /= 1000.0;
    ++unit;
  }
  char buf[48];
  if (unit == 0)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) < 9.995)
    std::snprintf(buf, sizeof buf, "%.2f%s%s", v, sep, kUnits[unit]);
  else if (std::fabs(v) < 99.95)
    std::snprintf(buf, sizeof buf, "%.1f%s%s", v, sep, kUnits[unit]);
  else
    std::snprintf(buf, sizeof buf, "%.0f%s%s", v, sep, kUnits[unit]);
  return buf;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = int64_t(std::llround(seconds));
  char buf[48];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lld s", (long long)s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", (long long)(s / 60), (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", (long long)(s / 3600),
                  (long long)(s % 3600 / 60));
  return buf;
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string format_list(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

}  // namespace fw
