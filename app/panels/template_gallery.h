// New from template: a gallery of the built-in templates (core/templates.h), each a card with its
// family, description, default input size, parameters and MACs (at that size, computed one
// template per frame the first time the gallery opens, so it never stalls the window); the new
// project is built at the template's default size and class count, or at the ones given.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "app/gui/style.h"
#include "core/templates.h"

namespace fw::gui {

class TemplateGallery {
 public:
  void open();
  bool is_open() const { return open_ || visible_; }
  // Draws the modal while open; true once when the user chose (chosen(), options()).
  bool draw(const Fonts& fonts);
  const std::string& chosen() const { return chosen_; }
  TemplateOptions options() const;

  // Parameters and MACs of template i (computed lazily; `done` false until then).
  struct Stats {
    bool done = false;
    int64_t params = 0, macs = 0;
    std::string input;  // default input shape, "3×224×224"
    int64_t classes = 0;
    std::string error;
  };
  const std::vector<Stats>& stats() const { return stats_; }
  void compute_next();  // one more template's stats, if any are missing
  int selected = 0;
  bool use_defaults = true;  // the template's own input size and class count
  int input[3] = {3, 224, 224};
  int classes = 1000;

 private:
  bool open_ = false, visible_ = false;
  std::string chosen_, error_;
  std::vector<Stats> stats_;
};

}  // namespace fw::gui
