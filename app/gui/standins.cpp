// TEMPORARY stand-ins, so that the GUI builds and runs before the other branch lands:
// views/mixing.h and views/faithfulness.h (views-compute implements them).
// Each stand-in is the header's contract in its simplest form, or a clear "not in this build yet"
// failure that the views show as the request's reason. DELETE THIS FILE when `main` has them
// (the real definitions would otherwise be duplicates at link time).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "views/faithfulness.h"
#include "views/gradcam.h"
#include "views/mixing.h"

namespace fw {

// ---- views/mixing.h ------------------------------------------------------------------------------
std::vector<std::string> attention_layers(const Graph& g, const FlatGraph& fg) {
  std::vector<std::string> out;
  (void)g;
  for (const FlatOp& op : fg.ops)
    if (op.def->id == "self_attention") out.push_back(op.path.substr(0, op.path.rfind('.')));
  return out;
}
std::vector<MixerInfo> token_mixers(const Graph& g, const FlatGraph& fg) {
  std::vector<MixerInfo> out;
  for (const std::string& p : attention_layers(g, fg)) out.push_back(token_mixer(g, fg, p));
  return out;
}
MixerInfo token_mixer(const Graph& g, const FlatGraph& fg, const std::string& layer) {
  const int op = attention_op(g, fg, layer);
  MixerInfo m;
  m.path = layer;
  m.kind = "attention";
  const Shape& s = fg.ops[size_t(op)].in_shapes.at(0);
  m.tokens = s.at(0);
  const Shape& in = fg.ops.at(size_t(fg.inputs.at(0))).out_shapes.at(0);
  for (int64_t prefix : {0, 1})
    for (int64_t st = 1; st <= 64; st *= 2)
      if ((in[1] / st) * (in[2] / st) == m.tokens - prefix && m.h == 0) {
        m.prefix = prefix;
        m.h = in[1] / st;
        m.w = in[2] / st;
      }
  return m;
}
Tensor mixing_map(const Backend&, Executor&, const Graph&, const TensorMap&, const Tensor&,
                  const std::string&, std::optional<int64_t>, const JobControl*) {
  throw Error("the effective mixing map is not in this build yet (views-compute)");
}
Tensor attention_rollout(Executor&, const Graph&, const Tensor&, const std::string&) {
  throw Error("attention rollout is not in this build yet (views-compute)");
}

// ---- views/faithfulness.h ------------------------------------------------------------------------
Tensor saliency(const float* cam, int64_t h, int64_t w, int64_t H, int64_t W) {
  Tensor s({H, W});
  const float sy = float(h) / float(H), sx = float(w) / float(W);
  for (int64_t y = 0; y < H; ++y) {
    const float fy = std::max(0.0f, (float(y) + 0.5f) * sy - 0.5f);
    const int64_t y0 = std::min<int64_t>(int64_t(fy), h - 1), y1 = std::min(y0 + 1, h - 1);
    const float ly = fy - float(y0);
    for (int64_t x = 0; x < W; ++x) {
      const float fx = std::max(0.0f, (float(x) + 0.5f) * sx - 0.5f);
      const int64_t x0 = std::min<int64_t>(int64_t(fx), w - 1), x1 = std::min(x0 + 1, w - 1);
      const float lx = fx - float(x0);
      s.data[size_t(y * W + x)] =
          (1 - ly) * ((1 - lx) * cam[y0 * w + x0] + lx * cam[y0 * w + x1]) +
          ly * ((1 - lx) * cam[y1 * w + x0] + lx * cam[y1 * w + x1]);
    }
  }
  return s;
}
std::vector<int64_t> pixel_order(const Tensor& s) {
  std::vector<int64_t> o(size_t(s.size()));
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(), [&](int64_t a, int64_t b) { return s.data[a] > s.data[b]; });
  return o;
}
Faithfulness faithfulness(Executor&, const Tensor&, const Tensor&, int64_t, const std::optional<PixelBox>&,
                          int64_t, const JobControl*) {
  throw Error("deletion/insertion scores are not in this build yet (views-compute)");
}

}  // namespace fw
