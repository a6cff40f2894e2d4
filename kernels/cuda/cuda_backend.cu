// The CUDA backend: CudaDevice (cuda_device.cuh), the device programs of ops.h instantiated for
// it, and the Backend that kernels/backend.cpp lists as "cuda".
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/sysmem.h"
#include "kernels/cuda/backends.h"
#include "kernels/cuda/cuda_device.cuh"
#include "kernels/cuda/executor.h"
#include "kernels/cuda/op_runner_impl.h"

namespace fw::gpu {

void cuda_fail(const char* what, cudaError_t e) {
  cudaGetLastError();  // clears a non-sticky error
  const std::string msg = std::string("CUDA: ") + cudaGetErrorString(e) + " (" + what + ")";
  if (e == cudaErrorMemoryAllocation) throw DeviceOutOfMemory("out of GPU memory: " + msg);
  throw Error(msg);
}

void cublas_fail(const char* what, cublasStatus_t s) {
  throw Error(std::string("cuBLAS: ") + cublasGetStatusString(s) + " (" + what + ")");
}

namespace {

// The GPU Formwork uses (device 0 of CUDA_VISIBLE_DEVICES), probed once.
struct Probe {
  bool ok = false;
  std::string why;  // when !ok
  std::string line;
  int sms = 1;
  size_t total = 0;
  std::string name;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      cudaGetLastError();
      r.why = e == cudaErrorNoDevice ? std::string("no CUDA device on this machine")
              : e == cudaErrorInsufficientDriver
                  ? std::string("no CUDA device: the NVIDIA driver is missing or older than "
                                "CUDA 13 needs (") +
                        cudaGetErrorString(e) + ")"
                  : std::string("no CUDA device (") + cudaGetErrorString(e) + ")";
      return r;
    }
    if (count == 0) {
      r.why = "no CUDA device on this machine";
      return r;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
      cudaGetLastError();
      r.why = "the CUDA device could not be queried";
      return r;
    }
    int driver = 0;
    cudaDriverGetVersion(&driver);
    r.ok = true;
    r.sms = prop.multiProcessorCount;
    r.total = prop.totalGlobalMem;
    r.name = prop.name;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s, sm_%d%d, %s, driver %d.%d", prop.name, prop.major,
                  prop.minor, format_bytes(static_cast<long double>(prop.totalGlobalMem)).c_str(),
                  driver / 1000, (driver % 1000) / 10);
    r.line = buf;
    return r;
  }();
  return p;
}

constexpr size_t kStagingFloats = size_t(1) << 22;  // 16 MB of pinned memory per device object

struct Fill1 {
  float* p;
  FW_HD void operator()(int64_t i) const { p[i] = 1.0f; }
};

}  // namespace

CudaDevice::CudaDevice() {
  const Probe& p = probe();
  if (!p.ok) throw Error(p.why);
  FW_CUDA(cudaSetDevice(device_));
  sms_ = p.sms;
  name_ = p.name;
  total_bytes_ = p.total;
  FW_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  FW_CUBLAS(cublasCreate(&blas_));
  FW_CUBLAS(cublasSetStream(blas_, stream_));
}

CudaDevice::~CudaDevice() {
  if (stream_) cudaStreamSynchronize(stream_);
  drop_all();
  if (ones_) cudaFree(ones_);
  if (pinned_) cudaFreeHost(pinned_);
  if (blas_) cublasDestroy(blas_);
  if (stream_) cudaStreamDestroy(stream_);
}

float* CudaDevice::raw_alloc(size_t n) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, n * sizeof(float));
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  if (e != cudaSuccess) cuda_fail("cudaMalloc", e);
  return static_cast<float*>(p);
}

std::string CudaDevice::out_of_memory(size_t n) const {
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  return "out of GPU memory: a buffer of " + format_bytes(4.0L * static_cast<long double>(n)) +
         " could not be allocated (" + name_ + " has " +
         format_bytes(static_cast<long double>(total_b)) + ", " +
         format_bytes(static_cast<long double>(free_b)) + " free)";
}

MemoryLimit CudaDevice::limit() const {
  return {static_cast<long double>(total_bytes_),
          "this GPU has " + format_bytes(static_cast<long double>(total_bytes_))};
}

float* CudaDevice::staging(size_t n) {
  n = std::min(n, kStagingFloats);
  if (pinned_n_ < n) {
    if (pinned_) {
      FW_CUDA(cudaStreamSynchronize(stream_));
      cudaFreeHost(pinned_);
      pinned_ = nullptr;
      pinned_n_ = 0;
    }
    void* p = nullptr;
    FW_CUDA(cudaMallocHost(&p, n * sizeof(float)));
    pinned_ = static_cast<float*>(p);
    pinned_n_ = n;
  }
  return pinned_;
}

void CudaDevice::upload(float* dst, const float* src, size_t n) {
  for (size_t off = 0; off < n;) {
    const size_t m = std::min(n - off, kStagingFloats);
    float* st = staging(m);
    FW_CUDA(cudaStreamSynchronize(stream_));  // the previous chunk has left the staging buffer
    std::memcpy(st, src + off, m * sizeof(float));
    FW_CUDA(cudaMemcpyAsync(dst + off, st, m * sizeof(float), cudaMemcpyHostToDevice, stream_));
    off += m;
  }
  FW_CUDA(cudaStreamSynchronize(stream_));
}

void CudaDevice::download(float* dst, const float* src, size_t n) {
  for (size_t off = 0; off < n;) {
    const size_t m = std::min(n - off, kStagingFloats);
    float* st = staging(m);
    FW_CUDA(cudaMemcpyAsync(st, src + off, m * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    FW_CUDA(cudaStreamSynchronize(stream_));
    std::memcpy(dst + off, st, m * sizeof(float));
    off += m;
  }
}

const float* CudaDevice::ones(size_t n) {
  if (ones_n_ < n) {
    if (ones_) {
      FW_CUDA(cudaStreamSynchronize(stream_));
      cudaFree(ones_);
      ones_ = nullptr;
      ones_n_ = 0;
    }
    const size_t cap = std::max<size_t>(n, 4096);
    void* p = nullptr;
    FW_CUDA(cudaMalloc(&p, cap * sizeof(float)));
    ones_ = static_cast<float*>(p);
    ones_n_ = cap;
    launch(static_cast<int64_t>(cap), Fill1{ones_});
  }
  return ones_;
}

void CudaDevice::gemm(const Gemm& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  auto fits = [](int64_t v) { return v >= 0 && v <= INT_MAX; };
  if (!fits(g.m) || !fits(g.n) || !fits(g.k) || !fits(g.lda) || !fits(g.ldb) || !fits(g.ldc) ||
      !fits(g.batch))
    throw Error("a matrix product of " + std::to_string(g.m) + "x" + std::to_string(g.k) + " by " +
                std::to_string(g.k) + "x" + std::to_string(g.n) +
                " is beyond cuBLAS's 32-bit sizes; use a smaller batch");
  FW_CUBLAS(
      cublasSetMathMode(blas_, tf32_enabled() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  const cublasOperation_t opa = g.ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opb = g.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  // Row-major C (m x n) = op(A)·op(B) is column-major C^T (n x m) = op(B)^T · op(A)^T.
  const int lda = std::max<int>(1, int(g.lda)), ldb = std::max<int>(1, int(g.ldb)),
            ldc = std::max<int>(1, int(g.ldc));
  if (g.batch == 1)
    FW_CUBLAS(cublasSgemm(blas_, opb, opa, int(g.n), int(g.m), int(g.k), &g.alpha, g.b, ldb, g.a,
                          lda, &g.beta, g.c, ldc));
  else
    FW_CUBLAS(cublasSgemmStridedBatched(blas_, opb, opa, int(g.n), int(g.m), int(g.k), &g.alpha,
                                        g.b, ldb, g.sb, g.a, lda, g.sa, &g.beta, g.c, ldc, g.sc,
                                        int(g.batch)));
}

namespace {

class CudaBackend final : public Backend {
 public:
  std::string_view name() const override { return "cuda"; }
  bool supports(std::string_view op_id) const override {
    return op_id == "input" || op_id == "output" || find_dev_kernel<CudaDevice>(op_id) != nullptr;
  }
  std::string unavailable() const override { return probe().ok ? "" : probe().why; }
  std::unique_ptr<Executor> create(const Graph& g, const Analysis& a) const override {
    require_valid(a);
    if (!probe().ok) throw Error("--device cuda: " + probe().why);
    return std::make_unique<DevExecutor<CudaDevice>>(g, a, std::make_unique<CudaDevice>(), "cuda");
  }
};

}  // namespace

const Backend* cuda_backend() {
  static const CudaBackend b;
  return &b;
}

std::string cuda_status() { return probe().ok ? probe().line : probe().why; }

std::unique_ptr<OpRunner> cuda_op_runner(std::string* why) {
  if (!probe().ok) {
    if (why) *why = probe().why;
    return nullptr;
  }
  return std::make_unique<OpRunnerT<CudaDevice>>(std::make_unique<CudaDevice>());
}

}  // namespace fw::gpu
