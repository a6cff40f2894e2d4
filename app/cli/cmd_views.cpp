// formwork attention ... (probabilities, --rollout) and formwork mixing ... (token-mixing maps).
// formwork gradcam is in cmd_gradcam.cpp.
#include <cstdio>

#include "app/cli/engine.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "views/gradcam.h"
#include "views/image.h"
#include "views/mixing.h"

namespace fw::cli {

namespace {
using Outputs = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// The first sample's maps [rows, cols] side by side as heat maps (count maps of rows x cols).
std::vector<uint8_t> maps_png(const Tensor& t, int64_t count, int64_t rows, int64_t cols,
                              const std::string& path) {
  const int scale = int(std::max<int64_t>(1, 192 / std::max(rows, cols)));
  std::vector<Image> tiles;
  for (int64_t k = 0; k < count; ++k) tiles.push_back(heatmap_image(t.ptr() + k * rows * cols, rows, cols, scale));
  return encode_png(hconcat(tiles), path);
}
}  // namespace

void register_attention(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "attention", "Softmax attention probabilities [B,heads,N,N] of an attention node, or "
                   "attention rollout [B,N,N] (--rollout)");
  cmd->footer(
      "--rollout: attention rollout (Abnar & Zuidema 2020) over the attention nodes at or under "
      "--layers MODULE (default: the whole network), in execution order, all with the same token "
      "count N: A~ = rownorm(0.5 mean_heads(A) + 0.5 I), R = A~_L ... A~_1. For ViT, row 0 (the "
      "class token) without column 0 is the map over the patch grid.");
  struct Args {
    EngineArgs engine;
    std::string input, layer, layers, out, png;
    bool rollout = false;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--input", a->input, "input batch (*.npy float32 [B,C,H,W]) or an image file")->required();
  cmd->add_option("--layer", a->layer,
                  "module path of the attention module, e.g. stages.2.blocks.0.token_mixer");
  cmd->add_flag("--rollout", a->rollout, "attention rollout [B,N,N] instead of one node's probabilities");
  cmd->add_option("--layers", a->layers, "--rollout: the module whose attention nodes to roll out (default all)");
  cmd->add_option("--out", a->out, "probabilities (*.npy float32 [B,heads,N,N]) or rollout ([B,N,N])")->required();
  cmd->add_option("--png", a->png, "the first sample's heads (or rollout) as a heat map (*.png)");
  cmd->callback([a] {
    if (a->rollout && !a->layer.empty()) throw UsageError("--rollout takes --layers MODULE, not --layer");
    if (!a->rollout && !a->layers.empty()) throw UsageError("--layers needs --rollout");
    if (!a->rollout && a->layer.empty()) throw UsageError("--layer is required (or --rollout)");
    auto e = load_engine(a->engine);
    const Tensor x = load_input(a->input, *e);
    if (a->rollout) {
      const Tensor r = attention_rollout(*e->executor, e->arch.graph, x, a->layers);
      Outputs outs{{a->out, encode_npy(r)}};
      if (!a->png.empty()) outs.push_back({a->png, maps_png(r, 1, r.dim(1), r.dim(2), a->png)});
      write_files_atomic(outs);
      std::printf("wrote %s: attention rollout %s over %s\n", a->out.c_str(), shape_str(r.shape).c_str(),
                  a->layers.empty() ? "the whole network" : ("'" + a->layers + "'").c_str());
      return;
    }
    const Tensor att = attention_maps(*e->executor, e->arch.graph, x, a->layer);
    Outputs outs{{a->out, encode_npy(att)}};
    if (!a->png.empty()) outs.push_back({a->png, maps_png(att, att.dim(1), att.dim(2), att.dim(3), a->png)});
    write_files_atomic(outs);
    std::printf("wrote %s: attention %s of '%s'\n", a->out.c_str(), shape_str(att.shape).c_str(),
                a->layer.c_str());
  });
}

void register_mixing(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "mixing", "Effective token-mixing map [B,N,N] (or row --query I: [B,N]) of a token mixer");
  cmd->footer(
      "M[b,i,j] = ||d y[b,i,:] / d x[b,j,:]||_F: the Frobenius norm of the Jacobian block of the "
      "mixer's output token i with respect to its input token j, at the input the mixer sees when "
      "the network runs on --input; exact (reverse mode through the mixer alone). Tokens are "
      "numbered n = h*W + w (a class token is token 0). Mixers: pooling (pool_mixer), sepconv, "
      "attention, random_mixing, identity nodes, e.g. stages.0.blocks.0.token_mixer. Cost: a full "
      "map takes N * C vector-Jacobian products of the mixer per sample, a --query row C.");
  struct Args {
    EngineArgs engine;
    std::string input, layer, out, png;
    std::optional<int64_t> query;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--input", a->input, "input batch (*.npy float32 [B,C,H,W]) or an image file")->required();
  cmd->add_option("--layer", a->layer, "module path of the token mixer, e.g. stages.0.blocks.0.token_mixer")
      ->required();
  cmd->add_option("--query", a->query, "one row: output token I (0..N-1)");
  cmd->add_option("--out", a->out, "map (*.npy float32 [B,N,N], or [B,N] with --query)")->required();
  cmd->add_option("--png", a->png, "the first sample's map (*.png): [N,N], or row I on the token grid");
  cmd->callback([a] {
    auto e = load_engine(a->engine);
    const Tensor x = load_input(a->input, *e);
    const MixerInfo info = token_mixer(e->arch.graph, e->executor->flat(), a->layer);
    const Tensor m = mixing_map(*e->backend, *e->executor, e->arch.graph, e->weights, x, a->layer, a->query);
    Outputs outs{{a->out, encode_npy(m)}};
    if (!a->png.empty()) {
      const int64_t N = info.tokens;
      if (!a->query) {
        outs.push_back({a->png, maps_png(m, 1, N, N, a->png)});
      } else if (info.h > 0) {  // row I on the grid (a class token's entry left out)
        Tensor grid({info.h, info.w});
        std::copy(m.data.begin() + info.prefix, m.data.begin() + N, grid.data.begin());
        outs.push_back({a->png, maps_png(grid, 1, info.h, info.w, a->png)});
      } else {
        outs.push_back({a->png, maps_png(m, 1, 1, N, a->png)});
      }
    }
    write_files_atomic(outs);
    std::printf("wrote %s: mixing map %s of '%s' (%s, %lld tokens)\n", a->out.c_str(),
                shape_str(m.shape).c_str(), a->layer.c_str(), info.kind.c_str(), (long long)info.tokens);
  });
}

}  // namespace fw::cli
