#include "views/graph_style.h"

namespace fw::views {

Color category_color(std::string_view category) {
  struct Entry {
    const char* name;
    Color color;
  };
  static constexpr Entry kColors[] = {
      {"io", rgb_hex(0x9aa5b1)},        {"conv", rgb_hex(0x5aa9f0)}, {"linear", rgb_hex(0xb48ef0)},
      {"norm", rgb_hex(0x56c2a6)},      {"act", rgb_hex(0xe5c15a)},  {"mixer", rgb_hex(0x57d0e0)},
      {"attention", rgb_hex(0xf07e9c)}, {"pool", rgb_hex(0x67b7d1)}, {"shape", rgb_hex(0x8a93a5)},
      {"arith", rgb_hex(0xc7a27a)},     {"reg", rgb_hex(0x8a93a5)},  {"block", rgb_hex(0x7fa7d9)},
      {"stage", rgb_hex(0xd98e5a)},     {"head", rgb_hex(0xd96c8a)}, {"group", rgb_hex(0x8a93a5)},
  };
  for (const Entry& e : kColors)
    if (category == e.name) return e.color;
  return graph_palette::kTextDim;
}

}  // namespace fw::views
