#include "app/cli/engine.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/image_io.h"
#include "core/templates.h"
#include "kernels/train/trainer.h"
#include "core/npy.h"
#include "core/safetensors.h"
#include "core/weights.h"
#include "kernels/parallel.h"

namespace fw::cli {

void add_engine_options(CLI::App* cmd, EngineArgs& a, bool need_weights) {
  add_arch_options(cmd, a.arch);
  if (need_weights)
    cmd->add_option("--weights", a.weights,
                    "weights (*.safetensors); default: the project's stored weights");
  cmd->add_option("--device", a.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
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
  e->arch = load_arch(a.arch.arch, a.arch.options());
  e->analysis = analyze(e->arch.graph);
  require_valid(e->analysis);
  set_num_threads(a.threads);
  e->backend = find_backend(a.device);
  if (!e->backend)
    throw Error("--device " + a.device + ": this build has no " + a.device +
                " backend (built without CUDA, or no such device)");
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
    source = a.arch.arch;
  } else {
    throw Error(a.arch.arch + ": no weights; pass --weights W.safetensors (`formwork weights init` "
                "makes initial ones)" + (e->arch.source == "project" ? " or import them into the project" : ""));
  }
  require_weights_match(e->analysis, e->weights, source, a.arch.arch);
  e->executor = e->backend->create(e->arch.graph, e->analysis);
  e->executor->bind(e->weights);
  return e;
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
  const Shape want = e.input_shape();  // C, H, W
  if (want[0] != 1 && want[0] != 3)
    throw Error(path + ": image inputs need a 1- or 3-channel network; this one takes " +
                std::to_string(want[0]) + " channels");
  const int C = int(want[0]), H = int(want[1]), W = int(want[2]);
  Image8 img = read_image(path, C);
  std::vector<float> mean, stdv;
  const auto& meta = e.arch.project.meta;
  if (auto it = meta.find("input_norm"); it != meta.end()) {
    // The project's data settings: the image is resized to the input (as its dataset was) and
    // normalised with the stored statistics.
    const Normalization n = normalization_from_json(it->second);
    img = resize_bilinear(img, W, H);
    for (int c = 0; c < C; ++c) {
      mean.push_back(n.mean.at(n.mean.size() == 1 ? 0 : c));
      stdv.push_back(n.std.at(n.std.size() == 1 ? 0 : c));
    }
  } else {
    // timm's eval transform: bicubic resize of the shorter side to floor(size / crop_pct), centre
    // crop, ImageNet mean/std.
    double crop_pct = 1.0;
    const std::string tmpl = e.arch.graph.meta.has("template") ? e.arch.graph.meta.s("template") : "";
    for (const TemplateInfo& t : template_list())
      if (t.name == tmpl) crop_pct = t.crop_pct;
    const int scale = int(std::floor(double(std::max(H, W)) / crop_pct));
    const double r = double(scale) / double(std::min(img.width, img.height));
    const int nw = std::max(W, int(std::lround(img.width * r)));
    const int nh = std::max(H, int(std::lround(img.height * r)));
    const Image8 big = resize_bicubic(img, nw, nh);
    Image8 crop(W, H, C);
    const int x0 = (nw - W) / 2, y0 = (nh - H) / 2;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        for (int c = 0; c < C; ++c) crop.pixel(x, y)[c] = big.pixel(x0 + x, y0 + y)[c];
    img = std::move(crop);
    const float m3[3] = {0.485f, 0.456f, 0.406f}, s3[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < C; ++c) {
      mean.push_back(C == 3 ? m3[c] : 0.449f);  // gray: the mean of the three
      stdv.push_back(C == 3 ? s3[c] : 0.226f);
    }
  }
  Tensor x({1, C, H, W});
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y)
      for (int xx = 0; xx < W; ++xx)
        x.data[(size_t(c) * H + y) * W + xx] = (img.pixel(xx, y)[c] / 255.0f - mean[c]) / stdv[c];
  return x;
}

Tensor load_input(const std::string& path, const Engine& e) {
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
