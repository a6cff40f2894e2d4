// The CPU kernel table and the helpers of common.h.
#include <algorithm>
#include <array>

#include "kernels/cpu/common.h"

namespace fw::cpu {

const std::vector<const CpuKernel*>& all_kernels() {
  static const std::vector<const CpuKernel*> table = {
      &kConv2d,     &kLinear,    &kAvgPool2d,      &kPoolMixer,  &kGroupNorm,
      &kLayerNorm2d, &kLayerNorm, &kGelu,          &kRelu,       &kSquaredRelu,
      &kStarRelu,   &kSelfAttention, &kRandomMixing, &kIdentity, &kScale,
      &kAdd,        &kGlobalAvgPool, &kToTokens,    &kToNchw,    &kClsPosEmbed,
      &kSelectToken, &kDropout,  &kDropPath,
  };
  return table;
}

const CpuKernel* find_kernel(std::string_view op_id) {
  for (const CpuKernel* k : all_kernels())
    if (k->id == op_id) return k;
  return nullptr;
}

bool supports(std::string_view op_id) { return find_kernel(op_id) != nullptr; }

void resize(Tensor& t, const Shape& shape) {
  t.shape = shape;
  t.data.resize(static_cast<size_t>(numel(shape)));
}

void expect_shape(std::string_view op, const char* what, const Tensor& t, const Shape& shape) {
  if (t.shape != shape)
    fail(op, std::string(what) + " is " + shape_str(t.shape) + ", expected " + shape_str(shape));
  if (t.size() != numel(shape))
    fail(op, std::string(what) + " holds " + std::to_string(t.size()) + " values for shape " +
                 shape_str(shape));
}

void expect_rank(std::string_view op, const char* what, const Tensor& t, int rank) {
  if (t.rank() != rank)
    fail(op, std::string(what) + " is " + shape_str(t.shape) + ", expected rank " +
                 std::to_string(rank) + " (batch included)");
  if (t.size() != numel(t.shape))
    fail(op, std::string(what) + " holds " + std::to_string(t.size()) + " values for shape " +
                 shape_str(t.shape));
}

void expect_params(std::string_view op, const ForwardArgs& a, size_t n) {
  if (a.params.size() < n)
    fail(op, "expects " + std::to_string(n) + " parameters, got " + std::to_string(a.params.size()));
  for (size_t i = 0; i < n; ++i)
    if (!a.params[i]) fail(op, "parameter " + std::to_string(i) + " is not bound");
}

const Tensor& need_in(const BackwardArgs& a, size_t i, std::string_view op) {
  if (i >= a.in.size() || !a.in[i])
    fail(op, "backward needs the values of input " + std::to_string(i) + " (freed too early?)");
  return *a.in[i];
}

const Tensor& need_saved(const BackwardArgs& a, size_t i, std::string_view op) {
  if (i >= a.saved.size() || !a.saved[i] || a.saved[i]->data.empty())
    fail(op, "backward needs saved tensor " + std::to_string(i) +
                 " (run forward with a saved slot)");
  return *a.saved[i];
}

int64_t window_out(std::string_view op, int64_t n, int64_t k, int64_t s, int64_t p) {
  require(k >= 1 && s >= 1 && p >= 0, op,
          "kernel and stride must be >= 1 and padding >= 0 (kernel " + std::to_string(k) +
              ", stride " + std::to_string(s) + ", padding " + std::to_string(p) + ")");
  const int64_t o = (n + 2 * p - k) / s + 1;
  if (n + 2 * p < k || o < 1)
    fail(op, "kernel " + std::to_string(k) + " is larger than the padded input (" +
                 std::to_string(n) + " + 2*" + std::to_string(p) + ")");
  return o;
}

namespace {
// Chunk length of parallel_chunks: at most num_threads() chunks of at least `grain`.
int64_t chunk_step(int64_t n, int64_t grain) {
  grain = std::max<int64_t>(1, grain);
  const int64_t chunks =
      std::max<int64_t>(1, std::min<int64_t>(num_threads(), (n + grain - 1) / grain));
  return (n + chunks - 1) / chunks;
}
}  // namespace

int64_t num_chunks(int64_t n, int64_t grain) {
  if (n <= 0) return 0;
  const int64_t step = chunk_step(n, grain);
  return (n + step - 1) / step;  // every chunk non-empty
}

int64_t parallel_chunks(int64_t n, int64_t grain,
                        const std::function<void(int64_t, int64_t, int64_t)>& fn) {
  const int64_t chunks = num_chunks(n, grain);
  if (chunks == 0) return 0;
  const int64_t step = chunk_step(n, grain);
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) fn(c, c * step, std::min(n, (c + 1) * step));
  });
  return chunks;
}

}  // namespace fw::cpu
