// A test hook with two parts, both off by default (then each call site costs one branch):
//
// - Rectangles: the widgets the UI tests click (dialog buttons, palette entries, inspector fields,
//   problem lines) record their screen rectangles under a key, so a test can move the synthetic
//   mouse to them.
// - The frame report: what the last frame DREW, recorded by the drawing code itself at the point
//   where it draws (after culling and clipping, so what is scrolled away or off the canvas is not
//   in it): facts about the frame (the view in front, the level the canvas shows, the inspector's
//   subject, the dialog in front) and the items drawn, each in a list ("node", "attr", "series",
//   ...) under an id (a module path, an attribute name, a series label...) with its screen
//   rectangle, its state flags ("selected", "open"...), a count where one applies (points of a
//   series) and the colours that the picture must show there. The UI tests read it to see what
//   was drawn; screenshot mode (`--state OUT.json`) writes it next to the PNG, and
//   tests/gui/gui_check.py checks the picture at the rectangles it gives.
//
// Lists and ids (the flags in brackets):
//   tab       the view tabs: "editor", "training" [active]
//   crumb     the breadcrumb: the module path of each level ("" = the model) [current]
//   canvas    the canvas: "canvas" (fill: the canvas colour)
//   node      the canvas's boxes and open groups: module path, or "<in>"/"<out>" for the shown
//             group's own inputs and outputs [selected open container problem problem_inside
//             boundary]; fill: the colour painted solid over `fill_rect`
//   badge     the canvas's search-space badges ("◆2"): the node's module path; count: its
//             choices; ink: the accent colour
//   attr      the inspector's attribute rows: attribute name [changed read_only choice]
//   choice    the search space's choices, in the inspector (a chosen attribute's values:
//             "node.attr") and in the space panel (its list: "space:node.attr"); text: the
//             values; count: how many
//   choice_error  a refused choice edit under its values: "node.attr"; text: the reason
//   space     the space panel: "size" (text: the number of subnets), "error" (text: the last
//             refusal), "stored_error" (text: why the stored space does not fit the graph)
//   problem   the problems list: the node's module path [selected]; ink: the error colour
//   status    the status bar's verdict: "valid" or "problems"; ink: its colour
//   device    the status bar's device picker: "picker" (text: the chosen backend's name) and,
//             while its list is open, each offered backend by name [chosen disabled] (text: its
//             detail, or why it cannot be chosen)
//   dialog    the dialog in front: "templates", "files", "shortcuts", "unsaved", "training",
//             "error"
//   template  the template gallery's cards: template name [selected counted]
//   file      the file browser's rows: name ("models/" for a folder) [dir selected]
//   shortcut  the shortcuts dialog's rows: the keys
//   plot      the training view's charts: title [empty]; count: series drawn
//   series    their series: "Title/label"; count: points drawn; ink: the line's colour as it
//             shows over the chart
//   epoch     the training view's per-epoch rows: the epoch number
//   run       its runs table: the run number [selected]
//   outline   the node list (outline) rows: module path [selected open problem]
//   result    the search view's results table: the result id [pareto opened base]; text: status
//   search    the search view's list of the project's searches (while open): the search's name
//   (the search view's scatter is a "plot" ("Results", [front_line]) with the series "results",
//   "Pareto front" and "base")
// Facts: view ("editor"/"training"), level (module path of the level the canvas drew),
// inspector (the module path of the node whose attributes it drew; "" for none), inspector.mode
// ("node", "level", "model", "multiple"), dialog, training ("live", "run", "none": what the
// training view's results show), title (the document's name as the breadcrumb shows it), device
// (the chosen backend's name); the
// search view: search (the search shown), search.results / search.front (its ok results, its
// Pareto front), search.phase, search.x / search.y (the scatter's metrics), search.x_ticks /
// search.y_ticks, search.base ("marked" or "none"), search.rows (table rows after the filter),
// search.hover (the result under the mouse), search.error, subnet (the opened result's id) and
// subnet.changed (the module paths that differ from the base, comma-separated).
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

namespace fw::gui::probe {

void enable(bool on);
bool enabled();

// ---- Rectangles -----------------------------------------------------------------------------
// Records the last item's rectangle (ImGui::GetItemRectMin/Max) under `key`.
void note(const std::string& key);
// The rectangle recorded under `key` in the last frame that drew it; false if never.
bool rect(const std::string& key, ImVec2* min, ImVec2* max);
ImVec2 center(const std::string& key);  // (-1, -1) if unknown
void clear();                           // rectangles and report

// ---- The frame report -------------------------------------------------------------------------
struct Drawn {
  std::string list, id;
  std::string text;             // what it says, where that helps (a label, a message)
  ImVec2 min{0, 0}, max{0, 0};  // on screen, clipped to where it shows
  ImVec2 fill_min{0, 0}, fill_max{0, 0};
  ImU32 fill = 0;  // painted solid (opaque) over fill_min..fill_max; 0: none
  ImU32 ink = 0;   // a colour drawn inside min..max (text, line); 0: none
  int count = -1;  // points, rows...; -1: none
  std::vector<std::string> flags;

  bool has(const std::string& flag) const;
  Drawn& flag(const char* f, bool on = true);
};

// Starts a frame's report, forgetting the last one (the view calls it first thing every frame).
void begin_frame();
// A fact about this frame (a second call replaces the value).
void fact(const std::string& name, const std::string& value);
// The fact recorded in the last frame, or `otherwise`.
std::string fact_or(const std::string& name, const std::string& otherwise = "");
bool has_fact(const std::string& name);
// Records an item drawn this frame.
void drawn(Drawn d);
// An item of `list` with the last ImGui item's rectangle, if that item is visible (not scrolled
// or clipped away); nullptr when it is not. Fill in the rest through the pointer (valid until
// the next call).
Drawn* drawn_item(const std::string& list, const std::string& id);

// The current window is the dialog in front: the fact "dialog" and a "dialog" item with the
// window's rectangle (call inside it; the check keeps the call free when disabled).
void dialog(const char* name);

// The last frame's items, in the order they were drawn; those of one list; one by id.
const std::vector<Drawn>& items();
std::vector<const Drawn*> items(const std::string& list);
const Drawn* find(const std::string& list, const std::string& id);
std::vector<std::string> ids(const std::string& list);

// The report as JSON: {"width": W, "height": H, "facts": {name: value}, "items": [{"list",
// "id", "rect": [x0, y0, x1, y1], "flags": [...], and where set "text", "count", "fill" with
// "fill_rect", "ink" (colours "#rrggbb")}]}.
std::string report_json(int width, int height);

}  // namespace fw::gui::probe
