// Device programs of the elementwise ops and activations (kernels/cpu/elementwise.cpp and
// activation.cpp on the CPU): identity, scale, add, dropout, drop_path, relu, gelu, squared_relu,
// star_relu. Dropout masks are the CPU's: the same (seed, element) hash, so a training step on the
// GPU drops exactly the elements the CPU drops.
#pragma once
#include "kernels/cuda/ops.h"

namespace fw::gpu {

// cpu::uniform01 (kernels/cpu/common.h), callable on the device.
FW_HD float uniform01_hd(uint64_t seed, uint64_t index) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E5ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

namespace ew {

// ---- bodies ------------------------------------------------------------------------------------
struct Add2 {
  const float *a, *b;
  float* y;
  FW_HD void operator()(int64_t i) const { y[i] = a[i] + b[i]; }
};
struct ScaleBy {  // y = x·s[(i / inner) % dim]
  const float *x, *s;
  float* y;
  int64_t dim, inner;
  FW_HD void operator()(int64_t i) const { y[i] = x[i] * s[(i / inner) % dim]; }
};
struct Mul2 {  // f(i) = a[i]·b[i], for reductions
  const float *a, *b;
  FW_HD float operator()(int64_t i) const { return a[i] * b[i]; }
};
struct Dropout {  // y = x·keep/(1-p)
  const float* x;
  float* y;
  uint64_t seed;
  float p, keep_scale;
  FW_HD void operator()(int64_t i) const {
    y[i] = uniform01_hd(seed, static_cast<uint64_t>(i)) >= p ? x[i] * keep_scale : 0.0f;
  }
};
struct DropPath {  // y[b] = x[b]·keep_b/(1-p)
  const float* x;
  float* y;
  uint64_t seed;
  float p, keep_scale;
  int64_t per;
  FW_HD void operator()(int64_t i) const {
    const int64_t b = i / per;
    y[i] = uniform01_hd(seed, static_cast<uint64_t>(b)) >= p ? x[i] * keep_scale : 0.0f;
  }
};
struct ReluF {
  const float* x;
  float* y;
  FW_HD void operator()(int64_t i) const { y[i] = x[i] > 0.0f ? x[i] : 0.0f; }
};
struct ReluB {  // reads y
  const float *y, *dy;
  float* dx;
  FW_HD void operator()(int64_t i) const { dx[i] = y[i] > 0.0f ? dy[i] : 0.0f; }
};
struct GeluF {
  const float* x;
  float* y;
  FW_HD void operator()(int64_t i) const {
    y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
  }
};
struct GeluB {
  const float *x, *dy;
  float* dx;
  FW_HD void operator()(int64_t i) const {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
    const float pdf = 0.39894228040143268f * expf(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
};
struct SqReluF {  // y = s·relu(x)² + b; s, b device scalars (nullptr: 1 and 0)
  const float* x;
  float* y;
  const float *s, *b;
  FW_HD void operator()(int64_t i) const {
    const float r = x[i] > 0.0f ? x[i] : 0.0f;
    y[i] = (s ? s[0] : 1.0f) * r * r + (b ? b[0] : 0.0f);
  }
};
struct SqReluB {  // dx = dy·2·s·relu(x)
  const float *x, *dy, *s;
  float* dx;
  FW_HD void operator()(int64_t i) const {
    const float r = x[i] > 0.0f ? x[i] : 0.0f;
    dx[i] = dy[i] * 2.0f * (s ? s[0] : 1.0f) * r;
  }
};
struct DyRelu2 {  // f(i) = dy·relu(x)², for dscale
  const float *x, *dy;
  FW_HD float operator()(int64_t i) const {
    const float r = x[i] > 0.0f ? x[i] : 0.0f;
    return dy[i] * r * r;
  }
};
struct Plain {  // f(i) = a[i]
  const float* a;
  FW_HD float operator()(int64_t i) const { return a[i]; }
};

// ---- identity
// --------------------------------------------------------------------------------------
template <class D>
void identity_fwd(const Fwd<D>& a) {
  copy_into(a.dev, *a.out.at(0), *a.in.at(0));
}
template <class D>
void identity_bwd(const Bwd<D>& a) {
  if (DTensor* dx = want_din(a, 0)) copy_into(a.dev, *dx, dout0(a, "identity", a.in_shapes.at(0)));
}

// ---- scale
// -----------------------------------------------------------------------------------------
struct ScaleGeom {
  int64_t outer, dim, inner;
};
inline ScaleGeom scale_geom(const Attrs& at, const Shape& x, const DTensor* s) {
  constexpr std::string_view op = "scale";
  const std::string layout = attr_s(at, "layout", "channels_first");
  require(layout == "channels_first" || layout == "last", op,
          "layout must be channels_first or last, got '" + layout + "'");
  require(x.size() >= 2, op, "input is " + shape_str(x) + ", expected (B, ...)");
  ScaleGeom g{};
  if (layout == "channels_first")
    g.outer = x[0], g.dim = x[1], g.inner = numel(x) / std::max<int64_t>(1, x[0] * x[1]);
  else
    g.dim = x.back(), g.outer = numel(x) / std::max<int64_t>(1, g.dim), g.inner = 1;
  if (at.has("dim"))
    require(at.i("dim") == g.dim, op,
            "expects " + std::to_string(at.i("dim")) + " channels, gets " + std::to_string(g.dim) +
                " (" + layout + ")");
  require(s != nullptr, op, "expects parameter scale");
  expect_dshape(op, "scale", *s, {g.dim});
  return g;
}
template <class D>
void scale_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  const DTensor* s = a.params.empty() ? nullptr : a.params[0];
  const ScaleGeom g = scale_geom(a.attrs, x.shape, s);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  a.dev.launch(x.size(), ScaleBy{x.p, s->p, y.p, g.dim, std::max<int64_t>(1, g.inner)});
}
template <class D>
void scale_bwd(const Bwd<D>& a) {
  const Shape& xs = a.in_shapes.at(0);
  const DTensor* s = a.params.empty() ? nullptr : a.params[0];
  const ScaleGeom g = scale_geom(a.attrs, xs, s);
  const DTensor& dy = dout0(a, "scale", xs);
  if (DTensor* dx = want_din(a, 0)) {
    a.dev.resize(*dx, xs);
    a.dev.launch(dy.size(), ScaleBy{dy.p, s->p, dx->p, g.dim, std::max<int64_t>(1, g.inner)});
  }
  if (DTensor* ds = want_dparam(a, 0)) {
    const DTensor& x = need_in(a, 0, "scale");
    a.dev.resize(*ds, {g.dim});
    channel_sums(a.dev, g.outer, g.dim, g.inner, Mul2{dy.p, x.p}, ds->p);
  }
}

// ---- add
// -------------------------------------------------------------------------------------------
template <class D>
void add_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  const DTensor& z = *a.in.at(1);
  require(x.shape == z.shape, "add",
          "inputs have different shapes: " + shape_str(x.shape) + " and " + shape_str(z.shape));
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  a.dev.launch(x.size(), Add2{x.p, z.p, y.p});
}
template <class D>
void add_bwd(const Bwd<D>& a) {
  const DTensor& dy = dout0(a, "add", a.in_shapes.at(0));
  for (size_t i = 0; i < 2; ++i)
    if (DTensor* d = want_din(a, i)) copy_into(a.dev, *d, dy);
}

// ---- dropout / drop_path
// ----------------------------------------------------------------------------
inline float drop_p(std::string_view op, const Attrs& at) {
  const double p = attr_f(at, "p", 0.0);
  require(p >= 0.0 && p <= 1.0, op, "p must be in [0, 1], got " + std::to_string(p));
  return static_cast<float>(p);
}
template <class D>
void dropout_apply(D& dev, const Attrs& at, const cpu::RunMode& m, const DTensor& x, DTensor& y) {
  dev.resize(y, x.shape);
  if (!m.training || drop_p("dropout", at) == 0.0f) {
    dev.copy(y.p, x.p, static_cast<size_t>(x.size()));
    return;
  }
  const float p = drop_p("dropout", at);
  dev.launch(x.size(), Dropout{x.p, y.p, m.seed, p, p < 1.0f ? 1.0f / (1.0f - p) : 0.0f});
}
template <class D>
void drop_path_apply(D& dev, const Attrs& at, const cpu::RunMode& m, const DTensor& x, DTensor& y) {
  require(x.rank() >= 1, "drop_path", "input has no batch dimension");
  dev.resize(y, x.shape);
  if (!m.training || drop_p("drop_path", at) == 0.0f) {
    dev.copy(y.p, x.p, static_cast<size_t>(x.size()));
    return;
  }
  const float p = drop_p("drop_path", at);
  const int64_t per = x.size() / std::max<int64_t>(1, x.shape[0]);
  if (per == 0) return;
  dev.launch(x.size(), DropPath{x.p, y.p, m.seed, p, p < 1.0f ? 1.0f / (1.0f - p) : 0.0f, per});
}
template <class D>
void dropout_fwd(const Fwd<D>& a) {
  dropout_apply(a.dev, a.attrs, a.mode, *a.in.at(0), *a.out.at(0));
}
template <class D>
void dropout_bwd(const Bwd<D>& a) {
  if (DTensor* dx = want_din(a, 0))
    dropout_apply(a.dev, a.attrs, a.mode, dout0(a, "dropout", a.in_shapes.at(0)), *dx);
}
template <class D>
void drop_path_fwd(const Fwd<D>& a) {
  drop_path_apply(a.dev, a.attrs, a.mode, *a.in.at(0), *a.out.at(0));
}
template <class D>
void drop_path_bwd(const Bwd<D>& a) {
  if (DTensor* dx = want_din(a, 0))
    drop_path_apply(a.dev, a.attrs, a.mode, dout0(a, "drop_path", a.in_shapes.at(0)), *dx);
}

// ---- activations
// -------------------------------------------------------------------------------------
template <class D, class Body>
void unary_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  a.dev.launch(x.size(), Body{x.p, y.p});
}
template <class D>
void relu_bwd(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const DTensor& dy = dout0(a, "relu", a.in_shapes.at(0));
  const DTensor& y = need_out(a, "relu");
  a.dev.resize(*dx, dy.shape);
  a.dev.launch(dy.size(), ReluB{y.p, dy.p, dx->p});
}
template <class D>
void gelu_bwd(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const DTensor& dy = dout0(a, "gelu", a.in_shapes.at(0));
  const DTensor& x = need_in(a, 0, "gelu");
  a.dev.resize(*dx, dy.shape);
  a.dev.launch(dy.size(), GeluB{x.p, dy.p, dx->p});
}
template <class D>
void squared_relu_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  a.dev.launch(x.size(), SqReluF{x.p, y.p, nullptr, nullptr});
}
template <class D>
void squared_relu_bwd(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const DTensor& dy = dout0(a, "squared_relu", a.in_shapes.at(0));
  const DTensor& x = need_in(a, 0, "squared_relu");
  a.dev.resize(*dx, dy.shape);
  a.dev.launch(dy.size(), SqReluB{x.p, dy.p, nullptr, dx->p});
}
inline void star_params(const std::vector<const DTensor*>& p) {
  require(p.size() >= 2 && p[0] && p[1], "star_relu", "expects parameters scale and bias");
  expect_dshape("star_relu", "scale", *p[0], {1});
  expect_dshape("star_relu", "bias", *p[1], {1});
}
template <class D>
void star_relu_fwd(const Fwd<D>& a) {
  star_params(a.params);
  const DTensor& x = *a.in.at(0);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  a.dev.launch(x.size(), SqReluF{x.p, y.p, a.params[0]->p, a.params[1]->p});
}
template <class D>
void star_relu_bwd(const Bwd<D>& a) {
  star_params(a.params);
  const DTensor& dy = dout0(a, "star_relu", a.in_shapes.at(0));
  const DTensor& x = need_in(a, 0, "star_relu");
  if (DTensor* dx = want_din(a, 0)) {
    a.dev.resize(*dx, dy.shape);
    a.dev.launch(dy.size(), SqReluB{x.p, dy.p, a.params[0]->p, dx->p});
  }
  if (DTensor* ds = want_dparam(a, 0)) {
    a.dev.resize(*ds, {1});
    sum_all(a.dev, dy.size(), DyRelu2{x.p, dy.p}, ds->p);
  }
  if (DTensor* db = want_dparam(a, 1)) {
    a.dev.resize(*db, {1});
    sum_all(a.dev, dy.size(), Plain{dy.p}, db->p);
  }
}

}  // namespace ew

template <class D>
void add_elementwise(KernelTable<D>& t) {
  add_kernel<D>(t, "identity", ew::identity_fwd<D>, ew::identity_bwd<D>);
  add_kernel<D>(t, "scale", ew::scale_fwd<D>, ew::scale_bwd<D>);
  add_kernel<D>(t, "add", ew::add_fwd<D>, ew::add_bwd<D>);
  add_kernel<D>(t, "dropout", ew::dropout_fwd<D>, ew::dropout_bwd<D>);
  add_kernel<D>(t, "drop_path", ew::drop_path_fwd<D>, ew::drop_path_bwd<D>);
  add_kernel<D>(t, "relu", ew::unary_fwd<D, ew::ReluF>, ew::relu_bwd<D>);
  add_kernel<D>(t, "gelu", ew::unary_fwd<D, ew::GeluF>, ew::gelu_bwd<D>);
  add_kernel<D>(t, "squared_relu", ew::squared_relu_fwd<D>, ew::squared_relu_bwd<D>);
  add_kernel<D>(t, "star_relu", ew::star_relu_fwd<D>, ew::star_relu_bwd<D>);
}

}  // namespace fw::gpu
