// Reference (double, naive loops): group_norm, layer_norm2d, layer_norm. All three normalise
// sets of elements (a sample's group; a pixel's channels; a row) with biased variance and apply
// a per-channel affine transform; only the sets differ.
#include <cmath>

#include "kernels/cpu/ref_impl.h"

namespace fw::cpu::ref {
namespace {

struct NormSpec {
  std::vector<std::vector<int64_t>> sets;  // element indices of each normalised set
  std::vector<int64_t> channel;            // affine channel of each element
  const DTensor* w = nullptr;
  const DTensor* b = nullptr;
  double eps = 0;
};

// Element indices of set: mean, 1/std.
void set_stats(const DTensor& x, const std::vector<int64_t>& set, double eps, double& mean,
               double& rstd) {
  mean = 0;
  for (int64_t i : set) mean += x[i];
  mean /= double(set.size());
  double var = 0;
  for (int64_t i : set) var += (x[i] - mean) * (x[i] - mean);
  var /= double(set.size());
  rstd = 1.0 / std::sqrt(var + eps);
}

DTensor norm_fwd(const DTensor& x, const NormSpec& s) {
  DTensor y(x.shape);
  for (const auto& set : s.sets) {
    double mean, rstd;
    set_stats(x, set, s.eps, mean, rstd);
    for (int64_t i : set) {
      const int64_t c = s.channel[i];
      y[i] = (x[i] - mean) * rstd * (s.w ? (*s.w)[c] : 1.0) + (s.b ? (*s.b)[c] : 0.0);
    }
  }
  return y;
}

// dx_i = rstd/n · (n·ĝ_i - Σ ĝ - x̂_i Σ ĝ·x̂) with ĝ = dy·w; dw = Σ dy·x̂; db = Σ dy.
void norm_bwd(const DTensor& x, const DTensor& dy, const NormSpec& s, DTensor& dx, DTensor* dw,
              DTensor* db) {
  for (const auto& set : s.sets) {
    double mean, rstd;
    set_stats(x, set, s.eps, mean, rstd);
    const double n = double(set.size());
    double sg = 0, sgx = 0;
    for (int64_t i : set) {
      const double xh = (x[i] - mean) * rstd;
      const double gh = dy[i] * (s.w ? (*s.w)[s.channel[i]] : 1.0);
      sg += gh, sgx += gh * xh;
      if (dw) (*dw)[s.channel[i]] += dy[i] * xh;
      if (db) (*db)[s.channel[i]] += dy[i];
    }
    for (int64_t i : set) {
      const double xh = (x[i] - mean) * rstd;
      const double gh = dy[i] * (s.w ? (*s.w)[s.channel[i]] : 1.0);
      dx[i] = rstd / n * (n * gh - sg - xh * sgx);
    }
  }
}

NormSpec group_spec(const Call& c) {
  const DTensor& x = c.in.at(0);
  const int64_t B = x.dim(0), C = x.dim(1), S = x.size() / (B * C);
  const int64_t G = attr_i(c.attrs, "groups", 1), Cg = C / G;
  NormSpec s;
  s.eps = attr_f(c.attrs, "eps", 1e-5);
  if (attr_b(c.attrs, "affine", true)) {
    s.w = &c.params.at(0);
    if (attr_b(c.attrs, "bias", true)) s.b = &c.params.at(1);
  }
  s.channel.resize(x.size());
  s.sets.resize(B * G);
  for (int64_t i = 0; i < x.size(); ++i) {
    const int64_t ch = (i / S) % C, b = i / (S * C);
    s.channel[i] = ch;
    s.sets[b * G + ch / Cg].push_back(i);
  }
  return s;
}

NormSpec ln2d_spec(const Call& c) {
  const DTensor& x = c.in.at(0);
  const int64_t B = x.dim(0), C = x.dim(1), S = x.dim(2) * x.dim(3);
  NormSpec s;
  s.eps = attr_f(c.attrs, "eps", 1e-6);
  s.w = &c.params.at(0);
  if (attr_b(c.attrs, "bias", true)) s.b = &c.params.at(1);
  s.channel.resize(x.size());
  s.sets.resize(B * S);
  for (int64_t i = 0; i < x.size(); ++i) {
    const int64_t p = i % S, ch = (i / S) % C, b = i / (S * C);
    s.channel[i] = ch;
    s.sets[b * S + p].push_back(i);
  }
  return s;
}

NormSpec ln_spec(const Call& c) {
  const DTensor& x = c.in.at(0);
  const int64_t C = x.dim(-1);
  NormSpec s;
  s.eps = attr_f(c.attrs, "eps", 1e-6);
  s.w = &c.params.at(0);
  if (attr_b(c.attrs, "bias", true)) s.b = &c.params.at(1);
  s.channel.resize(x.size());
  s.sets.resize(x.size() / C);
  for (int64_t i = 0; i < x.size(); ++i) {
    s.channel[i] = i % C;
    s.sets[i / C].push_back(i);
  }
  return s;
}

template <NormSpec (*Spec)(const Call&)>
std::vector<DTensor> fwd(const Call& c) {
  return {norm_fwd(c.in[0], Spec(c))};
}

template <NormSpec (*Spec)(const Call&)>
Grads bwd(const Call& c, const std::vector<DTensor>& dout) {
  const NormSpec s = Spec(c);
  Grads g = zero_grads(c);
  DTensor* dw = g.dparams.size() > 0 ? &g.dparams[0] : nullptr;
  DTensor* db = g.dparams.size() > 1 ? &g.dparams[1] : nullptr;
  norm_bwd(c.in[0], dout[0], s, g.din[0], dw, db);
  return g;
}

}  // namespace

const std::vector<RefOp>& norm_ops() {
  static const std::vector<RefOp> ops = {
      {"group_norm", fwd<group_spec>, bwd<group_spec>},
      {"layer_norm2d", fwd<ln2d_spec>, bwd<ln2d_spec>},
      {"layer_norm", fwd<ln_spec>, bwd<ln_spec>},
  };
  return ops;
}

}  // namespace fw::cpu::ref
