// Elementwise ops, any shape (B, ...):
//  - identity
//  - scale:     y = x · scale broadcast over the channel dimension: `channels_first` = dim 1
//               (B, C, ...), `last` = the last dimension (B, ..., C). Backward reads x for dscale.
//  - add:       y = a + b (same shapes)
//  - dropout:   training: y = x·keep/(1-p) with keep = uniform01(seed, element) >= p
//  - drop_path: training: y[b] = x[b]·keep_b/(1-p) with keep_b = uniform01(seed, b) >= p
// Masks are recomputed in backward from RunMode::seed, so nothing is saved.
#include <cstring>

#include "kernels/cpu/common.h"
#include "kernels/cpu/simd.h"

namespace fw::cpu {
namespace {

constexpr int64_t kGrain = 16384;

void copy_parallel(const float* src, float* dst, int64_t n) {
  parallel_for(0, n, 1 << 16, [&](int64_t lo, int64_t hi) {
    std::memcpy(dst + lo, src + lo, sizeof(float) * (hi - lo));
  });
}

const Tensor& dout_like(std::string_view op, const BackwardArgs& a) {
  const Tensor& dy = *a.dout.at(0);
  expect_shape(op, "output gradient", dy, in_shape(a, 0));
  return dy;
}

// ---- identity ---------------------------------------------------------------------------------------
void identity_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  resize(*a.out.at(0), x.shape);
  copy_parallel(x.ptr(), a.out[0]->ptr(), x.size());
}

void identity_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  const Tensor& dy = dout_like("identity", a);
  resize(*dx, dy.shape);
  copy_parallel(dy.ptr(), dx->ptr(), dy.size());
}

bool always_identity(const Attrs&, const RunMode&) { return true; }

// ---- scale ------------------------------------------------------------------------------------------
// x viewed as (outer, dim, inner): channels_first -> (B, C, rest), last -> (rest, C, 1).
struct ScaleGeom {
  int64_t outer, dim, inner;
};

ScaleGeom scale_geom(const Attrs& a, const Shape& x, const std::vector<const Tensor*>& params) {
  constexpr std::string_view op = "scale";
  const std::string layout = attr_s(a, "layout", "channels_first");
  require(layout == "channels_first" || layout == "last", op,
          "layout must be channels_first or last, got '" + layout + "'");
  require(x.size() >= 2, op, "input is " + shape_str(x) + ", expected (B, ...)");
  ScaleGeom g{};
  if (layout == "channels_first") {
    g.outer = x[0], g.dim = x[1], g.inner = numel(x) / std::max<int64_t>(1, x[0] * x[1]);
  } else {
    g.dim = x.back(), g.outer = numel(x) / std::max<int64_t>(1, g.dim), g.inner = 1;
  }
  if (a.has("dim"))
    require(a.i("dim") == g.dim, op, "expects " + std::to_string(a.i("dim")) +
                                         " channels, gets " + std::to_string(g.dim) + " (" +
                                         layout + ")");
  require(!params.empty() && params[0], op, "expects parameter scale");
  expect_shape(op, "scale", *params[0], {g.dim});
  return g;
}

void scale_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  const ScaleGeom g = scale_geom(a.attrs, xt.shape, a.params);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  const float* x = xt.ptr();
  const float* s = a.params[0]->ptr();
  float* y = yt.ptr();
  if (g.inner == 1) {
    parallel_for(0, g.outer, std::max<int64_t>(1, kGrain / g.dim), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r)
        for (int64_t c = 0; c < g.dim; ++c) y[r * g.dim + c] = x[r * g.dim + c] * s[c];
    });
  } else {
    parallel_for(0, g.outer * g.dim, std::max<int64_t>(1, kGrain / g.inner),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t t = lo; t < hi; ++t) {
                     const float sc = s[t % g.dim];
                     for (int64_t i = 0; i < g.inner; ++i) y[t * g.inner + i] = x[t * g.inner + i] * sc;
                   }
                 });
  }
}

void scale_backward(const BackwardArgs& a) {
  const Shape& xs = in_shape(a, 0);
  const ScaleGeom g = scale_geom(a.attrs, xs, a.params);
  const Tensor& dyt = dout_like("scale", a);
  const float* dy = dyt.ptr();
  const float* s = a.params[0]->ptr();
  if (Tensor* dxt = want_din(a, 0)) {
    resize(*dxt, xs);
    float* dx = dxt->ptr();
    parallel_for(0, g.outer * g.dim, std::max<int64_t>(1, kGrain / g.inner),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t t = lo; t < hi; ++t) {
                     const float sc = s[t % g.dim];
                     for (int64_t i = 0; i < g.inner; ++i) dx[t * g.inner + i] = dy[t * g.inner + i] * sc;
                   }
                 });
  }
  if (Tensor* dst = want_dparam(a, 0)) {
    // dscale[c] = Σ dy·x over everything but the channel: per-chunk float partials (vectorised
    // over the inner extent, or over channels for `last`), summed in double.
    const float* x = need_in(a, 0, "scale").ptr();
    const int64_t grain = std::max<int64_t>(1, kGrain / (g.dim * g.inner));
    const int64_t chunks = num_chunks(g.outer, grain);
    std::vector<float> parts(chunks * g.dim, 0.0f);
    parallel_chunks(g.outer, grain, [&, x, dy](int64_t ch, int64_t lo, int64_t hi) {
      float* p = &parts[ch * g.dim];
      for (int64_t o = lo; o < hi; ++o) {
        const float* xo = x + o * g.dim * g.inner;
        const float* d = dy + o * g.dim * g.inner;
        if (g.inner == 1) {
          for (int64_t c = 0; c < g.dim; ++c) p[c] += d[c] * xo[c];
          continue;
        }
        for (int64_t c = 0; c < g.dim; ++c) {
          const float* xc = xo + c * g.inner;
          const float* dc = d + c * g.inner;
          V16 acc{};
          int64_t i = 0;
          for (; i + kLanes <= g.inner; i += kLanes) acc += load16(dc + i) * load16(xc + i);
          float s = hsum16(acc);
          for (; i < g.inner; ++i) s += dc[i] * xc[i];
          p[c] += s;
        }
      }
    });
    resize(*dst, {g.dim});
    for (int64_t c = 0; c < g.dim; ++c) {
      double t = 0;
      for (int64_t ch = 0; ch < chunks; ++ch) t += parts[ch * g.dim + c];
      dst->data[c] = static_cast<float>(t);
    }
  }
}

BackwardNeeds scale_needs(const Attrs&, bool param_grads) { return {param_grads ? 1u : 0u, false}; }

// ---- add --------------------------------------------------------------------------------------------
void add_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  const Tensor& z = *a.in.at(1);
  require(x.shape == z.shape, "add",
          "inputs have different shapes: " + shape_str(x.shape) + " and " + shape_str(z.shape));
  Tensor& yt = *a.out.at(0);
  resize(yt, x.shape);
  const float* p = x.ptr();
  const float* q = z.ptr();
  float* y = yt.ptr();
  parallel_for(0, x.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = p[i] + q[i];
  });
}

void add_backward(const BackwardArgs& a) {
  const Tensor& dy = dout_like("add", a);
  for (size_t i = 0; i < 2; ++i)
    if (Tensor* d = want_din(a, i)) {
      resize(*d, dy.shape);
      copy_parallel(dy.ptr(), d->ptr(), dy.size());
    }
}

// ---- dropout / drop_path ------------------------------------------------------------------------------
float drop_p(std::string_view op, const Attrs& a) {
  const double p = attr_f(a, "p", 0.0);
  require(p >= 0.0 && p <= 1.0, op, "p must be in [0, 1], got " + std::to_string(p));
  return static_cast<float>(p);
}

bool dropout_is_identity(const Attrs& a, const RunMode& m) {
  return !m.training || drop_p("dropout", a) == 0.0f;
}
bool drop_path_is_identity(const Attrs& a, const RunMode& m) {
  return !m.training || drop_p("drop_path", a) == 0.0f;
}

// y = x·mask (the same function maps dy to dx).
void dropout_apply(const Attrs& attrs, const RunMode& mode, const float* x, float* y, int64_t n) {
  const float p = drop_p("dropout", attrs);
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  parallel_for(0, n, kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      y[i] = uniform01(mode.seed, static_cast<uint64_t>(i)) >= p ? x[i] * keep_scale : 0.0f;
  });
}

void drop_path_apply(const Attrs& attrs, const RunMode& mode, const float* x, float* y,
                     const Shape& shape) {
  const float p = drop_p("drop_path", attrs);
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  const int64_t B = shape.at(0), per = numel(shape) / std::max<int64_t>(1, B);
  for (int64_t b = 0; b < B; ++b) {
    const float m = uniform01(mode.seed, static_cast<uint64_t>(b)) >= p ? keep_scale : 0.0f;
    parallel_for(0, per, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[b * per + i] = x[b * per + i] * m;
    });
  }
}

void dropout_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  resize(*a.out.at(0), x.shape);
  if (dropout_is_identity(a.attrs, a.mode))
    copy_parallel(x.ptr(), a.out[0]->ptr(), x.size());
  else
    dropout_apply(a.attrs, a.mode, x.ptr(), a.out[0]->ptr(), x.size());
}

void dropout_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  const Tensor& dy = dout_like("dropout", a);
  resize(*dx, dy.shape);
  if (dropout_is_identity(a.attrs, a.mode))
    copy_parallel(dy.ptr(), dx->ptr(), dy.size());
  else
    dropout_apply(a.attrs, a.mode, dy.ptr(), dx->ptr(), dy.size());
}

void drop_path_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  require(x.rank() >= 1, "drop_path", "input has no batch dimension");
  resize(*a.out.at(0), x.shape);
  if (drop_path_is_identity(a.attrs, a.mode))
    copy_parallel(x.ptr(), a.out[0]->ptr(), x.size());
  else
    drop_path_apply(a.attrs, a.mode, x.ptr(), a.out[0]->ptr(), x.shape);
}

void drop_path_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  const Tensor& dy = dout_like("drop_path", a);
  resize(*dx, dy.shape);
  if (drop_path_is_identity(a.attrs, a.mode))
    copy_parallel(dy.ptr(), dx->ptr(), dy.size());
  else
    drop_path_apply(a.attrs, a.mode, dy.ptr(), dx->ptr(), dy.shape);
}

}  // namespace

const CpuKernel kIdentity = {"identity", needs_nothing, 0, "", identity_forward,
                             identity_backward, always_identity, true};
const CpuKernel kScale = {"scale", scale_needs, 0, "", scale_forward, scale_backward,
                          never_identity};
const CpuKernel kAdd = {"add",       needs_nothing, 0,    "", add_forward, add_backward,
                        never_identity, true};
const CpuKernel kDropout = {"dropout", needs_nothing, 0, "", dropout_forward, dropout_backward,
                            dropout_is_identity};
const CpuKernel kDropPath = {"drop_path", needs_nothing, 0, "", drop_path_forward,
                             drop_path_backward, drop_path_is_identity};

}  // namespace fw::cpu
