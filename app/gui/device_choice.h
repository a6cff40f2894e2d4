// The device the GUI computes on: the views (their InferenceService's model), a training run and a
// search started from the GUI all run on the backend chosen here; the status bar's picker
// (app/panels/device_picker.h) changes it. No ImGui here.
//
// - `offered`: the backends the picker lists, fw::backends() by default ("cpu", and "cuda" in a
//   build with CUDA, usable or not). Tests put their own here (a second usable backend, one that
//   runs out of memory) before the first frame.
// - Only a usable backend can be chosen (Backend::unavailable() empty); the picker shows the others
//   disabled, with why, and so the backends this build lacks (`absent`: CUDA in a build without
//   it, with fw::gpu::cuda_status()).
// - The choice lasts for the session: it is not stored in the project (a project opens anywhere).
//   A training run or search already going keeps the device it started on.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "kernels/backend.h"

namespace fw::gui {

struct AbsentDevice {
  std::string name;  // "cuda"
  std::string why;   // "this build has no CUDA backend (...)"
};
std::vector<AbsentDevice> absent_devices();  // {cuda, why} in a build without CUDA; else none

struct DeviceChoice {
  std::vector<const Backend*> offered = backends();
  std::vector<AbsentDevice> absent = absent_devices();
  const Backend* chosen = nullptr;  // nullptr: the CPU

  const Backend& backend() const { return chosen ? *chosen : cpu_backend(); }
  // The offered backends that can run here, in order.
  std::vector<const Backend*> usable() const;
  // Chooses the offered backend named `name`: "" when done, else why not ("no device 'x' is
  // offered", or the backend's unavailable() line).
  std::string choose(std::string_view name);
};

// "CPU", "CUDA", or the backend's own name.
std::string device_label(std::string_view name);
inline std::string device_label(const Backend& b) { return device_label(b.name()); }
// One line on the backend for its tooltip: for CUDA the GPU (fw::gpu::cuda_status()), for the CPU
// its thread count; why it is unavailable when it is.
std::string device_detail(const Backend& b);

}  // namespace fw::gui
