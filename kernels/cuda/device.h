// The device layer under the CUDA backend, and its host emulation.
//
// Contents
//  1. FW_HD           - marks kernel bodies: __host__ __device__ under nvcc, plain inline otherwise
//  2. Gemm            - a row-major, strided, batched matrix product (cuBLAS underneath)
//  3. DTensor         - a float buffer in device memory with its batched shape
//  4. DevicePool      - recycled device buffers (the CPU executor's pool, on the device)
//  5. Fwd / Bwd       - what an op program reads and writes (ops.h's ForwardArgs on the device)
//  6. DevKernel       - one op: the CPU kernel's metadata plus device forward and backward
//  7. HostDevice      - the same device interface run on the host, one thread per block
//
// A device D (CudaDevice in cuda_device.cuh, HostDevice below) offers:
//   float* take(size_t n)              a buffer of >= n floats (pooled); fw::Error when full
//   void give(float* p)                back to the pool
//   void resize(DTensor&, Shape)       take/give so that t holds numel(shape) floats
//   void upload(float* dst, const float* host, size_t n)   host -> device
//   void download(float* host, const float* src, size_t n) device -> host (waits)
//   void copy(float* dst, const float* src, size_t n)      device -> device
//   void zero(float* p, size_t n)
//   void launch(int64_t n, const Body& b)                  b(i) for every i in [0, n)
//   void launch_rows(int64_t rows, int64_t cols, const Body& b)
//        b(row, ctx) for every row, by one block of threads; ctx.tid in [0, ctx.threads), and
//        ctx.sum(v) / ctx.max(v) reduce over the block and return the result to every thread
//        (every thread must call them). `cols` is a hint for the block size.
//   void gemm(const Gemm&)
//   const float* ones(size_t n)        >= n ones, for column sums through gemm
//   void sync()                        waits for the queued work
//   MemoryLimit limit()                what a run may use
// The op programs (ops_*.h) are templates over D, so the very code that runs on the GPU also
// runs here under HostDevice: tests/unit/test_cuda_ops.cpp checks it against the CPU kernels on
// every machine, and against the GPU where there is one.
#pragma once
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/attrs.h"
#include "core/error.h"
#include "core/tensor.h"
#include "kernels/cpu/ops.h"

// 1. FW_HD --------------------------------------------------------------------------------------
#if defined(__CUDACC__)
#define FW_HD __host__ __device__ inline
#else
#define FW_HD inline
#endif

namespace fw::gpu {

// 2. Gemm -----------------------------------------------------------------------------------------
// For every batch entry e: C_e = alpha·op(A_e)·op(B_e) + beta·C_e, row-major, where
// op(A)[i][p] = ta ? A[p·lda + i] : A[i·lda + p] (m x k), op(B)[p][j] = tb ? B[j·ldb + p] :
// B[p·ldb + j] (k x n), C[i][j] = C[i·ldc + j] (m x n); A_e = a + e·sa, and so on.
struct Gemm {
  bool ta = false, tb = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  const float* a = nullptr;
  int64_t lda = 0, sa = 0;
  const float* b = nullptr;
  int64_t ldb = 0, sb = 0;
  float* c = nullptr;
  int64_t ldc = 0, sc = 0;
  int64_t batch = 1;
};

// 3. DTensor
// ---------------------------------------------------------------------------------------
struct DTensor {
  Shape shape;
  float* p = nullptr;  // device memory, `cap` floats
  size_t cap = 0;
  int64_t size() const { return numel(shape); }
  int64_t dim(int i) const { return shape.at(i < 0 ? shape.size() + i : i); }
  int rank() const { return int(shape.size()); }
};

// A device buffer could not be allocated (the GUI retries such a request on the CPU).
class DeviceOutOfMemory : public Error {
 public:
  explicit DeviceOutOfMemory(const std::string& what) : Error(what) {}
};

struct MemoryLimit {
  long double bytes = 0;  // the most a run may hold
  std::string text;       // "this GPU has 143 GB" / "this machine has 25.3 GB"
};

// 4. DevicePool ----------------------------------------------------------------------------------
// Buffers keyed by capacity; a request of n floats takes a free buffer of capacity n..2n+4096.
class DevicePool {
 public:
  // Derived destructors call drop_all(): raw_free is theirs, and gone by the time this runs.
  virtual ~DevicePool() = default;
  float* take(size_t n) {
    if (n == 0) n = 1;
    auto it = free_.lower_bound(n);
    if (it != free_.end() && it->first <= 2 * n + 4096) {
      float* p = it->second;
      caps_[p] = it->first;
      free_.erase(it);
      return p;
    }
    float* p = raw_alloc(n);
    if (!p) {  // full: drop the cached buffers and try once more
      release_free();
      p = raw_alloc(n);
      if (!p) throw DeviceOutOfMemory(out_of_memory(n));
    }
    ++allocations_;
    caps_[p] = n;
    return p;
  }
  void give(float* p) {
    if (!p) return;
    auto it = caps_.find(p);
    FW_ASSERT(it != caps_.end(), "give() of a buffer this pool did not hand out");
    free_.emplace(it->second, p);
    caps_.erase(it);
  }
  size_t capacity(const float* p) const {
    auto it = caps_.find(const_cast<float*>(p));
    return it == caps_.end() ? 0 : it->second;
  }
  void resize(DTensor& t, const Shape& shape) {
    const size_t n = static_cast<size_t>(numel(shape));
    if (!t.p || t.cap < n) {
      give(t.p);
      t.p = take(n);
      t.cap = capacity(t.p);
    }
    t.shape = shape;
  }
  int64_t allocations() const { return allocations_; }
  void release_free() {
    for (auto& [cap, p] : free_) raw_free(p);
    free_.clear();
  }

 protected:
  virtual float* raw_alloc(size_t n) = 0;  // nullptr when the memory is full
  virtual void raw_free(float* p) = 0;
  virtual std::string out_of_memory(size_t n) const = 0;
  // Derived destructors call this first (raw_free is theirs).
  void drop_all() {
    release_free();
    for (auto& [p, cap] : caps_) raw_free(p);
    caps_.clear();
  }

 private:
  std::multimap<size_t, float*> free_;
  std::map<float*, size_t> caps_;  // handed out
  int64_t allocations_ = 0;
};

// A scratch buffer for the duration of one op.
template <class D>
class Scratch {
 public:
  Scratch(D& d, size_t n) : d_(d), p_(d.take(n)) {}
  ~Scratch() { d_.give(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get() const { return p_; }

 private:
  D& d_;
  float* p_;
};

// 5. Fwd / Bwd ----------------------------------------------------------------------------------
// As cpu::ForwardArgs / cpu::BackwardArgs (kernels/cpu/ops.h), with device tensors: same slots,
// same rules (outputs sized by the op with dev.resize, gradients overwritten, saved slots as the
// CPU kernel's `saved` and `saved_doc`).
template <class D>
struct Fwd {
  D& dev;
  const Attrs& attrs;
  cpu::RunMode mode;
  std::vector<const DTensor*> in;
  std::vector<const DTensor*> params;
  std::vector<DTensor*> out;
  std::vector<DTensor*> saved;
};

template <class D>
struct Bwd {
  D& dev;
  const Attrs& attrs;
  cpu::RunMode mode;
  std::vector<Shape> in_shapes;
  std::vector<const DTensor*> in;
  std::vector<const DTensor*> params;
  std::vector<const DTensor*> out;
  std::vector<const DTensor*> saved;
  std::vector<const DTensor*> dout;
  std::vector<DTensor*> din;
  std::vector<DTensor*> dparams;
};

// 6. DevKernel
// ------------------------------------------------------------------------------------- `meta`: the
// CPU kernel of the same op, whose needs(), saved, is_identity, grad_is_dout and saved_bytes the
// device program follows exactly (so kernels/plan.h plans both alike).
template <class D>
struct DevKernel {
  const cpu::CpuKernel* meta = nullptr;
  void (*forward)(const Fwd<D>&) = nullptr;
  void (*backward)(const Bwd<D>&) = nullptr;
};

// 7. HostDevice ----------------------------------------------------------------------------------
// The device interface on the host: blocks run one after another with one thread each
// (ctx.threads == 1; set_block_threads(n) makes them teams of n threads), gemm is Eigen's. It
// checks the op programs' indexing and arithmetic where there is no GPU; it is not a fast CPU
// backend (that is kernels/cpu).
struct SerialCtx {
  int tid = 0;
  int threads = 1;
  float sum(float v) const { return v; }
  float max(float v) const { return v; }
};

// A block of `threads` real threads (set_block_threads): sum/max meet at a barrier, as
// __syncthreads does on the GPU, and every thread gets the same total (summed in thread order).
struct TeamCtx {
  int tid = 0;
  int threads = 1;
  float* slots = nullptr;  // one per thread
  std::barrier<>* bar = nullptr;
  float sum(float v) const {
    slots[tid] = v;
    bar->arrive_and_wait();
    float s = 0.0f;
    for (int t = 0; t < threads; ++t) s += slots[t];
    bar->arrive_and_wait();  // everyone has read the slots before they are written again
    return s;
  }
  float max(float v) const {
    slots[tid] = v;
    bar->arrive_and_wait();
    float m = slots[0];
    for (int t = 1; t < threads; ++t) m = std::max(m, slots[t]);
    bar->arrive_and_wait();
    return m;
  }
};

class HostDevice final : public DevicePool {
 public:
  ~HostDevice() override { drop_all(); }
  void upload(float* dst, const float* src, size_t n) { copy(dst, src, n); }
  void download(float* dst, const float* src, size_t n) { copy(dst, src, n); }
  void copy(float* dst, const float* src, size_t n) {
    if (n) std::memmove(dst, src, n * sizeof(float));
  }
  void zero(float* p, size_t n) {
    if (n) std::memset(p, 0, n * sizeof(float));
  }
  template <class Body>
  void launch(int64_t n, const Body& b) {
    for (int64_t i = 0; i < n; ++i) b(i);
  }
  template <class Body>
  void launch_rows(int64_t rows, int64_t /*cols*/, const Body& b) {
    if (block_threads_ <= 1) {
      SerialCtx c;
      for (int64_t r = 0; r < rows; ++r) b(r, c);
      return;
    }
    // One team of block_threads_ threads walks the rows together, as one GPU block would.
    std::vector<float> slots(static_cast<size_t>(block_threads_));
    std::barrier<> bar(block_threads_);
    std::vector<std::thread> team;
    for (int t = 0; t < block_threads_; ++t)
      team.emplace_back([&, t] {
        TeamCtx c{t, block_threads_, slots.data(), &bar};
        for (int64_t r = 0; r < rows; ++r) b(r, c);
      });
    for (std::thread& th : team) th.join();
  }
  // launch_rows with blocks of n real threads (1: one thread, the default): the tests run the
  // row programs with 32 and 256 threads a block too, as the GPU does.
  void set_block_threads(int n) { block_threads_ = std::max(1, n); }
  void gemm(const Gemm& g);
  const float* ones(size_t n) {
    if (ones_.size() < n) ones_.assign(n, 1.0f);
    return ones_.data();
  }
  void sync() {}
  MemoryLimit limit() const;
  std::string name() const { return "host emulation"; }

 protected:
  float* raw_alloc(size_t n) override { return new (std::nothrow) float[n]; }
  void raw_free(float* p) override { delete[] p; }
  std::string out_of_memory(size_t n) const override;

 private:
  std::vector<float> ones_;
  int block_threads_ = 1;
};

}  // namespace fw::gpu
