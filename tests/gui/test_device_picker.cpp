// The status bar's device picker (app/panels/device_picker.h) driven like a user drives it: it
// offers only the backends that can run here (the others listed disabled, with why); the one
// chosen is where the views' requests run; a device that runs out of memory has the request run
// again on the CPU, and the status bar says so. Backends are injected through AppState::device
// (tests/unit/backend_doubles.h: CPU executors that act as a device backend in one respect, and
// the host emulation of the CUDA backend as a second real one).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "kernels/cuda/backends.h"
#include "tests/gui/ui_driver.h"
#include "tests/unit/backend_doubles.h"

namespace fs = std::filesystem;
using fw::gui::testing::UiDriver;
namespace probe = fw::gui::probe;

namespace {

const std::string kSample = std::string(FORMWORK_ASSETS_DIR) + "/sample.formwork";

bool settle(UiDriver& ui, double seconds = 120) {
  return ui.frames_until([&] { return !ui.view->settling(); }, seconds) && (ui.frame(2), true);
}

// Opens the picker's list (a click on the combo) and draws it.
void open_picker(UiDriver& ui) {
  ui.frame();
  ui.click(ui.at("device:picker"));
  ui.frame();
}

// Chooses the entry `name` in the picker, as a user does.
void pick(UiDriver& ui, const std::string& name) {
  open_picker(ui);
  ASSERT_NE(probe::find("device", name), nullptr) << name << " is not listed";
  ui.click(ui.at("device:" + name));
  ui.frame();
}

}  // namespace

TEST(DevicePicker, OffersOnlyTheUsableBackendsAndSaysWhyNotTheOthers) {
  fwtest::DeviceLikeBackend tpu("tpu");
  tpu.why_unavailable = "no TPU on this machine";
  UiDriver ui;
  ui.app.device.offered = {&fw::cpu_backend(), &fw::gpu::host_emulation_backend(), &tpu};
  ui.app.device.absent = {{"npu", "this build has no NPU backend"}};
  ui.frame(2);
  EXPECT_EQ(probe::fact_or("device"), "cpu");
  const probe::Drawn* combo = probe::find("device", "picker");
  ASSERT_NE(combo, nullptr);
  EXPECT_EQ(combo->text, "cpu");
  open_picker(ui);
  EXPECT_EQ(probe::ids("device"),
            (std::vector<std::string>{"picker", "cpu", "emulated", "tpu", "npu"}));
  const probe::Drawn* cpu = probe::find("device", "cpu");
  const probe::Drawn* emu = probe::find("device", "emulated");
  const probe::Drawn* no = probe::find("device", "tpu");
  ASSERT_TRUE(cpu && emu && no);
  EXPECT_TRUE(cpu->has("chosen"));
  EXPECT_FALSE(cpu->has("disabled"));
  EXPECT_FALSE(emu->has("disabled"));
  EXPECT_TRUE(no->has("disabled"));
  EXPECT_EQ(no->text, "no TPU on this machine");  // why it is not offered
  const probe::Drawn* npu = probe::find("device", "npu");
  ASSERT_NE(npu, nullptr);
  EXPECT_TRUE(npu->has("disabled"));
  EXPECT_EQ(npu->text, "this build has no NPU backend");
  // Clicking the disabled entry chooses nothing.
  ui.click(ui.at("device:tpu"));
  ui.frame(2);
  EXPECT_EQ(&ui.app.device.backend(), &fw::cpu_backend());
  EXPECT_EQ(probe::fact_or("device"), "cpu");
  EXPECT_EQ(ui.app.device.choose("tpu"), "no TPU on this machine");
  EXPECT_EQ(ui.app.device.choose("npu"), "this build has no NPU backend");
  EXPECT_EQ(ui.app.device.choose("gpu9"), "no device 'gpu9' is offered");
  EXPECT_EQ(ui.app.device.usable(), (std::vector<const fw::Backend*>{
                                        &fw::cpu_backend(), &fw::gpu::host_emulation_backend()}));
}

TEST(DevicePicker, ByDefaultListsTheBuildsBackendsWithCudaOnlyWhereItRuns) {
  UiDriver ui;  // AppState::device.offered = fw::backends()
  open_picker(ui);
  const std::vector<const fw::Backend*> all = fw::backends();
  ASSERT_EQ(ui.app.device.offered, all);
  for (const fw::Backend* b : all) {
    const probe::Drawn* d = probe::find("device", std::string(b->name()));
    ASSERT_NE(d, nullptr) << b->name();
    const std::string why = b->unavailable();
    EXPECT_EQ(d->has("disabled"), !why.empty()) << b->name();
    if (!why.empty()) {
      EXPECT_EQ(d->text, why) << b->name();
    }
  }
  // A build without CUDA lists it disabled, saying so.
  if (!fw::gpu::cuda_backend()) {
    const probe::Drawn* d = probe::find("device", "cuda");
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->has("disabled"));
    EXPECT_EQ(d->text, fw::gpu::cuda_status());
    EXPECT_EQ(ui.app.device.choose("cuda"), fw::gpu::cuda_status());
  }
  // The CUDA backend of a CUDA build, on a machine without a usable GPU (this one, in CI): listed,
  // disabled, saying why (fw::gpu::cuda_status()).
  if (const fw::Backend* cuda = fw::gpu::cuda_backend(); cuda && !cuda->unavailable().empty()) {
    const probe::Drawn* d = probe::find("device", "cuda");
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->has("disabled"));
    EXPECT_EQ(d->text, fw::gpu::cuda_status());
    EXPECT_NE(ui.app.device.choose("cuda"), "");
    EXPECT_EQ(&ui.app.device.backend(), &fw::cpu_backend());
  }
}

TEST(DevicePicker, TheChosenBackendRunsTheViewsRequests) {
  fwtest::DeviceLikeBackend gpu("fake_gpu");
  gpu.copy_on_bind = true;
  UiDriver ui;
  ui.app.device.offered = {&fw::cpu_backend(), &gpu, &fw::gpu::host_emulation_backend()};
  ASSERT_TRUE(fw::gui::open_spec(ui.app, kSample)) << ui.app.error;
  ui.view->show_view("gradcam");
  ASSERT_TRUE(settle(ui));
  EXPECT_EQ(probe::fact_or("state"), "ready");
  EXPECT_EQ(gpu.created.load(), 0);
  const auto probs_cpu = ui.view->input_panel().prediction(ui.view->view_model())->probs;

  pick(ui, "fake_gpu");
  EXPECT_EQ(&ui.app.device.backend(), &gpu);
  EXPECT_NE(ui.app.status.text.find("Computing on fake_gpu"), std::string::npos)
      << ui.app.status.text;
  ASSERT_TRUE(settle(ui));
  EXPECT_EQ(probe::fact_or("device"), "fake_gpu");
  EXPECT_EQ(ui.view->view_model().backend().name(), "fake_gpu");
  EXPECT_EQ(probe::fact_or("state"), "ready") << probe::fact_or("error");
  EXPECT_EQ(gpu.created.load(), 1);   // the model's executor, built on the chosen backend
  EXPECT_GE(gpu.forwards.load(), 2);  // the prediction and the Grad-CAM ran there
  auto pred = ui.view->input_panel().prediction(ui.view->view_model());
  ASSERT_TRUE(pred);
  EXPECT_EQ(pred->probs, probs_cpu);  // the same numbers (its executor is the CPU's)

  // The host emulation of the CUDA backend (the very device programs, on the host): the requests
  // run there and give the CPU's prediction.
  const int forwards = gpu.forwards.load();
  pick(ui, "emulated");
  ASSERT_TRUE(settle(ui, 300));
  EXPECT_EQ(ui.view->view_model().backend().name(), "emulated");
  EXPECT_EQ(probe::fact_or("state"), "ready") << probe::fact_or("error");
  pred = ui.view->input_panel().prediction(ui.view->view_model());
  ASSERT_TRUE(pred) << ui.view->input_panel().prediction_error(ui.view->view_model());
  ASSERT_EQ(pred->probs.size(), probs_cpu.size());
  for (size_t k = 0; k < probs_cpu.size(); ++k)
    EXPECT_NEAR(pred->probs[k], probs_cpu[k], 1e-4) << k;
  EXPECT_EQ(gpu.forwards.load(), forwards);  // nothing ran on the previous choice

  // Back to the CPU.
  pick(ui, "cpu");
  ASSERT_TRUE(settle(ui));
  EXPECT_EQ(probe::fact_or("state"), "ready");
  EXPECT_EQ(ui.view->input_panel().prediction(ui.view->view_model())->probs, probs_cpu);
  EXPECT_EQ(gpu.forwards.load(), forwards);
  EXPECT_EQ(ui.app.error, "");
}

TEST(DevicePicker, ADeviceOutOfMemoryRunsTheRequestOnTheCpuAndTheStatusBarSaysSo) {
  fwtest::DeviceLikeBackend gpu("small_gpu");
  gpu.oom_on_forward = true;
  UiDriver ui;
  ui.app.device.offered = {&fw::cpu_backend(), &gpu};
  ASSERT_TRUE(fw::gui::open_spec(ui.app, kSample)) << ui.app.error;
  ui.view->show_view("gradcam");
  pick(ui, "small_gpu");
  ASSERT_TRUE(settle(ui));
  EXPECT_GE(gpu.forwards.load(), 1);  // tried there first
  // Every view request completed, on the CPU.
  EXPECT_EQ(probe::fact_or("state"), "ready") << probe::fact_or("error");
  ASSERT_TRUE(ui.view->input_panel().prediction(ui.view->view_model()));
  const fw::InferenceService::Activity a = ui.view->view_model().service().activity();
  EXPECT_GE(a.cpu_retries, 2);  // the prediction and the Grad-CAM
  EXPECT_EQ(ui.app.status.level, fw::gui::Message::Warning);
  EXPECT_NE(ui.app.status.text.find("small_gpu: out of GPU memory"), std::string::npos)
      << ui.app.status.text;
  EXPECT_NE(ui.app.status.text.find("ran on the CPU instead"), std::string::npos)
      << ui.app.status.text;
  EXPECT_EQ(probe::fact_or("device"), "small_gpu");  // the choice stays: the next request tries it
  EXPECT_EQ(ui.app.error, "");
}
