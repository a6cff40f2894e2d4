#include "app/panels/training_panel.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "app/gui/form_rows.h"
#include "app/gui/ui_probe.h"
#include "core/format.h"
#include "kernels/train/project_run.h"

namespace fw::gui {

using Phase = TrainingLive::Phase;

namespace {

const char* const kDatasets[] = {"Fashion-MNIST", "Fashion-MNIST placed",
                                 "Image folder\xE2\x80\xA6"};

std::string dataset_name(const TrainingForm& f) {
  if (f.dataset == 0) return "fashion-mnist";
  if (f.dataset == 1) return "fashion-mnist-placed";
  return f.folder;
}

void set_dataset(TrainingForm& f, const std::string& name) {
  if (name == "fashion-mnist" || name == "fashion_mnist") {
    f.dataset = 0;
  } else if (name == "fashion-mnist-placed" || name == "fashion_mnist_placed") {
    f.dataset = 1;
  } else {
    f.dataset = 2;
    std::snprintf(f.folder, sizeof f.folder, "%s", name.c_str());
  }
}

// The graph's single input [C,H,W], or empty.
Shape input_shape(const Document& doc) {
  const std::vector<NodeId> ins = doc.graph().top_level_of_kind("input");
  if (ins.size() != 1) return {};
  const NodeInfo* info = doc.analysis().of(ins[0]);
  return info && !info->out.empty() ? info->out[0] : Shape{};
}

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100 * v);
  return b;
}

bool input_f64(const char* id, double* v, double lo, double hi, const char* fmt) {
  double x = *v;
  if (!ImGui::InputDouble(id, &x, 0, 0, fmt)) return false;
  if (!std::isfinite(x)) return false;
  *v = std::clamp(x, lo, hi);
  return true;
}

ImU32 with_alpha(ImU32 c, unsigned a) {
  return (c & ~IM_COL32_A_MASK) | (ImU32(a) << IM_COL32_A_SHIFT);
}

}  // namespace

// ---- Project state
// ----------------------------------------------------------------------------------

void TrainingPanel::refresh(const AppState& app) {
  runs_path_ = app.path;
  runs_.clear();
  run_rows_.clear();
  weight_shapes_.clear();
  epochs_done_ = 0;
  load_error_.clear();
  if (app.source == Source::Project && !app.path.empty()) {
    try {
      ProjectData p = load_project(app.path);
      for (auto& [name, t] : p.weights) weight_shapes_[name] = t.shape;
      epochs_done_ = last_run(p).epochs_done;
      runs_ = std::move(p.runs);
    } catch (const std::exception& e) {
      load_error_ = e.what();
    }
  }
  for (const TrainingRun& r : runs_) {
    RunRow row;
    for (const EpochResult& e : epoch_results(r.curve)) {
      ++row.epochs;
      row.best = std::max(row.best, e.test_top1);
    }
    run_rows_.push_back(row);
  }
  selected_ = runs_.empty() ? -1 : int(runs_.size()) - 1;
  shown_run_ = kNoCurves;  // the stored runs may have changed under the same index
}

void TrainingPanel::fill_form(const AppState& app) {
  if (form_.for_path == app.path && form_.filled) return;
  const bool first = !form_.filled;
  form_.for_path = app.path;
  form_.filled = true;
  if (!runs_.empty()) {  // the project's last run: its settings, continued if it was stopped
    form_.from = TrainFrom::Scratch;
    try {
      form_.s = TrainSettings::from_json(runs_.back().settings_json);
    } catch (const std::exception&) {
      form_.s = TrainSettings{};
    }
    set_dataset(form_, form_.s.dataset);
    if (epochs_done_ < form_.s.epochs && runs_.back().status != "done")
      form_.from = TrainFrom::Continue;
  } else if (first) {  // defaults that suit the input; later (Save As, Open) the user's are kept
    const Shape in = input_shape(app.doc);
    form_.dataset = in.size() == 3 && in[1] == 64 ? 1 : 0;
  } else {
    form_.from = TrainFrom::Scratch;
  }
}

std::string TrainingPanel::start_blocker(const AppState& app) const {
  if (session_.active()) return "A run is in progress.";
  if (!app.busy_path.empty() && app.busy_path == app.path && app.busy_what == "a search")
    return "A search is writing this project: wait for it or stop it first (Search view).";
  if (!app.doc.analysis().ok())
    return "The graph has problems: fix them in the editor first (see Problems).";
  if (app.bundled)
    return "This is the bundled sample, which is never written to: save it as your own project "
           "first (Save As).";
  if (app.source != Source::Project || app.path.empty())
    return "A run stores its weights and curves in a project file: save the document as a "
           ".formwork project first (Save As).";
  if (form_.dataset == 2 && std::strlen(form_.folder) == 0)
    return "Give the image folder (one sub-folder per class).";
  if (form_.from == TrainFrom::Continue && runs_.empty())
    return "The project has no run to continue.";
  if (form_.from == TrainFrom::Continue && form_.s.epochs <= epochs_done_)
    return "The last run already has " + std::to_string(epochs_done_) +
           " epochs: ask for more to continue it.";
  if (form_.from != TrainFrom::Continue) {
    std::string why = form_.s.problem();  // the same rules as `formwork train`
    if (!why.empty()) {
      why[0] = char(std::toupper(static_cast<unsigned char>(why[0])));
      return why + ".";
    }
  }
  return "";
}

std::string TrainingPanel::start(AppState& app) {
  message_ = start_blocker(app);
  if (!message_.empty()) return message_;
  if (app.doc.dirty()) {
    if (form_.from == TrainFrom::Continue) {
      message_ =
          "Continuing a run trains the graph stored in the project; save or undo the "
          "unsaved changes first.";
      return message_;
    }
    if (save(app) != SaveResult::Saved) {
      message_ = "The project could not be saved, so the run did not start.";
      return message_;
    }
    refresh(app);
  }
  TrainingRequest req;
  req.path = app.path;
  req.graph = app.doc.graph();
  req.settings = form_.s;
  req.settings.dataset = dataset_name(form_);
  req.from = form_.from;
  req.backend = &app.device.backend();
  message_ = session_.start(std::move(req));
  if (message_.empty()) {
    const Backend& on = app.device.backend();
    app.status = {Message::Info, "Training " + app.name + " on " + dataset_name(form_) +
                                     (&on == &cpu_backend() ? "" : " (" + device_label(on) + ")")};
    seen_phase_ = Phase::Loading;
  }
  return message_;
}

bool TrainingPanel::showing_live(const AppState& app) const {
  const TrainingLive& l = session_.live();
  if (l.phase == Phase::Idle) return false;
  if (session_.active())
    return l.path == app.path || app.path.empty() || selected_ < 0 ||
           selected_ == int(runs_.size()) - 1;
  // A finished run: shown while its project is open and its run is the one selected.
  return l.path == app.path && selected_ == int(runs_.size()) - 1;
}

// ---- Drawing
// ----------------------------------------------------------------------------------------

TrainingPanel::Request TrainingPanel::draw(AppState& app, const Fonts& fonts, float height) {
  const TrainingLive& live = session_.live();
  if (app.path != runs_path_) refresh(app);
  if (live.phase != seen_phase_) {
    // A run that started writing or ended: read the project's runs again.
    const bool ended =
        live.phase == Phase::Done || live.phase == Phase::Cancelled || live.phase == Phase::Failed;
    if ((ended || live.phase == Phase::Training) && live.path == app.path) refresh(app);
    if (live.phase == Phase::Cancelled && live.path == app.path && !runs_.empty()) {
      form_.from = TrainFrom::Continue;  // a stopped run is the one to go on with
      form_.s = live.settings;
    }
    if (ended && live.phase != Phase::Failed)
      app.status = {live.phase == Phase::Done ? Message::Ok : Message::Info,
                    std::string("Training ") + phase_name(live.phase)};
    if (live.phase == Phase::Failed)
      app.status = {Message::Error, "Training failed: " + live.error};
    seen_phase_ = live.phase;
  }
  fill_form(app);

  Request req = Request::None;
  const float fs = ImGui::GetFontSize();
  const float left_w = std::min(fs * 22, ImGui::GetContentRegionAvail().x * 0.4f);
  ImGui::BeginChild("train_settings", ImVec2(left_w, height), true);
  settings_column(app, fonts, left_w, height);
  if (pending_save_as_) req = Request::SaveAs;
  pending_save_as_ = false;
  ImGui::EndChild();
  ImGui::SameLine();
  const float right_w = ImGui::GetContentRegionAvail().x;
  ImGui::BeginChild("train_results", ImVec2(right_w, height), true);
  results_column(app, fonts, right_w, height);
  ImGui::EndChild();
  return req;
}

void TrainingPanel::settings_column(AppState& app, const Fonts& fonts, float, float) {
  ImGui::PushFont(fonts.title);
  ImGui::TextUnformatted("Training");
  ImGui::PopFont();
  ImGui::PushFont(fonts.bold);
  ImGui::TextUnformatted(app.name.empty() ? "Untitled" : app.name.c_str());
  ImGui::PopFont();
  const Analysis& a = app.doc.analysis();
  const Shape in = input_shape(app.doc);
  ImGui::TextDisabled(
      "input %s \xC2\xB7 %s params \xC2\xB7 %s MACs", in.empty() ? "?" : shape_str(in).c_str(),
      format_si(double(a.total_params)).c_str(), format_si(double(a.total_macs)).c_str());
  if (!load_error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(load_error_.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  }
  ImGui::Separator();

  const bool busy = session_.active();
  ImGui::BeginDisabled(busy);
  // Where the weights come from.
  ImGui::TextUnformatted("Start from");
  bool weights_fit = !weight_shapes_.empty() && weight_shapes_.size() == a.params.size();
  for (const ParamInfo& p : a.params) {
    const auto it = weight_shapes_.find(p.name);
    weights_fit = weights_fit && it != weight_shapes_.end() && it->second == p.shape;
  }
  if (form_.from == TrainFrom::ProjectWeights && !weights_fit) form_.from = TrainFrom::Scratch;
  if (form_.from == TrainFrom::Continue && runs_.empty()) form_.from = TrainFrom::Scratch;
  if (ImGui::RadioButton("fresh weights", form_.from == TrainFrom::Scratch))
    form_.from = TrainFrom::Scratch;
  probe::note("train:from_scratch");
  ImGui::BeginDisabled(!weights_fit);
  if (ImGui::RadioButton("the project's weights", form_.from == TrainFrom::ProjectWeights))
    form_.from = TrainFrom::ProjectWeights;
  probe::note("train:from_weights");
  ImGui::EndDisabled();
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    ImGui::SetTooltip(
        weights_fit ? "Fine-tune: a new run that starts from the weights stored in the project"
                    : "The project has no weights that fit this graph");
  ImGui::BeginDisabled(runs_.empty());
  char cont[96];
  if (runs_.empty())
    std::snprintf(cont, sizeof cont, "continue the last run");
  else
    std::snprintf(cont, sizeof cont, "continue the last run (%lld epoch%s done)",
                  (long long)epochs_done_, epochs_done_ == 1 ? "" : "s");
  if (ImGui::RadioButton(cont, form_.from == TrainFrom::Continue)) {
    form_.from = TrainFrom::Continue;
    try {  // the run's own settings, with more epochs
      const TrainSettings s = TrainSettings::from_json(runs_.back().settings_json);
      form_.s = s;
      form_.s.epochs = std::max(s.epochs, epochs_done_ + 1);
      set_dataset(form_, s.dataset);
    } catch (const std::exception&) {
    }
  }
  probe::note("train:from_continue");
  ImGui::EndDisabled();
  if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    ImGui::SetTooltip(
        "Resume exactly where the last run stopped (weights and optimiser state), "
        "with its settings, up to the epochs given below");
  ImGui::Spacing();

  TrainSettings& s = form_.s;
  const bool cont_run = form_.from == TrainFrom::Continue;
  if (ImGui::BeginTable("train_form", 2, ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("label", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 6.8f);
    ImGui::TableSetupColumn("value", ImGuiTableColumnFlags_WidthStretch);
    ImGui::BeginDisabled(cont_run);
    row_label("Dataset");
    ImGui::Combo("##dataset", &form_.dataset, kDatasets, 3);
    probe::note("train:dataset");
    if (form_.dataset == 2) {
      row_label("Folder",
                "One sub-folder per class, PNG or JPEG images; a \"test\" split is "
                "taken from a test/ sibling or held out");
      ImGui::InputTextWithHint("##folder", "/path/to/images", form_.folder, sizeof form_.folder);
    }
    ImGui::EndDisabled();
    row_label(cont_run ? "Epochs (total)" : "Epochs");
    input_i64("##epochs", &s.epochs, 1, 100000);
    probe::note("train:epochs");
    ImGui::BeginDisabled(cont_run);
    row_label("Batch");
    input_i64("##batch", &s.batch, 1, 65536);
    row_label("Learning rate", "Peak AdamW learning rate, reached after the warm-up");
    input_f64("##lr", &s.lr, 1e-8, 10, "%.2e");
    row_label("Final rate", "Where the cosine decay ends");
    input_f64("##min_lr", &s.min_lr, 0, 10, "%.2e");
    row_label("Warm-up", "Epochs of linear warm-up");
    input_f64("##warmup", &s.warmup_epochs, 0, 1000, "%.2f");
    row_label("Weight decay", "Decoupled (AdamW); none on biases, norms, scales");
    input_f64("##wd", &s.weight_decay, 0, 10, "%.3f");
    row_label("Label smooth.", "Label smoothing of the cross-entropy");
    input_f64("##ls", &s.label_smoothing, 0, 0.99, "%.2f");
    row_label("Grad clip", "Largest global gradient norm (0: no clipping)");
    input_f64("##clip", &s.clip_grad, 0, 1e6, "%.2f");
    row_label("Augment", "Random crop with padding and horizontal flip, as suits the dataset");
    ImGui::Checkbox("##augment", &s.augment);
    row_label("Seed", "Fixes the order, the augmentation, dropout and the fresh weights");
    const uint64_t one = 1;
    ImGui::InputScalar("##seed", ImGuiDataType_U64, &s.seed, &one, nullptr, "%llu");
    row_label("Train subset", "Train on the first N images only (0: all)");
    input_i64("##limit", &s.limit, 0, int64_t(1) << 40);
    row_label("Test subset", "Evaluate each epoch on the first N test images only (0: all)");
    input_i64("##eval_limit", &s.eval_limit, 0, int64_t(1) << 40);
    ImGui::EndDisabled();
    ImGui::EndTable();
  }
  ImGui::EndDisabled();  // busy
  ImGui::Spacing();

  // Start / pause / stop.
  const float bw = ImGui::GetFontSize() * 6.5f;
  if (!busy) {
    const std::string blocker = start_blocker(app);
    ImGui::BeginDisabled(!blocker.empty());
    const char* label = app.doc.dirty() ? "\xE2\x96\xB6 Save and start" : "\xE2\x96\xB6 Start";
    ImGui::PushStyleColor(ImGuiCol_Button, with_alpha(palette::kAccent, 110));
    const bool clicked = ImGui::Button(label, ImVec2(bw * 1.4f, 0));
    ImGui::PopStyleColor();
    probe::note("train:start");
    ImGui::EndDisabled();
    if (clicked) start(app);
    if (!blocker.empty()) {
      if (app.source != Source::Project || app.bundled) {
        ImGui::SameLine();
        if (ImGui::Button("Save As\xE2\x80\xA6")) pending_save_as_ = true;
        probe::note("train:save_as");
      }
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("%s", blocker.c_str());
      ImGui::PopTextWrapPos();
    }
  } else {
    const bool paused = session_.live().paused;
    if (ImGui::Button(paused ? "\xE2\x96\xB6 Resume" : "\xE2\x9D\x9A\xE2\x9D\x9A Pause",
                      ImVec2(bw, 0))) {
      if (paused)
        session_.resume();
      else
        session_.pause();
    }
    probe::note("train:pause");
    ImGui::SameLine();
    if (ImGui::Button("\xE2\x96\xA0 Stop", ImVec2(bw, 0))) session_.cancel();
    probe::note("train:stop");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Stop at the next step; the project keeps the last completed epoch");
    ImGui::TextDisabled("Saves the project after every epoch.");
  }
  if (!message_.empty() && !busy) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(message_.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  }
}

void TrainingPanel::update_curves(bool is_live, const TrainingLive& live) {
  const int64_t run = is_live ? live.run : -(int64_t(selected_) + 2);
  if (run == shown_run_ && (!is_live || live.revision == shown_revision_)) return;
  const bool extend = is_live && run == shown_run_ && live.step_x.size() >= step_x_.size() &&
                      live.epochs.size() >= epochs_.size();
  if (!extend) {
    step_x_.clear();
    step_y_.clear();
    step_smooth_.clear();
    ema_ = MovingAverage{is_live ? 0.05 : 0.3};
    epochs_.clear();
    ep_x_.clear(), ep_test_loss_.clear(), ep_train_top1_.clear(), ep_test_top1_.clear(),
        ep_test_top5_.clear();
  }
  shown_run_ = run;
  shown_revision_ = live.revision;
  // New points: the live run's since the last frame, or the whole stored run.
  std::vector<EpochResult> stored;
  const std::vector<EpochResult>* epochs = &live.epochs;
  if (is_live) {
    step_x_.insert(step_x_.end(), live.step_x.begin() + long(step_x_.size()), live.step_x.end());
    step_y_.insert(step_y_.end(), live.step_loss.begin() + long(step_y_.size()),
                   live.step_loss.end());
  } else if (selected_ >= 0 && selected_ < int(runs_.size())) {
    for (const CurvePoint& p : runs_[size_t(selected_)].curve)
      if (p.key == "train_loss") {
        step_x_.push_back(float(p.epoch));
        step_y_.push_back(float(p.value));
      }
    stored = epoch_results(runs_[size_t(selected_)].curve);
    epochs = &stored;
  } else {
    epochs = &stored;
  }
  // Per-step points are noisy: a strong average (live, every step); stored points (every 50
  // steps) less so (set where the curves were cleared).
  for (size_t i = step_smooth_.size(); i < step_y_.size(); ++i)
    step_smooth_.push_back(ema_.add(step_y_[i]));
  for (size_t i = epochs_.size(); i < epochs->size(); ++i) {
    const EpochResult& e = (*epochs)[i];
    epochs_.push_back(e);
    ep_x_.push_back(float(e.epoch));
    ep_test_loss_.push_back(float(e.test_loss));
    ep_train_top1_.push_back(float(e.train_top1));
    ep_test_top1_.push_back(float(e.test_top1));
    ep_test_top5_.push_back(float(e.test_top5));
  }
}

void TrainingPanel::results_column(AppState& app, const Fonts& fonts, float width, float height) {
  const TrainingLive& live = session_.live();
  const bool is_live = showing_live(app);
  const float fs = ImGui::GetFontSize();

  TrainSettings shown;
  if (is_live) {
    shown = live.settings;
  } else if (selected_ >= 0 && selected_ < int(runs_.size())) {
    try {
      shown = TrainSettings::from_json(runs_[size_t(selected_)].settings_json);
    } catch (const std::exception&) {
    }
  }
  update_curves(is_live, live);
  if (probe::enabled())
    probe::fact("training", is_live                                           ? "live"
                            : selected_ >= 0 && selected_ < int(runs_.size()) ? "run"
                                                                              : "none");

  // State line and progress.
  if (is_live) {
    const int64_t epoch = live.last.epoch + 1;
    std::string state;
    ImU32 col = palette::kText;
    switch (live.phase) {
      case Phase::Loading:
        state = "Loading " + live.settings.dataset + "\xE2\x80\xA6";
        break;
      case Phase::Training:
      case Phase::Evaluating: {
        char b[160];
        std::snprintf(b, sizeof b, "%s epoch %lld of %lld \xC2\xB7 step %lld of %lld",
                      live.phase == Phase::Evaluating ? "Evaluating" : "Training", (long long)epoch,
                      (long long)live.settings.epochs, (long long)(live.last.step + 1),
                      (long long)live.last.steps_per_epoch);
        state = b;
        if (live.paused) state = "Paused \xE2\x80\x94 " + state;
        col = live.paused ? palette::kWarning : palette::kAccent;
        break;
      }
      case Phase::Done:
        state =
            "Done" + (live.epochs.empty() ? std::string()
                                          : ": test top-1 " + pct(live.epochs.back().test_top1));
        col = palette::kOk;
        break;
      case Phase::Cancelled:
        state = "Stopped: the project keeps " +
                std::to_string(live.epochs.empty() ? 0 : live.epochs.back().epoch) +
                " completed epoch(s); \"continue the last run\" resumes it";
        col = palette::kWarning;
        break;
      case Phase::Failed:
        state = "Failed: " + live.error;
        col = palette::kError;
        break;
      case Phase::Idle:
        break;
    }
    ImGui::PushFont(fonts.bold);
    ImGui::PushStyleColor(ImGuiCol_Text, col);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(state.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
    ImGui::PopFont();
    if (live.path != app.path) ImGui::TextDisabled("project: %s", live.path.c_str());
    const float frac = live.total > 0 ? float(double(live.done) / double(live.total)) : 0.0f;
    char overlay[200];
    const double ips = live.last.images_per_s;
    const double left_s =
        ips > 0 ? double(live.total - live.done) * double(live.settings.batch) / ips : -1;
    std::snprintf(
        overlay, sizeof overlay, "%.0f%%   %s img/s   %s elapsed%s%s", 100.0 * frac,
        ips > 0 ? format_count(int64_t(ips)).c_str() : "\xE2\x80\x94",
        format_duration(live.seconds).c_str(), left_s >= 0 && session_.active() ? "   about " : "",
        left_s >= 0 && session_.active() ? (format_duration(left_s) + " left").c_str() : "");
    ImGui::PushStyleColor(ImGuiCol_PlotHistogram,
                          live.paused ? palette::kWarning : palette::kAccent);
    ImGui::ProgressBar(frac, ImVec2(-FLT_MIN, 0), overlay);
    ImGui::PopStyleColor();
    probe::note("train:progress");
    if (live.train_images > 0)
      ImGui::TextDisabled(
          "%s training images, %s test images, batch %lld, loss %.4f, accuracy %s this epoch, "
          "on %s",
          format_count(live.train_images).c_str(), format_count(live.test_images).c_str(),
          (long long)live.settings.batch, live.last.loss, pct(live.last.top1).c_str(),
          live.device == "cpu" ? "the CPU" : live.device.c_str());
    else
      ImGui::TextDisabled(" ");
  } else if (selected_ >= 0 && selected_ < int(runs_.size())) {
    const TrainingRun& r = runs_[size_t(selected_)];
    ImGui::PushFont(fonts.bold);
    ImGui::Text("Run %d of %zu \xC2\xB7 %s \xC2\xB7 %s", selected_ + 1, runs_.size(),
                r.dataset.c_str(), r.status.c_str());
    ImGui::PopFont();
    double best = 0;
    for (const EpochResult& e : epochs_) best = std::max(best, e.test_top1);
    ImGui::TextDisabled(
        "%zu of %lld epochs \xC2\xB7 best test top-1 %s \xC2\xB7 batch %lld, lr %.2e \xC2\xB7 "
        "started %s",
        epochs_.size(), (long long)shown.epochs, pct(best).c_str(), (long long)shown.batch,
        shown.lr, r.created.c_str());
    ImGui::TextDisabled(" ");
  } else {
    ImGui::PushFont(fonts.bold);
    ImGui::TextUnformatted("No training runs in this project yet");
    ImGui::PopFont();
    ImGui::TextDisabled(
        "Choose the settings on the left and press Start. Curves appear here as it learns.");
    ImGui::TextDisabled(" ");
  }
  ImGui::Spacing();

  // Curves.
  const float avail_h = ImGui::GetContentRegionAvail().y;
  const float plot_h = std::max(fs * 9, avail_h * 0.5f);
  const float gap = ImGui::GetStyle().ItemSpacing.x;
  const float plot_w = (ImGui::GetContentRegionAvail().x - gap) * 0.5f;
  double x_max = double(std::max<int64_t>(1, shown.epochs));
  if (!step_x_.empty()) x_max = std::max(x_max, double(step_x_.back()));
  if (!epochs_.empty()) x_max = std::max(x_max, double(epochs_.back().epoch));
  auto per_epoch = [&](const std::vector<float>& y, const char* label, ImU32 color) {
    PlotSeries s;
    s.label = label;
    s.color = color;
    s.markers = true;
    s.x = ep_x_;
    s.y = y;
    return s;
  };
  PlotSpec loss;
  loss.title = "Loss";
  loss.x_label = "epoch";
  loss.x_max = x_max;
  loss.y_include_zero = true;
  loss.empty_text = is_live ? "waiting for the first step\xE2\x80\xA6" : "no run";
  {
    PlotSeries raw;
    raw.label = "batch";
    raw.color = with_alpha(palette::kAccent, 60);
    raw.x = step_x_;
    raw.y = step_y_;
    raw.thickness = 1.0f;
    PlotSeries sm;
    sm.label = "train (smoothed)";
    sm.color = palette::kAccent;
    sm.x = step_x_;
    sm.y = step_smooth_;
    sm.thickness = 2.0f;
    loss.series = {raw, sm, per_epoch(ep_test_loss_, "test", palette::kOk)};
  }
  draw_plot("loss_plot", loss, ImVec2(plot_w, plot_h), fonts);
  ImGui::SameLine();
  PlotSpec acc;
  acc.title = "Accuracy";
  acc.x_label = "epoch";
  acc.x_max = x_max;
  acc.y_percent = true;
  acc.empty_text = is_live ? "after the first epoch" : "no run";
  acc.series = {per_epoch(ep_train_top1_, "train top-1", palette::kAccent),
                per_epoch(ep_test_top1_, "test top-1", palette::kOk),
                per_epoch(ep_test_top5_, "test top-5", with_alpha(palette::kOk, 110))};
  draw_plot("acc_plot", acc, ImVec2(plot_w, plot_h), fonts);
  ImGui::Spacing();

  // Epochs and runs.
  if (ImGui::BeginTabBar("train_tabs")) {
    if (ImGui::BeginTabItem("Epochs")) {
      const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                 ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchSame;
      if (ImGui::BeginTable("epochs", 8, tf, ImVec2(0, ImGui::GetContentRegionAvail().y))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        for (const char* h : {"epoch", "train loss", "train top-1", "test loss", "test top-1",
                              "test top-5", "lr", "img/s"})
          ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        double best = -1;
        for (const EpochResult& e : epochs_) best = std::max(best, e.test_top1);
        ImGui::PushFont(fonts.mono);
        for (auto it = epochs_.rbegin(); it != epochs_.rend(); ++it) {  // newest first
          const EpochResult& e = *it;
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          ImGui::Text("%lld", (long long)e.epoch);
          if (probe::enabled())
            if (probe::Drawn* d = probe::drawn_item("epoch", std::to_string(e.epoch)))
              d->text = pct(e.test_top1);
          ImGui::TableNextColumn();
          ImGui::Text("%.4f", e.train_loss);
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(pct(e.train_top1).c_str());
          ImGui::TableNextColumn();
          ImGui::Text("%.4f", e.test_loss);
          ImGui::TableNextColumn();
          if (e.test_top1 == best) ImGui::PushStyleColor(ImGuiCol_Text, palette::kOk);
          ImGui::TextUnformatted(pct(e.test_top1).c_str());
          if (e.test_top1 == best) ImGui::PopStyleColor();
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(pct(e.test_top5).c_str());
          ImGui::TableNextColumn();
          ImGui::Text("%.2e", e.lr);
          ImGui::TableNextColumn();
          ImGui::Text("%s", e.images_per_s > 0 ? format_count(int64_t(e.images_per_s)).c_str()
                                               : "\xE2\x80\x94");
        }
        ImGui::PopFont();
        ImGui::EndTable();
      }
      ImGui::EndTabItem();
    }
    char runs_label[48];
    std::snprintf(runs_label, sizeof runs_label, "Runs (%zu)###runs", runs_.size());
    if (ImGui::BeginTabItem(runs_label)) {
      const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                 ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp;
      if (ImGui::BeginTable("runs", 6, tf, ImVec2(0, ImGui::GetContentRegionAvail().y))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        for (const char* h : {"run", "started", "dataset", "epochs", "status", "best top-1"})
          ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        for (int i = int(runs_.size()) - 1; i >= 0; --i) {
          const TrainingRun& r = runs_[size_t(i)];
          const RunRow& row = run_rows_[size_t(i)];
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          char id[32];
          std::snprintf(id, sizeof id, "%d##run%d", i + 1, i);
          if (ImGui::Selectable(id, selected_ == i, ImGuiSelectableFlags_SpanAllColumns))
            selected_ = i;
          if (probe::enabled()) {
            probe::note("train:run:" + std::to_string(i));
            if (probe::Drawn* d = probe::drawn_item("run", std::to_string(i + 1))) {
              d->text = r.status;
              d->flag("selected", selected_ == i);
            }
          }
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(r.created.c_str());
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(r.dataset.c_str());
          ImGui::TableNextColumn();
          ImGui::Text("%zu", row.epochs);
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(r.status.c_str());
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(row.epochs == 0 ? "\xE2\x80\x94" : pct(row.best).c_str());
        }
        ImGui::EndTable();
      }
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  (void)width;
  (void)height;
}

}  // namespace fw::gui
