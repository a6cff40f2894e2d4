// CudaDevice: the device interface of device.h on an NVIDIA GPU (CUDA runtime + cuBLAS).
// Only .cu files include this header.
//  - One stream per device object (one per executor); every call is queued on it in order, so a
//    buffer given back to the pool may be handed out again at once.
//  - upload/download go through a pinned staging buffer and wait for the copy.
//  - launch: a grid-stride loop of 256-thread blocks; launch_rows: one block per row, 32 to 256
//    threads by the row length, block sums through warp shuffles and shared memory.
//  - gemm: cublasSgemmStridedBatched on the row-major problem transposed (C^T = B^T A^T). FP32
//    math unless TF32 is switched on (set_tf32, the CLI's --tf32).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>

#include "kernels/cuda/device.h"

namespace fw::gpu {

[[noreturn]] void cuda_fail(const char* what, cudaError_t e);
[[noreturn]] void cublas_fail(const char* what, cublasStatus_t s);
#define FW_CUDA(call)                                             \
  do {                                                            \
    const cudaError_t fw_e_ = (call);                             \
    if (fw_e_ != cudaSuccess) ::fw::gpu::cuda_fail(#call, fw_e_); \
  } while (0)
#define FW_CUBLAS(call)                                                       \
  do {                                                                        \
    const cublasStatus_t fw_s_ = (call);                                      \
    if (fw_s_ != CUBLAS_STATUS_SUCCESS) ::fw::gpu::cublas_fail(#call, fw_s_); \
  } while (0)

bool tf32_enabled();

// The ctx of launch_rows on the GPU.
struct BlockCtx {
  int tid;
  int threads;
  float* red;  // 32 floats of shared memory
  FW_HD float sum(float v) const {
#ifdef __CUDA_ARCH__
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (threads <= 32) return v;
    const int warp = tid >> 5, lane = tid & 31, nw = (threads + 31) >> 5;
    __syncthreads();  // an earlier reduction's reads of red are done
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
#endif
    return v;
  }
  FW_HD float max(float v) const {
#ifdef __CUDA_ARCH__
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    if (threads <= 32) return v;
    const int warp = tid >> 5, lane = tid & 31, nw = (threads + 31) >> 5;
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = lane < nw ? red[lane] : -INFINITY;
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
#endif
    return v;
  }
};

template <class Body>
__global__ void fw_elementwise_kernel(Body b, int64_t n) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    b(i);
}

template <class Body>
__global__ void fw_rows_kernel(Body b, int64_t rows) {
  __shared__ float red[32];
  BlockCtx c{static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), red};
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) b(r, c);
}

class CudaDevice final : public DevicePool {
 public:
  CudaDevice();  // fw::Error when there is no usable GPU
  ~CudaDevice() override;
  CudaDevice(const CudaDevice&) = delete;
  CudaDevice& operator=(const CudaDevice&) = delete;

  void upload(float* dst, const float* src, size_t n);
  void download(float* dst, const float* src, size_t n);
  void copy(float* dst, const float* src, size_t n) {
    if (n && dst != src)
      FW_CUDA(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, stream_));
  }
  void zero(float* p, size_t n) {
    if (n) FW_CUDA(cudaMemsetAsync(p, 0, n * sizeof(float), stream_));
  }
  template <class Body>
  void launch(int64_t n, const Body& b) {
    if (n <= 0) return;
    const int64_t blocks = std::min<int64_t>((n + 255) / 256, int64_t(sms_) * 32);
    fw_elementwise_kernel<Body><<<static_cast<unsigned>(blocks), 256, 0, stream_>>>(b, n);
    FW_CUDA(cudaGetLastError());
  }
  template <class Body>
  void launch_rows(int64_t rows, int64_t cols, const Body& b) {
    if (rows <= 0) return;
    int threads = 32;
    while (threads < 256 && threads < cols) threads *= 2;
    const int64_t blocks = std::min<int64_t>(rows, 1 << 30);
    fw_rows_kernel<Body><<<static_cast<unsigned>(blocks), threads, 0, stream_>>>(b, rows);
    FW_CUDA(cudaGetLastError());
  }
  void gemm(const Gemm& g);
  const float* ones(size_t n);
  void sync() { FW_CUDA(cudaStreamSynchronize(stream_)); }
  MemoryLimit limit() const;
  std::string name() const { return name_; }

 protected:
  float* raw_alloc(size_t n) override;
  void raw_free(float* p) override { cudaFree(p); }
  std::string out_of_memory(size_t n) const override;

 private:
  float* staging(size_t n);  // pinned host memory of >= n floats (capped: callers chunk)

  int device_ = 0;
  int sms_ = 1;
  std::string name_;
  size_t total_bytes_ = 0;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  float* pinned_ = nullptr;
  size_t pinned_n_ = 0;
  float* ones_ = nullptr;
  size_t ones_n_ = 0;
};

}  // namespace fw::gpu
