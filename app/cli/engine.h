// What the engine commands (infer, gradcam, attention, score, bench) share: loading the
// architecture and its weights, checking them against each other, choosing the backend and the
// thread count, reading the input batch.
#pragma once
#include <memory>

#include "app/cli/cli.h"
#include "core/analysis.h"
#include "kernels/backend.h"

namespace fw::cli {

struct EngineArgs {
  ArchArgs arch;
  std::string weights;   // --weights W.safetensors (else the project's stored weights)
  std::string device = "cpu";
  int threads = 0;       // 0: all cores
};
void add_engine_options(CLI::App* cmd, EngineArgs& a, bool need_weights = true);

// A loaded, validated architecture with its weights and an executor. Members keep stable
// addresses (the executor refers to the graph and analysis).
struct Engine {
  LoadedArch arch;
  Analysis analysis;
  TensorMap weights;
  const Backend* backend = nullptr;
  std::unique_ptr<Executor> executor;

  Shape input_shape() const;  // per sample [C, H, W]
  int64_t num_classes() const;
};

// Loads everything; `with_weights` false builds no executor and needs no weights.
std::unique_ptr<Engine> load_engine(const EngineArgs& a, bool with_weights = true);

// Reads `--input`: a .npy float32 batch [B,C,H,W] (NCHW, as CONTRACT.md says) that must fit the input
// shape, or an image file (PNG/JPEG/BMP...) as a batch of one, prepared as the network's training
// data was (the project's input pipeline) or else as timm's eval transform for the template
// (core/project_meta.h, image_input_pipeline). Rejects NaN/Inf with the element's index.
Tensor load_input(const std::string& path, const Engine& e);
Tensor load_image_input(const std::string& path, const Engine& e);

}  // namespace fw::cli
