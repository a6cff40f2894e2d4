// The device op library: every leaf op of core/OPS.md, forward and backward, as programs over a
// device D (device.h). The same programs run on the GPU (CudaDevice) and on the host
// (HostDevice, for the tests).
//
// Contents
//  1. helpers      - attributes and checks (the CPU kernels' own), reductions
//  2. the families - ops_elementwise.h, ops_shape.h, ops_norm.h, ops_pool.h, ops_conv.h,
//                    ops_linear.h, ops_attention.h: each defines add_<family><D>(KernelTable&)
//  3. lookup       - find_dev_kernel<D>(op id)
//
// Rules (as kernels/cpu/ops.h): tensors carry the batch; outputs are sized with dev.resize and
// fully overwritten; gradients overwritten, never accumulated; backward reads only what the CPU
// kernel's needs() names, and the saved slots hold what its saved_doc says (the executor plans
// with the CPU kernel's metadata). Errors are fw::Error naming the op.
//
// Reductions are deterministic (no atomics): a result does not depend on timing.
#pragma once
#include <map>
#include <string_view>

#include "kernels/cpu/common.h"
#include "kernels/cuda/device.h"

namespace fw::gpu {

using cpu::attr_b;
using cpu::attr_f;
using cpu::attr_i;
using cpu::attr_s;
using cpu::fail;
using cpu::require;

template <class D>
using KernelTable = std::map<std::string_view, DevKernel<D>>;

// 1. helpers --------------------------------------------------------------------------------------
template <class D>
const DTensor& need_in(const Bwd<D>& a, size_t i, std::string_view op) {
  if (i >= a.in.size() || !a.in[i]) fail(op, "backward needs input " + std::to_string(i));
  return *a.in[i];
}
template <class D>
const DTensor& need_saved(const Bwd<D>& a, size_t i, std::string_view op) {
  if (i >= a.saved.size() || !a.saved[i]) fail(op, "backward needs what forward saved");
  return *a.saved[i];
}
template <class D>
const DTensor& need_out(const Bwd<D>& a, std::string_view op) {
  if (a.out.empty() || !a.out[0]) fail(op, "backward needs the forward output");
  return *a.out[0];
}
template <class D>
DTensor* want_din(const Bwd<D>& a, size_t i) {
  return i < a.din.size() ? a.din[i] : nullptr;
}
template <class D>
DTensor* want_dparam(const Bwd<D>& a, size_t i) {
  return i < a.dparams.size() ? a.dparams[i] : nullptr;
}
template <class D>
DTensor* saved_slot(const Fwd<D>& a, size_t i) {
  return i < a.saved.size() ? a.saved[i] : nullptr;
}
template <class D>
const DTensor& dout0(const Bwd<D>& a, std::string_view op, const Shape& want) {
  const DTensor& dy = *a.dout.at(0);
  if (dy.shape != want)
    fail(op, "output gradient is " + shape_str(dy.shape) + ", expected " + shape_str(want));
  return dy;
}
inline void expect_dshape(std::string_view op, const char* what, const DTensor& t,
                          const Shape& shape) {
  if (t.shape != shape)
    fail(op, std::string(what) + " is " + shape_str(t.shape) + ", expected " + shape_str(shape));
}

// Elementwise copy (a body for launch).
struct CopyBody {
  const float* x;
  float* y;
  FW_HD void operator()(int64_t i) const { y[i] = x[i]; }
};

// part[r] = Σ f(i) over i in [r·chunk, min(n, (r+1)·chunk)).
template <class F>
struct ChunkSum {
  F f;
  int64_t n, chunk;
  float* part;
  template <class C>
  FW_HD void operator()(int64_t r, C& c) const {
    float s = 0.0f;
    const int64_t lo = r * chunk, hi = lo + chunk < n ? lo + chunk : n;
    for (int64_t i = lo + c.tid; i < hi; i += c.threads) s += f(i);
    s = c.sum(s);
    if (c.tid == 0) part[r] = s;
  }
};

// out[r] = Σ_j part[r·m + j] (the second stage of sum_all).
struct RowSum {
  const float* part;
  int64_t m;
  float* out;
  template <class C>
  FW_HD void operator()(int64_t r, C& c) const {
    float s = 0.0f;
    for (int64_t j = c.tid; j < m; j += c.threads) s += part[r * m + j];
    s = c.sum(s);
    if (c.tid == 0) out[r] = s;
  }
};

// *out = Σ_{i<n} f(i) (out: one device float).
template <class D, class F>
void sum_all(D& dev, int64_t n, const F& f, float* out) {
  constexpr int64_t kChunk = 16384;
  const int64_t chunks = std::max<int64_t>(1, (n + kChunk - 1) / kChunk);
  Scratch<D> part(dev, static_cast<size_t>(chunks));
  dev.launch_rows(chunks, std::min<int64_t>(n, kChunk), ChunkSum<F>{f, n, kChunk, part.get()});
  dev.launch_rows(1, chunks, RowSum{part.get(), chunks, out});
}

// out[c] = Σ_r a[r·cols + c] (a: rows x cols, row-major), through a gemm with ones.
template <class D>
void column_sums(D& dev, int64_t rows, int64_t cols, const float* a, float* out) {
  Gemm g;
  g.ta = true;
  g.m = cols, g.n = 1, g.k = rows;
  g.a = a, g.lda = cols;
  g.b = dev.ones(static_cast<size_t>(rows)), g.ldb = 1;
  g.c = out, g.ldc = 1;
  dev.gemm(g);
}

// Per-channel sums of x viewed as (outer, dim, inner): out[ch] = Σ_{o,i} f((o·dim + ch)·inner + i).
template <class F>
struct ChannelSum {
  F f;
  int64_t outer, dim, inner;
  float* out;
  template <class C>
  FW_HD void operator()(int64_t ch, C& c) const {
    float s = 0.0f;
    const int64_t n = outer * inner;
    for (int64_t j = c.tid; j < n; j += c.threads) {
      const int64_t o = j / inner, i = j - o * inner;
      s += f((o * dim + ch) * inner + i);
    }
    s = c.sum(s);
    if (c.tid == 0) out[ch] = s;
  }
};
template <class F>
struct Materialise {
  F f;
  float* y;
  FW_HD void operator()(int64_t i) const { y[i] = f(i); }
};

template <class D, class F>
void channel_sums(D& dev, int64_t outer, int64_t dim, int64_t inner, const F& f, float* out) {
  if (inner == 1 && outer > 1) {
    // Channels last: materialise f as (outer, dim) and sum its columns with a gemm against ones.
    Scratch<D> t(dev, static_cast<size_t>(outer * dim));
    dev.launch(outer * dim, Materialise<F>{f, t.get()});
    column_sums(dev, outer, dim, t.get(), out);
    return;
  }
  dev.launch_rows(dim, outer * inner, ChannelSum<F>{f, outer, dim, inner, out});
}

// Sets every element of t (sized to `shape`) to a copy of x (same element count).
template <class D>
void copy_into(D& dev, DTensor& t, const DTensor& x) {
  dev.resize(t, x.shape);
  dev.copy(t.p, x.p, static_cast<size_t>(x.size()));
}

// Registers op `id` with the CPU kernel's metadata.
template <class D>
void add_kernel(KernelTable<D>& t, std::string_view id, void (*fwd)(const Fwd<D>&),
                void (*bwd)(const Bwd<D>&)) {
  const cpu::CpuKernel* meta = cpu::find_kernel(id);
  FW_ASSERT(meta, "a device op without a CPU kernel");
  t[id] = DevKernel<D>{meta, fwd, bwd};
}

}  // namespace fw::gpu

// 2. the families
// -----------------------------------------------------------------------------------
#include "kernels/cuda/ops_attention.h"
#include "kernels/cuda/ops_conv.h"
#include "kernels/cuda/ops_elementwise.h"
#include "kernels/cuda/ops_linear.h"
#include "kernels/cuda/ops_norm.h"
#include "kernels/cuda/ops_pool.h"
#include "kernels/cuda/ops_shape.h"

namespace fw::gpu {

// 3. lookup -------------------------------------------------------------------------------------
template <class D>
const KernelTable<D>& dev_kernels() {
  static const KernelTable<D> table = [] {
    KernelTable<D> t;
    add_elementwise<D>(t);
    add_linear<D>(t);
    add_shape<D>(t);
    add_norm<D>(t);
    add_pool<D>(t);
    add_conv<D>(t);
    add_attention<D>(t);
    return t;
  }();
  return table;
}

// nullptr when the op has no device program.
template <class D>
const DevKernel<D>* find_dev_kernel(std::string_view id) {
  const KernelTable<D>& t = dev_kernels<D>();
  auto it = t.find(id);
  return it == t.end() ? nullptr : &it->second;
}

}  // namespace fw::gpu
