// formwork_bench_cuda: the achieved memory bandwidth of the CUDA backend's memory-bound kernels
// (norms, activations, scales, residual adds, the pooling mixer, layout changes), forward and
// backward, at MetaFormer stage-1 sizes (batch 64, 64 channels, 56x56), against the device-to-
// device copy measured in the same run and the H200's nominal 4.8 TB/s.
//
//   formwork_bench_cuda [--repeats N] [--json]
//
// Bytes are what the kernel must move at least (every input read once, every output written
// once); the figure is bytes / median time. Not a test: scripts/gpu_check.sh prints it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda/cuda_device.cuh"
#include "kernels/cuda/ops.h"

namespace {

using fw::Attrs;
using fw::Shape;
using fw::gpu::CudaDevice;
using fw::gpu::DTensor;

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Case {
  std::string op;
  Attrs attrs;
  std::vector<Shape> in;
  std::vector<Shape> params;
  bool backward;
  double bytes;  // the least bytes moved
};

DTensor make(CudaDevice& dev, const Shape& s, std::mt19937& rng) {
  DTensor t;
  dev.resize(t, s);
  std::vector<float> h(static_cast<size_t>(t.size()));
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& v : h) v = n(rng);
  dev.upload(t.p, h.data(), h.size());
  return t;
}

template <class F>
double median_ms(CudaDevice& dev, int repeats, F&& f) {
  f();
  f();
  dev.sync();
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now_ms();
    f();
    dev.sync();
    t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 20;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc)
      repeats = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--json"))
      json = true;
    else {
      std::fprintf(stderr, "usage: formwork_bench_cuda [--repeats N] [--json]\n");
      return 2;
    }
  }
  try {
    CudaDevice dev;
    std::mt19937 rng(1);
    const int64_t B = 64, C = 64, H = 56, W = 56, N = H * W;
    const double E = double(B) * C * H * W, F = 4.0;  // elements, bytes per float
    const Shape img{B, C, H, W}, tok{B, N, C};
    std::vector<Case> cases = {
        {"layer_norm", {{"channels", C}}, {tok}, {{C}, {C}}, false, 2 * E * F},
        {"layer_norm", {{"channels", C}}, {tok}, {{C}, {C}}, true, 3 * E * F},
        {"layer_norm2d", {{"channels", C}}, {img}, {{C}, {C}}, false, 2 * E * F},
        {"group_norm", {{"channels", C}}, {img}, {{C}, {C}}, false, 2 * E * F},
        {"group_norm", {{"channels", C}}, {img}, {{C}, {C}}, true, 3 * E * F},
        {"gelu", {}, {img}, {}, false, 2 * E * F},
        {"gelu", {}, {img}, {}, true, 3 * E * F},
        {"star_relu", {}, {img}, {{1}, {1}}, false, 2 * E * F},
        {"squared_relu", {}, {img}, {}, false, 2 * E * F},
        {"add", {}, {img, img}, {}, false, 3 * E * F},
        {"scale", {{"dim", C}}, {img}, {{C}}, false, 2 * E * F},
        {"scale", {{"dim", C}, {"layout", std::string("last")}}, {tok}, {{C}}, false, 2 * E * F},
        {"pool_mixer", {}, {img}, {}, false, 2 * E * F},
        {"pool_mixer", {}, {img}, {}, true, 2 * E * F},
        {"to_tokens", {}, {img}, {}, false, 2 * E * F},
        {"dropout", {{"p", 0.1}}, {img}, {}, false, 2 * E * F},
    };
    // The copy: the practical ceiling.
    DTensor a = make(dev, img, rng), b = make(dev, img, rng);
    const double copy_ms =
        median_ms(dev, repeats, [&] { dev.copy(b.p, a.p, static_cast<size_t>(E)); });
    const double copy_gbs = 2 * E * F / copy_ms / 1e6;
    if (json)
      std::printf("{\"device\": \"%s\", \"copy_gb_s\": %.1f, \"kernels\": [", dev.name().c_str(),
                  copy_gbs);
    else
      std::printf(
          "%s: device-to-device copy of %.0f MB: %.3f ms, %.0f GB/s\n\n%-14s %-9s %9s %9s %8s "
          "%8s\n",
          dev.name().c_str(), E * F / 1e6, copy_ms, copy_gbs, "op", "pass", "ms", "GB/s", "% copy",
          "% 4.8T");
    bool first = true;
    for (const Case& c : cases) {
      const auto* k = fw::gpu::find_dev_kernel<CudaDevice>(c.op);
      if (!k) {
        std::fprintf(stderr, "no device program for %s\n", c.op.c_str());
        return 1;
      }
      std::vector<DTensor> in, params, saved(k->meta->saved);
      for (const Shape& s : c.in) in.push_back(make(dev, s, rng));
      for (const Shape& s : c.params) params.push_back(make(dev, s, rng));
      DTensor out, dout, din;
      fw::cpu::RunMode mode{c.op == "dropout", 7};
      fw::gpu::Fwd<CudaDevice> fa{dev, c.attrs, mode, {}, {}, {&out}, {}};
      for (DTensor& t : in) fa.in.push_back(&t);
      for (DTensor& t : params) fa.params.push_back(&t);
      for (DTensor& t : saved) fa.saved.push_back(&t);
      double ms;
      if (!c.backward) {
        ms = median_ms(dev, repeats, [&] { k->forward(fa); });
      } else {
        k->forward(fa);
        dout = make(dev, out.shape, rng);
        fw::gpu::Bwd<CudaDevice> ba{dev,    c.attrs, mode,    {},     {}, {},
                                    {&out}, {},      {&dout}, {&din}, {}};
        for (DTensor& t : in) {
          ba.in_shapes.push_back(t.shape);
          ba.in.push_back(&t);
        }
        for (DTensor& t : params) ba.params.push_back(&t);
        for (DTensor& t : saved) ba.saved.push_back(&t);
        ms = median_ms(dev, repeats, [&] { k->backward(ba); });
      }
      const double gbs = c.bytes / ms / 1e6;
      const char* pass = c.backward ? "backward" : "forward";
      std::string name = c.op;
      if (c.op == "scale") name += c.in[0].size() == 3 ? "(last)" : "(chw)";
      if (json)
        std::printf("%s{\"op\": \"%s\", \"pass\": \"%s\", \"ms\": %.4f, \"gb_s\": %.1f}",
                    first ? "" : ", ", name.c_str(), pass, ms, gbs);
      else
        std::printf("%-14s %-9s %9.3f %9.0f %7.0f%% %7.0f%%\n", name.c_str(), pass, ms, gbs,
                    100 * gbs / copy_gbs, 100 * gbs / 4800);
      first = false;
      for (DTensor* t : {&out, &dout, &din}) dev.give(t->p);
      for (auto* v : {&in, &params, &saved})
        for (DTensor& t : *v) dev.give(t.p);
    }
    if (json) std::printf("]}\n");
    dev.give(a.p);
    dev.give(b.p);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "formwork_bench_cuda: %s\n", e.what());
    return 1;
  }
  return 0;
}
