// The device programs under HostDevice: the "emulated" backend and op runner of the tests.
#include <atomic>

#include "kernels/cuda/backends.h"
#include "kernels/cuda/executor.h"
#include "kernels/cuda/op_runner_impl.h"

namespace fw::gpu {
namespace {

std::atomic<bool> g_tf32{false};

class EmulatedBackend final : public Backend {
 public:
  std::string_view name() const override { return "emulated"; }
  bool supports(std::string_view op_id) const override {
    return op_id == "input" || op_id == "output" || find_dev_kernel<HostDevice>(op_id) != nullptr;
  }
  std::unique_ptr<Executor> create(const Graph& g, const Analysis& a) const override {
    require_valid(a);
    return std::make_unique<DevExecutor<HostDevice>>(g, a, std::make_unique<HostDevice>(),
                                                     "emulated");
  }
};

}  // namespace

void set_tf32(bool on) { g_tf32 = on; }
bool tf32_enabled() { return g_tf32; }

const Backend& host_emulation_backend() {
  static const EmulatedBackend b;
  return b;
}

std::unique_ptr<OpRunner> host_emulation_runner(int block_threads) {
  auto dev = std::make_unique<HostDevice>();
  dev->set_block_threads(block_threads);
  return std::make_unique<OpRunnerT<HostDevice>>(std::move(dev));
}

}  // namespace fw::gpu
