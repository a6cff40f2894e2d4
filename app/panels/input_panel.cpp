#include "app/panels/input_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "app/gui/heatmap.h"
#include "app/gui/ui_probe.h"
#include "core/datasets.h"
#include "core/error.h"
#include "core/npy.h"

namespace fw::gui {

namespace fs = std::filesystem;

namespace {

const char* kDatasets[] = {"fashion-mnist", "fashion-mnist-placed", "image folder"};
const char* kDatasetLabels[] = {"Fashion-MNIST", "FM placed", "image folder"};
const char* kSplits[] = {"test", "train"};

// A box of the image as it was (img_w x img_h) on the pipeline's output.
std::optional<PixelBox> fit_box(const Box& b, int img_w, int img_h, const InputPipeline& p) {
  PixelBox r{b.x0, b.y0, b.x1, b.y1};
  if (img_w == p.width && img_h == p.height) return r;
  if (p.fit == Fit::Pad && img_w == p.item_width && img_h == p.item_height) {
    const int64_t ox = (p.width - p.item_width) / 2, oy = (p.height - p.item_height) / 2;
    return PixelBox{r.x0 + ox, r.y0 + oy, r.x1 + ox, r.y1 + oy};
  }
  if (p.fit == Fit::Resize) {
    const double sx = double(p.width) / img_w, sy = double(p.height) / img_h;
    return PixelBox{int64_t(std::floor(r.x0 * sx)), int64_t(std::floor(r.y0 * sy)),
                    int64_t(std::ceil(r.x1 * sx)), int64_t(std::ceil(r.y1 * sy))};
  }
  return std::nullopt;  // a crop: the box is not followed
}

ViewInput from_image(const Image8& img, const InputPipeline& p) {
  ViewInput in;
  in.x = std::make_shared<Tensor>(pipeline_tensor(img, p));
  in.shown = rgb_image(fit_image(img, p));
  return in;
}

// A .npy batch of one, checked against the network's input.
ViewInput from_npy(const std::string& path, const Shape& want) {
  Tensor x = read_npy(path);
  if (x.rank() == 3) x.shape.insert(x.shape.begin(), 1);
  const std::string expect = "[1," + std::to_string(want[0]) + "," + std::to_string(want[1]) + "," +
                             std::to_string(want[2]) + "]";
  if (x.rank() != 4 || x.dim(0) != 1)
    throw Error(fs::path(path).filename().string() + ": shape " + shape_str(x.shape) +
                " is not one image; the network expects " + expect);
  if (x.dim(1) != want[0])
    throw Error(fs::path(path).filename().string() + ": has " + std::to_string(x.dim(1)) +
                " channels; the network expects " + std::to_string(want[0]) + " (" + expect + ")");
  if (x.dim(2) != want[1] || x.dim(3) != want[2])
    throw Error(fs::path(path).filename().string() + ": is " + std::to_string(x.dim(2)) + "x" +
                std::to_string(x.dim(3)) + "; the network expects " + std::to_string(want[1]) +
                "x" + std::to_string(want[2]) + " (" + expect + ")");
  for (int64_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x.data[size_t(i)]))
      throw Error(fs::path(path).filename().string() + ": element " + std::to_string(i) +
                  " is not finite");
  ViewInput in;
  const Image im = image_from_chw(x.ptr(), x.dim(1), x.dim(2), x.dim(3));
  in.shown = im;
  in.x = std::make_shared<Tensor>(std::move(x));
  return in;
}

bool is_npy(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
}

}  // namespace

struct InputPanel::Loaded {
  std::mutex mu;
  std::optional<ViewInput> input;
  std::string error;
};

InputPanel::InputPanel() = default;
InputPanel::~InputPanel() {
  if (job_) job_->control().cancel = true;
  job_.reset();
}

// A finished job counts until its result is taken (the next frame), so "settled" never comes early.
bool InputPanel::loading() const { return job_ && (!job_->finished() || loaded_ != nullptr); }

std::string InputPanel::choose(const std::string& spec) {
  if (spec.rfind("sample:", 0) == 0) {
    const std::string k = spec.substr(7);
    char* end = nullptr;
    const long v = std::strtol(k.c_str(), &end, 10);
    if (k.empty() || *end || v < 0) return "--input " + spec + ": expected sample:K with K from 0";
    choose_sample(int(v));
    return "";
  }
  if (spec.rfind("dataset:", 0) == 0) {
    // dataset:NAME:SPLIT:INDEX (NAME may be a directory holding ':' only at its end... keep simple)
    const size_t c3 = spec.rfind(':'), c2 = c3 == std::string::npos ? c3 : spec.rfind(':', c3 - 1);
    if (c2 == std::string::npos || c2 <= 8)
      return "--input " + spec + ": expected dataset:NAME:SPLIT:INDEX";
    const std::string name = spec.substr(8, c2 - 8), split = spec.substr(c2 + 1, c3 - c2 - 1);
    char* end = nullptr;
    const long long i = std::strtoll(spec.c_str() + c3 + 1, &end, 10);
    if (*end || i < 0 || (split != "test" && split != "train"))
      return "--input " + spec + ": expected dataset:NAME:test|train:INDEX";
    choose_dataset(name, split, i);
    return "";
  }
  choose_file(spec);
  return "";
}

void InputPanel::choose_sample(int k) {
  pending_choice_ = Choice{};
  pending_choice_.kind = Choice::Sample;
  pending_choice_.sample = k;
  has_pending_choice_ = true;
}

void InputPanel::choose_file(const std::string& path) {
  pending_choice_ = Choice{};
  pending_choice_.kind = Choice::File;
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  pending_choice_.path = ec ? path : abs.lexically_normal().string();
  has_pending_choice_ = true;
}

void InputPanel::choose_dataset(const std::string& name, const std::string& split, int64_t index) {
  pending_choice_ = Choice{};
  pending_choice_.kind = Choice::Dataset;
  pending_choice_.dataset = name;
  pending_choice_.split = split;
  pending_choice_.index = index;
  has_pending_choice_ = true;
}

void InputPanel::start(const Choice& c, ViewModel& vm) {
  prepared_for_ = vm.version();
  if (c.kind == Choice::None) return;
  if (!vm.pipeline() && !(c.kind == Choice::File && is_npy(c.path))) {
    error_ = vm.pipeline_error().empty() ? "No input pipeline for this graph" : vm.pipeline_error();
    return;
  }
  if (c.kind == Choice::Sample) {
    // Stored samples are small PNGs already in memory: prepared here, at once.
    const auto& samples = vm.samples();
    if (c.sample >= int(samples.size())) {
      error_ = "sample " + std::to_string(c.sample) + ": the project has " +
               std::to_string(samples.size()) + " stored samples" +
               (samples.empty() ? "" : " (0.." + std::to_string(samples.size() - 1) + ")");
      return;
    }
    const StoredSample& s = samples[size_t(c.sample)];
    try {
      if (!s.error.empty()) throw Error(s.error);
      const auto& blob = vm.project().blobs.at(s.blob).second;
      ViewInput in =
          from_image(decode_image(blob, vm.pipeline()->channels, s.blob), *vm.pipeline());
      in.id = "sample:" + std::to_string(c.sample);
      in.title = "sample " + std::to_string(c.sample);
      in.box = s.box;
      in.label = s.label;
      input_ = std::move(in);
      error_.clear();
    } catch (const std::exception& e) {
      error_ = e.what();
    }
    return;
  }
  // Files and dataset items: on a background job (decoding, loading a dataset).
  if (job_) job_->control().cancel = true;
  job_.reset();
  loaded_ = std::make_shared<Loaded>();
  job_ = std::make_unique<Job>();
  const std::optional<InputPipeline> pipe = vm.pipeline();
  const Shape want = vm.input_shape();
  job_->start([c, pipe, want, out = loaded_](JobControl& ctl) {
    try {
      ViewInput in;
      if (c.kind == Choice::File) {
        std::error_code ec;
        const auto t = fs::last_write_time(c.path, ec);
        if (ec) throw Error(c.path + ": cannot open (" + ec.message() + ")");
        if (is_npy(c.path)) {
          if (want.size() != 3) throw Error("the graph has no image input");
          in = from_npy(c.path, want);
        } else {
          in = from_image(read_image(c.path, pipe->channels), *pipe);
        }
        in.id = "file:" + c.path + "@" + std::to_string(t.time_since_epoch().count());
        in.title = fs::path(c.path).filename().string();
      } else {
        LoadOptions o;
        o.normalization = false;
        o.threads = 1;
        const bool folder = c.dataset != "fashion-mnist" && c.dataset != "fashion-mnist-placed" &&
                            c.dataset != "fashion_mnist" && c.dataset != "fashion_mnist_placed";
        if (!folder)
          o.limit = c.index + 1;  // the first items do not depend on the limit
        else
          o.channels = pipe->channels;
        const Dataset ds = load_dataset(c.dataset, c.split, o);
        if (ctl.cancelled()) return;
        if (c.index >= ds.size())
          throw Error(c.dataset + " " + c.split + " #" + std::to_string(c.index) +
                      ": out of range (the split has " + std::to_string(ds.size()) + " items)");
        const Image8 img = sample_image(ds, c.index);
        in = from_image(img.channels == pipe->channels
                            ? img
                            : (pipe->channels == 3 ? [&] {
                                Image8 rgb(img.width, img.height, 3);
                                for (size_t i = 0; i < size_t(img.width) * img.height; ++i)
                                  for (int k = 0; k < 3; ++k) rgb.data[i * 3 + size_t(k)] = img.data[i];
                                return rgb;
                              }()
                                                   : img),
                        *pipe);
        if (!ds.boxes.empty())
          in.box = fit_box(ds.boxes[size_t(c.index)], img.width, img.height, *pipe);
        in.label = ds.labels[size_t(c.index)];
        in.id = "dataset:" + c.dataset + ":" + c.split + ":" + std::to_string(c.index);
        in.title = (folder ? fs::path(c.dataset).filename().string() : c.dataset) + " " + c.split +
                   " #" + std::to_string(c.index);
      }
      std::lock_guard<std::mutex> lk(out->mu);
      out->input = std::move(in);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lk(out->mu);
      out->error = e.what();
    }
  });
}

void InputPanel::update(ViewModel& vm) {
  if (has_pending_choice_) {
    has_pending_choice_ = false;
    choice_ = pending_choice_;
    start(choice_, vm);
  } else if (prepared_for_ != vm.version()) {
    if (choice_.kind == Choice::None && !vm.samples().empty()) choice_.kind = Choice::Sample;
    start(choice_, vm);  // the pipeline may have changed: the same choice, prepared again
  }
  if (job_ && job_->finished() && loaded_) {
    std::lock_guard<std::mutex> lk(loaded_->mu);
    if (loaded_->input) {
      input_ = std::move(loaded_->input);
      error_.clear();
    } else if (!loaded_->error.empty()) {
      error_ = loaded_->error;
    }
    loaded_.reset();
  }
  if (input_ && vm.problem().empty()) {
    auto x = input_->x;
    vm.service().request(input_->id, "predict", [x](InferenceService::Context& c) {
      const std::vector<Tensor> out = c.ex.forward({*x}, RunOptions{});
      const Tensor& logits = out.at(0);
      if (logits.rank() != 2)
        throw Error("the output is " + shape_str(logits.shape) + ", not logits");
      auto p = std::make_shared<Prediction>();
      const int64_t k = logits.dim(1);
      p->probs.resize(size_t(k));
      float mx = logits.data[0];
      for (int64_t i = 0; i < k; ++i) mx = std::max(mx, logits.data[size_t(i)]);
      double sum = 0;
      for (int64_t i = 0; i < k; ++i)
        sum += p->probs[size_t(i)] = std::exp(logits.data[size_t(i)] - mx);
      for (float& v : p->probs) v = float(v / sum);
      p->top1 = std::max_element(p->probs.begin(), p->probs.end()) - p->probs.begin();
      return InferenceService::Result(p);
    });
  }
}

std::shared_ptr<const Prediction> InputPanel::prediction(const ViewModel& vm) const {
  if (!input_) return nullptr;
  const auto s = vm.service().get(input_->id, "predict");
  if (s.state != InferenceService::State::Done) return nullptr;
  return std::static_pointer_cast<const Prediction>(s.result);
}

InferenceService::State InputPanel::prediction_state(const ViewModel& vm) const {
  if (!input_) return InferenceService::State::Absent;
  return vm.service().get(input_->id, "predict").state;
}

std::string InputPanel::prediction_error(const ViewModel& vm) const {
  if (!input_) return "";
  return vm.service().get(input_->id, "predict").error;
}

bool InputPanel::pending(const ViewModel& vm) const {
  if (loading() || has_pending_choice_) return true;
  if (!input_ || !vm.problem().empty()) return false;
  const auto st = prediction_state(vm);
  return st == InferenceService::State::Queued || st == InferenceService::State::Running ||
         st == InferenceService::State::Absent;
}

// ---- Drawing ------------------------------------------------------------------------------------

bool InputPanel::draw_missing(const char* hint, bool* pending) const {
  if (input()) return false;
  if (!error().empty() && !loading()) {
    text_error("No input", error());
    return true;
  }
  ImGui::TextDisabled("%s", loading() ? "Loading the input\xE2\x80\xA6" : hint);
  if (loading()) *pending = true;
  return true;
}

namespace {
void draw_box(ImDrawList* dl, const PixelBox& b, ImVec2 a, float sx, float sy, ImU32 col, float t) {
  dl->AddRect(ImVec2(a.x + float(b.x0) * sx, a.y + float(b.y0) * sy),
              ImVec2(a.x + float(b.x1) * sx, a.y + float(b.y1) * sy), col, 0, 0, t);
}
constexpr ImU32 kBoxColour = palette::rgb(0x6cc38b);  // the object box: green
}  // namespace

void InputPanel::draw_image(const Fonts& fonts, float side) {
  area_ = ImageArea{};
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  if (!input_) {
    ImGui::Dummy(ImVec2(side, side));
    dl->AddRectFilled(p, ImVec2(p.x + side, p.y + side), palette::kPanel);
    const char* t = loading() ? "loading\xE2\x80\xA6" : "no input";
    const ImVec2 ts = ImGui::CalcTextSize(t);
    dl->AddText(ImVec2(p.x + (side - ts.x) / 2, p.y + (side - ts.y) / 2), palette::kTextDim, t);
    return;
  }
  if (image_tex_for_ != input_->id || image_tex_.empty()) {
    image_tex_.set(input_->shown, false);  // nearest: the pixels the network sees
    image_tex_for_ = input_->id;
  }
  const float aspect = float(input_->shown.h) / float(std::max(1, input_->shown.w));
  const ImVec2 size(side, side * aspect);
  ImGui::InvisibleButton("##input_image", size);
  area_.a = p;
  area_.b = ImVec2(p.x + size.x, p.y + size.y);
  area_.hovered = ImGui::IsItemHovered();
  area_.clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
  const float sx = size.x / float(input_->shown.w), sy = size.y / float(input_->shown.h);
  if (area_.hovered) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    area_.pixel = ImVec2(std::clamp((m.x - p.x) / sx, 0.0f, float(input_->shown.w) - 0.01f),
                         std::clamp((m.y - p.y) / sy, 0.0f, float(input_->shown.h) - 0.01f));
  }
  draw_texture(dl, image_tex_, area_.a, area_.b);
  if (input_->box) draw_box(dl, *input_->box, p, sx, sy, kBoxColour, 2);
  if (probe::enabled())
    if (probe::Drawn* d = probe::drawn_item("map", "input")) {
      d->text = input_->title;
      d->count = int(input_->shown.w);
    }
  (void)fonts;
}

void InputPanel::draw_sources(ViewModel& vm, const Fonts& fonts, float width) {
  // Stored samples: thumbnails with their boxes; a click picks one.
  const auto& samples = vm.samples();
  if (thumbs_for_ != vm.version()) {
    thumbs_.clear();
    thumbs_.resize(samples.size());
    for (size_t i = 0; i < samples.size(); ++i)
      if (samples[i].error.empty()) thumbs_[i].set(rgb_image(samples[i].image), false);
    thumbs_for_ = vm.version();
  }
  ImGui::PushFont(fonts.bold);
  ImGui::TextUnformatted("Stored samples");
  ImGui::PopFont();
  if (samples.empty()) {
    ImGui::TextDisabled("This project stores no samples.");
  } else {
    const float gap = ImGui::GetStyle().ItemSpacing.x;
    const int per_row = 4;
    const float t = std::floor((width - gap * (per_row - 1)) / per_row);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    for (size_t i = 0; i < samples.size(); ++i) {
      if (i % per_row) ImGui::SameLine();
      const ImVec2 p = ImGui::GetCursorScreenPos();
      ImGui::PushID(int(i));
      const bool clicked = ImGui::InvisibleButton("##thumb", ImVec2(t, t));
      ImGui::PopID();
      const bool selected = input_ && input_->id == "sample:" + std::to_string(i);
      const ImVec2 q(p.x + t, p.y + t);
      draw_texture(dl, thumbs_[i], p, q);
      const StoredSample& s = samples[i];
      if (s.box && s.image.width > 0)
        draw_box(dl, *s.box, p, t / float(s.image.width), t / float(s.image.height), kBoxColour, 1);
      dl->AddRect(p, q, selected ? palette::kAccent : palette::kBorder, 0, 0, selected ? 2.5f : 1);
      char label[24];
      std::snprintf(label, sizeof label, "%zu", i);
      dl->AddText(ImVec2(p.x + 3, p.y + 1), palette::kText, label);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("sample %zu: %s%s", i,
                          s.label >= 0 ? vm.class_name(s.label).c_str() : "?",
                          s.error.empty() ? "" : (" \xE2\x80\x94 " + s.error).c_str());
      probe::note("input:sample:" + std::to_string(i));
      if (probe::enabled())
        if (probe::Drawn* d = probe::drawn_item("sample", std::to_string(i)))
          d->flag("selected", selected);
      if (clicked) choose_sample(int(i));
    }
  }
  ImGui::Spacing();
  if (ImGui::Button("Open image\xE2\x80\xA6")) {
    files_.filter = 1;
    files_.open(FileBrowser::Mode::Open, vm.project_path().empty()
                                             ? ""
                                             : fs::path(vm.project_path()).parent_path().string());
  }
  probe::note("input:open");
  ImGui::SameLine();
  ImGui::TextDisabled("(or drop a file here)");
  // A dataset item by index.
  ImGui::SetNextItemWidth(width * 0.55f);
  ImGui::Combo("##dataset", &dataset_kind_, kDatasetLabels, 3);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(width * 0.45f - ImGui::GetStyle().ItemSpacing.x);
  ImGui::Combo("##split", &split_, kSplits, 2);
  if (dataset_kind_ == 2) {
    ImGui::SetNextItemWidth(width);
    ImGui::InputTextWithHint("##folder", "image folder path", folder_, sizeof folder_);
  }
  ImGui::SetNextItemWidth(width * 0.55f);
  ImGui::InputInt("##index", &index_);
  index_ = std::max(0, index_);
  ImGui::SameLine();
  ImGui::BeginDisabled(loading() || (dataset_kind_ == 2 && !folder_[0]));
  if (ImGui::Button("Load item", ImVec2(-1, 0)))
    choose_dataset(dataset_kind_ == 2 ? std::string(folder_) : kDatasets[dataset_kind_],
                   kSplits[split_], index_);
  probe::note("input:load");
  ImGui::EndDisabled();
  if (files_.draw(fonts)) choose_file(files_.chosen());
}

void InputPanel::draw_prediction(ViewModel& vm, const Fonts& fonts) {
  ImGui::PushFont(fonts.bold);
  ImGui::TextUnformatted("Prediction");
  ImGui::PopFont();
  if (!input_) return;
  if (!vm.problem().empty()) {
    ImGui::TextDisabled("none: the model cannot run");
    return;
  }
  const auto pred = prediction(vm);
  if (!pred) {
    const std::string err = prediction_error(vm);
    if (!err.empty()) {
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
      ImGui::TextWrapped("%s", err.c_str());
      ImGui::PopStyleColor();
    } else {
      ImGui::TextDisabled("computing\xE2\x80\xA6");
    }
    return;
  }
  std::vector<int64_t> order(pred->probs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return pred->probs[size_t(a)] > pred->probs[size_t(b)];
  });
  const float w = ImGui::GetContentRegionAvail().x;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (size_t r = 0; r < std::min<size_t>(5, order.size()); ++r) {
    const int64_t k = order[r];
    const float prob = pred->probs[size_t(k)];
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float h = ImGui::GetTextLineHeight();
    dl->AddRectFilled(ImVec2(p.x, p.y + 1), ImVec2(p.x + w * prob, p.y + h - 1),
                      k == input_->label ? palette::rgb(0x2f5a3d) : palette::rgb(0x27405c));
    char buf[96];
    std::snprintf(buf, sizeof buf, "%5.1f%%  %s%s", 100.0 * prob, vm.class_name(k).c_str(),
                  k == input_->label ? "  \xE2\x9C\x93" : "");
    ImGui::TextUnformatted(buf);
    if (probe::enabled())
      if (probe::Drawn* d = probe::drawn_item("prediction", std::to_string(k))) {
        d->text = buf;
        d->count = int(r);
      }
  }
  if (input_->label >= 0) {
    const bool right = pred->top1 == input_->label;
    ImGui::PushStyleColor(ImGuiCol_Text, right ? palette::kOk : palette::kWarning);
    ImGui::Text("true label: %s (%s)", vm.class_name(input_->label).c_str(),
                right ? "top-1 right" : "top-1 wrong");
    ImGui::PopStyleColor();
  }
}

void InputPanel::draw(ViewModel& vm, const Fonts& fonts, ImVec2 size) {
  ImGui::BeginChild("input_panel", size, true);
  ImGui::PushFont(fonts.bold);
  ImGui::TextUnformatted("Input");
  ImGui::PopFont();
  ImGui::SameLine();
  ImGui::TextDisabled("%s", input_ ? input_->title.c_str() : "");
  const float w = ImGui::GetContentRegionAvail().x;
  draw_image(fonts, std::min(w, size.y * 0.42f));
  if (!error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextWrapped("\xE2\x9A\xA0 %s", error_.c_str());
    ImGui::PopStyleColor();
    if (probe::enabled())
      if (probe::Drawn* d = probe::drawn_item("input_error", "input")) {
        d->text = error_;
        d->ink = palette::kError;
      }
  } else if (loading()) {
    ImGui::TextDisabled("loading\xE2\x80\xA6");
  }
  ImGui::Spacing();
  draw_prediction(vm, fonts);
  ImGui::Separator();
  draw_sources(vm, fonts, w);
  ImGui::EndChild();
}

}  // namespace fw::gui
