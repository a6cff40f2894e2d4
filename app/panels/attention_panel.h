// The attention view (`--view attention`): how tokens mix, for the query token under the mouse.
//
// - Mixer: any token mixer of the graph (views/mixing.h token_mixers: attention, pooling,
//   sep-conv, random mixing, identity), from the list or the node selected in the editor;
//   default: the first attention node. A second mixer can be shown beside it ("compare"), for the
//   same query position: the query is an input pixel, mapped to each mixer's own grid.
// - The query: the token under the mouse on the input image or on any map; a click pins it
//   (click again to unpin); otherwise the pinned one, else the token at the centre of the
//   input's box (or of the image).
// - Attention nodes: each head's attention row of the query as a map over the image in a grid of
//   heads, plus their mean, on one colour scale of probabilities; each head's full N x N matrix
//   as a zoomable heat map (the query's row marked); attention rollout (views/mixing.h
//   attention_rollout) over a stage or the whole network, the query's row as a map.
// - A model with a class token (ViT): the query can be the class token ("class token" box, on by
//   default), whose attention rows and rollout row are then the maps (column 0 left out).
// - Other mixers: the effective mixing map (views/mixing.h mixing_map, the query's row):
//   ||d y_query / d x_j||_F over the input tokens j, with its colour scale.
// - Pictures: each mixer's maps, query cell and colour scale are views::attention_picture
//   (views/view_pictures.h) drawn on an ImGuiCanvas; "Export picture…" writes the same picture
//   (the compared mixer's below the shown one's). The hover and click picking over the maps and
//   the zoomable N x N matrices stay ImGui.
#pragma once
#include <imgui.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/heatmap.h"
#include "app/gui/texture.h"
#include "app/gui/view_model.h"
#include "app/panels/input_panel.h"
#include "views/mixing.h"
#include "views/view_pictures.h"

namespace fw::gui {

class AttentionPanel {
 public:
  void draw(ViewModel& vm, InputPanel& input, const AppState& app, const Fonts& fonts, ImVec2 size);

  // The view's state (options, tests).
  std::string layer;             // the mixer shown; "" = the default
  std::string compare;           // a second mixer beside it; "" = none
  bool rollout = true;           // attention: also the rollout of the query's row
  std::string rollout_under;     // "" = the whole network
  std::optional<int64_t> query;  // pinned: a token of the shown mixer's grid (set_query)
  // With a class token in front (ViT): the query is the class token (the standard rollout view:
  // its row without column 0, over the patch grid). Default on; `query` 0 sets it too.
  bool class_token_query = true;
  Colormap cmap = Colormap::Viridis;
  float matrix_cell = 0;  // px per cell of the N x N matrices; 0 = fit

  const std::vector<MixerInfo>& mixers(const ViewModel& vm);
  std::string shown_layer(const ViewModel& vm);
  // The query token of the shown mixer this frame (-1: none).
  int64_t query_token() const { return query_token_; }
  bool pending() const { return pending_; }
  const std::string& state() const { return state_; }
  // The picture of the maps drawn in the last frame (views/view_pictures.h): the shown mixer's,
  // with the compared mixer's below it when one is shown; what "Export picture…" writes (the
  // button is disabled before any maps are drawn; then a one-line picture that says so).
  views::Picture picture() const;
  // Where the shown mixer's picture was drawn (with no compared mixer, picture() drawn there is
  // the screen's drawing).
  const views::Transform& picture_transform() const;
  // The pictures drawn on screen in the last frame and where: the shown mixer's, then the
  // compared mixer's.
  std::vector<std::pair<views::Picture, views::Transform>> screen_pictures() const;
  // True once after "Export picture…" was clicked.
  bool take_export() { return std::exchange(export_asked_, false); }
  // Tests: every later frame's picture drawing also goes to `c` (nullptr: no longer).
  void set_tee(views::Canvas* c) { tee_ = c; }

 private:
  struct Shown {
    views::AttentionPicture picture;
    views::Transform at;
  };
  void refresh_lists(const ViewModel& vm);
  const MixerInfo* find_mixer(const std::string& path) const;
  void draw_mixer(ViewModel& vm, const ViewInput& in, const MixerInfo& m, const Fonts& fonts,
                  float width, float height, bool primary);
  // A map tile of the picture: `row` [h, w] over the input image (bilinear, 0..hi), its pixels
  // remade when `source` (what the row was taken from) changes.
  views::MapTile map_tile(const std::string& id, const ViewInput& in, const MixerInfo& m,
                          const float* row, float hi, const std::string& source,
                          const std::string& caption, bool stale);
  // Draws `a` at the cursor on the window's draw list (and the tee), then picks over its maps
  // (rows[i]: the values under tile i) the hovered key token and a click's pin.
  void show_picture(const views::AttentionPicture& a, const ViewInput& in, const MixerInfo& m,
                    const std::vector<const float*>& rows, const Fonts& fonts, bool primary);
  std::shared_ptr<const void> fetch(ViewModel& vm, const std::string& input_id,
                                    const std::string& what, InferenceService::Work work,
                                    std::string* error, bool* stale);

  int64_t lists_for_ = -1;
  std::vector<MixerInfo> mixers_;
  std::vector<std::string> stages_with_attention_;
  std::string lists_error_;
  std::optional<ImVec2> pinned_px_;  // the pinned query as an input pixel
  ImVec2 query_px_{-1, -1};          // this frame's query pixel
  std::optional<ImVec2> hover_px_;   // hovered in the last frame
  bool hover_now_ = false;
  int64_t query_token_ = -1;
  std::map<std::string, std::shared_ptr<const void>> last_;  // "what" without query -> result
  std::map<std::string, std::pair<std::string, Texture>> tex_;                 // the matrices
  std::map<std::string, std::pair<std::string, views::PictureImage>> images_;  // made from, image
  std::optional<Shown> shown_, compared_;  // the pictures drawn in the last frame
  views::Canvas* tee_ = nullptr;
  bool export_asked_ = false;
  bool pending_ = false;
  std::string state_ = "no input";
};

}  // namespace fw::gui
