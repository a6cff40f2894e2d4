// ONNX export (core/export/model_export.h).
//
// Every leaf op of core/OPS.md becomes a few standard opset-17 nodes (the table in map_op below);
// ONNX Runtime fuses the usual patterns back (erf GELU, attention, LayerNormalization). The batch
// is the one symbolic dimension ("batch"): every Reshape keeps dimension 0 with a 0 in its shape
// and spells the per-sample dimensions, which the analysis knows, so no Shape arithmetic is
// needed except for the class token's broadcast over the batch.
//
// Names: the main node of an op is named by its module path ("stages.0.blocks.0.token_mixer"),
// helper nodes by path + "/" + what they do; the op's output value takes the node's name. Weights
// are initializers under their state_dict names; the small constants the mapping needs (shapes,
// 0.5, √2...) are initializers under path + "/" + what they are.
#include "core/error.h"
#include "core/export/model_export.h"

#ifdef FORMWORK_WITH_ONNX
#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <climits>
#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>

#include "core/weights.h"
#endif

namespace fw {

bool onnx_export_available() {
#ifdef FORMWORK_WITH_ONNX
  return true;
#else
  return false;
#endif
}

#ifndef FORMWORK_WITH_ONNX

std::vector<uint8_t> onnx_model_bytes(const Graph&, const Analysis&, const TensorMap&,
                                      const ExportInfo&) {
  throw Error("this build has no ONNX export (install libonnx-dev libprotobuf-dev and rebuild)");
}

#else

namespace {

constexpr int kOpset = 17;

using Ints = std::vector<int64_t>;

// Builds one GraphProto: unique names, initializers, nodes.
class Builder {
 public:
  explicit Builder(onnx::GraphProto* g) : g_(g) {}

  // A name not used yet: `want`, else want_2, want_3...
  std::string unique(const std::string& want) {
    std::string base = want.empty() ? std::string("value") : want;
    std::string name = base;
    for (int k = 2; !used_.insert(name).second; ++k) name = base + "_" + std::to_string(k);
    return name;
  }

  void initializer(const std::string& name, const Shape& shape, const float* data) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : shape) {
      t->add_dims(d);
      n *= d;
    }
    t->set_raw_data(data, static_cast<size_t>(n) * sizeof(float));
  }
  // A float constant (scalar when `shape` is empty).
  std::string constant(const std::string& want, const Shape& shape, const std::vector<float>& v) {
    const std::string name = unique(want);
    initializer(name, shape, v.data());
    return name;
  }
  std::string scalar(const std::string& want, float v) { return constant(want, {}, {v}); }
  // An int64 vector constant (shapes, axes, indices).
  std::string ints(const std::string& want, const Ints& v, bool scalar_value = false) {
    const std::string name = unique(want);
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar_value) t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return name;
  }

  // Adds a node; returns its first output's name. The node and its output share the name
  // `want` (made unique).
  onnx::NodeProto* node(const std::string& op, const std::string& want,
                        const std::vector<std::string>& inputs, std::string* out,
                        int num_outputs = 1) {
    onnx::NodeProto* n = g_->add_node();
    n->set_op_type(op);
    const std::string name = unique(want);
    n->set_name(name);
    for (const std::string& i : inputs) n->add_input(i);
    for (int k = 0; k < num_outputs; ++k) {
      const std::string o = k == 0 ? name : unique(name + ":" + std::to_string(k));
      n->add_output(o);
      if (k == 0 && out) *out = o;
    }
    return n;
  }
  std::string op(const std::string& type, const std::string& want,
                 const std::vector<std::string>& inputs) {
    std::string out;
    node(type, want, inputs, &out);
    return out;
  }

  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const Ints& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }

 private:
  onnx::GraphProto* g_;
  std::set<std::string> used_;
};

// Shape of a Reshape that keeps the batch (0 = copy dimension 0) and sets the rest.
Ints keep_batch(const Shape& per_sample) {
  Ints s{0};
  s.insert(s.end(), per_sample.begin(), per_sample.end());
  return s;
}

// Maps one leaf op. `in` are its input values' names; returns its output values' names.
class OpMapper {
 public:
  OpMapper(Builder& b, const FlatOp& op, const std::vector<std::string>& in,
           const std::vector<ParamInfo>& params)
      : b_(b), op_(op), in_(in), params_(params) {
    base_ = op.path.empty() ? op.def->id : op.path;
  }

  std::vector<std::string> map() {
    const std::string& id = op_.def->id;
    const Attrs& a = *op_.attrs;
    const Shape& out_shape = op_.out_shapes.empty() ? Shape{} : op_.out_shapes[0];
    if (id == "conv2d") {
      std::vector<std::string> inputs{x(), param(0)};
      if (a.b("bias")) inputs.push_back(param(1));
      std::string out;
      onnx::NodeProto* n = b_.node("Conv", base_, inputs, &out);
      const int64_t k = a.i("kernel"), s = a.i("stride"), p = a.i("padding");
      Builder::attr(n, "kernel_shape", Ints{k, k});
      Builder::attr(n, "strides", Ints{s, s});
      Builder::attr(n, "pads", Ints{p, p, p, p});
      Builder::attr(n, "group", a.i("groups"));
      return {out};
    }
    if (id == "linear") {
      const bool bias = a.b("bias");
      if (in_shape().size() == 1) {  // [B, Cin]: one Gemm with the weight transposed
        std::vector<std::string> inputs{x(), param(0)};
        if (bias) inputs.push_back(param(1));
        std::string out;
        onnx::NodeProto* n = b_.node("Gemm", base_, inputs, &out);
        Builder::attr(n, "transB", int64_t{1});
        return {out};
      }
      std::string wt;
      onnx::NodeProto* t = b_.node("Transpose", base_ + "/weight_T", {param(0)}, &wt);
      Builder::attr(t, "perm", Ints{1, 0});
      if (!bias) return {b_.op("MatMul", base_, {x(), wt})};
      const std::string mm = b_.op("MatMul", base_ + "/MatMul", {x(), wt});
      return {b_.op("Add", base_, {mm, param(1)})};
    }
    if (id == "avg_pool2d" || id == "pool_mixer") {
      const bool mixer = id == "pool_mixer";
      const int64_t k = mixer ? a.i("pool_size") : a.i("kernel");
      const int64_t s = mixer ? 1 : a.i("stride");
      const int64_t p = mixer ? k / 2 : a.i("padding");
      std::string pooled;
      onnx::NodeProto* n =
          b_.node("AveragePool", mixer ? base_ + "/AveragePool" : base_, {x()}, &pooled);
      Builder::attr(n, "kernel_shape", Ints{k, k});
      Builder::attr(n, "strides", Ints{s, s});
      Builder::attr(n, "pads", Ints{p, p, p, p});
      Builder::attr(n, "count_include_pad", int64_t{0});
      if (!mixer) return {pooled};
      return {b_.op("Sub", base_, {pooled, x()})};
    }
    if (id == "group_norm") return {group_norm(a)};
    if (id == "layer_norm2d") {
      std::string nhwc;
      onnx::NodeProto* t1 = b_.node("Transpose", base_ + "/to_NHWC", {x()}, &nhwc);
      Builder::attr(t1, "perm", Ints{0, 2, 3, 1});
      const std::string normed = layer_norm(nhwc, base_ + "/LayerNormalization", a);
      std::string out;
      onnx::NodeProto* t2 = b_.node("Transpose", base_, {normed}, &out);
      Builder::attr(t2, "perm", Ints{0, 3, 1, 2});
      return {out};
    }
    if (id == "layer_norm") return {layer_norm(x(), base_, a)};
    if (id == "gelu") {  // 0.5·x·(1 + erf(x/√2)), the exact form
      const std::string scaled =
          b_.op("Div", base_ + "/Div", {x(), b_.scalar(base_ + "/sqrt2", std::sqrt(2.0f))});
      const std::string erf = b_.op("Erf", base_ + "/Erf", {scaled});
      const std::string one = b_.op("Add", base_ + "/Add", {erf, b_.scalar(base_ + "/one", 1.0f)});
      const std::string half =
          b_.op("Mul", base_ + "/Mul", {x(), b_.scalar(base_ + "/half", 0.5f)});
      return {b_.op("Mul", base_, {half, one})};
    }
    if (id == "relu") return {b_.op("Relu", base_, {x()})};
    if (id == "squared_relu") {
      const std::string r = b_.op("Relu", base_ + "/Relu", {x()});
      return {b_.op("Mul", base_, {r, r})};
    }
    if (id == "star_relu") {  // scale·relu(x)² + bias
      const std::string r = b_.op("Relu", base_ + "/Relu", {x()});
      const std::string sq = b_.op("Mul", base_ + "/square", {r, r});
      const std::string sc = b_.op("Mul", base_ + "/Mul", {sq, param(0)});
      return {b_.op("Add", base_, {sc, param(1)})};
    }
    if (id == "self_attention") return {attention(a)};
    if (id == "random_mixing") {  // out[b,c,m] = Σ_n R[m,n]·x[b,c,n]: x [B,C,N] @ Rᵀ
      const Shape& s = in_shape();
      const int64_t n_tok = s[1] * s[2];
      const std::string flat = b_.op("Reshape", base_ + "/flatten",
                                     {x(), b_.ints(base_ + "/shape_BCN", Ints{0, s[0], n_tok})});
      std::string rt;
      onnx::NodeProto* t = b_.node("Transpose", base_ + "/random_matrix_T", {param(0)}, &rt);
      Builder::attr(t, "perm", Ints{1, 0});
      const std::string mixed = b_.op("MatMul", base_ + "/MatMul", {flat, rt});
      return {b_.op("Reshape", base_, {mixed, b_.ints(base_ + "/shape_BCHW", keep_batch(s))})};
    }
    if (id == "identity" || id == "dropout" || id == "drop_path")
      return {b_.op("Identity", base_, {x()})};
    if (id == "scale") {
      std::string s = param(0);
      if (a.s("layout") != "last") {  // broadcast over dim 1 of [B, C, ...]: [C, 1, ..., 1]
        Ints shape{a.i("dim")};
        for (size_t k = 1; k < in_shape().size(); ++k) shape.push_back(1);
        s = b_.op("Reshape", base_ + "/scale_C11", {s, b_.ints(base_ + "/shape_C11", shape)});
      }
      return {b_.op("Mul", base_, {x(), s})};
    }
    if (id == "add") return {b_.op("Add", base_, {in_.at(0), in_.at(1)})};
    if (id == "global_avg_pool") {
      std::string out;
      onnx::NodeProto* n = b_.node("ReduceMean", base_, {x()}, &out);
      Builder::attr(n, "axes", Ints{2, 3});
      Builder::attr(n, "keepdims", int64_t{0});
      return {out};
    }
    if (id == "to_tokens") {  // [B,C,H,W] -> [B,H·W,C]
      const Shape& s = in_shape();
      const std::string flat =
          b_.op("Reshape", base_ + "/flatten",
                {x(), b_.ints(base_ + "/shape_BCN", Ints{0, s[0], s[1] * s[2]})});
      std::string out;
      onnx::NodeProto* t = b_.node("Transpose", base_, {flat}, &out);
      Builder::attr(t, "perm", Ints{0, 2, 1});
      return {out};
    }
    if (id == "to_nchw") {  // [B,N,C] -> [B,C,H,W]; the grid input carries the shape only
      std::string t;
      onnx::NodeProto* n = b_.node("Transpose", base_ + "/Transpose", {x()}, &t);
      Builder::attr(n, "perm", Ints{0, 2, 1});
      return {b_.op("Reshape", base_, {t, b_.ints(base_ + "/shape_BCHW", keep_batch(out_shape))})};
    }
    if (id == "cls_pos_embed") return {cls_pos_embed()};
    if (id == "select_token") {
      std::string out;
      onnx::NodeProto* n = b_.node(
          "Gather", base_, {x(), b_.ints(base_ + "/index", Ints{a.i("index")}, true)}, &out);
      Builder::attr(n, "axis", int64_t{1});
      return {out};
    }
    throw Error(base_ + ": op '" + id + "' has no ONNX mapping");
  }

 private:
  const std::string& x() const { return in_.at(0); }
  const Shape& in_shape() const { return op_.in_shapes.at(0); }
  const std::string& param(size_t k) const { return params_.at(op_.params.at(k)).name; }

  std::string layer_norm(const std::string& input, const std::string& name, const Attrs& a) {
    std::vector<std::string> inputs{input, param(0)};
    if (a.b("bias")) inputs.push_back(param(1));
    std::string out;
    onnx::NodeProto* n = b_.node("LayerNormalization", name, inputs, &out);
    Builder::attr(n, "axis", int64_t{-1});
    Builder::attr(n, "epsilon", static_cast<float>(a.f("eps")));
    return out;
  }

  // GroupNorm (biased variance over each group's C/G·H·W values), then the per-channel affine.
  std::string group_norm(const Attrs& a) {
    const Shape& s = in_shape();
    const int64_t groups = a.i("groups");
    const std::string grouped = b_.op("Reshape", base_ + "/to_groups",
                                      {x(), b_.ints(base_ + "/shape_BG", Ints{0, groups, -1})});
    auto mean = [&](const std::string& v, const std::string& what) {
      std::string out;
      onnx::NodeProto* n = b_.node("ReduceMean", base_ + "/" + what, {v}, &out);
      Builder::attr(n, "axes", Ints{2});
      Builder::attr(n, "keepdims", int64_t{1});
      return out;
    };
    const std::string mu = mean(grouped, "mean");
    const std::string centred = b_.op("Sub", base_ + "/centre", {grouped, mu});
    const std::string sq = b_.op("Mul", base_ + "/square", {centred, centred});
    const std::string var = mean(sq, "variance");
    const std::string ve = b_.op("Add", base_ + "/add_eps",
                                 {var, b_.scalar(base_ + "/eps", static_cast<float>(a.f("eps")))});
    const std::string sd = b_.op("Sqrt", base_ + "/std", {ve});
    const std::string normed = b_.op("Div", base_ + "/normalise", {centred, sd});
    const bool affine = a.b("affine");
    const bool bias = affine && a.b("bias");
    const std::string back_name = affine ? base_ + "/to_NCHW" : base_;
    std::string out =
        b_.op("Reshape", back_name, {normed, b_.ints(base_ + "/shape_BCHW", keep_batch(s))});
    if (!affine) return out;
    const std::string c11 = b_.ints(base_ + "/shape_C11", Ints{s[0], 1, 1});
    const std::string w = b_.op("Reshape", base_ + "/weight_C11", {param(0), c11});
    out = b_.op("Mul", bias ? base_ + "/Mul" : base_, {out, w});
    if (!bias) return out;
    const std::string bb = b_.op("Reshape", base_ + "/bias_C11", {param(1), c11});
    return b_.op("Add", base_, {out, bb});
  }

  // qkv [B,N,3·h·d] -> q,k,v [B,h,N,d]; softmax(q·kᵀ·d^-0.5)·v -> [B,N,h·d].
  std::string attention(const Attrs& a) {
    const int64_t h = a.i("heads"), d = a.i("head_dim");
    const int64_t n = in_shape()[0];
    const std::string r5 = b_.op("Reshape", base_ + "/split_heads",
                                 {x(), b_.ints(base_ + "/shape_BN3hd", Ints{0, n, 3, h, d})});
    std::string p5;
    onnx::NodeProto* t = b_.node("Transpose", base_ + "/qkv", {r5}, &p5);
    Builder::attr(t, "perm", Ints{2, 0, 3, 1, 4});
    std::string q, k, v;
    const char* names[3] = {"q", "k", "v"};
    std::string* outs[3] = {&q, &k, &v};
    for (int i = 0; i < 3; ++i) {
      std::string o;
      onnx::NodeProto* g = b_.node("Gather", base_ + "/" + names[i],
                                   {p5, b_.ints(base_ + "/index_" + names[i], Ints{i}, true)}, &o);
      Builder::attr(g, "axis", int64_t{0});
      *outs[i] = o;
    }
    std::string kt;
    onnx::NodeProto* tk = b_.node("Transpose", base_ + "/k_T", {k}, &kt);
    Builder::attr(tk, "perm", Ints{0, 1, 3, 2});
    const std::string qs =
        b_.op("Mul", base_ + "/q_scaled",
              {q, b_.scalar(base_ + "/scale", 1.0f / std::sqrt(static_cast<float>(d)))});
    const std::string scores = b_.op("MatMul", base_ + "/scores", {qs, kt});
    std::string probs;
    onnx::NodeProto* sm = b_.node("Softmax", base_ + "/attn", {scores}, &probs);
    Builder::attr(sm, "axis", int64_t{-1});
    const std::string ctx = b_.op("MatMul", base_ + "/attn_v", {probs, v});
    std::string ctx_t;
    onnx::NodeProto* tc = b_.node("Transpose", base_ + "/merge_heads", {ctx}, &ctx_t);
    Builder::attr(tc, "perm", Ints{0, 2, 1, 3});
    return b_.op("Reshape", base_, {ctx_t, b_.ints(base_ + "/shape_BNC", Ints{0, n, h * d})});
  }

  // cat([cls_token.expand(B,-1,-1), x], 1) + pos_embed
  std::string cls_pos_embed() {
    const int64_t c = in_shape()[1];
    const std::string shape = b_.op("Shape", base_ + "/Shape", {x()});
    const std::string batch =
        b_.op("Slice", base_ + "/batch",
              {shape, b_.ints(base_ + "/start0", Ints{0}), b_.ints(base_ + "/end1", Ints{1})});
    std::string target;
    onnx::NodeProto* cat = b_.node("Concat", base_ + "/expand_shape",
                                   {batch, b_.ints(base_ + "/shape_1C", Ints{1, c})}, &target);
    Builder::attr(cat, "axis", int64_t{0});
    const std::string cls = b_.op("Expand", base_ + "/cls_tokens", {param(0), target});
    std::string joined;
    onnx::NodeProto* j = b_.node("Concat", base_ + "/Concat", {cls, x()}, &joined);
    Builder::attr(j, "axis", int64_t{1});
    return b_.op("Add", base_, {joined, param(1)});
  }

  Builder& b_;
  const FlatOp& op_;
  const std::vector<std::string>& in_;
  const std::vector<ParamInfo>& params_;
  std::string base_;
};

void set_shape(onnx::ValueInfoProto* v, const std::string& name, const Shape& per_sample) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* s = t->mutable_shape();
  s->add_dim()->set_dim_param("batch");
  for (int64_t d : per_sample) s->add_dim()->set_dim_value(d);
}

// ONNX's checks, as onnx.checker.check_model(model, full_check=True) runs them: the model
// checker, then strict shape inference with type checks.
void check(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto copy = model;
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (const size_t nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    throw Error("the ONNX checker refused the exported model: " + what);
  }
}

}  // namespace

std::vector<uint8_t> onnx_model_bytes(const Graph& g, const Analysis& a, const TensorMap& weights,
                                      const ExportInfo& info) {
  require_valid(a);
  require_weights_match(a, weights, "the weights",
                        info.model_name.empty() ? "the graph" : info.model_name);
  const FlatGraph fg = flatten(g, a);
  if (fg.inputs.size() != 1)
    throw Error("ONNX export needs exactly one input node, the graph has " +
                std::to_string(fg.inputs.size()));
  if (fg.outputs.size() != 1)
    throw Error("ONNX export needs exactly one output node, the graph has " +
                std::to_string(fg.outputs.size()));

  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("Formwork");
  model.set_producer_version(info.producer_version);
  model.set_domain("org.formwork");
  model.set_model_version(1);
  model.set_doc_string("Exported by Formwork " + info.producer_version +
                       (info.model_name.empty() ? std::string() : " from " + info.model_name));
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  auto meta = [&](const std::string& k, const std::string& v) {
    onnx::StringStringEntryProto* e = model.add_metadata_props();
    e->set_key(k);
    e->set_value(v);
  };
  meta("formwork_version", info.producer_version);
  if (!info.model_name.empty()) meta("formwork_model", info.model_name);

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(info.model_name.empty() ? std::string("formwork") : info.model_name);
  Builder b(graph);
  b.unique("input");
  b.unique("logits");

  // Weights, in state_dict order.
  for (const ParamInfo& p : a.params) {
    b.unique(p.name);
    const Tensor& t = weights.at(p.name);
    b.initializer(p.name, p.shape, t.ptr());
  }

  // Progress: one step per op, then the checker and the serialisation (two more).
  const auto step = [&](size_t done) {
    if (!info.control) return;
    if (info.control->cancelled()) throw Error("export cancelled");
    info.control->total = static_cast<int64_t>(fg.ops.size() + 2);
    info.control->done = static_cast<int64_t>(done);
  };
  std::vector<std::vector<std::string> > values(fg.ops.size());
  for (size_t i = 0; i < fg.ops.size(); ++i) {
    step(i);
    const FlatOp& op = fg.ops[i];
    if (op.def->id == "input") {
      set_shape(graph->add_input(), "input", op.out_shapes.at(0));
      values[i] = {"input"};
      continue;
    }
    if (op.def->id == "output") continue;
    std::vector<std::string> in;
    for (const ValueRef& v : op.inputs) in.push_back(values.at(v.op).at(v.port));
    values[i] = OpMapper(b, op, in, a.params).map();
  }
  const ValueRef out = fg.outputs[0];
  const FlatOp& last = fg.ops.at(out.op);
  onnx::NodeProto* id = graph->add_node();
  id->set_op_type("Identity");
  id->set_name("logits");
  id->add_input(values.at(out.op).at(out.port));
  id->add_output("logits");
  set_shape(graph->add_output(), "logits", last.out_shapes.at(out.port));

  step(fg.ops.size());
  check(model);
  step(fg.ops.size() + 1);
  const size_t size = model.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    throw Error("the model is " + std::to_string(size >> 20) +
                " MiB: a single ONNX file holds at most 2 GiB");
  std::vector<uint8_t> bytes(size);
  if (!model.SerializeToArray(bytes.data(), static_cast<int>(size)))
    throw Error("could not serialise the ONNX model");
  step(fg.ops.size() + 2);
  return bytes;
}

#endif  // FORMWORK_WITH_ONNX

}  // namespace fw
