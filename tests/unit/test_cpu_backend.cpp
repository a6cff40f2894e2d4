// The CPU executor (kernels/backend.h): small graphs built with fw::Graph run forward and
// backward; outputs are compared with a double-precision reference runner, gradients (of
// parameters, inputs and an intermediate value) with finite differences of that runner; the
// memory plan, kept values and attention maps, errors and the templates.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/analysis.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/init.h"
#include "core/templates.h"
#include "graph_test_util.h"
#include "kernels/backend.h"
#include "kernels/parallel.h"
#include "store_test_util.h"

namespace {

using fw::Attrs;
using fw::kNoNode;
using fw::NodeId;
using fw::Tensor;
using fwtest::DTensor;

Attrs I(std::initializer_list<std::pair<const std::string, fw::AttrValue>> a) { return Attrs(a); }
fw::AttrValue iv(int64_t v) { return fw::AttrValue(v); }

// input [3,6,7] -> conv -> group_norm -> gelu -> pool_mixer -> (+conv) -> layer_norm2d ->
// tokens -> qkv linear -> self_attention -> proj linear -> to_nchw(grid) -> scale -> (+res) ->
// relu -> dropout -> global_avg_pool -> linear -> output. The conv output and the first sum are
// read twice; to_nchw reads its grid for the shape only.
struct TinyNet {
  fw::Graph g;
  NodeId in, conv, ln, attn, out;
  TinyNet() {
    in = g.add(kNoNode, "input", "input", I({{"channels", iv(3)}, {"height", iv(6)}, {"width", iv(7)}}));
    conv = g.add(kNoNode, "conv2d", "conv",
                 I({{"in_channels", iv(3)}, {"out_channels", iv(4)}, {"kernel", iv(3)}, {"padding", iv(1)}}));
    const NodeId gn = g.add(kNoNode, "group_norm", "gn", I({{"channels", iv(4)}, {"groups", iv(2)}}));
    const NodeId act = g.add(kNoNode, "gelu", "act");
    const NodeId mix = g.add(kNoNode, "pool_mixer", "mix");
    const NodeId res = g.add(kNoNode, "add", "res");
    ln = g.add(kNoNode, "layer_norm2d", "ln", I({{"channels", iv(4)}}));
    const NodeId tok = g.add(kNoNode, "to_tokens", "tok");
    const NodeId qkv = g.add(kNoNode, "linear", "qkv", I({{"in_features", iv(4)}, {"out_features", iv(12)}}));
    attn = g.add(kNoNode, "self_attention", "attn", I({{"heads", iv(2)}, {"head_dim", iv(2)}}));
    const NodeId proj = g.add(kNoNode, "linear", "proj", I({{"in_features", iv(4)}, {"out_features", iv(4)}}));
    const NodeId back = g.add(kNoNode, "to_nchw", "back");
    const NodeId sc = g.add(kNoNode, "scale", "sc", I({{"dim", iv(4)}, {"init_value", 0.5}}));
    const NodeId res2 = g.add(kNoNode, "add", "res2");
    const NodeId relu = g.add(kNoNode, "relu", "relu");
    const NodeId drop = g.add(kNoNode, "dropout", "drop", I({{"p", 0.25}}));
    const NodeId gap = g.add(kNoNode, "global_avg_pool", "gap");
    const NodeId fc = g.add(kNoNode, "linear", "fc", I({{"in_features", iv(4)}, {"out_features", iv(3)}}));
    out = g.add(kNoNode, "output", "output");
    g.connect({in, 0}, conv);
    g.connect({conv, 0}, gn);
    g.connect({gn, 0}, act);
    g.connect({act, 0}, mix);
    g.connect({conv, 0}, res, 0);
    g.connect({mix, 0}, res, 1);
    g.connect({res, 0}, ln);
    g.connect({ln, 0}, tok);
    g.connect({tok, 0}, qkv);
    g.connect({qkv, 0}, attn);
    g.connect({attn, 0}, proj);
    g.connect({proj, 0}, back, 0);
    g.connect({res, 0}, back, 1);
    g.connect({back, 0}, sc);
    g.connect({res, 0}, res2, 0);
    g.connect({sc, 0}, res2, 1);
    g.connect({res2, 0}, relu);
    g.connect({relu, 0}, drop);
    g.connect({drop, 0}, gap);
    g.connect({gap, 0}, fc);
    g.connect({fc, 0}, out);
  }
};

// Random weights (not timm's init: larger values exercise every path).
fw::TensorMap random_weights(const fw::Analysis& a, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.5f);
  fw::TensorMap w;
  for (const fw::ParamInfo& p : a.params) {
    Tensor t(p.shape);
    for (float& v : t.data) v = n(rng);
    w[p.name] = std::move(t);
  }
  return w;
}

Tensor random_tensor(const fw::Shape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  Tensor t(s);
  for (float& v : t.data) v = n(rng);
  return t;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (float v : t.data) m = std::max(m, double(std::abs(v)));
  return m;
}

double rel_err(const Tensor& a, const DTensor& b) {
  if (a.shape != b.shape) return INFINITY;
  double d = 0, m = 1e-6;
  for (int64_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::abs(a.data[i] - b[i]));
    m = std::max(m, std::abs(b[i]));
  }
  return d / m;
}

struct Fixture {
  TinyNet net;
  fw::Analysis a = fw::analyze(net.g);
  std::unique_ptr<fw::Executor> ex;
  fw::TensorMap w;
  Fixture() {
    fw::require_valid(a);
    ex = fw::cpu_backend().create(net.g, a);
    w = random_weights(a, 7);
    ex->bind(w);
  }
};

TEST(CpuBackend, ForwardMatchesReferenceGraph) {
  Fixture f;
  const Tensor x = random_tensor({2, 3, 6, 7}, 1);
  const auto y = f.ex->forward({x}, {});
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(y[0].shape, (fw::Shape{2, 3}));
  fwtest::RefGraph ref(f.ex->flat(), f.a, f.w);
  const auto yr = ref.outputs({fw::cpu::ref::to_double(x)});
  EXPECT_LE(rel_err(y[0], yr[0]), 1e-5);
}

// Gradients of Σ dout·y w.r.t. every parameter and the input, in training mode (dropout on),
// against central differences of the double reference graph at sampled coordinates.
TEST(CpuBackend, GradientsMatchFiniteDifferences) {
  Fixture f;
  const Tensor x = random_tensor({2, 3, 6, 7}, 2);
  fw::RunOptions o;
  o.training = true;
  o.seed = 99;
  o.backward = true;
  o.grads.params = true;
  o.grads.inputs = true;
  const auto y = f.ex->forward({x}, o);
  const Tensor dy = random_tensor(y[0].shape, 3);
  const fw::Gradients g = f.ex->backward({dy});
  ASSERT_EQ(g.params.size(), f.a.params.size());
  ASSERT_EQ(g.inputs.size(), 1u);

  fwtest::RefGraph ref(f.ex->flat(), f.a, f.w);
  ref.training = true;
  ref.seed = 99;
  std::vector<DTensor> xin = {fw::cpu::ref::to_double(x)};
  const std::vector<DTensor> dout = {fw::cpu::ref::to_double(dy)};
  EXPECT_LE(rel_err(y[0], ref.outputs(xin)[0]), 1e-5);
  std::mt19937 rng(4);
  const double h = 1e-5;
  auto check = [&](DTensor& t, const Tensor& grad, const std::string& what) {
    ASSERT_EQ(grad.shape, t.shape) << what;
    const double scale = std::max(max_abs(grad), 1e-3);
    std::uniform_int_distribution<int64_t> pick(0, t.size() - 1);
    for (int s = 0; s < 6; ++s) {
      const int64_t i = pick(rng);
      const double v = t[i];
      t[i] = v + h;
      const double lp = ref.loss(xin, dout);
      t[i] = v - h;
      const double lm = ref.loss(xin, dout);
      t[i] = v;
      EXPECT_NEAR((lp - lm) / (2 * h), grad.data[i], 2e-3 * scale) << what << " [" << i << "]";
    }
  };
  for (const fw::ParamInfo& p : f.a.params) check(ref.params.at(p.name), g.params.at(p.name), p.name);
  check(xin[0], g.inputs[0], "input");
}

// Grad-CAM: d(Σ dout·y)/d(activation of `ln`), without parameter gradients.
TEST(CpuBackend, GradientOfAnIntermediateValue) {
  Fixture f;
  const fw::ValueRef target = fw::find_value(f.net.g, f.ex->flat(), "ln");
  const Tensor x = random_tensor({3, 3, 6, 7}, 5);
  fw::RunOptions o;
  o.backward = true;
  o.grads.values = {target};
  o.keep = {target};
  const auto y = f.ex->forward({x}, o);
  ASSERT_NE(f.ex->value(target), nullptr);  // the activation, kept for the CAM
  const Tensor act = *f.ex->value(target);
  const Tensor dy = random_tensor(y[0].shape, 6);
  const fw::Gradients g = f.ex->backward({dy});
  EXPECT_TRUE(g.params.empty());
  ASSERT_EQ(g.values.size(), 1u);
  ASSERT_EQ(g.values[0].shape, act.shape);

  fwtest::RefGraph ref(f.ex->flat(), f.a, f.w);
  const std::vector<DTensor> xin = {fw::cpu::ref::to_double(x)};
  const std::vector<DTensor> dout = {fw::cpu::ref::to_double(dy)};
  DTensor a = fw::cpu::ref::to_double(act);
  const double scale = std::max(max_abs(g.values[0]), 1e-3);
  for (int64_t i = 0; i < a.size(); i += 17) {
    const double v = a[i];
    a[i] = v + 1e-5;
    const double lp = ref.loss(xin, dout, &target, &a);
    a[i] = v - 1e-5;
    const double lm = ref.loss(xin, dout, &target, &a);
    a[i] = v;
    EXPECT_NEAR((lp - lm) / 2e-5, g.values[0].data[i], 2e-3 * scale) << i;
  }
  // Only ops after the target run backward.
  fw::PlanOptions po;
  po.backward = true;
  po.grads.values = {target};
  const fw::Plan plan = fw::make_plan(f.ex->flat(), f.a.params, po, [](int, bool) {
    return fw::OpTraits{1u, false, 0};
  });
  for (int op = 0; op <= target.op; ++op) EXPECT_FALSE(plan.run_backward[op]) << op;
  EXPECT_TRUE(plan.run_backward.back());
}

// planned_peak_bytes simulates the plan: for a forward it is the executor's measured peak (no
// saved slots), for a training step a lower bound of it (the normalisation statistics are not
// counted, the attention probabilities are).
TEST(CpuBackend, PlannedPeakMatchesTheMeasuredPeak) {
  Fixture f;
  const Tensor x = random_tensor({4, 3, 6, 7}, 8);
  f.ex->forward({x}, {});
  EXPECT_EQ(f.ex->planned_peak_bytes(4, {}), static_cast<long double>(f.ex->memory().peak_bytes));
  fw::RunOptions keep;
  keep.keep_all = true;
  f.ex->forward({x}, keep);
  EXPECT_LE(f.ex->planned_peak_bytes(4, keep), static_cast<long double>(f.ex->memory().peak_bytes));
  fw::RunOptions train;
  train.training = true;
  train.backward = true;
  train.grads.params = true;
  const auto y = f.ex->forward({x}, train);
  f.ex->backward({Tensor(y[0].shape, 1.0f)});
  const long double planned = f.ex->planned_peak_bytes(4, train);
  const long double measured = static_cast<long double>(f.ex->memory().peak_bytes);
  EXPECT_LE(planned, measured);
  EXPECT_GT(planned, 0.5L * measured);
  // Linear in the batch, and in long double: a batch of 2^50 does not wrap.
  EXPECT_EQ(f.ex->planned_peak_bytes(8, {}), 2 * f.ex->planned_peak_bytes(4, {}));
  EXPECT_GT(f.ex->planned_peak_bytes(int64_t(1) << 50, {}), 1e15L);
}

// A batch whose activations cannot fit is refused with the size it would need before anything is
// allocated: the input here has the shape of 2^40 samples and no data at all.
TEST(CpuBackend, ForwardRefusesABatchThatCannotFit) {
  Fixture f;
  Tensor huge;
  huge.shape = {int64_t(1) << 40, 3, 6, 7};
  const std::string msg = fw::test::error_of([&] { f.ex->forward({huge}, {}); });
  EXPECT_NE(msg.find("a forward at batch 1099511627776 would need "), std::string::npos) << msg;
  EXPECT_NE(msg.find(" PB of activations ("), std::string::npos) << msg;
  EXPECT_EQ(f.ex->memory().live_bytes, 0);
  fw::Analysis a = f.a;
  const fw::MemoryNeed need = fw::memory_need(*f.ex, &a, int64_t(1) << 40, {}, true);
  EXPECT_GT(need.training, 0);
  const std::string msg2 = fw::test::error_of([&] { fw::require_memory(need, "tiny", "hint"); });
  EXPECT_EQ(msg2.rfind("tiny would need ", 0), 0u) << msg2;
  EXPECT_NE(msg2.find(" of activations and gradients, "), std::string::npos) << msg2;
  EXPECT_NE(msg2.find(" of gradients and optimiser state ("), std::string::npos) << msg2;
  EXPECT_EQ(msg2.substr(msg2.size() - 6), "; hint") << msg2;
  // One that fits passes.
  EXPECT_NO_THROW(fw::require_memory(fw::memory_need(*f.ex, &a, 4, {}, true), "tiny"));
}

TEST(CpuBackend, MemoryPlanFreesWhatNothingReads) {
  Fixture f;
  const Tensor x = random_tensor({4, 3, 6, 7}, 8);
  const fw::ValueRef conv = fw::find_value(f.net.g, f.ex->flat(), "conv");
  const auto y0 = f.ex->forward({x}, {});
  const int64_t inference_peak = f.ex->memory().peak_bytes;
  EXPECT_EQ(f.ex->value(conv), nullptr);  // freed after its last reader

  fw::RunOptions keep;
  keep.keep_all = true;
  const auto y1 = f.ex->forward({x}, keep);
  EXPECT_NE(f.ex->value(conv), nullptr);
  EXPECT_GT(f.ex->memory().peak_bytes, inference_peak);
  EXPECT_EQ(y0[0].data, y1[0].data);

  fw::RunOptions train;
  train.backward = true;
  train.grads.params = true;
  f.ex->forward({x}, train);
  const int64_t kept_for_backward = f.ex->memory().live_bytes;
  f.ex->forward({x}, {});
  EXPECT_GT(kept_for_backward, f.ex->memory().live_bytes);

  // The same run again: the same peak and result, and no new buffers.
  const int64_t allocations = f.ex->memory().allocations;
  const auto y2 = f.ex->forward({x}, {});
  EXPECT_EQ(f.ex->memory().peak_bytes, inference_peak);
  EXPECT_EQ(f.ex->memory().allocations, allocations);
  EXPECT_EQ(y0[0].data, y2[0].data);
  fw::Gradients g;
  for (int step = 0; step < 2; ++step) {
    f.ex->forward({x}, train);
    f.ex->backward({random_tensor({4, 3}, 20)}, g);
  }
  const int64_t after_steps = f.ex->memory().allocations;
  f.ex->forward({x}, train);
  f.ex->backward({random_tensor({4, 3}, 20)}, g);
  EXPECT_EQ(f.ex->memory().allocations, after_steps);
}

TEST(CpuBackend, AttentionMapsAreKeptOnRequest) {
  Fixture f;
  const std::vector<int> ops = fw::find_ops(f.net.g, f.ex->flat(), "attn", "self_attention");
  ASSERT_EQ(ops.size(), 1u);
  const Tensor x = random_tensor({2, 3, 6, 7}, 9);
  f.ex->forward({x}, {});
  EXPECT_EQ(f.ex->attention(ops[0]), nullptr);
  fw::RunOptions o;
  o.keep_attention = ops;
  f.ex->forward({x}, o);
  const Tensor* probs = f.ex->attention(ops[0]);
  ASSERT_NE(probs, nullptr);
  EXPECT_EQ(probs->shape, (fw::Shape{2, 2, 42, 42}));
  // Against the reference op on the reference graph's qkv.
  fwtest::RefGraph ref(f.ex->flat(), f.a, f.w);
  const auto vals = ref.run({fw::cpu::ref::to_double(x)});
  const fw::FlatOp& op = f.ex->flat().ops[ops[0]];
  DTensor rp;
  fw::cpu::ref::forward("self_attention", *op.attrs, {}, {vals[op.inputs[0].op][op.inputs[0].port]},
                        {}, &rp);
  EXPECT_LE(rel_err(*probs, rp), 1e-5);
}

TEST(CpuBackend, DropoutIsSeededPerRun) {
  Fixture f;
  const Tensor x = random_tensor({2, 3, 6, 7}, 10);
  fw::RunOptions o;
  o.training = true;
  o.seed = 1;
  const auto a = f.ex->forward({x}, o);
  const auto b = f.ex->forward({x}, o);
  o.seed = 2;
  const auto c = f.ex->forward({x}, o);
  EXPECT_EQ(a[0].data, b[0].data);
  EXPECT_NE(a[0].data, c[0].data);
}

TEST(CpuBackend, ErrorsSayWhatIsWrong) {
  TinyNet net;
  const fw::Analysis a = fw::analyze(net.g);
  auto ex = fw::cpu_backend().create(net.g, a);
  const Tensor x = random_tensor({1, 3, 6, 7}, 11);
  auto msg = [](auto fn) {
    try {
      fn();
    } catch (const fw::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(msg([&] { ex->forward({x}, {}); }), "forward: no parameters bound (call bind() first)");
  fw::TensorMap w = random_weights(a, 1);
  w.erase("fc.bias");
  EXPECT_EQ(msg([&] { ex->bind(w); }), "missing parameter 'fc.bias'");
  w["fc.bias"] = Tensor({4});
  EXPECT_EQ(msg([&] { ex->bind(w); }), "parameter 'fc.bias' is 4, expected 3");
  w["fc.bias"] = Tensor({3});
  ex->bind(w);
  EXPECT_EQ(msg([&] { ex->forward({Tensor({1, 3, 7, 6})}, {}); }),
            "input 0 is 1x3x7x6, expected 1x3x6x7");
  ex->forward({x}, {});
  EXPECT_EQ(msg([&] { ex->backward({Tensor({1, 3})}); }),
            "backward: needs a forward() with RunOptions::backward set");
  EXPECT_EQ(msg([&] { fw::find_value(net.g, ex->flat(), "nope"); }), "no node 'nope'");
  fw::RunOptions o;
  o.backward = true;
  o.grads.param_names = {"conv.nope"};
  EXPECT_EQ(msg([&] { ex->forward({x}, o); }), "no parameter named 'conv.nope' in the graph");
  EXPECT_TRUE(fw::cpu_backend().supports("conv2d"));
  EXPECT_FALSE(fw::cpu_backend().supports("no_such_op"));
  EXPECT_EQ(fw::find_backend("cpu"), &fw::cpu_backend());
}

// Templates at a small input: forward outputs match the reference graph, ViT's backward
// runs. Three templates cover every op kind TinyNet lacks (separable conv, StarReLU, token
// layer norm, random mixing, ViT's class token); the others cost seconds of weight init.
TEST(CpuBackend, TemplatesRunAndMatchReference) {
  fw::set_num_threads(2);
  for (const char* name : {"caformer_s18", "randformer_s12", "vit_tiny_patch16_224"}) {
    SCOPED_TRACE(name);
    fw::TemplateOptions opts;
    opts.input = {3, 32, 32};
    opts.num_classes = 5;
    const fw::Graph g = fw::build_template(name, opts);
    const fw::Analysis a = fw::analyze(g);
    ASSERT_TRUE(a.ok()) << a.problems.front().message;
    auto ex = fw::cpu_backend().create(g, a);
    const fw::TensorMap w = fw::init_weights(a, 3);
    ex->bind(w);
    const Tensor x = random_tensor({2, 3, 32, 32}, 12);
    const auto y = ex->forward({x}, {});
    ASSERT_EQ(y[0].shape, (fw::Shape{2, 5}));
    fwtest::RefGraph ref(ex->flat(), a, w);
    EXPECT_LE(rel_err(y[0], ref.outputs({fw::cpu::ref::to_double(x)})[0]), 1e-4);
    if (std::string(name) == "vit_tiny_patch16_224") {
      fw::RunOptions o;
      o.backward = true;
      o.grads.params = true;
      ex->forward({x}, o);
      const fw::Gradients gr = ex->backward({random_tensor({2, 5}, 13)});
      size_t trainable = 0;
      for (const fw::ParamInfo& p : a.params) trainable += p.trainable;
      EXPECT_EQ(gr.params.size(), trainable);
      for (const auto& [pname, t] : gr.params)
        for (float v : t.data) ASSERT_TRUE(std::isfinite(v)) << pname;
    }
  }
  fw::set_num_threads(0);
}

}  // namespace
