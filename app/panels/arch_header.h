// The header of the architecture views: what is open, whether its shapes check, and one line of
// facts (input -> output shape, parameters, MACs, node count).
#pragma once
#include <imgui.h>

#include "app/gui/arch_table.h"
#include "app/gui/style.h"

namespace fw::gui {

void draw_arch_header(const ArchTable& table, const Fonts& fonts);

}  // namespace fw::gui
