#include "app/gui/device_choice.h"

#include "kernels/cuda/backends.h"
#include "kernels/parallel.h"

namespace fw::gui {

std::vector<AbsentDevice> absent_devices() {
  if (gpu::cuda_backend()) return {};
  return {{"cuda", gpu::cuda_status()}};
}

std::vector<const Backend*> DeviceChoice::usable() const {
  std::vector<const Backend*> out;
  for (const Backend* b : offered)
    if (b && b->unavailable().empty()) out.push_back(b);
  return out;
}

std::string DeviceChoice::choose(std::string_view name) {
  for (const Backend* b : offered) {
    if (!b || b->name() != name) continue;
    if (std::string why = b->unavailable(); !why.empty()) return why;
    chosen = b;
    return "";
  }
  for (const AbsentDevice& a : absent)
    if (a.name == name) return a.why;
  return "no device '" + std::string(name) + "' is offered";
}

std::string device_label(std::string_view name) {
  if (name == "cpu") return "CPU";
  if (name == "cuda") return "CUDA";
  return std::string(name);
}

std::string device_detail(const Backend& b) {
  if (std::string why = b.unavailable(); !why.empty()) return why;
  if (&b == gpu::cuda_backend()) return gpu::cuda_status();
  if (&b == &cpu_backend()) return std::to_string(num_threads()) + " threads";
  return std::string(b.name()) + " backend";
}

}  // namespace fw::gui
