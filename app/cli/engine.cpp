#include "app/cli/engine.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/image_io.h"
#include "core/npy.h"
#include "core/project_meta.h"
#include "core/safetensors.h"
#include "core/weights.h"
#include "kernels/cuda/backends.h"
#include "kernels/parallel.h"

namespace fw::cli {

void add_device_options(CLI::App* cmd, DeviceArgs& d) {
  cmd->add_option("--device", d.name, "cpu (default) or cuda (the GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_flag("--tf32", d.tf32,
                "TF32 tensor-core matrix products on the GPU (faster, about 1e-3 relative error); "
                "no effect on the CPU");
}

const Backend& device_backend(const DeviceArgs& d) {
  const Backend* b = find_backend(d.name);
  if (!b) {
    if (d.name == "cuda" && !gpu::cuda_backend())
      throw Error("--device cuda: " + gpu::cuda_status());
    throw Error("--device " + d.name + ": this build has no such backend");
  }
  if (const std::string why = b->unavailable(); !why.empty())
    throw Error("--device " + d.name + ": " + why);
  gpu::set_tf32(d.tf32);
  return *b;
}

void add_engine_options(CLI::App* cmd, EngineArgs& a, bool need_weights) {
  add_arch_options(cmd, a.arch);
  if (need_weights)
    cmd->add_option("--weights", a.weights,
                    "weights (*.safetensors); default: the project's stored weights");
  add_device_options(cmd, a.device);
  cmd->add_option("--threads", a.threads, "CPU threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
}

Shape Engine::input_shape() const {
  const std::vector<NodeId> ins = arch.graph.top_level_of_kind("input");
  if (ins.size() != 1)
    throw Error(arch.spec + ": the engine runs graphs with exactly one input (this one has " +
                std::to_string(ins.size()) + ")");
  return analysis.of(ins[0])->out.at(0);
}

int64_t Engine::num_classes() const {
  const std::vector<NodeId> outs = arch.graph.top_level_of_kind("output");
  if (outs.size() != 1) throw Error(arch.spec + ": the engine runs graphs with exactly one output");
  const Shape& s = analysis.of(outs[0])->in.at(0);
  return s.back();
}

std::unique_ptr<Engine> load_engine(const EngineArgs& a, bool with_weights) {
  auto e = std::make_unique<Engine>();
  e->backend = &device_backend(a.device);
  e->arch = load_arch(a.arch.arch, a.arch.options());
  e->analysis = analyze(e->arch.graph);
  require_valid(e->analysis);
  set_num_threads(a.threads);
  const FlatGraph fg = flatten(e->arch.graph, e->analysis);
  for (const FlatOp& op : fg.ops)
    if (!e->backend->supports(op.def->id))
      throw Error(op.path + ": the " + std::string(e->backend->name()) + " backend has no kernel for " + op.def->id);
  if (!with_weights) return e;
  std::string source;
  if (!a.weights.empty()) {
    e->weights = read_safetensors(a.weights);
    source = a.weights;
  } else if (!e->arch.project.weights.empty()) {
    e->weights = e->arch.project.weights;
    source = "the weights stored in " + a.arch.arch;
  } else {
    throw Error(a.arch.arch + ": no weights; pass --weights W.safetensors (`formwork weights init` "
                "makes initial ones)" + (e->arch.source == "project" ? " or import them into the project" : ""));
  }
  require_weights_match(e->analysis, e->weights, source, a.arch.arch);
  e->executor = e->backend->create(e->arch.graph, e->analysis);
  e->executor->bind(e->weights);
  return e;
}

void require_engine_memory(const Engine& e, int64_t batch, const RunOptions& ro, bool optimiser,
                           const std::string& hint) {
  std::unique_ptr<Executor> own;
  const Executor* ex = e.executor.get();
  if (!ex) ex = (own = e.backend->create(e.arch.graph, e.analysis)).get();
  std::string input;
  for (int64_t d : e.input_shape()) {
    if (!input.empty()) input += "x";
    input += std::to_string(d);
  }
  require_memory(memory_need(*ex, &e.analysis, batch, ro, optimiser),
                 e.arch.spec + " at batch " + std::to_string(batch) + " and input " + input, hint);
}

namespace {
void check_finite(const Tensor& t, const std::string& path) {
  for (int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t.data[i]))
      throw Error(path + ": element " + std::to_string(i) + " is " +
                  (std::isnan(t.data[i]) ? "NaN" : "infinite") + "; the input must be finite");
}
}  // namespace

Tensor load_image_input(const std::string& path, const Engine& e) {
  InputPipeline p;
  try {
    p = image_input_pipeline(e.arch.project, e.arch.graph, e.input_shape());
  } catch (const Error& err) {
    throw Error(path + ": " + err.what());
  }
  return pipeline_tensor(path, p);
}

Tensor load_input(const std::string& path, const Engine& e) {
  Tensor x = read_input(path, e);
  // The forward the commands run at least (gradcam's and score's backwards are checked by the
  // executor as they start).
  require_engine_memory(e, x.dim(0), RunOptions{}, false,
                        "use a smaller batch in " + path + " or a smaller --input-size");
  return x;
}

Tensor read_input(const std::string& path, const Engine& e) {
  const Shape want = e.input_shape();
  if (!ends_with(path, ".npy")) return load_image_input(path, e);
  Tensor x = read_npy(path);
  const std::string expect = "[B," + std::to_string(want[0]) + "," + std::to_string(want[1]) +
                             "," + std::to_string(want[2]) + "]";
  if (x.rank() != 4)
    throw Error(path + ": shape " + shape_str(x.shape) + " is not an image batch; " +
                e.arch.spec + " expects " + expect);
  if (x.dim(1) != want[0])
    throw Error(path + ": has " + std::to_string(x.dim(1)) + " channels; " + e.arch.spec +
                " expects " + std::to_string(want[0]) + " (" + expect + ")");
  if (x.dim(2) != want[1] || x.dim(3) != want[2])
    throw Error(path + ": images are " + std::to_string(x.dim(2)) + "x" + std::to_string(x.dim(3)) +
                "; " + e.arch.spec + " expects " + std::to_string(want[1]) + "x" +
                std::to_string(want[2]) + " (" + expect + "; --input-size changes a template's size)");
  if (x.dim(0) < 1) throw Error(path + ": the batch is empty");
  check_finite(x, path);
  return x;
}

}  // namespace fw::cli
