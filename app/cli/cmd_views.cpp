// formwork gradcam ... and formwork attention ...
#include <cstdio>

#include "app/cli/engine.h"
#include "core/atomic_file.h"
#include "core/npy.h"
#include "views/gradcam.h"
#include "views/image.h"

namespace fw::cli {

namespace {
using Outputs = std::vector<std::pair<std::string, std::vector<uint8_t>>>;
}  // namespace

void register_gradcam(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "gradcam", "Raw Grad-CAM [B,h,w] of a layer for a class, at the layer's resolution");
  cmd->footer(
      "Grad-CAM as pytorch-grad-cam defines it: A = the layer's output (token outputs reshaped to "
      "their grid, a class token dropped), weights = spatial mean of d score_class / dA, "
      "cam = relu(sum_c w_c A_c), before upsampling and normalisation. --png writes the CAM "
      "upsampled and colour-mapped over each input image, side by side.");
  struct Args {
    EngineArgs engine;
    std::string input, layer, out, png;
    int64_t cls = 0;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--input", a->input, "input batch (*.npy float32 [B,C,H,W]) or an image file")->required();
  cmd->add_option("--layer", a->layer, "module path of the layer, e.g. stages.3")->required();
  cmd->add_option("--class", a->cls, "class index")->required();
  cmd->add_option("--out", a->out, "CAM (*.npy float32 [B,h,w])")->required();
  cmd->add_option("--png", a->png, "overlay image (*.png)");
  cmd->callback([a] {
    auto e = load_engine(a->engine);
    const Tensor x = load_input(a->input, *e);
    const Tensor cam = gradcam(*e->executor, e->arch.graph, x, a->layer, {a->cls});
    // Every output is made first, then all are written together or none (core/atomic_file.h).
    Outputs outs{{a->out, encode_npy(cam)}};
    if (!a->png.empty()) {
      const int64_t B = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
      std::vector<Image> tiles;
      for (int64_t b = 0; b < B; ++b)
        tiles.push_back(overlay(image_from_chw(x.ptr() + b * C * H * W, C, H, W),
                                cam.ptr() + b * cam.dim(1) * cam.dim(2), cam.dim(1), cam.dim(2)));
      outs.push_back({a->png, encode_png(hconcat(tiles), a->png)});
    }
    write_files_atomic(outs);
    std::printf("wrote %s: Grad-CAM %s of '%s' for class %lld\n", a->out.c_str(),
                shape_str(cam.shape).c_str(), a->layer.c_str(), (long long)a->cls);
  });
}

void register_attention(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "attention", "Softmax attention probabilities [B,heads,N,N] of an attention node");
  struct Args {
    EngineArgs engine;
    std::string input, layer, out, png;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--input", a->input, "input batch (*.npy float32 [B,C,H,W]) or an image file")->required();
  cmd->add_option("--layer", a->layer,
                  "module path of the attention module, e.g. stages.2.blocks.0.token_mixer")
      ->required();
  cmd->add_option("--out", a->out, "probabilities (*.npy float32 [B,heads,N,N])")->required();
  cmd->add_option("--png", a->png, "the first sample's heads side by side (*.png)");
  cmd->callback([a] {
    auto e = load_engine(a->engine);
    const Tensor x = load_input(a->input, *e);
    const Tensor att = attention_maps(*e->executor, e->arch.graph, x, a->layer);
    Outputs outs{{a->out, encode_npy(att)}};
    if (!a->png.empty()) {
      const int64_t heads = att.dim(1), n = att.dim(2);
      const int scale = int(std::max<int64_t>(1, 192 / n));
      std::vector<Image> tiles;
      for (int64_t h = 0; h < heads; ++h)
        tiles.push_back(heatmap_image(att.ptr() + h * n * n, n, n, scale));
      outs.push_back({a->png, encode_png(hconcat(tiles), a->png)});
    }
    write_files_atomic(outs);
    std::printf("wrote %s: attention %s of '%s'\n", a->out.c_str(), shape_str(att.shape).c_str(),
                a->layer.c_str());
  });
}

}  // namespace fw::cli
