#include "views/gradcam.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace fw {

namespace {
void require_layer(const Graph& g, const std::string& layer) {
  if (g.find_path(layer) == kNoNode)
    throw Error("no layer '" + layer + "' (module paths look like stages.2.blocks.0; see `formwork info`)");
}
}  // namespace

LayerGrid layer_grid(const Graph& g, const FlatGraph& fg, const std::string& layer) {
  require_layer(g, layer);
  LayerGrid lg;
  lg.value = find_value(g, fg, layer);
  const Shape& s = fg.ops.at(lg.value.op).out_shapes.at(lg.value.port);
  if (s.size() == 3) {
    lg.channels = s[0], lg.h = s[1], lg.w = s[2];
    return lg;
  }
  if (s.size() != 2)
    throw Error("layer '" + layer + "' outputs [" + shape_str(s) + "]: it has no spatial grid");
  const Shape& in = fg.ops.at(fg.inputs.at(0)).out_shapes.at(0);  // [C, H, W]
  const int64_t n = s[0];
  for (int64_t prefix : {0, 1})
    for (int64_t stride = 1; stride <= 64; stride *= 2)
      if (in[1] % stride == 0 && in[2] % stride == 0 &&
          (in[1] / stride) * (in[2] / stride) == n - prefix) {
        lg.tokens = true;
        lg.prefix = prefix;
        lg.channels = s[1], lg.h = in[1] / stride, lg.w = in[2] / stride;
        return lg;
      }
  throw Error("layer '" + layer + "' outputs " + std::to_string(n) +
              " tokens, which form no grid of the " + std::to_string(in[1]) + "x" +
              std::to_string(in[2]) + " input");
}

Tensor gradcam(Executor& ex, const Graph& g, const Tensor& input, const std::string& layer,
               const std::vector<int64_t>& classes, Tensor* logits_out, CamMethod method,
               const JobControl* control, CamDiagnostics* diagnostics) {
  const FlatGraph& fg = ex.flat();
  const LayerGrid lg = layer_grid(g, fg, layer);
  const int64_t B = input.dim(0);
  if (classes.size() != 1 && int64_t(classes.size()) != B)
    throw Error("give one class or one per sample (" + std::to_string(B) + ")");
  RunOptions o;
  o.backward = true;
  o.grads.values = {lg.value};
  o.keep = {lg.value};
  if (control) o.cancel = &control->cancel;
  std::vector<Tensor> outs = ex.forward({input}, o);
  const Tensor& logits = outs.at(0);
  if (logits.rank() != 2) throw Error("Grad-CAM needs a classifier: the output is " + shape_str(logits.shape));
  const int64_t K = logits.dim(1);
  for (int64_t k : classes)
    if (k < 0 || k >= K)
      throw Error("--class " + std::to_string(k) + " is out of range: the model has " +
                  std::to_string(K) + " classes (0.." + std::to_string(K - 1) + ")");
  Tensor dout({B, K}, 0.0f);
  for (int64_t b = 0; b < B; ++b) dout.data[b * K + classes[classes.size() == 1 ? 0 : b]] = 1.0f;
  Gradients gr = ex.backward({dout});
  const Tensor* A = ex.value(lg.value);
  FW_ASSERT(A, "the executor must keep the values listed in RunOptions::keep");
  const Tensor& G = gr.values.at(0);

  const int64_t C = lg.channels, h = lg.h, w = lg.w, hw = h * w;
  // Element (b, c, p) of the layer output, p = i*w + j on the grid.
  auto at = [&](const Tensor& t, int64_t b, int64_t c, int64_t p) {
    if (!lg.tokens) return t.data[(b * C + c) * hw + p];
    const int64_t n = hw + lg.prefix;
    return t.data[(b * n + lg.prefix + p) * C + c];
  };
  Tensor cam({B, h, w}, 0.0f);
  std::vector<double> alpha(C), acc(hw), mag(hw);
  double net_max = 0, mag_max = 0;  // HiResCAM: max |sum_c g*A| and max sum_c |g*A|
  for (int64_t b = 0; b < B; ++b) {
    if (method == CamMethod::HiResCam || method == CamMethod::LayerCam) {
      // Element-wise weights, no spatial averaging: HiResCAM g*A, LayerCAM relu(g)*A.
      std::fill(acc.begin(), acc.end(), 0.0);
      std::fill(mag.begin(), mag.end(), 0.0);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t p = 0; p < hw; ++p) {
          const double g = at(G, b, c, p);
          const double t = (method == CamMethod::LayerCam ? std::max(0.0, g) : g) * at(*A, b, c, p);
          acc[p] += t;
          mag[p] += std::abs(t);
        }
      for (int64_t p = 0; p < hw; ++p) {
        cam.data[b * hw + p] = float(std::max(0.0, acc[p]));
        net_max = std::max(net_max, std::abs(acc[p]));
        mag_max = std::max(mag_max, mag[p]);
      }
      continue;
    }
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      if (method == CamMethod::GradCam) {
        for (int64_t p = 0; p < hw; ++p) s += at(G, b, c, p);
        alpha[c] = s / double(hw);
        continue;
      }
      // Grad-CAM++ (pytorch-grad-cam's GradCAMPlusPlus): a = g^2 / (2 g^2 + sum_hw(A) g^3 + 1e-6),
      // a = 0 where g = 0; w_c = sum_hw relu(g) a.
      double sum_a = 0;
      for (int64_t p = 0; p < hw; ++p) sum_a += at(*A, b, c, p);
      for (int64_t p = 0; p < hw; ++p) {
        const double g = at(G, b, c, p);
        if (g <= 0) continue;  // relu(g) = 0 (and a = 0 where g = 0)
        const double g2 = g * g;
        s += g * (g2 / (2 * g2 + sum_a * g2 * g + 1e-6));
      }
      alpha[c] = s;
    }
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < hw; ++p) acc[p] += alpha[c] * at(*A, b, c, p);
    for (int64_t p = 0; p < hw; ++p) cam.data[b * hw + p] = float(std::max(0.0, acc[p]));
  }
  if (diagnostics) {
    *diagnostics = CamDiagnostics{};
    if (method == CamMethod::HiResCam && mag_max > 0) {
      diagnostics->cancellation = net_max / mag_max;
      if (diagnostics->cancellation < 1e-4) {
        diagnostics->degenerate = true;
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.1e", diagnostics->cancellation);
        diagnostics->note = "HiResCAM at '" + layer + "' cancels to " + buf +
                            " of its terms, as at a layer that reaches the logits only through a "
                            "LayerNorm (scale invariance): the map ranks what is left (rounding, the "
                            "norm's eps), not evidence; try layercam or a layer on a residual path";
      }
    }
  }
  if (logits_out) *logits_out = logits;
  return cam;
}

CamMethod parse_cam_method(const std::string& name) {
  for (CamMethod m : kCamMethods)
    if (name == cam_method_name(m)) return m;
  throw UsageError("--method " + name + ": expected gradcam, gradcam++, hirescam or layercam");
}

const char* cam_method_name(CamMethod m) {
  switch (m) {
    case CamMethod::GradCam: return "gradcam";
    case CamMethod::GradCamPlusPlus: return "gradcam++";
    case CamMethod::HiResCam: return "hirescam";
    case CamMethod::LayerCam: return "layercam";
  }
  return "gradcam";
}

const char* cam_method_title(CamMethod m) {
  switch (m) {
    case CamMethod::GradCam: return "Grad-CAM";
    case CamMethod::GradCamPlusPlus: return "Grad-CAM++";
    case CamMethod::HiResCam: return "HiResCAM";
    case CamMethod::LayerCam: return "LayerCAM";
  }
  return "Grad-CAM";
}

int attention_op(const Graph& g, const FlatGraph& fg, const std::string& layer) {
  require_layer(g, layer);
  const std::vector<int> ops = find_ops(g, fg, layer, "self_attention");
  if (ops.empty()) throw Error("layer '" + layer + "' has no attention node");
  if (ops.size() > 1) {
    const std::string& first = fg.ops[ops[0]].path;
    const std::string hint = first.substr(0, first.rfind('.'));
    throw Error("layer '" + layer + "' holds " + std::to_string(ops.size()) +
                " attention nodes; name one of them, e.g. " + hint);
  }
  return ops[0];
}

Tensor attention_maps(Executor& ex, const Graph& g, const Tensor& input, const std::string& layer) {
  const int op = attention_op(g, ex.flat(), layer);
  RunOptions o;
  o.keep_attention = {op};
  ex.forward({input}, o);
  const Tensor* a = ex.attention(op);
  FW_ASSERT(a, "the executor must keep the attention maps listed in RunOptions::keep_attention");
  return *a;
}

}  // namespace fw
