// The Grad-CAM view (`--view gradcam`): where the network looks for a class.
//
// - Target: any node whose output is a feature map or a token grid (views/gradcam.h layer_grid):
//   the stages, their blocks and the blocks' token mixers, or the node selected in the editor;
//   default: the last stage. Class: the top-1 prediction or any class (by name). Method:
//   Grad-CAM or Grad-CAM++.
// - The cam as an overlay on the input (views/faithfulness.h saliency(): bilinear to the input's
//   size, the same S the scores rank), with an opacity slider and a colour map; the raw map at
//   its own resolution beside it with a colour scale of its values.
// - Faithfulness (views/faithfulness.h): deletion and insertion curves and AUCs, and, when the
//   input has a box, the pointing game (the box and the peak drawn on the overlay).
// - A strip with the map of every stage at once (same class and method).
// Everything is a request on the ViewModel's service; results of an older model stay on screen
// marked "recomputing" until the new ones arrive, and a failed request shows its reason where the
// map would be.
#pragma once
#include <imgui.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/heatmap.h"
#include "app/gui/texture.h"
#include "app/gui/view_model.h"
#include "app/panels/input_panel.h"
#include "views/faithfulness.h"
#include "views/gradcam.h"
#include "views/view_pictures.h"

namespace fw::gui {

struct CamResult {
  Tensor cam;       // [h, w], raw
  Tensor saliency;  // [H, W], upsampled
  int64_t cls = 0;
  std::string note;  // views/gradcam.h CamDiagnostics::note (a degenerate HiResCAM map)
};

class GradcamPanel {
 public:
  void draw(ViewModel& vm, InputPanel& input, const AppState& app, const Fonts& fonts, ImVec2 size);

  // The view's state (options, tests). layer "" = the default (the last stage); cls -1 = top-1.
  std::string layer;
  int64_t cls = -1;
  CamMethod method = CamMethod::GradCam;
  Colormap cmap = Colormap::Turbo;
  float opacity = 0.5f;

  // The layer shown (the default resolved), "" when there is none.
  std::string shown_layer(const ViewModel& vm);
  const std::vector<std::string>& targets(const ViewModel& vm);
  const std::vector<std::string>& stages(const ViewModel& vm);
  // The picture of the maps and scores drawn in the last frame (views/view_pictures.h), and where:
  // what "Export picture…" writes, and what a test compares the screen with.
  views::Picture picture() const { return views::gradcam_picture(picture_); }
  const views::Transform& picture_transform() const { return transform_; }
  // True once after "Export picture…" was clicked.
  bool take_export() { return std::exchange(export_asked_, false); }
  // Tests: every later frame's picture drawing also goes to `c` (nullptr: no longer).
  void set_tee(views::Canvas* c) { tee_ = c; }
  // Requests asked for in the last frame that are not finished.
  bool pending() const { return pending_; }
  // "ready", "computing", "recomputing", "failed", "no input", "no model".
  const std::string& state() const { return state_; }

 private:
  struct Shown {
    std::string key;  // input|what, of the result shown
    std::shared_ptr<const void> result;
    bool stale = false;
  };
  // Asks for (input, what) and returns what to show: the result, or the last one of this slot
  // (stale) while it computes. `error` gets a failure's reason.
  std::shared_ptr<const void> fetch(ViewModel& vm, const std::string& slot,
                                    const std::string& input_id, const std::string& what,
                                    InferenceService::Work work, bool* stale, std::string* error,
                                    bool* running);
  void refresh_lists(const ViewModel& vm);
  void controls(ViewModel& vm, const AppState& app, const Fonts& fonts, int64_t top1);

  int64_t lists_for_ = -1;
  std::vector<std::string> targets_, stages_;
  std::map<std::string, Shown> shown_;  // per slot: "cam", "faith", "strip:<layer>"
  std::map<std::string, std::pair<std::string, Texture>> tex_;  // slot -> (made from, texture)
  std::map<std::string, std::pair<std::string, views::PictureImage>> images_;  // made from, image
  views::GradcamPicture picture_;
  views::Transform transform_;
  views::Canvas* tee_ = nullptr;
  bool export_asked_ = false;
  bool pending_ = false;
  std::string state_ = "no input";
};

}  // namespace fw::gui
