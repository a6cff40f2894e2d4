// Internal helpers shared by the CPU kernels (not part of the public API; see ops.h).
//
//  - attribute reading with OPS.md defaults, shape checks that throw fw::Error
//  - parallel_chunks: a static split for reductions into per-chunk partial buffers
//  - counter-based random numbers for dropout / drop_path
//  - exp_f / erf_f: branch-free float approximations that GCC auto-vectorises (std::exp/erf
//    loops do not vectorise without -ffast-math)
//  - the extern kernel table entries, one per op, defined in the family files
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

#include "core/attrs.h"
#include "core/error.h"
#include "core/tensor.h"
#include "kernels/cpu/ops.h"
#include "kernels/parallel.h"

namespace fw::cpu {

// ---- attributes -----------------------------------------------------------------------------------
inline int64_t attr_i(const Attrs& a, const char* name, int64_t def) {
  return a.has(name) ? a.i(name) : def;
}
inline double attr_f(const Attrs& a, const char* name, double def) {
  return a.has(name) ? a.f(name) : def;
}
inline bool attr_b(const Attrs& a, const char* name, bool def) {
  return a.has(name) ? a.b(name) : def;
}
inline std::string attr_s(const Attrs& a, const char* name, const char* def) {
  return a.has(name) ? a.s(name) : std::string(def);
}

// ---- checks -----------------------------------------------------------------------------------------
[[noreturn]] inline void fail(std::string_view op, const std::string& msg) {
  throw Error(std::string(op) + ": " + msg);
}
inline void require(bool cond, std::string_view op, const std::string& msg) {
  if (!cond) fail(op, msg);
}
// Throws unless t has exactly `shape` ("conv2d: weight is 64x3x3x3, expected 64x3x7x7").
void expect_shape(std::string_view op, const char* what, const Tensor& t, const Shape& shape);
// Throws unless t has rank `rank` (with the batch).
void expect_rank(std::string_view op, const char* what, const Tensor& t, int rank);
// Throws when the op needs `n` parameters and got fewer.
void expect_params(std::string_view op, const ForwardArgs& a, size_t n);
// Input i's shape in backward: in_shapes[i] (always given).
inline const Shape& in_shape(const BackwardArgs& a, int i) { return a.in_shapes.at(i); }
// The wanted gradient slots (nullptr when not wanted or the vector is short).
inline Tensor* want_din(const BackwardArgs& a, size_t i) {
  return i < a.din.size() ? a.din[i] : nullptr;
}
inline Tensor* want_dparam(const BackwardArgs& a, size_t i) {
  return i < a.dparams.size() ? a.dparams[i] : nullptr;
}
inline Tensor* saved_slot(const ForwardArgs& a, size_t i) {
  return i < a.saved.size() ? a.saved[i] : nullptr;
}
// The input values backward needs: throws a clear error when the executor freed them.
const Tensor& need_in(const BackwardArgs& a, size_t i, std::string_view op);
const Tensor& need_saved(const BackwardArgs& a, size_t i, std::string_view op);

// Output size of a sliding window: floor((n + 2p - k) / s) + 1; throws when it is < 1.
int64_t window_out(std::string_view op, int64_t n, int64_t k, int64_t s, int64_t p);

// ---- threading --------------------------------------------------------------------------------------
// Splits [0, n) into at most num_threads() contiguous non-empty chunks of at least `grain`
// (except the last) and runs fn(chunk, lo, hi) for each, in parallel. Returns the number of
// chunks; fn is called exactly once for every chunk < that. For reductions: each chunk
// accumulates into its own partial buffer, the caller sums the partials.
int64_t parallel_chunks(int64_t n, int64_t grain,
                        const std::function<void(int64_t chunk, int64_t lo, int64_t hi)>& fn);
// Number of chunks parallel_chunks(n, grain, ...) will use (0 when n <= 0).
int64_t num_chunks(int64_t n, int64_t grain);

// ---- random numbers ---------------------------------------------------------------------------------
// A uniform float in [0, 1) that depends only on (seed, index): splitmix64 of the pair.
inline float uniform01(uint64_t seed, uint64_t index) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E5ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);  // 24 random bits
}

// ---- vectorisable math ------------------------------------------------------------------------------
// exp(x) for x in float range, ~1 ulp on [-87, 88] (Cephes polynomial), flushes below -87 to
// ~1e-38 and saturates at exp(88). Branch-free so loops over it vectorise.
inline float exp_f(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln 2)
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  return p * std::bit_cast<float>(e);
}

// erf(x) for float, a few ulp: the rational approximation Eigen and XLA use (clamped to +-4,
// where erf is +-1 in float).
inline float erf_f(float x) {
  x = std::min(std::max(x, -4.0f), 4.0f);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  p = p * x;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return p / q;
}

// ---- the table entries (defined in the family files) -----------------------------------------------
extern const CpuKernel kConv2d;          // conv.cpp
extern const CpuKernel kLinear;          // linear.cpp
extern const CpuKernel kAvgPool2d;       // pool.cpp
extern const CpuKernel kPoolMixer;       // pool.cpp
extern const CpuKernel kGlobalAvgPool;   // pool.cpp
extern const CpuKernel kGroupNorm;       // norm.cpp
extern const CpuKernel kLayerNorm2d;     // norm.cpp
extern const CpuKernel kLayerNorm;       // norm.cpp
extern const CpuKernel kGelu;            // activation.cpp
extern const CpuKernel kRelu;            // activation.cpp
extern const CpuKernel kSquaredRelu;     // activation.cpp
extern const CpuKernel kStarRelu;        // activation.cpp
extern const CpuKernel kSelfAttention;   // attention.cpp
extern const CpuKernel kRandomMixing;    // mixing.cpp
extern const CpuKernel kIdentity;        // elementwise.cpp
extern const CpuKernel kScale;           // elementwise.cpp
extern const CpuKernel kAdd;             // elementwise.cpp
extern const CpuKernel kDropout;         // elementwise.cpp
extern const CpuKernel kDropPath;        // elementwise.cpp
extern const CpuKernel kToTokens;        // shape_ops.cpp
extern const CpuKernel kToNchw;          // shape_ops.cpp
extern const CpuKernel kClsPosEmbed;     // shape_ops.cpp
extern const CpuKernel kSelectToken;     // shape_ops.cpp

// Shared needs() functions.
inline BackwardNeeds needs_nothing(const Attrs&, bool) { return {}; }
inline BackwardNeeds needs_input0(const Attrs&, bool) { return {1u, false}; }
inline bool never_identity(const Attrs&, const RunMode&) { return false; }

}  // namespace fw::cpu
