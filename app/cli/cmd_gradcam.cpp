// formwork gradcam ...: raw Grad-CAM / Grad-CAM++ maps, and their faithfulness (--metrics) for
// one image or over a dataset (CONTRACT.md "Views").
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/engine.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/project_meta.h"
#include "views/faithfulness.h"
#include "views/gradcam.h"
#include "views/image.h"

namespace fw::cli {

namespace {

using Outputs = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// "X0,Y0,X1,Y1" (integers) -> a box; fw::UsageError otherwise.
PixelBox parse_box(const std::string& text) {
  std::vector<int64_t> v;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t used = 0;
    long long n = 0;
    try {
      n = std::stoll(part, &used);
    } catch (...) {
      used = 0;
    }
    if (part.empty() || used != part.size())
      throw UsageError("--box '" + text + "': expected four integers X0,Y0,X1,Y1, e.g. 8,8,40,40");
    v.push_back(n);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (v.size() != 4)
    throw UsageError("--box '" + text + "': expected four integers X0,Y0,X1,Y1, e.g. 8,8,40,40");
  return {v[0], v[1], v[2], v[3]};
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

}  // namespace

void register_gradcam(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gradcam", "Raw Grad-CAM [B,h,w] of a layer for a class, at the layer's resolution; --metrics: "
                 "its faithfulness (deletion/insertion AUC, pointing game), for an image or a dataset");
  cmd->footer(
      "Grad-CAM as pytorch-grad-cam defines it: A = the layer's output (token outputs reshaped to "
      "their grid, a class token dropped), weights = spatial mean of d score_class / dA, "
      "cam = relu(sum_c w_c A_c), before upsampling and normalisation; --method gradcam++ is "
      "pytorch-grad-cam's GradCAMPlusPlus, hirescam its HiResCAM (cam = relu(sum_c dA_c * A_c), "
      "element-wise), layercam its LayerCAM (cam = relu(sum_c relu(dA_c) * A_c)). --png writes the CAM upsampled and colour-mapped over "
      "each input image, side by side.\n"
      "--metrics (one image: --input with one sample; --class defaults to the top-1 class): the "
      "CAM upsampled bilinearly to the input size ranks the pixels; deletion / insertion curves "
      "p_0..p_32 (softmax probability of the class as the top k/32 of the pixels are zeroed / "
      "copied into zeros) and their AUCs; with --box X0,Y0,X1,Y1 (x1, y1 exclusive, widened by "
      "--tolerance pixels) the pointing game hit. --out and --png are optional then.\n"
      "--dataset NAME --metrics: the same for each item of a split (class = the true label; "
      "--limit N the first N), means; pointing_game (hit rate) when the dataset has boxes "
      "(--tolerance asks for it: a dataset without boxes is then an error).");
  struct Args {
    EngineArgs engine;
    std::string input, layer, out, png, method = "gradcam", box, dataset, split = "test";
    std::optional<int64_t> cls, tolerance;
    int64_t limit = 0;
    bool metrics = false, json = false;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--input", a->input, "input batch (*.npy float32 [B,C,H,W]) or an image file");
  cmd->add_option("--layer", a->layer, "module path of the layer, e.g. stages.3")->required();
  cmd->add_option("--class", a->cls, "class index (required without --metrics; with it: top-1)");
  cmd->add_option("--out", a->out, "CAM (*.npy float32 [B,h,w]); required without --metrics");
  cmd->add_option("--png", a->png, "overlay image (*.png)");
  cmd->add_option("--method", a->method, "gradcam (default), gradcam++, hirescam or layercam");
  cmd->add_flag("--metrics", a->metrics, "faithfulness: deletion/insertion AUC, pointing game");
  cmd->add_option("--box", a->box, "--metrics, one image: object box X0,Y0,X1,Y1 (pixels; x1, y1 exclusive)");
  cmd->add_option("--tolerance", a->tolerance, "pointing game: widen the box by T pixels (default 0)")
      ->check(non_negative());
  cmd->add_flag("--json", a->json, "--metrics: print one JSON object");
  cmd->add_option("--dataset", a->dataset, "--metrics over a dataset: fashion-mnist, fashion-mnist-placed or DIR");
  cmd->add_option("--split", a->split, "--dataset: train or test (default test)")
      ->check(CLI::IsMember({"train", "test"}));
  cmd->add_option("--limit", a->limit, "--dataset: the first N items only (default all)")
      ->check(non_negative());
  cmd->callback([a] {
    const CamMethod method = parse_cam_method(a->method);
    const bool on_dataset = !a->dataset.empty();
    if (on_dataset) {
      if (!a->metrics) throw UsageError("--dataset needs --metrics (maps are made per image: --input)");
      if (!a->input.empty()) throw UsageError("give --input or --dataset, not both");
      if (!a->box.empty()) throw UsageError("--box is for one image; a dataset brings its own boxes");
      if (a->cls) throw UsageError("--class is for one image; over a dataset the class is each item's label");
      if (!a->out.empty() || !a->png.empty())
        throw UsageError("--out and --png are for one image; --dataset prints metrics only");
    } else {
      if (a->input.empty()) throw UsageError("--input is required (or --dataset with --metrics)");
      if (!a->metrics) {
        if (!a->cls) throw UsageError("--class is required (without --metrics)");
        if (a->out.empty()) throw UsageError("--out is required (without --metrics)");
        if (!a->box.empty() || a->tolerance)
          throw UsageError("--box and --tolerance need --metrics");
      }
      if (a->tolerance && a->box.empty()) throw UsageError("--tolerance needs --box");
    }
    if (a->json && !a->metrics) throw UsageError("--json needs --metrics");
    if (!on_dataset && (a->split != "test" || a->limit))
      throw UsageError("--split and --limit need --dataset");
    const std::optional<PixelBox> box = a->box.empty() ? std::nullopt : std::optional(parse_box(a->box));

    auto e = load_engine(a->engine);
    if (on_dataset) {
      DatasetFaithfulnessRequest req;
      req.dataset = a->dataset;
      req.split = a->split;
      req.limit = a->limit;
      req.layer = a->layer;
      req.method = method;
      req.tolerance = a->tolerance.value_or(0);
      req.pointing = a->tolerance.has_value();
      InputPipeline p;  // no stored pipeline: the dataset's own fit, channels and normalisation
      p.fit = Fit::Pad;
      p.channels = 0;
      if (auto stored = project_input_pipeline(e->arch.project, e->input_shape())) p = *stored;
      const DatasetFaithfulness r = dataset_faithfulness(*e->executor, e->arch.graph, p, req);
      if (a->json) {
        nlohmann::ordered_json j = {{"n", r.n}};
        if (r.pointing_game) j["pointing_game"] = *r.pointing_game;
        j["deletion_auc"] = r.deletion_auc;
        j["insertion_auc"] = r.insertion_auc;
        j["method"] = cam_method_name(method);
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("%s of '%s' over %lld items of %s/%s\n", cam_method_name(method), a->layer.c_str(),
                    (long long)r.n, a->dataset.c_str(), a->split.c_str());
        if (r.pointing_game) std::printf("pointing_game  %s\n", num(*r.pointing_game).c_str());
        std::printf("deletion_auc   %s\ninsertion_auc  %s\n", num(r.deletion_auc).c_str(),
                    num(r.insertion_auc).c_str());
      }
      return;
    }

    const Tensor x = load_input(a->input, *e);
    if (a->metrics && x.dim(0) != 1)
      throw Error(a->input + ": --metrics takes one image; the batch has " + std::to_string(x.dim(0)) +
                  " samples");
    int64_t cls = a->cls.value_or(0);
    if (!a->cls) {  // the top-1 class (first maximum)
      RunOptions o;
      const Tensor logits = e->executor->forward({x}, o).at(0);
      for (int64_t k = 1; k < logits.dim(1); ++k)
        if (logits.data[k] > logits.data[cls]) cls = k;
    }
    CamDiagnostics diag;
    const Tensor cam =
        gradcam(*e->executor, e->arch.graph, x, a->layer, {cls}, nullptr, method, nullptr, &diag);
    if (diag.degenerate) std::fprintf(stderr, "formwork: note: %s\n", diag.note.c_str());
    std::optional<Faithfulness> f;
    if (a->metrics)
      f = faithfulness(*e->executor, x, cam, cls, box, a->tolerance.value_or(0));
    // Every output is made first, then all are written together or none (core/atomic_file.h).
    Outputs outs;
    if (!a->out.empty()) outs.push_back({a->out, encode_npy(cam)});
    if (!a->png.empty()) {
      const int64_t B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
      std::vector<Image> tiles;
      for (int64_t b = 0; b < B; ++b)
        tiles.push_back(overlay(image_from_chw(x.ptr() + b * C * H * W, C, H, W),
                                cam.ptr() + b * cam.dim(1) * cam.dim(2), cam.dim(1), cam.dim(2)));
      outs.push_back({a->png, encode_png(hconcat(tiles), a->png)});
    }
    if (!outs.empty()) write_files_atomic(outs);
    if (!f) {
      std::printf("wrote %s: %s %s of '%s' for class %lld\n", a->out.c_str(),
                  cam_method_title(method), shape_str(cam.shape).c_str(),
                  a->layer.c_str(), (long long)cls);
      return;
    }
    if (a->json) {
      nlohmann::ordered_json j = {{"deletion_auc", f->deletion_auc}, {"insertion_auc", f->insertion_auc}};
      if (f->pointing_hit) j["pointing_hit"] = *f->pointing_hit;
      j["class"] = f->cls;
      j["method"] = cam_method_name(method);
      j["peak"] = {f->peak_x, f->peak_y};
      j["deletion"] = f->deletion;
      j["insertion"] = f->insertion;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s of '%s', class %lld\n", cam_method_name(method), a->layer.c_str(), (long long)cls);
      std::printf("deletion_auc   %s\ninsertion_auc  %s\n", num(f->deletion_auc).c_str(),
                  num(f->insertion_auc).c_str());
      if (f->pointing_hit)
        std::printf("pointing_hit   %s (peak at x=%lld, y=%lld)\n", *f->pointing_hit ? "yes" : "no",
                    (long long)f->peak_x, (long long)f->peak_y);
    }
  });
}

}  // namespace fw::cli
