// The Search view's "Proxy study" tab (issue #12 part 7): for a search whose results carry
// accuracy and the proxies (`formwork study`, nas/study.h), Kendall's tau and Spearman's rho of
// each proxy, params and MACs against accuracy, beside the published NAS-Bench-201 figures, and
// one scatter of accuracy against each metric.
#pragma once
#include <imgui.h>

#include <vector>

#include "app/gui/style.h"
#include "nas/search.h"

namespace fw::gui {

// True when `records` hold ok results with accuracy and at least one study metric.
bool has_proxy_study(const std::vector<SearchRecord>& records);
// Draws the table and the scatters in `size` at the cursor.
void draw_proxy_study(const std::vector<SearchRecord>& records, const Fonts& fonts, ImVec2 size);

}  // namespace fw::gui
