// Exporting a network out of Formwork: ONNX (for ONNX Runtime, Netron and deployment) and one
// self-contained PyTorch file (to train it in one's own code). CONTRACT.md, "Export".
//
// - Both take a valid graph (analyze() without problems) and refuse anything else, naming the
//   first problem. They read only core/: the flattened leaf ops (core/analysis.h) for ONNX, the
//   module hierarchy for PyTorch.
// - ONNX (opset 17) is built with ONNX's own protobuf classes (Debian's libonnx-dev) and checked by
//   ONNX's C++ checker (full check, with shape inference) before the bytes are returned. Input
//   `input` [batch,C,H,W] with a symbolic batch, output `logits`; weights are initializers under
//   their state_dict names; each node is named by its module path, so Netron shows the names the
//   editor shows. A leaf op without a mapping is refused naming the node and the op.
// - PyTorch: one Python file (torch only) with one nn.Module class per kind of block and a model
//   class whose state_dict names are Formwork's parameter names; a small safetensors reader and a
//   __main__ so that `python3 F.py W.safetensors X.npy Y.npy` writes the logits of `formwork
//   infer`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/job.h"
#include "core/tensor.h"

namespace fw {

struct ExportInfo {
  std::string model_name;  // graph name for ONNX, class name stem for PyTorch ("caformer_s18")
  std::string producer_version;  // Formwork's version and commit ("0.1.0+abc123")
  // Optional (the GUI's background export): progress {done, total} over the ops, then the
  // serialisation; a cancel request ends the export with fw::Error("export cancelled").
  JobControl* control = nullptr;
};

// Refuses a graph with problems before anything is built: fw::Error "WHAT has problems, nothing
// exported: <the first problem>" (the command line's and the GUI's line).
void require_exportable(const Analysis& a, const std::string& what);

// Whether this build has the ONNX exporter (libonnx-dev found at configure time).
bool onnx_export_available();
// The serialised ONNX ModelProto. `weights` must match the graph's parameters exactly
// (core/weights.h). Throws fw::Error: problems in the graph, weights that do not match, an op
// without a mapping ("stages.0.x: op 'foo' has no ONNX mapping"), a failed checker.
std::vector<uint8_t> onnx_model_bytes(const Graph& g, const Analysis& a, const TensorMap& weights,
                                      const ExportInfo& info);

// The PyTorch file's text. Throws fw::Error on a graph with problems.
std::string torch_module_source(const Graph& g, const Analysis& a, const ExportInfo& info);

}  // namespace fw
