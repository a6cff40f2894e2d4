// File → Export network ▸ ONNX…, PyTorch…, Architecture (JSON)…, and the Search view's "Export…"
// of a subnet: the network out of Formwork as `formwork export --onnx / --torch / --json` writes it
// (core/export/model_export.h), byte for byte, on a background thread.
//
// - open(app, request): a graph with problems is refused at once with its first problem (the CLI's
//   line, "NAME has problems, nothing exported: ..."; the architecture file is written whatever
//   the problems, as `export --json` does); otherwise the file browser opens in Save mode in the
//   request's folder, named after the network ("caformer_s18.onnx").
// - ONNX needs weights: the project's stored ones when they match the graph exactly
//   (core/weights.h match_weights); otherwise a small modal says why (no stored weights, or the
//   mismatch's summary) and offers freshly initialised ones from a seed (0 by default; exactly
//   `formwork export --init-seed S`), or Cancel. PyTorch and JSON need none.
// - The request is a snapshot (the graph, the stored weights shared read-only): edits made while
//   the export runs do not reach it. The job builds the bytes, reporting {done, total} through its
//   JobControl, then writes the file atomically (core/atomic_file.h): a failure or a cancel leaves
//   no partial file and an existing one untouched.
// - While it runs a small window shows the progress and a Cancel button; the UI stays fluid. When
//   it ends the status bar says "Exported caformer_s18 to /path/x.onnx (ONNX opset 17, 97.3 MB)";
//   a failure (an unwritable folder, a cancel) goes to the error dialog.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/gui/app_state.h"
#include "app/gui/background_job.h"
#include "app/gui/style.h"
#include "app/panels/file_browser.h"
#include "core/graph.h"
#include "core/tensor.h"

namespace fw::gui {

enum class NetworkFormat { Onnx, Torch, Json };  // (text_of in network_export.cpp follows it)

// ".onnx", ".py", ".json".
const char* network_format_extension(NetworkFormat f);

struct NetworkExportRequest {
  NetworkFormat format = NetworkFormat::Onnx;
  Graph graph;       // what is exported (a copy)
  std::string name;  // the model's name in the file and the file's stem ("caformer_s18")
  std::string dir;   // where the file browser opens ("": the working directory)
  // The open project's stored weights (null or empty: none) and the project's file name for the
  // explanation when they do not fit ("sample.formwork").
  std::shared_ptr<const TensorMap> weights;
  std::string weights_source;
};

// The file's bytes as `formwork export` writes them: ONNX (with `weights`), the PyTorch file, or
// the architecture file (the graph without its search space). Throws fw::Error.
std::vector<uint8_t> network_file_bytes(NetworkFormat f, const Graph& g, const std::string& name,
                                        const TensorMap& weights, JobControl* control);

class NetworkExport : public BackgroundJob {
 public:
  void open(AppState& app, NetworkExportRequest request);
  // The file browser, the weights modal and the progress window; takes a finished job's result.
  void draw(AppState& app, const Fonts& fonts);

  bool choosing_file() const { return files_.is_open(); }
  bool asking_weights() const { return asking_; }
  // Why the modal asks ("" when it does not).
  const std::string& weights_reason() const { return weights_reason_; }
  FileBrowser& files() { return files_; }
  uint64_t seed = 0;  // the modal's seed field
  // The modal's buttons (tests press them through the probe, or call these).
  void use_fresh_weights();
  void decline_fresh_weights();
  // The file being written ("" when none), the job's progress (done, total).
  const std::string& writing() const { return path_; }
  std::pair<int64_t, int64_t> progress();
  // Joins the worker and reports its result into `app` (tests, quitting).
  void wait(AppState& app);

 private:
  void chosen(const std::string& path);
  void start(std::shared_ptr<const TensorMap> weights, std::optional<uint64_t> fresh_seed);
  void finish(AppState& app);
  void weights_modal(const Fonts& fonts);
  void progress_window(const Fonts& fonts);

  struct Outcome {
    std::mutex mu;
    std::string error;
    size_t bytes = 0;
    bool done = false;
  };

  FileBrowser files_;
  NetworkExportRequest req_;
  std::string path_;  // the chosen file, while the job runs or the modal asks
  bool asking_ = false, weights_visible_ = false;
  std::string weights_reason_;
  std::shared_ptr<Outcome> outcome_;
};

}  // namespace fw::gui
