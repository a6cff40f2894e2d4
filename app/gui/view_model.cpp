#include "app/gui/view_model.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/project_meta.h"
#include "core/weights.h"

namespace fw::gui {

ViewModel::ViewModel(int threads) : service_(std::make_unique<InferenceService>(threads)) {}

std::string ViewModel::class_name(int64_t k) const {
  if (k >= 0 && k < int64_t(class_names_.size())) return class_names_[size_t(k)];
  return "class " + std::to_string(k);
}

void ViewModel::load_project_file(const AppState& app) {
  project_ = ProjectData{};
  load_error_.clear();
  path_ = app.source == Source::Project ? app.path : "";
  if (!path_.empty()) {
    try {
      project_ = load_project(path_);
    } catch (const std::exception& e) {
      load_error_ = e.what();
    }
  }
  ++weights_revision_;
  weights_ = std::make_shared<const TensorMap>(project_.weights);
  samples_.clear();
  class_names_.clear();
  try {
    if (auto it = project_.meta.find("class_names"); it != project_.meta.end())
      class_names_ = nlohmann::json::parse(it->second).get<std::vector<std::string>>();
  } catch (const std::exception&) {
    class_names_.clear();  // load_project checked it; a bad one only loses the names
  }
  if (auto it = project_.meta.find("samples"); it != project_.meta.end()) {
    try {
      for (const auto& s : nlohmann::json::parse(it->second)) {
        StoredSample ss;
        ss.blob = s.value("blob", "");
        ss.label = s.value("label", int64_t(-1));
        if (s.contains("box") && s["box"].size() == 4)
          ss.box = PixelBox{s["box"][0].get<int64_t>(), s["box"][1].get<int64_t>(),
                            s["box"][2].get<int64_t>(), s["box"][3].get<int64_t>()};
        auto b = project_.blobs.find(ss.blob);
        if (b == project_.blobs.end())
          ss.error = ss.blob + ": not in the project";
        else
          try {
            ss.image = decode_image(b->second.second, 0, ss.blob);
          } catch (const std::exception& e) {
            ss.error = e.what();
          }
        samples_.push_back(std::move(ss));
      }
    } catch (const std::exception& e) {
      load_error_ = std::string("meta 'samples': ") + e.what();
    }
  }
}

void ViewModel::derive(const AppState& app) {
  ++version_;
  ++graph_revision_;
  graph_ = std::make_shared<const Graph>(app.doc.graph());
  analysis_ = std::make_unique<Analysis>(analyze(*graph_));
  flat_.reset();
  input_shape_.clear();
  num_classes_ = 0;
  pipeline_.reset();
  pipeline_error_.clear();
  problem_.clear();
  if (!analysis_->ok()) {
    problem_ = "The graph has " + std::to_string(analysis_->problems.size()) +
               (analysis_->problems.size() == 1 ? " problem" : " problems") +
               " (see the editor): nothing can run until it validates.";
  } else {
    try {
      flat_ = flatten(*graph_, *analysis_);
      const std::vector<NodeId> ins = graph_->top_level_of_kind("input");
      const std::vector<NodeId> outs = graph_->top_level_of_kind("output");
      if (ins.size() != 1 || outs.size() != 1)
        throw Error("the views run graphs with exactly one input and one output");
      input_shape_ = analysis_->of(ins[0])->out.at(0);
      num_classes_ = analysis_->of(outs[0])->in.at(0).back();
    } catch (const std::exception& e) {
      problem_ = e.what();
      flat_.reset();
    }
  }
  if (!input_shape_.empty()) {
    try {
      pipeline_ = image_input_pipeline(project_, *graph_, input_shape_);
    } catch (const std::exception& e) {
      pipeline_error_ = e.what();
    }
  }
  if (problem_.empty()) {
    if (!load_error_.empty()) {
      problem_ = load_error_;
    } else if (project_.weights.empty()) {
      problem_ = app.source == Source::Project
                     ? "This project holds no trained weights: train it in the Training view first."
                     : "No trained weights: the views need a project (*.formwork) with weights; "
                       "train this graph in the Training view, or open one.";
    } else {
      const WeightsMatch m = match_weights(*analysis_, project_.weights);
      if (!m.missing.empty() || !m.misshaped.empty())
        problem_ = "The graph was edited since training: the stored weights do not fit it (" +
                   m.summary() + "). Undo the edit, or train again.";
      else if (const std::string bad = non_finite_weight(project_.weights); !bad.empty())
        problem_ = "The stored weights cannot be used: " + bad +
                   ". Train again, or import "
                   "finite weights (formwork weights import).";
    }
  }
  if (int64_t(class_names_.size()) != num_classes_ && !class_names_.empty() && num_classes_ > 0)
    class_names_.resize(size_t(num_classes_));  // names beyond the classifier are not used
  send_model();
}

void ViewModel::send_model() {
  ModelSnapshot s;
  s.graph = graph_;
  s.weights = weights_;
  s.graph_revision = graph_revision_;
  s.weights_revision = weights_revision_;
  s.backend = backend_;
  service_->set_model(std::move(s));
}

void ViewModel::sync(const AppState& app) {
  const std::string path = app.source == Source::Project ? app.path : "";
  bool changed = false;
  if (app.generation != generation_ || path != path_ || reload_) {
    generation_ = app.generation;
    reload_ = false;
    load_project_file(app);
    changed = true;
  }
  if (app.doc.revision() != doc_revision_) {
    doc_revision_ = app.doc.revision();
    changed = true;
  }
  const Backend* backend = &app.device.backend();
  const bool moved = backend != &this->backend();
  backend_ = backend;
  if (changed)
    derive(app);
  else if (moved)
    send_model();  // the same model on another device: computed again there
}

}  // namespace fw::gui
