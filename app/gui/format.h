// Numbers as the views print them.
#pragma once
#include <cstdint>
#include <string>

namespace fw::gui {

// Exact, with thousands separators: "1,234,567".
std::string format_count(int64_t n);
// Three significant digits and an SI suffix: "11.9 M", "1.82 G", "640 K", "12".
std::string format_si(int64_t n);

}  // namespace fw::gui
