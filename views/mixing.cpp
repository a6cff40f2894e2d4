// Token-mixing maps and attention rollout (views/mixing.h, CONTRACT.md "Views").
//
// mixing_map: the network runs once on `input`, keeping the value that feeds the mixer. A second,
// tiny graph holds a copy of the mixer node alone (same kind and attributes; a composite rebuilds
// its children from them): input -> [to_tokens] -> mixer -> output, its parameters bound from
// `weights` under the new module path "mixer". Token mixers on [N, C] tokens get the input as
// [C, 1, N] followed by to_tokens, so that both layouts number input element (c, n) as c*N + n.
// Row i of the map is C_out vector-Jacobian products (one replica of the mixer input per output
// channel, dout one-hot at (i, c)): ||J_ij||_F^2 = sum_c sum_c' (d y[i,c] / d x[j,c'])^2.
// Cost: a full map is N * C_out VJPs per sample, i.e. N * C_out / chunk forward+backward passes of
// the mixer at batch `chunk` (chunk = 2^21 / (C_in * N) replicas, at least 1, bounding the
// mixer input batch to 8 MiB); a --query row is C_out VJPs.
#include "views/mixing.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"

namespace fw {

namespace {

const std::set<std::string>& mixer_kinds() {
  static const std::set<std::string> k = {"pool_mixer", "sepconv", "attention", "random_mixing",
                                          "identity"};
  return k;
}

bool under(const Graph& g, NodeId node, NodeId ancestor) {
  for (NodeId n = node; n != kNoNode; n = g.node(n).parent)
    if (n == ancestor) return true;
  return false;
}

// The flat ops at or under `id`, ascending.
std::vector<int> ops_under(const Graph& g, const FlatGraph& fg, NodeId id) {
  std::vector<int> ops;
  for (int i = 0; i < int(fg.ops.size()); ++i)
    if (under(g, fg.ops[i].node, id)) ops.push_back(i);
  return ops;
}

// The value that feeds the node: the first input of its ops that is made outside it.
ValueRef input_of(const Graph& g, const FlatGraph& fg, NodeId id, const std::string& path) {
  const std::vector<int> ops = ops_under(g, fg, id);
  for (int op : ops)
    for (const ValueRef& v : fg.ops[op].inputs)
      if (!std::binary_search(ops.begin(), ops.end(), v.op)) return v;
  throw Error("layer '" + path + "' has no input value (is it executed?)");
}

MixerInfo describe(const Graph& g, const FlatGraph& fg, NodeId id) {
  MixerInfo m;
  m.path = g.path(id);
  m.kind = g.node(id).kind;
  const ValueRef v = input_of(g, fg, id, m.path);
  const Shape& s = fg.ops.at(v.op).out_shapes.at(v.port);
  if (s.size() == 3) {
    m.tokens = s[1] * s[2], m.h = s[1], m.w = s[2];
    return m;
  }
  if (s.size() != 2)
    throw Error("layer '" + m.path + "' mixes a " + shape_str(s) + " value: no tokens");
  m.tokens = s[0];
  try {
    const LayerGrid lg = layer_grid(g, fg, m.path);
    m.prefix = lg.prefix, m.h = lg.h, m.w = lg.w;
  } catch (const Error&) {
    // tokens that form no grid of the input: a map over tokens all the same (h = w = 0)
  }
  return m;
}

std::string list_str(const std::vector<std::string>& v, size_t most = 4) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < most; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > most) s += ", ...";
  return s;
}

}  // namespace

std::vector<MixerInfo> token_mixers(const Graph& g, const FlatGraph& fg) {
  std::vector<std::pair<int, NodeId>> found;  // (first op, node)
  for (const auto& [id, n] : g.nodes()) {
    if (!mixer_kinds().count(n.kind)) continue;
    const std::vector<int> ops = ops_under(g, fg, id);
    if (!ops.empty()) found.push_back({ops.front(), id});
  }
  std::sort(found.begin(), found.end());
  std::vector<MixerInfo> out;
  for (const auto& [op, id] : found) out.push_back(describe(g, fg, id));
  return out;
}

MixerInfo token_mixer(const Graph& g, const FlatGraph& fg, const std::string& layer) {
  const NodeId id = g.find_path(layer);
  if (id == kNoNode)
    throw Error("no layer '" + layer + "' (module paths look like stages.2.blocks.0.token_mixer; "
                "see `formwork info`)");
  if (!mixer_kinds().count(g.node(id).kind)) {
    std::vector<std::string> inside;
    for (const MixerInfo& m : token_mixers(g, fg))
      if (m.path.rfind(layer + ".", 0) == 0) inside.push_back(m.path);
    throw Error("'" + layer + "' is a " + g.node(id).kind +
                ", not a token mixer (pooling, sepconv, attention, random_mixing, identity)" +
                (inside.empty() ? "" : "; the mixers under it: " + list_str(inside)));
  }
  return describe(g, fg, id);
}

Tensor mixing_map(const Backend& backend, Executor& ex, const Graph& g, const TensorMap& weights,
                  const Tensor& input, const std::string& layer, std::optional<int64_t> query,
                  const JobControl* control) {
  const FlatGraph& fg = ex.flat();
  const MixerInfo info = token_mixer(g, fg, layer);
  const int64_t N = info.tokens;
  if (query && (*query < 0 || *query >= N))
    throw Error("--query " + std::to_string(*query) + " is out of range: the mixer has " +
                std::to_string(N) + " tokens (0.." + std::to_string(N - 1) + ")");
  const NodeId id = g.find_path(layer);
  const Node& node = g.node(id);
  const ValueRef v_in = input_of(g, fg, id, layer);
  const Shape s_in = fg.ops.at(v_in.op).out_shapes.at(v_in.port);
  const bool tokens = s_in.size() == 2;
  const int64_t C_in = tokens ? s_in[1] : s_in[0];

  // 1. The mixer's input at `input`.
  RunOptions fo;
  fo.keep = {v_in};
  if (control) fo.cancel = &control->cancel;
  ex.forward({input}, fo);
  const Tensor* xin = ex.value(v_in);
  FW_ASSERT(xin, "the executor must keep the values listed in RunOptions::keep");
  const int64_t B = xin->dim(0);

  // 2. The mixer alone.
  Graph mg;
  const NodeId in = mg.add(kNoNode, "input", "",
                           {{"channels", C_in}, {"height", int64_t(tokens ? 1 : s_in[1])},
                            {"width", int64_t(tokens ? N : s_in[2])}});
  PortRef cur{in, 0};
  if (tokens) {
    const NodeId t = mg.add(kNoNode, "to_tokens", "to_tokens");
    mg.connect(cur, t, 0);
    cur = {t, 0};
  }
  const NodeId m = mg.add(kNoNode, node.kind, "mixer", node.attrs);
  mg.connect(cur, m, 0);
  const NodeId out = mg.add(kNoNode, "output", "");
  mg.connect({m, 0}, out, 0);
  const Analysis ma = analyze(mg);
  require_valid(ma);
  TensorMap params;
  const std::string prefix = layer + ".";
  for (const ParamInfo& p : ma.params) {
    const std::string from = prefix + p.name.substr(std::string("mixer.").size());
    auto it = weights.find(from);
    if (it == weights.end()) throw Error("mixing map of '" + layer + "': no weight '" + from + "'");
    params[p.name] = it->second;
  }
  std::unique_ptr<Executor> mex = backend.create(mg, ma);
  mex->bind(params);
  const Shape s_out = ma.of(m)->out.at(0);
  FW_ASSERT(s_out.size() == s_in.size(), "a token mixer keeps its input's layout");
  const int64_t C_out = tokens ? s_out[1] : s_out[0];
  const int64_t per_in = C_in * N, per_out = C_out * N;

  // 3. Rows by vector-Jacobian products, (row, output channel) pairs in chunks.
  std::vector<int64_t> rows;
  if (query) rows = {*query};
  else for (int64_t i = 0; i < N; ++i) rows.push_back(i);
  const int64_t R = int64_t(rows.size());
  const int64_t total = R * C_out;
  const int64_t chunk = std::clamp<int64_t>((int64_t(1) << 21) / std::max<int64_t>(1, per_in), 1, total);
  Tensor map(query ? Shape{B, N} : Shape{B, N, N}, 0.0f);
  std::vector<double> acc(size_t(R * N));
  RunOptions o;
  o.backward = true;
  o.grads.inputs = true;
  if (control) o.cancel = &control->cancel;
  for (int64_t b = 0; b < B; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0);
    // The sample's mixer input in the mixer graph's layout: element (c, n) at c*N + n.
    std::vector<float> x(static_cast<size_t>(per_in));
    const float* src = xin->ptr() + b * per_in;
    for (int64_t c = 0; c < C_in; ++c)
      for (int64_t n = 0; n < N; ++n)
        x[c * N + n] = tokens ? src[n * C_in + c] : src[c * N + n];
    for (int64_t start = 0; start < total; start += chunk) {
      if (control && control->cancelled()) throw Cancelled();
      const int64_t nb = std::min(chunk, total - start);
      Tensor xb(tokens ? Shape{nb, C_in, 1, N} : Shape{nb, s_in[0], s_in[1], s_in[2]});
      for (int64_t r = 0; r < nb; ++r) std::copy(x.begin(), x.end(), xb.data.begin() + r * per_in);
      mex->forward({xb}, o);
      Tensor dout(tokens ? Shape{nb, N, C_out} : Shape{nb, s_out[0], s_out[1], s_out[2]}, 0.0f);
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t pair = start + r, i = rows[pair / C_out], c = pair % C_out;
        dout.data[r * per_out + (tokens ? i * C_out + c : c * N + i)] = 1.0f;
      }
      const Gradients gr = mex->backward({dout});
      const Tensor& dx = gr.inputs.at(0);
      for (int64_t r = 0; r < nb; ++r) {
        double* row = acc.data() + ((start + r) / C_out) * N;
        const float* d = dx.ptr() + r * per_in;
        for (int64_t c = 0; c < C_in; ++c)
          for (int64_t n = 0; n < N; ++n) row[n] += double(d[c * N + n]) * double(d[c * N + n]);
      }
    }
    float* dst = map.data.data() + b * R * N;
    for (int64_t k = 0; k < R * N; ++k) dst[k] = float(std::sqrt(acc[size_t(k)]));
  }
  return map;
}

std::vector<std::string> attention_layers(const Graph& g, const FlatGraph& fg) {
  std::vector<std::string> out;
  for (const FlatOp& op : fg.ops)
    if (op.def && op.def->id == "self_attention") out.push_back(g.path(g.node(op.node).parent));
  return out;
}

Tensor attention_rollout(Executor& ex, const Graph& g, const Tensor& input, const std::string& at) {
  const FlatGraph& fg = ex.flat();
  std::vector<int> ops;
  if (at.empty()) {
    for (int i = 0; i < int(fg.ops.size()); ++i)
      if (fg.ops[i].def && fg.ops[i].def->id == "self_attention") ops.push_back(i);
    if (ops.empty()) throw Error("the network has no attention node: nothing to roll out");
  } else {
    if (g.find_path(at) == kNoNode)
      throw Error("no layer '" + at + "' (module paths look like stages.2; see `formwork info`)");
    ops = find_ops(g, fg, at, "self_attention");
    if (ops.empty()) throw Error("layer '" + at + "' has no attention node: nothing to roll out");
  }
  auto tokens_of = [&](int op) { return fg.ops[op].in_shapes.at(0).at(0); };
  auto module_of = [&](int op) { return g.path(g.node(fg.ops[op].node).parent); };
  const int64_t N = tokens_of(ops[0]);
  for (int op : ops)
    if (tokens_of(op) != N)
      throw Error("attention rollout needs one token count: " + module_of(ops[0]) + " has " +
                  std::to_string(N) + " tokens, " + module_of(op) + " has " +
                  std::to_string(tokens_of(op)) + " (name a part of the network with --layers)");
  RunOptions o;
  o.keep_attention = ops;
  ex.forward({input}, o);
  const int64_t B = input.dim(0);
  Tensor out({B, N, N});
  std::vector<double> R(size_t(N * N)), A(size_t(N * N)), T(size_t(N * N));
  for (int64_t b = 0; b < B; ++b) {
    std::fill(R.begin(), R.end(), 0.0);
    for (int64_t i = 0; i < N; ++i) R[i * N + i] = 1.0;
    for (int op : ops) {
      const Tensor* a = ex.attention(op);
      FW_ASSERT(a, "the executor must keep the attention maps listed in RunOptions::keep_attention");
      const int64_t H = a->dim(1);
      std::fill(A.begin(), A.end(), 0.0);
      for (int64_t h = 0; h < H; ++h) {
        const float* p = a->ptr() + (b * H + h) * N * N;
        for (int64_t k = 0; k < N * N; ++k) A[k] += double(p[k]);
      }
      for (int64_t i = 0; i < N; ++i) {  // A~ = rownorm(0.5 mean_heads(A) + 0.5 I)
        double s = 0;
        for (int64_t j = 0; j < N; ++j) {
          double& e = A[i * N + j];
          e = 0.5 * e / double(H) + (i == j ? 0.5 : 0.0);
          s += e;
        }
        for (int64_t j = 0; j < N; ++j) A[i * N + j] /= s;
      }
      std::fill(T.begin(), T.end(), 0.0);  // R = A~ R
      for (int64_t i = 0; i < N; ++i)
        for (int64_t k = 0; k < N; ++k) {
          const double e = A[i * N + k];
          for (int64_t j = 0; j < N; ++j) T[i * N + j] += e * R[k * N + j];
        }
      R.swap(T);
    }
    for (int64_t k = 0; k < N * N; ++k) out.data[b * N * N + k] = float(R[k]);
  }
  return out;
}

}  // namespace fw
