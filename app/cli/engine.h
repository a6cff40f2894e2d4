// What the engine commands (infer, bench, gradcam, attention, mixing, score, train, eval) share:
// loading the architecture and its weights, checking them against each other, choosing the backend
// (--device, --tf32: also `nas`) and the thread count, reading the input batch.
#pragma once
#include <memory>

#include "app/cli/cli.h"
#include "core/analysis.h"
#include "kernels/backend.h"

namespace fw::cli {

// --device cpu|cuda and --tf32.
struct DeviceArgs {
  std::string name = "cpu";
  bool tf32 = false;  // TF32 matrix products on the GPU (fw::gpu::set_tf32); no effect on the CPU
};
void add_device_options(CLI::App* cmd, DeviceArgs& d);
// The backend --device names, checked before any work: fw::Error with one line when this build has
// none ("--device cuda: this build has no CUDA backend (...)") or the machine cannot run it
// ("--device cuda: no CUDA device (...)", Backend::unavailable). Applies --tf32 to the process.
const Backend& device_backend(const DeviceArgs& d);

struct EngineArgs {
  ArchArgs arch;
  std::string weights;   // --weights W.safetensors (else the project's stored weights)
  DeviceArgs device;
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

// Loads everything, the device first (device_backend: an unusable one fails before anything is
// read); `with_weights` false builds no executor and needs no weights.
std::unique_ptr<Engine> load_engine(const EngineArgs& a, bool with_weights = true);

// Refuses a run at `batch` that cannot fit in memory (kernels/backend.h require_memory) before
// anything in proportion to the batch is allocated: "poolformer_s12 at batch 4096 and input
// 3x1024x1024 would need 412 GB: ... (this machine has 23.6 GB); <hint>". `optimiser`: the run
// trains (gradients and AdamW state). Uses a throwaway executor when `e` has none.
void require_engine_memory(const Engine& e, int64_t batch, const RunOptions& ro, bool optimiser,
                           const std::string& hint = "use a smaller --batch or --input-size");

// Reads `--input`: a .npy float32 batch [B,C,H,W] (NCHW, as CONTRACT.md says) that must fit the
// input shape, or an image file (PNG/JPEG/BMP...) as a batch of one, prepared as the network's
// training data was (the project's input pipeline) or else as timm's eval transform for the
// template (core/project_meta.h, image_input_pipeline). Rejects NaN/Inf with the element's index.
// Then refuses a batch whose forward cannot fit in memory (require_engine_memory).
Tensor load_input(const std::string& path, const Engine& e);
Tensor read_input(const std::string& path, const Engine& e);  // without that check
Tensor load_image_input(const std::string& path, const Engine& e);

}  // namespace fw::cli
