// The search space marked on the graph (nas/space.h, CONTRACT.md "Search"): its choices, the
// number of subnets it holds and its constraints, edited as graph edits. Every change goes through
// Document::set_meta(kSearchSpaceMeta, ...): one undo step, saved with the project's graph.
//
// - space_of(): the space the document's graph carries, checked against the graph (values typed
//   as their attributes); a malformed or stale one (its node removed since) comes back as stored,
//   with the reason.
// - store_space(): checks a space (check_space; a space of constraints alone: its constraints)
//   and stores it as one undo step named `label`; a refused one stores nothing and comes back as
//   the reason ("search space: stages.1.depth: value 0 is outside 1..64"). An empty space removes
//   the meta key.
// - SpacePanel: lists every choice ("stages.1.depth: 1, 2, 3"), each removable (×) and clickable
//   (draw() returns its node, for the caller to select and reveal in the editor); the number of
//   subnets; the constraints (params ≤, MACs ≤, latency ms ≤), each optional and positive, typed as
//   numbers with an optional K/M/G suffix ("1.5M") and committed with Enter or on leaving the
//   field. The inspector shows it when nothing is selected; the Search view places it too.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "app/gui/style.h"
#include "core/document.h"
#include "nas/space.h"

namespace fw::gui {

struct DocumentSpace {
  SearchSpace space;  // checked when error is empty; else as stored
  std::string error;  // why the stored space is not valid for the graph ("" when it is)
};
DocumentSpace space_of(const Document& doc);

// "" when stored (or unchanged), else the reason it was refused.
std::string store_space(Document& doc, const SearchSpace& s, const std::string& label);

// A values field's text: "1, 2, 3" (attr_to_string of each).
std::string value_list_text(const std::vector<AttrValue>& values);
// The reverse: comma-separated items, each an int, a number or else kept as text (check_space
// then says why it is not a value of the attribute). Empty items are skipped.
std::vector<AttrValue> parse_value_list(const std::string& text);

// The number of subnets as a person reads it: "6", "12,288", "1,000,000 (1 M)"; beyond what an
// int counts exactly, three significant digits: "3.5e+18".
std::string subnet_count_text(double n);

// A constraint's field: "" for none, else its value ("1.5M", "20"). parse_limit is the reverse:
// nullopt for "", a number with an optional K/M/G/T suffix; false when the text is not a number.
std::string limit_text(const std::optional<double>& v);
bool parse_limit(const std::string& text, std::optional<double>* out);

class SpacePanel {
 public:
  // Draws the panel into the current window. Returns the node whose choice was clicked (the
  // caller selects and reveals it), or kNoNode.
  NodeId draw(Document& doc, const Fonts& fonts);
  // The last refusal shown ("" when none).
  const std::string& error() const { return error_; }

 private:
  struct LimitField {
    char buf[64] = "";
    bool editing = false;  // typed in and not committed: keep the text
  };
  LimitField limits_[3];
  std::string error_;
  int64_t error_revision_ = -1;  // the document revision the error was shown for
};

}  // namespace fw::gui
