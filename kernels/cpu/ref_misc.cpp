// Reference (double, naive loops): linear, activations, self_attention, elementwise ops,
// dropout/drop_path and the layout ops.
#include <cmath>

#include "kernels/cpu/ref_impl.h"

namespace fw::cpu::ref {
namespace {

using Outs = std::vector<DTensor>;
using Douts = std::vector<DTensor>;

// ---- linear -----------------------------------------------------------------------------------------
Outs linear_fwd(const Call& c) {
  const DTensor &x = c.in[0], &w = c.params[0];
  const int64_t Cin = x.dim(-1), Cout = w.dim(0), M = x.size() / Cin;
  Shape ys = x.shape;
  ys.back() = Cout;
  DTensor y(ys);
  const bool bias = attr_b(c.attrs, "bias", true);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t o = 0; o < Cout; ++o) {
      double s = bias ? c.params[1][o] : 0.0;
      for (int64_t i = 0; i < Cin; ++i) s += x[m * Cin + i] * w[o * Cin + i];
      y[m * Cout + o] = s;
    }
  return {y};
}

Grads linear_bwd(const Call& c, const Douts& d) {
  const DTensor &x = c.in[0], &w = c.params[0], &dy = d[0];
  const int64_t Cin = x.dim(-1), Cout = w.dim(0), M = x.size() / Cin;
  Grads g = zero_grads(c);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t o = 0; o < Cout; ++o) {
      const double e = dy[m * Cout + o];
      for (int64_t i = 0; i < Cin; ++i) {
        g.din[0][m * Cin + i] += e * w[o * Cin + i];
        g.dparams[0][o * Cin + i] += e * x[m * Cin + i];
      }
      if (g.dparams.size() > 1) g.dparams[1][o] += e;
    }
  return g;
}

// ---- pointwise functions: y = f(x), dx = dy·f'(x) ---------------------------------------------------
double relu(double x) { return x > 0 ? x : 0; }
double gelu_f(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double gelu_d(double x) {
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}
double relu_d(double x) { return x > 0 ? 1 : 0; }
double sq_f(double x) { return relu(x) * relu(x); }
double sq_d(double x) { return 2 * relu(x); }
double id_f(double x) { return x; }
double id_d(double) { return 1; }

template <double (*F)(double)>
Outs pointwise_fwd(const Call& c) {
  DTensor y(c.in[0].shape);
  for (int64_t i = 0; i < y.size(); ++i) y[i] = F(c.in[0][i]);
  return {y};
}

template <double (*D)(double)>
Grads pointwise_bwd(const Call& c, const Douts& d) {
  Grads g = zero_grads(c);
  for (int64_t i = 0; i < d[0].size(); ++i) g.din[0][i] = d[0][i] * D(c.in[0][i]);
  return g;
}

Outs star_fwd(const Call& c) {
  const double s = c.params[0][0], b = c.params[1][0];
  DTensor y(c.in[0].shape);
  for (int64_t i = 0; i < y.size(); ++i) y[i] = s * sq_f(c.in[0][i]) + b;
  return {y};
}

Grads star_bwd(const Call& c, const Douts& d) {
  const double s = c.params[0][0];
  Grads g = zero_grads(c);
  for (int64_t i = 0; i < d[0].size(); ++i) {
    const double x = c.in[0][i];
    g.din[0][i] = d[0][i] * s * sq_d(x);
    g.dparams[0][0] += d[0][i] * sq_f(x);
    g.dparams[1][0] += d[0][i];
  }
  return g;
}

// ---- self_attention ---------------------------------------------------------------------------------
struct AttnG {
  int64_t B, N, h, d, hd;
  double scale;
  // Index into qkv (B, N, 3hd) of q (which = 0), k (1), v (2) of head j, token n, feature e.
  int64_t at(int64_t b, int64_t n, int which, int64_t j, int64_t e) const {
    return (b * N + n) * 3 * hd + which * hd + j * d + e;
  }
};

AttnG attn_g(const Call& c) {
  const DTensor& x = c.in[0];
  AttnG g{x.dim(0), x.dim(1), attr_i(c.attrs, "heads", 2), attr_i(c.attrs, "head_dim", 32), 0, 0};
  g.hd = g.h * g.d;
  g.scale = 1.0 / std::sqrt(double(g.d));
  return g;
}

// P (N x N) of (b, j).
std::vector<double> attn_probs(const AttnG& g, const DTensor& x, int64_t b, int64_t j) {
  std::vector<double> P(g.N * g.N);
  for (int64_t n = 0; n < g.N; ++n) {
    double mx = -1e300;
    for (int64_t m = 0; m < g.N; ++m) {
      double s = 0;
      for (int64_t e = 0; e < g.d; ++e) s += x[g.at(b, n, 0, j, e)] * x[g.at(b, m, 1, j, e)];
      P[n * g.N + m] = s * g.scale;
      mx = std::max(mx, P[n * g.N + m]);
    }
    double sum = 0;
    for (int64_t m = 0; m < g.N; ++m) sum += (P[n * g.N + m] = std::exp(P[n * g.N + m] - mx));
    for (int64_t m = 0; m < g.N; ++m) P[n * g.N + m] /= sum;
  }
  return P;
}

Outs attn_fwd(const Call& c) {
  const AttnG g = attn_g(c);
  const DTensor& x = c.in[0];
  DTensor y({g.B, g.N, g.hd});
  if (c.probs) *c.probs = DTensor({g.B, g.h, g.N, g.N});
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t j = 0; j < g.h; ++j) {
      const auto P = attn_probs(g, x, b, j);
      if (c.probs)
        std::copy(P.begin(), P.end(), c.probs->data.begin() + (b * g.h + j) * g.N * g.N);
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t e = 0; e < g.d; ++e) {
          double s = 0;
          for (int64_t m = 0; m < g.N; ++m) s += P[n * g.N + m] * x[g.at(b, m, 2, j, e)];
          y[(b * g.N + n) * g.hd + j * g.d + e] = s;
        }
    }
  return {y};
}

Grads attn_bwd(const Call& c, const Douts& d) {
  const AttnG g = attn_g(c);
  const DTensor &x = c.in[0], &dy = d[0];
  Grads gr = zero_grads(c);
  DTensor& dx = gr.din[0];
  for (int64_t b = 0; b < g.B; ++b)
    for (int64_t j = 0; j < g.h; ++j) {
      const auto P = attn_probs(g, x, b, j);
      auto dO = [&](int64_t n, int64_t e) { return dy[(b * g.N + n) * g.hd + j * g.d + e]; };
      for (int64_t n = 0; n < g.N; ++n) {
        // dP[n][m] = Σ_e dO[n][e] V[m][e]; dS = P (dP - Σ_m P dP)
        std::vector<double> dP(g.N);
        double dot = 0;
        for (int64_t m = 0; m < g.N; ++m) {
          for (int64_t e = 0; e < g.d; ++e) dP[m] += dO(n, e) * x[g.at(b, m, 2, j, e)];
          dot += P[n * g.N + m] * dP[m];
        }
        for (int64_t m = 0; m < g.N; ++m) {
          const double p = P[n * g.N + m], ds = p * (dP[m] - dot) * g.scale;
          for (int64_t e = 0; e < g.d; ++e) {
            dx[g.at(b, m, 2, j, e)] += p * dO(n, e);              // dV
            dx[g.at(b, n, 0, j, e)] += ds * x[g.at(b, m, 1, j, e)];  // dQ
            dx[g.at(b, m, 1, j, e)] += ds * x[g.at(b, n, 0, j, e)];  // dK
          }
        }
      }
    }
  return gr;
}

// ---- scale / add ------------------------------------------------------------------------------------
// Channel of element i of x for the scale op.
int64_t scale_channel(const Call& c, int64_t i) {
  const DTensor& x = c.in[0];
  if (attr_s(c.attrs, "layout", "channels_first") == "last") return i % x.dim(-1);
  return (i / (x.size() / (x.dim(0) * x.dim(1)))) % x.dim(1);
}

Outs scale_fwd(const Call& c) {
  DTensor y(c.in[0].shape);
  for (int64_t i = 0; i < y.size(); ++i) y[i] = c.in[0][i] * c.params[0][scale_channel(c, i)];
  return {y};
}

Grads scale_bwd(const Call& c, const Douts& d) {
  Grads g = zero_grads(c);
  for (int64_t i = 0; i < d[0].size(); ++i) {
    const int64_t ch = scale_channel(c, i);
    g.din[0][i] = d[0][i] * c.params[0][ch];
    g.dparams[0][ch] += d[0][i] * c.in[0][i];
  }
  return g;
}

Outs add_fwd(const Call& c) {
  DTensor y(c.in[0].shape);
  for (int64_t i = 0; i < y.size(); ++i) y[i] = c.in[0][i] + c.in[1][i];
  return {y};
}

Grads add_bwd(const Call& c, const Douts& d) {
  Grads g = zero_grads(c);
  g.din[0].data = d[0].data;
  g.din[1].data = d[0].data;
  return g;
}

// ---- dropout / drop_path: y = x·mask, mask fixed by (seed, index) -----------------------------------
double drop_mask(const Call& c, int64_t i, bool per_sample) {
  const double p = attr_f(c.attrs, "p", 0.0);
  if (!c.mode.training || p == 0.0) return 1.0;
  const int64_t per = c.in[0].size() / c.in[0].dim(0);
  const uint64_t idx = static_cast<uint64_t>(per_sample ? i / per : i);
  return uniform01(c.mode.seed, idx) >= static_cast<float>(p) ? 1.0 / (1.0 - p) : 0.0;
}

template <bool PerSample>
Outs drop_fwd(const Call& c) {
  DTensor y(c.in[0].shape);
  for (int64_t i = 0; i < y.size(); ++i) y[i] = c.in[0][i] * drop_mask(c, i, PerSample);
  return {y};
}

template <bool PerSample>
Grads drop_bwd(const Call& c, const Douts& d) {
  Grads g = zero_grads(c);
  for (int64_t i = 0; i < d[0].size(); ++i) g.din[0][i] = d[0][i] * drop_mask(c, i, PerSample);
  return g;
}

// ---- layout ops: y[i] = x[src(i)] (+ parameters) ----------------------------------------------------
Outs tokens_fwd(const Call& c) {
  const DTensor& x = c.in[0];
  const int64_t B = x.dim(0), C = x.dim(1), S = x.dim(2) * x.dim(3);
  DTensor y({B, S, C});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t s = 0; s < S; ++s) y[(b * S + s) * C + ch] = x[(b * C + ch) * S + s];
  return {y};
}

Grads tokens_bwd(const Call& c, const Douts& d) {
  const DTensor& x = c.in[0];
  const int64_t B = x.dim(0), C = x.dim(1), S = x.dim(2) * x.dim(3);
  Grads g = zero_grads(c);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t s = 0; s < S; ++s) g.din[0][(b * C + ch) * S + s] = d[0][(b * S + s) * C + ch];
  return g;
}

Outs nchw_fwd(const Call& c) {
  const DTensor &x = c.in[0], &grid = c.in[1];
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2);
  DTensor y({B, C, grid.dim(2), grid.dim(3)});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t ch = 0; ch < C; ++ch) y[(b * C + ch) * N + n] = x[(b * N + n) * C + ch];
  return {y};
}

Grads nchw_bwd(const Call& c, const Douts& d) {
  const DTensor& x = c.in[0];
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2);
  Grads g = zero_grads(c);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t ch = 0; ch < C; ++ch) g.din[0][(b * N + n) * C + ch] = d[0][(b * C + ch) * N + n];
  return g;
}

Outs cls_fwd(const Call& c) {
  const DTensor &x = c.in[0], &cls = c.params[0], &pos = c.params[1];
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2);
  DTensor y({B, N + 1, C});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n <= N; ++n)
      for (int64_t ch = 0; ch < C; ++ch)
        y[(b * (N + 1) + n) * C + ch] =
            (n == 0 ? cls[ch] : x[(b * N + n - 1) * C + ch]) + pos[n * C + ch];
  return {y};
}

Grads cls_bwd(const Call& c, const Douts& d) {
  const DTensor& x = c.in[0];
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2);
  Grads g = zero_grads(c);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n <= N; ++n)
      for (int64_t ch = 0; ch < C; ++ch) {
        const double e = d[0][(b * (N + 1) + n) * C + ch];
        if (n == 0)
          g.dparams[0][ch] += e;
        else
          g.din[0][(b * N + n - 1) * C + ch] = e;
        g.dparams[1][n * C + ch] += e;
      }
  return g;
}

int64_t select_index(const Call& c) {
  const int64_t N = c.in[0].dim(1), i = attr_i(c.attrs, "index", 0);
  return i < 0 ? i + N : i;
}

Outs select_fwd(const Call& c) {
  const DTensor& x = c.in[0];
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2), k = select_index(c);
  DTensor y({B, C});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ch = 0; ch < C; ++ch) y[b * C + ch] = x[(b * N + k) * C + ch];
  return {y};
}

Grads select_bwd(const Call& c, const Douts& d) {
  const DTensor& x = c.in[0];
  const int64_t B = x.dim(0), N = x.dim(1), C = x.dim(2), k = select_index(c);
  Grads g = zero_grads(c);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ch = 0; ch < C; ++ch) g.din[0][(b * N + k) * C + ch] = d[0][b * C + ch];
  return g;
}

}  // namespace

const std::vector<RefOp>& misc_ops() {
  static const std::vector<RefOp> ops = {
      {"linear", linear_fwd, linear_bwd},
      {"gelu", pointwise_fwd<gelu_f>, pointwise_bwd<gelu_d>},
      {"relu", pointwise_fwd<relu>, pointwise_bwd<relu_d>},
      {"squared_relu", pointwise_fwd<sq_f>, pointwise_bwd<sq_d>},
      {"star_relu", star_fwd, star_bwd},
      {"self_attention", attn_fwd, attn_bwd},
      {"identity", pointwise_fwd<id_f>, pointwise_bwd<id_d>},
      {"scale", scale_fwd, scale_bwd},
      {"add", add_fwd, add_bwd},
      {"dropout", drop_fwd<false>, drop_bwd<false>},
      {"drop_path", drop_fwd<true>, drop_bwd<true>},
      {"to_tokens", tokens_fwd, tokens_bwd},
      {"to_nchw", nchw_fwd, nchw_bwd},
      {"cls_pos_embed", cls_fwd, cls_bwd},
      {"select_token", select_fwd, select_bwd},
  };
  return ops;
}

}  // namespace fw::cpu::ref
