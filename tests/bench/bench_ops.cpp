// formwork_bench_ops [--threads N] [--batch B] [--filter SUBSTR] [--json] [--model NAME]
//
// Times the CPU fast paths on PoolFormer-S12 / ConvFormer / CAFormer-S18-like layer shapes:
// forward (inference: no saved slots) and backward (all gradients, after a forward that filled
// the saved slots). Best of repeats after a warm-up (the minimum is the least disturbed by
// other processes on a shared machine). --json prints one JSON object per line
// (name, fwd_ms, bwd_ms, threads, batch) for tests/bench/ops_vs_torch.py; otherwise a table.
// --model NAME times a whole template at 3x224x224 through the CPU executor instead: inference
// forward, and forward + backward of all parameter gradients (a training step without the
// optimiser), plus the peak activation memory of each.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/init.h"
#include "core/templates.h"
#include "kernels/backend.h"
#include "kernels/cpu/ops.h"
#include "kernels/parallel.h"

namespace {

using fw::Attrs;
using fw::Shape;
using fw::Tensor;

struct Case {
  std::string name;
  std::string op;
  Attrs attrs;
  std::vector<Shape> in;  // per sample
  std::vector<Shape> params;
};

std::vector<Case> cases() {
  const auto I = [](int64_t v) { return fw::AttrValue(v); };
  return {
      {"conv7x7s4_3to64_224", "conv2d",
       {{"kernel", I(7)}, {"stride", I(4)}, {"padding", I(2)}}, {{3, 224, 224}},
       {{64, 3, 7, 7}, {64}}},
      {"conv1x1_64to256_56", "conv2d", {{"kernel", I(1)}}, {{64, 56, 56}}, {{256, 64, 1, 1}, {256}}},
      {"conv1x1_256to64_56", "conv2d", {{"kernel", I(1)}}, {{256, 56, 56}}, {{64, 256, 1, 1}, {64}}},
      {"conv3x3s2_64to128_56", "conv2d",
       {{"kernel", I(3)}, {"stride", I(2)}, {"padding", I(1)}}, {{64, 56, 56}},
       {{128, 64, 3, 3}, {128}}},
      {"dwconv7x7_128_56", "conv2d", {{"kernel", I(7)}, {"padding", I(3)}, {"groups", I(128)}},
       {{128, 56, 56}}, {{128, 1, 7, 7}, {128}}},
      {"linear_3136x64to256", "linear", {}, {{3136, 64}}, {{256, 64}, {256}}},
      {"linear_196x320to1280", "linear", {}, {{196, 320}}, {{1280, 320}, {1280}}},
      {"pool_mixer_64_56", "pool_mixer", {}, {{64, 56, 56}}, {}},
      {"group_norm_64_56", "group_norm", {}, {{64, 56, 56}}, {{64}, {64}}},
      {"layer_norm2d_64_56", "layer_norm2d", {}, {{64, 56, 56}}, {{64}, {64}}},
      {"layer_norm_196x320", "layer_norm", {}, {{196, 320}}, {{320}, {320}}},
      {"gelu_256_56", "gelu", {}, {{256, 56, 56}}, {}},
      {"attention_196_h10_d32", "self_attention", {{"heads", I(10)}, {"head_dim", I(32)}},
       {{196, 960}}, {}},
      {"attention_49_h16_d32", "self_attention", {{"heads", I(16)}, {"head_dim", I(32)}},
       {{49, 1536}}, {}},
      {"random_mixing_320_14", "random_mixing", {{"num_tokens", I(196)}}, {{320, 14, 14}},
       {{196, 196}}},
  };
}

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// Best time of fn: warm-up, then repeats until ~0.25 s or 40 runs (at least 5).
double time_ms(const std::function<void()>& fn) {
  fn();
  fn();
  std::vector<double> t;
  const double start = now_ms();
  while (t.size() < 5 || (t.size() < 40 && now_ms() - start < 250)) {
    const double a = now_ms();
    fn();
    t.push_back(now_ms() - a);
  }
  return *std::min_element(t.begin(), t.end());
}

Tensor random(const Shape& s, std::mt19937& rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  Tensor t(s);
  for (float& v : t.data) v = n(rng);
  return t;
}

int bench_model(const std::string& name, int64_t batch, int threads, bool json) {
  const fw::Graph g = fw::build_template(name, {});
  const fw::Analysis a = fw::analyze(g);
  fw::require_valid(a);
  auto ex = fw::cpu_backend().create(g, a);
  const fw::TensorMap w = fw::init_weights(a, 0);
  ex->bind(w);
  std::mt19937 rng(2);
  const Tensor x = random({batch, 3, 224, 224}, rng);
  const double fwd = time_ms([&] { ex->forward({x}, {}); });
  const int64_t fwd_peak = ex->memory().peak_bytes;
  fw::RunOptions train;
  train.backward = true;
  train.grads.params = true;
  const Tensor dy = random({batch, 1000}, rng);
  fw::Gradients grads;  // kept across steps, as a training loop would
  const double step = time_ms([&] {
    ex->forward({x}, train);
    ex->backward({dy}, grads);
  });
  const int64_t train_peak = ex->memory().peak_bytes;
  const int64_t allocs = ex->memory().allocations;
  ex->forward({x}, train);
  ex->backward({dy}, grads);
  if (!json && ex->memory().allocations != allocs)
    std::printf("note: a training step still allocated %lld buffers\n",
                static_cast<long long>(ex->memory().allocations - allocs));
  if (!json) {  // where the time goes: per op kind, from one profiled training step
    fw::RunOptions prof = train;
    prof.profile = true;
    ex->forward({x}, prof);
    ex->backward({dy}, grads);
    std::map<std::string, std::pair<double, double>> by_kind;
    for (size_t o = 0; o < ex->flat().ops.size(); ++o) {
      auto& [f, b] = by_kind[ex->flat().ops[o].def->id];
      f += ex->forward_times()[o];
      b += ex->backward_times()[o];
    }
    std::printf("%-18s %10s %10s\n", "op (training step)", "fwd ms", "bwd ms");
    for (const auto& [kind, t] : by_kind)
      std::printf("%-18s %10.2f %10.2f\n", kind.c_str(), t.first, t.second);
  }
  if (json)
    std::printf("{\"name\": \"%s\", \"fwd_ms\": %.3f, \"fwd_bwd_ms\": %.3f, \"fwd_peak_mb\": %.1f, "
                "\"train_peak_mb\": %.1f, \"threads\": %d, \"batch\": %lld}\n",
                name.c_str(), fwd, step, fwd_peak / 1e6, train_peak / 1e6, threads,
                static_cast<long long>(batch));
  else
    std::printf("%s batch %lld threads %d: forward %.2f ms (peak %.1f MB), forward+backward %.2f ms "
                "(peak %.1f MB)\n",
                name.c_str(), static_cast<long long>(batch), threads, fwd, fwd_peak / 1e6, step,
                train_peak / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  int64_t batch = 1;
  bool json = false;
  std::string filter, model;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!std::strcmp(argv[i], "--json")) json = true;
    else if (!std::strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else {
      std::fprintf(stderr, "usage: formwork_bench_ops [--threads N] [--batch B] [--filter S] [--json] "
                           "[--model NAME]\n");
      return 2;
    }
  }
  fw::set_num_threads(threads);
  if (!model.empty()) return bench_model(model, batch, threads, json);
  std::mt19937 rng(1);
  if (!json) std::printf("%-26s %10s %10s   (threads %d, batch %lld)\n", "case", "fwd ms", "bwd ms",
                         threads, static_cast<long long>(batch));
  for (const Case& c : cases()) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    const fw::cpu::CpuKernel* k = fw::cpu::find_kernel(c.op);
    std::vector<Tensor> in, params;
    for (Shape s : c.in) {
      s.insert(s.begin(), batch);
      in.push_back(random(s, rng));
    }
    for (const Shape& s : c.params) params.push_back(random(s, rng));
    Tensor out;
    std::vector<Tensor> saved(k->saved);
    fw::cpu::ForwardArgs fa{c.attrs, {}, {}, {}, {&out}, {}};
    for (const Tensor& t : in) fa.in.push_back(&t);
    for (const Tensor& t : params) fa.params.push_back(&t);
    const double fwd = time_ms([&] { k->forward(fa); });

    for (Tensor& t : saved) fa.saved.push_back(&t);
    k->forward(fa);
    const Tensor dy = random(out.shape, rng);
    std::vector<Tensor> din(in.size()), dparams(params.size());
    fw::cpu::BackwardArgs ba{c.attrs, {}, {}, {}, {}, {&out}, {}, {&dy}, {}, {}};
    for (size_t i = 0; i < in.size(); ++i) {
      ba.in_shapes.push_back(in[i].shape);
      ba.in.push_back(&in[i]);
      ba.din.push_back(&din[i]);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      ba.params.push_back(&params[i]);
      ba.dparams.push_back(&dparams[i]);
    }
    for (const Tensor& t : saved) ba.saved.push_back(&t);
    const double bwd = time_ms([&] { k->backward(ba); });
    if (json)
      std::printf("{\"name\": \"%s\", \"fwd_ms\": %.4f, \"bwd_ms\": %.4f, \"threads\": %d, "
                  "\"batch\": %lld}\n",
                  c.name.c_str(), fwd, bwd, threads, static_cast<long long>(batch));
    else
      std::printf("%-26s %10.3f %10.3f\n", c.name.c_str(), fwd, bwd);
    std::fflush(stdout);
  }
  return 0;
}
