// Layout ops between feature maps and token sequences:
//  - to_tokens:     x (B, C, H, W) -> (B, H·W, C)               (x.flatten(2).transpose(1, 2))
//  - to_nchw:       x (B, N, C), grid (B, C', H, W) -> (B, C, H, W), N = H·W; grid is read
//                   for its shape only
//  - cls_pos_embed: x (B, N, C), cls_token (1, 1, C), pos_embed (1, N+1, C) -> (B, N+1, C)
//  - select_token:  x (B, N, C) -> (B, C), x[:, index] (negative index counts from the end)
#include <cstring>

#include "kernels/cpu/common.h"

namespace fw::cpu {
namespace {

// Per-sample transposes of (B, rows, cols) into (B, cols, rows), split over samples and bands
// of source rows, 32-column blocks.
void batched_transpose(const float* src, int64_t B, int64_t rows, int64_t cols, float* dst) {
  constexpr int64_t kBand = 64;
  const int64_t bands = (rows + kBand - 1) / kBand;
  parallel_for(0, B * bands, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t b = t / bands, r0 = (t % bands) * kBand, r1 = std::min(rows, r0 + kBand);
      const float* s = src + b * rows * cols;
      float* d = dst + b * rows * cols;
      for (int64_t c0 = 0; c0 < cols; c0 += 32)
        for (int64_t c = c0; c < std::min(cols, c0 + 32); ++c)
          for (int64_t r = r0; r < r1; ++r) d[c * rows + r] = s[r * cols + c];
    }
  });
}

// ---- to_tokens --------------------------------------------------------------------------------------
void to_tokens_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  expect_rank("to_tokens", "input", x, 4);
  const int64_t B = x.dim(0), C = x.dim(1), S = x.dim(2) * x.dim(3);
  resize(*a.out.at(0), {B, S, C});
  batched_transpose(x.ptr(), B, C, S, a.out[0]->ptr());
}

void to_tokens_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = in_shape(a, 0);
  require(xs.size() == 4, "to_tokens", "input is " + shape_str(xs) + ", expected rank 4");
  const int64_t B = xs[0], C = xs[1], S = xs[2] * xs[3];
  const Tensor& dy = *a.dout.at(0);
  expect_shape("to_tokens", "output gradient", dy, {B, S, C});
  resize(*dx, xs);
  batched_transpose(dy.ptr(), B, S, C, dx->ptr());
}

// ---- to_nchw ----------------------------------------------------------------------------------------
Shape nchw_shape(const Shape& x, const Shape& grid) {
  constexpr std::string_view op = "to_nchw";
  require(x.size() == 3, op, "input is " + shape_str(x) + ", expected (B, N, C)");
  require(grid.size() == 4, op, "grid is " + shape_str(grid) + ", expected (B, C, H, W)");
  require(x[1] == grid[2] * grid[3], op,
          "has " + std::to_string(x[1]) + " tokens, the grid " + std::to_string(grid[2]) + "x" +
              std::to_string(grid[3]) + " needs " + std::to_string(grid[2] * grid[3]));
  return {x[0], x[2], grid[2], grid[3]};
}

void to_nchw_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  expect_rank("to_nchw", "input", x, 3);
  const Shape ys = nchw_shape(x.shape, a.in.at(1)->shape);
  resize(*a.out.at(0), ys);
  batched_transpose(x.ptr(), x.dim(0), x.dim(1), x.dim(2), a.out[0]->ptr());
}

void to_nchw_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = in_shape(a, 0);
  const Shape ys = nchw_shape(xs, in_shape(a, 1));
  const Tensor& dy = *a.dout.at(0);
  expect_shape("to_nchw", "output gradient", dy, ys);
  resize(*dx, xs);
  batched_transpose(dy.ptr(), xs[0], xs[2], xs[1], dx->ptr());
}

// ---- cls_pos_embed ----------------------------------------------------------------------------------
void cls_check(const Attrs& a, const Shape& x, const std::vector<const Tensor*>& params) {
  constexpr std::string_view op = "cls_pos_embed";
  require(x.size() == 3, op, "input is " + shape_str(x) + ", expected (B, N, C)");
  const int64_t N = x[1], C = x[2];
  if (a.has("dim"))
    require(a.i("dim") == C, op,
            "expects dim " + std::to_string(a.i("dim")) + ", gets " + std::to_string(C));
  if (a.has("num_patches"))
    require(a.i("num_patches") == N, op, "expects " + std::to_string(a.i("num_patches")) +
                                             " patches, gets " + std::to_string(N));
  require(params.size() >= 2 && params[0] && params[1], op,
          "expects parameters cls_token and pos_embed");
  expect_shape(op, "cls_token", *params[0], {1, 1, C});
  expect_shape(op, "pos_embed", *params[1], {1, N + 1, C});
}

void cls_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  cls_check(a.attrs, xt.shape, a.params);
  const int64_t B = xt.dim(0), N = xt.dim(1), C = xt.dim(2);
  Tensor& yt = *a.out.at(0);
  resize(yt, {B, N + 1, C});
  const float* x = xt.ptr();
  const float* cls = a.params[0]->ptr();
  const float* pos = a.params[1]->ptr();
  float* y = yt.ptr();
  parallel_for(0, B * (N + 1), 64, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t b = t / (N + 1), n = t % (N + 1);
      const float* src = n == 0 ? cls : x + (b * N + n - 1) * C;
      const float* pe = pos + n * C;
      float* dst = y + t * C;
      for (int64_t c = 0; c < C; ++c) dst[c] = src[c] + pe[c];
    }
  });
}

void cls_backward(const BackwardArgs& a) {
  const Shape& xs = in_shape(a, 0);
  cls_check(a.attrs, xs, a.params);
  const int64_t B = xs[0], N = xs[1], C = xs[2];
  const Tensor& dyt = *a.dout.at(0);
  expect_shape("cls_pos_embed", "output gradient", dyt, {B, N + 1, C});
  const float* dy = dyt.ptr();
  if (Tensor* dx = want_din(a, 0)) {
    resize(*dx, xs);
    parallel_for(0, B, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b)
        std::memcpy(dx->ptr() + b * N * C, dy + (b * (N + 1) + 1) * C, sizeof(float) * N * C);
    });
  }
  Tensor* dcls = want_dparam(a, 0);
  Tensor* dpos = want_dparam(a, 1);
  if (dpos) {
    resize(*dpos, {1, N + 1, C});
    float* d = dpos->ptr();
    parallel_for(0, (N + 1) * C, 4096, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        float s = 0;
        for (int64_t b = 0; b < B; ++b) s += dy[b * (N + 1) * C + i];
        d[i] = s;
      }
    });
  }
  if (dcls) {
    resize(*dcls, {1, 1, C});
    for (int64_t c = 0; c < C; ++c) {
      float s = 0;
      for (int64_t b = 0; b < B; ++b) s += dy[b * (N + 1) * C + c];
      dcls->data[c] = s;
    }
  }
}

// ---- select_token -----------------------------------------------------------------------------------
int64_t token_index(const Attrs& a, int64_t N) {
  const int64_t i = attr_i(a, "index", 0);
  require(i >= -N && i < N, "select_token",
          "index " + std::to_string(i) + " is out of range for " + std::to_string(N) + " tokens");
  return i < 0 ? i + N : i;
}

void select_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  expect_rank("select_token", "input", xt, 3);
  const int64_t B = xt.dim(0), N = xt.dim(1), C = xt.dim(2), idx = token_index(a.attrs, N);
  resize(*a.out.at(0), {B, C});
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(a.out[0]->ptr() + b * C, xt.ptr() + (b * N + idx) * C, sizeof(float) * C);
}

void select_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = in_shape(a, 0);
  require(xs.size() == 3, "select_token", "input is " + shape_str(xs) + ", expected rank 3");
  const int64_t B = xs[0], N = xs[1], C = xs[2], idx = token_index(a.attrs, N);
  const Tensor& dy = *a.dout.at(0);
  expect_shape("select_token", "output gradient", dy, {B, C});
  resize(*dx, xs);
  std::fill(dx->data.begin(), dx->data.end(), 0.0f);
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(dx->ptr() + (b * N + idx) * C, dy.ptr() + b * C, sizeof(float) * C);
}

}  // namespace

const CpuKernel kToTokens = {"to_tokens", needs_nothing, 0, "", to_tokens_forward,
                             to_tokens_backward, never_identity};
const CpuKernel kToNchw = {"to_nchw", needs_nothing, 0, "", to_nchw_forward, to_nchw_backward,
                           never_identity};
const CpuKernel kClsPosEmbed = {"cls_pos_embed", needs_nothing, 0, "", cls_forward, cls_backward,
                                never_identity};
const CpuKernel kSelectToken = {"select_token", needs_nothing, 0, "", select_forward,
                                select_backward, never_identity};

}  // namespace fw::cpu
