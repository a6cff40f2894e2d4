// The model the views compute on (attention, Grad-CAM): the open document's graph and the open
// project's trained weights, handed to one fw::InferenceService (kernels/inference_service.h).
//
// - sync(app) once per frame (UI thread): when the document's revision (Document::revision())
//   or the project changed, a new ModelSnapshot goes to the service (which abandons what ran on
//   the old one). The project file is read again when another project is opened (AppState::
//   generation), when it is saved under another path, and when reload_weights() is called (a
//   training run saved new weights); each read bumps the weights revision.
// - What the views need besides the service, derived once per change: the FlatGraph of a valid
//   graph, the input shape and class count, the class names (meta class_names; else "class K"),
//   the stored samples (meta samples, decoded), the input pipeline an image goes through
//   (core/project_meta.h image_input_pipeline, exactly as `formwork infer`), and `problem`: why
//   no request can run ("" when they can) — no weights, the graph has problems, or the graph was
//   edited so that a parameter has no trained weights (the parameter named).
// - The requests run on the device chosen in the status bar (AppState::device): when it changes,
//   sync() hands the service the same model on the new backend (what ran is abandoned, the
//   results are computed again there). A device out of memory retries on the CPU
//   (InferenceService), which the editor view reports in the status bar.
// - Nothing here throws into a frame; every failure becomes `problem` or a sample's `error`.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "core/analysis.h"
#include "core/image_io.h"
#include "core/input_pipeline.h"
#include "core/project_store.h"
#include "kernels/inference_service.h"
#include "views/faithfulness.h"

namespace fw::gui {

struct StoredSample {
  std::string blob;  // "samples/3.png"
  int64_t label = -1;
  std::optional<PixelBox> box;
  Image8 image;       // decoded (at the dataset's channels)
  std::string error;  // why it could not be decoded
};

class ViewModel {
 public:
  explicit ViewModel(int threads = 0);

  void sync(const AppState& app);
  void reload_weights() { reload_ = true; }

  InferenceService& service() { return *service_; }
  const InferenceService& service() const { return *service_; }

  int64_t graph_revision() const { return graph_revision_; }
  // The backend the requests run on (the last sync's AppState::device).
  const Backend& backend() const { return backend_ ? *backend_ : cpu_backend(); }
  int64_t weights_revision() const { return weights_revision_; }
  // Why requests cannot run now ("" when they can).
  const std::string& problem() const { return problem_; }
  bool has_weights() const { return !project_.weights.empty(); }
  // Null while the graph does not validate.
  const FlatGraph* flat() const { return flat_ ? &*flat_ : nullptr; }
  const Graph* graph() const { return graph_.get(); }
  const Shape& input_shape() const { return input_shape_; }  // [C, H, W]; empty if unknown
  int64_t num_classes() const { return num_classes_; }
  std::string class_name(int64_t k) const;
  const std::vector<std::string>& class_names() const { return class_names_; }
  const std::vector<StoredSample>& samples() const { return samples_; }
  // The pipeline an image file goes through; nullopt with pipeline_error() when none applies.
  const std::optional<InputPipeline>& pipeline() const { return pipeline_; }
  const std::string& pipeline_error() const { return pipeline_error_; }
  const ProjectData& project() const { return project_; }
  // The project's stored weights, shared read-only (a background export keeps them alive).
  std::shared_ptr<const TensorMap> weights_snapshot() const { return weights_; }
  const std::string& project_path() const { return path_; }
  // Bumped whenever anything above changed (views re-derive their lists).
  int64_t version() const { return version_; }

 private:
  void load_project_file(const AppState& app);
  void derive(const AppState& app);
  void send_model();  // the current graph, weights and backend to the service

  std::unique_ptr<InferenceService> service_;
  std::shared_ptr<const Graph> graph_;
  std::shared_ptr<const TensorMap> weights_;
  const Backend* backend_ = nullptr;  // nullptr: the CPU
  ProjectData project_;
  std::string path_;
  int64_t generation_ = -1, doc_revision_ = -1;
  int64_t graph_revision_ = 0, weights_revision_ = 0, version_ = 0;
  bool reload_ = false;
  std::string problem_, load_error_;
  std::unique_ptr<Analysis> analysis_;
  std::optional<FlatGraph> flat_;
  Shape input_shape_;
  int64_t num_classes_ = 0;
  std::vector<std::string> class_names_;
  std::vector<StoredSample> samples_;
  std::optional<InputPipeline> pipeline_;
  std::string pipeline_error_;
};

}  // namespace fw::gui
