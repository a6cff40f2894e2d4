// Reference (double, naive loops): conv2d, avg_pool2d, pool_mixer, global_avg_pool,
// random_mixing.
#include "kernels/cpu/ref_impl.h"

namespace fw::cpu::ref {
namespace {

// ---- conv2d -----------------------------------------------------------------------------------------
struct ConvG {
  int64_t B, Cin, H, W, Cout, k, s, p, g, Ho, Wo, cig, cog;
  bool bias;
};

ConvG conv_g(const Call& c) {
  const Shape& x = c.in.at(0).shape;
  ConvG G{};
  G.B = x[0], G.Cin = x[1], G.H = x[2], G.W = x[3];
  G.k = attr_i(c.attrs, "kernel", 1), G.s = attr_i(c.attrs, "stride", 1);
  G.p = attr_i(c.attrs, "padding", 0), G.g = attr_i(c.attrs, "groups", 1);
  G.bias = attr_b(c.attrs, "bias", true);
  G.Cout = c.params.at(0).dim(0);
  G.cig = G.Cin / G.g, G.cog = G.Cout / G.g;
  G.Ho = (G.H + 2 * G.p - G.k) / G.s + 1, G.Wo = (G.W + 2 * G.p - G.k) / G.s + 1;
  return G;
}

// Calls f(x index, w index, y index) for every multiply of the convolution.
template <class F>
void conv_loops(const ConvG& G, F&& f) {
  for (int64_t b = 0; b < G.B; ++b)
    for (int64_t co = 0; co < G.Cout; ++co) {
      const int64_t gi = co / G.cog;
      for (int64_t oy = 0; oy < G.Ho; ++oy)
        for (int64_t ox = 0; ox < G.Wo; ++ox) {
          const int64_t yi = ((b * G.Cout + co) * G.Ho + oy) * G.Wo + ox;
          for (int64_t ci = 0; ci < G.cig; ++ci)
            for (int64_t ky = 0; ky < G.k; ++ky)
              for (int64_t kx = 0; kx < G.k; ++kx) {
                const int64_t iy = oy * G.s - G.p + ky, ix = ox * G.s - G.p + kx;
                if (iy < 0 || iy >= G.H || ix < 0 || ix >= G.W) continue;
                const int64_t xi = ((b * G.Cin + gi * G.cig + ci) * G.H + iy) * G.W + ix;
                const int64_t wi = ((co * G.cig + ci) * G.k + ky) * G.k + kx;
                f(xi, wi, yi);
              }
        }
    }
}

std::vector<DTensor> conv_fwd(const Call& c) {
  const ConvG G = conv_g(c);
  DTensor y({G.B, G.Cout, G.Ho, G.Wo});
  const DTensor &x = c.in[0], &w = c.params[0];
  conv_loops(G, [&](int64_t xi, int64_t wi, int64_t yi) { y[yi] += w[wi] * x[xi]; });
  if (G.bias)
    for (int64_t i = 0; i < y.size(); ++i) y[i] += c.params[1][(i / (G.Ho * G.Wo)) % G.Cout];
  return {y};
}

Grads conv_bwd(const Call& c, const std::vector<DTensor>& dout) {
  const ConvG G = conv_g(c);
  Grads g = zero_grads(c);
  const DTensor &x = c.in[0], &w = c.params[0], &dy = dout[0];
  conv_loops(G, [&](int64_t xi, int64_t wi, int64_t yi) {
    g.din[0][xi] += w[wi] * dy[yi];
    g.dparams[0][wi] += x[xi] * dy[yi];
  });
  if (G.bias)
    for (int64_t i = 0; i < dy.size(); ++i) g.dparams[1][(i / (G.Ho * G.Wo)) % G.Cout] += dy[i];
  return g;
}

// ---- avg_pool2d / pool_mixer ------------------------------------------------------------------------
struct PoolG {
  int64_t B, C, H, W, k, s, p, Ho, Wo;
};

PoolG pool_g(const Shape& x, int64_t k, int64_t s, int64_t p) {
  return {x[0], x[1], x[2], x[3], k, s, p, (x[2] + 2 * p - k) / s + 1, (x[3] + 2 * p - k) / s + 1};
}

// Calls f(x index, y index, count) for every input element of every window.
template <class F>
void pool_loops(const PoolG& G, F&& f) {
  for (int64_t bc = 0; bc < G.B * G.C; ++bc)
    for (int64_t oy = 0; oy < G.Ho; ++oy)
      for (int64_t ox = 0; ox < G.Wo; ++ox) {
        int64_t count = 0;
        for (int pass = 0; pass < 2; ++pass)
          for (int64_t ky = 0; ky < G.k; ++ky)
            for (int64_t kx = 0; kx < G.k; ++kx) {
              const int64_t iy = oy * G.s - G.p + ky, ix = ox * G.s - G.p + kx;
              if (iy < 0 || iy >= G.H || ix < 0 || ix >= G.W) continue;
              if (pass == 0)
                ++count;
              else
                f((bc * G.H + iy) * G.W + ix, (bc * G.Ho + oy) * G.Wo + ox, count);
            }
      }
}

PoolG avg_g(const Call& c) {
  return pool_g(c.in.at(0).shape, attr_i(c.attrs, "kernel", 3), attr_i(c.attrs, "stride", 1),
                attr_i(c.attrs, "padding", 1));
}
PoolG mixer_g(const Call& c) {
  const int64_t k = attr_i(c.attrs, "pool_size", 3);
  return pool_g(c.in.at(0).shape, k, 1, k / 2);
}

std::vector<DTensor> avg_fwd_g(const Call& c, const PoolG& G, bool subtract) {
  DTensor y({G.B, G.C, G.Ho, G.Wo});
  const DTensor& x = c.in[0];
  pool_loops(G, [&](int64_t xi, int64_t yi, int64_t n) { y[yi] += x[xi] / double(n); });
  if (subtract)
    for (int64_t i = 0; i < y.size(); ++i) y[i] -= x[i];
  return {y};
}

Grads avg_bwd_g(const Call& c, const PoolG& G, bool subtract, const DTensor& dy) {
  Grads g = zero_grads(c);
  pool_loops(G, [&](int64_t xi, int64_t yi, int64_t n) { g.din[0][xi] += dy[yi] / double(n); });
  if (subtract)
    for (int64_t i = 0; i < dy.size(); ++i) g.din[0][i] -= dy[i];
  return g;
}

std::vector<DTensor> avg_fwd(const Call& c) { return avg_fwd_g(c, avg_g(c), false); }
Grads avg_bwd(const Call& c, const std::vector<DTensor>& d) {
  return avg_bwd_g(c, avg_g(c), false, d[0]);
}
std::vector<DTensor> mixer_fwd(const Call& c) { return avg_fwd_g(c, mixer_g(c), true); }
Grads mixer_bwd(const Call& c, const std::vector<DTensor>& d) {
  return avg_bwd_g(c, mixer_g(c), true, d[0]);
}

// ---- global_avg_pool --------------------------------------------------------------------------------
std::vector<DTensor> gap_fwd(const Call& c) {
  const DTensor& x = c.in[0];
  const int64_t S = x.dim(2) * x.dim(3);
  DTensor y({x.dim(0), x.dim(1)});
  for (int64_t i = 0; i < x.size(); ++i) y[i / S] += x[i] / double(S);
  return {y};
}

Grads gap_bwd(const Call& c, const std::vector<DTensor>& d) {
  Grads g = zero_grads(c);
  const int64_t S = c.in[0].dim(2) * c.in[0].dim(3);
  for (int64_t i = 0; i < g.din[0].size(); ++i) g.din[0][i] = d[0][i / S] / double(S);
  return g;
}

// ---- random_mixing ----------------------------------------------------------------------------------
std::vector<DTensor> mixing_fwd(const Call& c) {
  const DTensor &x = c.in[0], &R = c.params[0];
  const int64_t rows = x.dim(0) * x.dim(1), N = x.dim(2) * x.dim(3);
  DTensor y(x.shape);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t m = 0; m < N; ++m)
      for (int64_t n = 0; n < N; ++n) y[r * N + m] += R[m * N + n] * x[r * N + n];
  return {y};
}

Grads mixing_bwd(const Call& c, const std::vector<DTensor>& d) {
  const DTensor &x = c.in[0], &R = c.params[0], &dy = d[0];
  const int64_t rows = x.dim(0) * x.dim(1), N = x.dim(2) * x.dim(3);
  Grads g = zero_grads(c);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t m = 0; m < N; ++m)
      for (int64_t n = 0; n < N; ++n) {
        g.din[0][r * N + n] += R[m * N + n] * dy[r * N + m];
        g.dparams[0][m * N + n] += x[r * N + n] * dy[r * N + m];
      }
  return g;
}

}  // namespace

const std::vector<RefOp>& spatial_ops() {
  static const std::vector<RefOp> ops = {
      {"conv2d", conv_fwd, conv_bwd},
      {"avg_pool2d", avg_fwd, avg_bwd},
      {"pool_mixer", mixer_fwd, mixer_bwd},
      {"global_avg_pool", gap_fwd, gap_bwd},
      {"random_mixing", mixing_fwd, mixing_bwd},
  };
  return ops;
}

}  // namespace fw::cpu::ref
