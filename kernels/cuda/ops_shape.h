// Device programs of the layout ops between feature maps and token sequences
// (kernels/cpu/shape_ops.cpp on the CPU). One thread per output element everywhere, so the writes
// are coalesced; backward likewise, one thread per gradient element.
//  - to_tokens:     x (B, C, H, W) -> (B, H·W, C), a per-sample transpose; dX the transpose back.
//  - to_nchw:       x (B, N, C), grid (B, C', H, W) -> (B, C, H, W); the grid is shape-only
//                   (never read, never given a gradient).
//  - cls_pos_embed: x (B, N, C) -> (B, N+1, C); dcls and dpos are sums over the batch, one thread
//                   per parameter element summing the samples in order (no atomics).
//  - select_token:  x (B, N, C) -> (B, C), x[:, index] (negative index counts from the end).
#pragma once
#include "kernels/cuda/ops.h"

namespace fw::gpu {
namespace shape_ops {

// ---- bodies ------------------------------------------------------------------------------------
// dst (B, cols, rows) = the per-sample transpose of src (B, rows, cols); i indexes dst.
struct Transpose {
  const float* src;
  float* dst;
  int64_t rows, cols;
  FW_HD void operator()(int64_t i) const {
    const int64_t r = i % rows, q = i / rows, c = q % cols, b = q / cols;
    dst[i] = src[(b * rows + r) * cols + c];
  }
};
// y (B, N+1, C): row 0 of every sample is cls, then x; plus pos.
struct ClsPosF {
  const float *x, *cls, *pos;
  float* y;
  int64_t N, C;
  FW_HD void operator()(int64_t i) const {
    const int64_t c = i % C, q = i / C, n = q % (N + 1), b = q / (N + 1);
    const float v = n == 0 ? cls[c] : x[(b * N + n - 1) * C + c];
    y[i] = v + pos[n * C + c];
  }
};
// dx (B, N, C) = dy[:, 1:].
struct ClsPosDx {
  const float* dy;
  float* dx;
  int64_t N, C;
  FW_HD void operator()(int64_t i) const {
    const int64_t b = i / (N * C), r = i - b * N * C;
    dx[i] = dy[b * (N + 1) * C + C + r];
  }
};
// out[i] = Σ_b src[b·stride + i], the samples summed in order (as the CPU does).
struct BatchSum {
  const float* src;
  float* out;
  int64_t B, stride;
  FW_HD void operator()(int64_t i) const {
    float s = 0.0f;
    for (int64_t b = 0; b < B; ++b) s += src[b * stride + i];
    out[i] = s;
  }
};
// y (B, C) = x[:, idx].
struct SelectF {
  const float* x;
  float* y;
  int64_t N, C, idx;
  FW_HD void operator()(int64_t i) const {
    const int64_t b = i / C, c = i - b * C;
    y[i] = x[(b * N + idx) * C + c];
  }
};
// dx (B, N, C): dy at token idx, zero elsewhere.
struct SelectB {
  const float* dy;
  float* dx;
  int64_t N, C, idx;
  FW_HD void operator()(int64_t i) const {
    const int64_t c = i % C, q = i / C, n = q % N, b = q / N;
    dx[i] = n == idx ? dy[b * C + c] : 0.0f;
  }
};

// As cpu::expect_rank (kernels/cpu/dispatch.cpp).
inline void expect_drank(std::string_view op, const char* what, const DTensor& t, int rank) {
  if (t.rank() != rank)
    fail(op, std::string(what) + " is " + shape_str(t.shape) + ", expected rank " +
                 std::to_string(rank) + " (batch included)");
}

// ---- to_tokens ---------------------------------------------------------------------------------
template <class D>
void to_tokens_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  expect_drank("to_tokens", "input", x, 4);
  const int64_t B = x.dim(0), C = x.dim(1), S = x.dim(2) * x.dim(3);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, {B, S, C});
  a.dev.launch(y.size(), Transpose{x.p, y.p, C, S});
}
template <class D>
void to_tokens_bwd(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = a.in_shapes.at(0);
  require(xs.size() == 4, "to_tokens", "input is " + shape_str(xs) + ", expected rank 4");
  const int64_t B = xs[0], C = xs[1], S = xs[2] * xs[3];
  const DTensor& dy = *a.dout.at(0);
  expect_dshape("to_tokens", "output gradient", dy, {B, S, C});
  a.dev.resize(*dx, xs);
  a.dev.launch(dx->size(), Transpose{dy.p, dx->p, S, C});
}

// ---- to_nchw -----------------------------------------------------------------------------------
inline Shape nchw_shape(const Shape& x, const Shape& grid) {
  constexpr std::string_view op = "to_nchw";
  require(x.size() == 3, op, "input is " + shape_str(x) + ", expected (B, N, C)");
  require(grid.size() == 4, op, "grid is " + shape_str(grid) + ", expected (B, C, H, W)");
  require(x[1] == grid[2] * grid[3], op,
          "has " + std::to_string(x[1]) + " tokens, the grid " + std::to_string(grid[2]) + "x" +
              std::to_string(grid[3]) + " needs " + std::to_string(grid[2] * grid[3]));
  return {x[0], x[2], grid[2], grid[3]};
}
template <class D>
void to_nchw_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  expect_drank("to_nchw", "input", x, 3);
  const Shape ys = nchw_shape(x.shape, a.in.at(1)->shape);  // the grid: its shape only
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, ys);
  a.dev.launch(y.size(), Transpose{x.p, y.p, x.dim(1), x.dim(2)});
}
template <class D>
void to_nchw_bwd(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = a.in_shapes.at(0);
  const Shape ys = nchw_shape(xs, a.in_shapes.at(1));
  const DTensor& dy = *a.dout.at(0);
  expect_dshape("to_nchw", "output gradient", dy, ys);
  a.dev.resize(*dx, xs);
  a.dev.launch(dx->size(), Transpose{dy.p, dx->p, xs[2], xs[1]});
}

// ---- cls_pos_embed -----------------------------------------------------------------------------
inline void cls_check(const Attrs& at, const Shape& x, const std::vector<const DTensor*>& params) {
  constexpr std::string_view op = "cls_pos_embed";
  require(x.size() == 3, op, "input is " + shape_str(x) + ", expected (B, N, C)");
  const int64_t N = x[1], C = x[2];
  if (at.has("dim"))
    require(at.i("dim") == C, op,
            "expects dim " + std::to_string(at.i("dim")) + ", gets " + std::to_string(C));
  if (at.has("num_patches"))
    require(
        at.i("num_patches") == N, op,
        "expects " + std::to_string(at.i("num_patches")) + " patches, gets " + std::to_string(N));
  require(params.size() >= 2 && params[0] && params[1], op,
          "expects parameters cls_token and pos_embed");
  expect_dshape(op, "cls_token", *params[0], {1, 1, C});
  expect_dshape(op, "pos_embed", *params[1], {1, N + 1, C});
}
template <class D>
void cls_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  cls_check(a.attrs, x.shape, a.params);
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, {B, N + 1, C});
  a.dev.launch(y.size(), ClsPosF{x.p, a.params[0]->p, a.params[1]->p, y.p, N, C});
}
template <class D>
void cls_bwd(const Bwd<D>& a) {
  const Shape& xs = a.in_shapes.at(0);
  cls_check(a.attrs, xs, a.params);
  const int64_t B = xs[0], N = xs[1], C = xs[2];
  const DTensor& dy = *a.dout.at(0);
  expect_dshape("cls_pos_embed", "output gradient", dy, {B, N + 1, C});
  if (DTensor* dx = want_din(a, 0)) {
    a.dev.resize(*dx, xs);
    a.dev.launch(dx->size(), ClsPosDx{dy.p, dx->p, N, C});
  }
  if (DTensor* dpos = want_dparam(a, 1)) {
    a.dev.resize(*dpos, {1, N + 1, C});
    a.dev.launch((N + 1) * C, BatchSum{dy.p, dpos->p, B, (N + 1) * C});
  }
  if (DTensor* dcls = want_dparam(a, 0)) {
    a.dev.resize(*dcls, {1, 1, C});
    a.dev.launch(C, BatchSum{dy.p, dcls->p, B, (N + 1) * C});
  }
}

// ---- select_token ------------------------------------------------------------------------------
inline int64_t token_index(const Attrs& at, int64_t N) {
  const int64_t i = attr_i(at, "index", 0);
  require(i >= -N && i < N, "select_token",
          "index " + std::to_string(i) + " is out of range for " + std::to_string(N) + " tokens");
  return i < 0 ? i + N : i;
}
template <class D>
void select_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  expect_drank("select_token", "input", x, 3);
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2), idx = token_index(a.attrs, N);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, {B, C});
  a.dev.launch(y.size(), SelectF{x.p, y.p, N, C, idx});
}
template <class D>
void select_bwd(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = a.in_shapes.at(0);
  require(xs.size() == 3, "select_token", "input is " + shape_str(xs) + ", expected rank 3");
  const int64_t B = xs[0], N = xs[1], C = xs[2], idx = token_index(a.attrs, N);
  const DTensor& dy = *a.dout.at(0);
  expect_dshape("select_token", "output gradient", dy, {B, C});
  a.dev.resize(*dx, xs);
  a.dev.launch(dx->size(), SelectB{dy.p, dx->p, N, C, idx});
}

}  // namespace shape_ops

template <class D>
void add_shape(KernelTable<D>& t) {
  add_kernel<D>(t, "to_tokens", shape_ops::to_tokens_fwd<D>, shape_ops::to_tokens_bwd<D>);
  add_kernel<D>(t, "to_nchw", shape_ops::to_nchw_fwd<D>, shape_ops::to_nchw_bwd<D>);
  add_kernel<D>(t, "cls_pos_embed", shape_ops::cls_fwd<D>, shape_ops::cls_bwd<D>);
  add_kernel<D>(t, "select_token", shape_ops::select_fwd<D>, shape_ops::select_bwd<D>);
}

}  // namespace fw::gpu
