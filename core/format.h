// Numbers and times as every face of Formwork prints them (CLI tables, GUI panels, projects).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fw {

// Exact, with thousands separators: "1,234,567", "-12"; INT64_MAX, a saturated count (parameters,
// MACs: core/tensor.h kCountOverflow), as ">9.2E".
std::string format_count(int64_t n);
// Three significant digits and an SI suffix (up to E) after `sep`: "11.9 M", "1.82 G", "640 K",
// "12" (format_si(1.82e9, "") = "1.82G", as the CLI tables print it).
std::string format_si(double v, const char* sep = " ");
// Seconds as a duration: "42 s", "3 min 05 s", "1 h 02 min".
std::string format_duration(double seconds);
// The current time in UTC, ISO 8601: "2026-11-23T10:15:00Z".
std::string now_iso8601();
// A setting as a person types it: six significant digits, no trailing zeros ("0.002", "1e-05").
std::string format_number(double v);
// The items with `sep` between them: "a, b, c".
std::string format_list(const std::vector<std::string>& items, const std::string& sep = ", ");

}  // namespace fw
