// The input of the attention and Grad-CAM views (one panel, shared by both): what image the
// network sees, where it came from, and what the network predicts for it.
//
// Sources
//  - the project's stored samples (meta "samples"), as thumbnails with their boxes drawn;
//  - any image file: "Open image..." (the file browser, all files) or a file dropped onto the
//    window; a .npy array [1, C, H, W] (or [C, H, W]) is taken as the network's input as is;
//  - a dataset item by index: fashion-mnist, fashion-mnist-placed or an image folder, test or
//    train split (core/datasets.h), loaded on a background job.
//  Images go through the project's input pipeline (ViewModel::pipeline(), exactly as `formwork
//  infer` prepares an image), so the tensor is the one the commands would compute.
// Every failure (a file that does not decode, a .npy with the wrong channel count, a missing
// dataset) is kept as error() and shown in the panel; the last good input stays.
//
// Input ids (the service's cache key): "sample:K", "file:/abs/path@<mtime>",
// "dataset:<name>:<split>:<index>".
//
// Predictions: a "predict" request on the service (softmax of the logits); the panel shows the
// top 5 with probabilities and class names, and the true label when the input has one.
#pragma once
#include <imgui.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/gui/style.h"
#include "app/gui/texture.h"
#include "app/gui/view_model.h"
#include "app/panels/file_browser.h"
#include "core/job.h"
#include "core/tensor.h"

namespace fw::gui {

struct ViewInput {
  std::string id;                   // the service's input id
  std::string title;                // "sample 3", "photo.png", "fashion-mnist-placed test #17"
  std::shared_ptr<const Tensor> x;  // [1, C, H, W], as given to the network
  Image shown;                      // what the network sees, as RGB (W x H of the input)
  std::optional<PixelBox> box;      // the object's box, when known
  int64_t label = -1;               // the true label, when known
};

struct Prediction {
  std::vector<float> probs;  // softmax of the logits
  int64_t top1 = 0;
};

// Where the input image was drawn this frame (the views draw their markers over it).
struct ImageArea {
  ImVec2 a{0, 0}, b{0, 0};  // screen rectangle
  bool hovered = false, clicked = false;
  ImVec2 pixel{-1, -1};  // the input pixel under the mouse (hovered)
  bool valid() const { return b.x > a.x; }
};

class InputPanel {
 public:
  InputPanel();
  ~InputPanel();

  // Once per frame before drawing: takes a loaded input, re-prepares the chosen one when the
  // model's pipeline changed, asks for the prediction.
  void update(ViewModel& vm);
  // Draws the column into a child of `size` at the cursor.
  void draw(ViewModel& vm, const Fonts& fonts, ImVec2 size);
  // The input image's rectangle, hover and click this frame.
  const ImageArea& area() const { return area_; }

  // Choices (buttons, options, drops, tests). A spec is "sample:K", "dataset:NAME:SPLIT:I" or
  // a file path. Returns "" or why the spec is not understood (usage; not a loading failure).
  std::string choose(const std::string& spec);
  void choose_sample(int k);
  void choose_file(const std::string& path);
  void choose_dataset(const std::string& name, const std::string& split, int64_t index);

  const ViewInput* input() const { return input_ ? &*input_ : nullptr; }
  const std::string& error() const { return error_; }
  bool loading() const;
  // The prediction for the current input (null until computed), its state and failure.
  std::shared_ptr<const Prediction> prediction(const ViewModel& vm) const;
  InferenceService::State prediction_state(const ViewModel& vm) const;
  std::string prediction_error(const ViewModel& vm) const;
  // Still working on something the panel shows (loading, prediction queued or running).
  bool pending(const ViewModel& vm) const;
  // What a view shows while there is no input: the reason it failed (in the error colour), or
  // that it is loading (then *pending = true), or `hint`. False when there is an input.
  bool draw_missing(const char* hint, bool* pending) const;

 private:
  struct Choice {
    enum Kind { None, Sample, File, Dataset } kind = None;
    int sample = 0;
    std::string path, dataset, split = "test";
    int64_t index = 0;
  };
  struct Loaded;
  void start(const Choice& c, ViewModel& vm);
  void draw_image(const Fonts& fonts, float side);
  void draw_sources(ViewModel& vm, const Fonts& fonts, float width);
  void draw_prediction(ViewModel& vm, const Fonts& fonts);

  Choice choice_, pending_choice_;
  bool has_pending_choice_ = false;
  int64_t prepared_for_ = -1;  // ViewModel::version() the input was prepared for
  std::optional<ViewInput> input_;
  std::string error_;
  std::unique_ptr<Job> job_;
  std::shared_ptr<Loaded> loaded_;
  Texture image_tex_;
  std::string image_tex_for_;
  std::vector<Texture> thumbs_;
  int64_t thumbs_for_ = -1;
  ImageArea area_;
  FileBrowser files_;
  int dataset_kind_ = 1;  // 0 fashion-mnist, 1 fashion-mnist-placed, 2 folder
  int split_ = 0;         // 0 test, 1 train
  int index_ = 0;
  char folder_[512] = {};
};

}  // namespace fw::gui
