// New from template: a gallery of the built-in templates (core/templates.h), each a card with its
// family, description, parameters and MACs (at 3x224x224 with 1000 classes, computed one template
// per frame the first time the gallery opens, so it never stalls the window), and the input size
// and class count to build the new project with.
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
    std::string error;
  };
  const std::vector<Stats>& stats() const { return stats_; }
  void compute_next();  // one more template's stats, if any are missing
  int selected = 0;
  int input[3] = {3, 224, 224};
  int classes = 1000;

 private:
  bool open_ = false, visible_ = false;
  std::string chosen_, error_;
  std::vector<Stats> stats_;
};

}  // namespace fw::gui
