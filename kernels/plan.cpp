#include "kernels/plan.h"

#include <algorithm>
#include <map>

#include "core/error.h"

namespace fw {
namespace {

bool is_input_op(const FlatOp& op) { return op.def && op.def->id == "input"; }

bool shape_only(const FlatOp& op, int i) {
  if (!op.def) return false;
  const auto& so = op.def->shape_only_inputs;
  return std::find(so.begin(), so.end(), i) != so.end();
}

}  // namespace

Plan make_plan(const FlatGraph& fg, const std::vector<ParamInfo>& param_info,
               const PlanOptions& opts, const TraitsFn& traits) {
  Plan p;
  const int n = static_cast<int>(fg.ops.size());
  p.first_value.resize(n);
  for (int o = 0; o < n; ++o) {
    p.first_value[o] = p.num_values;
    p.num_values += static_cast<int>(fg.ops[o].out_shapes.size());
  }
  const int nv = p.num_values;

  // Requested parameters (indices into param_info).
  std::vector<bool> requested(param_info.size(), false);
  if (opts.backward) {
    if (!opts.grads.param_names.empty()) {
      std::map<std::string, int> by_name;
      for (int i = 0; i < int(param_info.size()); ++i) by_name[param_info[i].name] = i;
      for (const std::string& name : opts.grads.param_names) {
        auto it = by_name.find(name);
        if (it == by_name.end()) throw Error("no parameter named '" + name + "' in the graph");
        requested[it->second] = true;
      }
    } else if (opts.grads.params) {
      for (size_t i = 0; i < param_info.size(); ++i) requested[i] = param_info[i].trainable;
    }
  }

  // Gradient targets.
  p.grad_target.assign(nv, false);
  if (opts.backward) {
    for (const ValueRef& v : opts.grads.values) {
      if (v.op < 0 || v.op >= n || v.port < 0 || v.port >= int(fg.ops[v.op].out_shapes.size()))
        throw Error("gradient target is not a value of the graph");
      p.grad_target[p.value_id(v)] = true;
    }
    if (opts.grads.inputs)
      for (int o : fg.inputs) p.grad_target[p.value_id({o, 0})] = true;
  }

  // Traits and requested parameters per op.
  p.traits.resize(n);
  p.want_dparam.resize(n);
  std::vector<bool> op_has_request(n, false);
  for (int o = 0; o < n; ++o) {
    const FlatOp& op = fg.ops[o];
    for (int pi : op.params) {
      p.want_dparam[o].push_back(requested[pi]);
      if (requested[pi]) op_has_request[o] = true;
    }
    if (!is_input_op(op)) p.traits[o] = traits(o, op_has_request[o]);
  }

  // requires_grad, forward: a value depends on a target or a requested parameter.
  std::vector<bool> rg(nv, false), op_rg(n, false);
  for (int o = 0; o < n; ++o) {
    const FlatOp& op = fg.ops[o];
    bool r = op_has_request[o];
    for (int i = 0; i < int(op.inputs.size()); ++i)
      if (!shape_only(op, i) && rg[p.value_id(op.inputs[i])]) r = true;
    op_rg[o] = r && !is_input_op(op);
    for (int port = 0; port < int(op.out_shapes.size()); ++port) {
      const int v = p.value_id({o, port});
      rg[v] = op_rg[o] || p.grad_target[v];
    }
  }
  // Reaches a graph output, backward.
  std::vector<bool> reach(nv, false);
  for (const ValueRef& v : fg.outputs) reach[p.value_id(v)] = true;
  for (int o = n - 1; o >= 0; --o) {
    const FlatOp& op = fg.ops[o];
    bool any_out = false;
    for (int port = 0; port < int(op.out_shapes.size()); ++port)
      any_out = any_out || reach[p.value_id({o, port})];
    if (!any_out) continue;
    for (int i = 0; i < int(op.inputs.size()); ++i)
      if (!shape_only(op, i)) reach[p.value_id(op.inputs[i])] = true;
  }

  p.needs_grad.assign(nv, false);
  for (int v = 0; v < nv; ++v) p.needs_grad[v] = opts.backward && rg[v] && reach[v];
  p.run_backward.assign(n, false);
  p.want_din.resize(n);
  for (int o = 0; o < n; ++o) {
    const FlatOp& op = fg.ops[o];
    bool out_grad = false;
    for (int port = 0; port < int(op.out_shapes.size()); ++port)
      out_grad = out_grad || p.needs_grad[p.value_id({o, port})];
    p.run_backward[o] = opts.backward && op_rg[o] && out_grad;
    p.want_din[o].assign(op.inputs.size(), false);
    for (int i = 0; i < int(op.inputs.size()); ++i)
      p.want_din[o][i] =
          p.run_backward[o] && !shape_only(op, i) && p.needs_grad[p.value_id(op.inputs[i])];
    if (!p.run_backward[o]) std::fill(p.want_dparam[o].begin(), p.want_dparam[o].end(), false);
  }

  // Saved slots.
  p.keep_saved.assign(n, false);
  p.keep_saved_after.assign(n, false);
  for (int o = 0; o < n; ++o) {
    p.keep_saved[o] = (p.run_backward[o] || opts.keep_all) && p.traits[o].saved > 0;
    p.keep_saved_after[o] = opts.keep_all && p.traits[o].saved > 0;
  }
  for (int o : opts.keep_attention) {
    if (o < 0 || o >= n || p.traits[o].saved == 0)
      throw Error("attention maps requested from an op that saves none");
    p.keep_saved[o] = p.keep_saved_after[o] = true;
  }

  // Lifetimes.
  p.kept.assign(nv, opts.keep_all);
  for (const ValueRef& v : opts.keep) p.kept[p.value_id(v)] = true;
  for (const ValueRef& v : fg.outputs) p.kept[p.value_id(v)] = true;
  std::vector<int> last_fwd(nv, -1), first_bw_user(nv, n);
  for (int o = 0; o < n; ++o) {
    const FlatOp& op = fg.ops[o];
    for (int port = 0; port < int(op.out_shapes.size()); ++port) last_fwd[p.value_id({o, port})] = o;
    for (int i = 0; i < int(op.inputs.size()); ++i) {
      const int v = p.value_id(op.inputs[i]);
      if (!shape_only(op, i)) last_fwd[v] = std::max(last_fwd[v], o);
      if (p.run_backward[o] && ((p.traits[o].needs_inputs >> i) & 1u))
        first_bw_user[v] = std::min(first_bw_user[v], o);
    }
    if (p.run_backward[o] && p.traits[o].needs_output && !op.out_shapes.empty()) {
      const int v = p.value_id({o, 0});
      first_bw_user[v] = std::min(first_bw_user[v], o);
    }
  }
  p.free_after_forward.assign(n, {});
  p.free_after_backward.assign(n, {});
  for (int v = 0; v < nv; ++v) {
    if (p.kept[v]) continue;
    if (first_bw_user[v] < n)
      p.free_after_backward[first_bw_user[v]].push_back(v);
    else
      p.free_after_forward[last_fwd[v]].push_back(v);
  }
  return p;
}

long double plan_peak_bytes(const Plan& p, const FlatGraph& fg, int64_t batch,
                            const std::vector<bool>& shares_input,
                            const std::vector<bool>& grad_shares_dout,
                            const std::vector<long double>& saved_per_sample) {
  const int n = static_cast<int>(fg.ops.size());
  const auto flag = [](const std::vector<bool>& v, int o) { return o < int(v.size()) && v[o]; };
  std::vector<long double> saved(n, 0);  // bytes of the op's saved slots, where kept
  for (int o = 0; o < n && o < int(saved_per_sample.size()); ++o)
    if (p.keep_saved[o]) saved[o] = saved_per_sample[o] * static_cast<long double>(batch);
  std::vector<long double> bytes(p.num_values, 0);
  for (int o = 0; o < n; ++o)
    for (int port = 0; port < int(fg.ops[o].out_shapes.size()); ++port) {
      long double b = 4.0L * static_cast<long double>(batch);
      for (int64_t d : fg.ops[o].out_shapes[port]) b *= static_cast<long double>(d);
      bytes[p.value_id({o, port})] = b;
    }
  // Storage shared by identities: every value names the value that owns its buffer; a buffer is
  // freed when the last value using it is.
  std::vector<int> owner(p.num_values), users(p.num_values, 0);
  long double live = 0, peak = 0;
  const auto release = [&](int v) {
    if (--users[owner[v]] == 0) live -= bytes[owner[v]];
  };
  for (int o = 0; o < n; ++o) {
    const FlatOp& op = fg.ops[o];
    for (int port = 0; port < int(op.out_shapes.size()); ++port) {
      const int v = p.value_id({o, port});
      owner[v] = v;
      if (port == 0 && op.out_shapes.size() == 1 && flag(shares_input, o) && !op.inputs.empty())
        owner[v] = owner[p.value_id(op.inputs[0])];
      if (users[owner[v]]++ == 0) live += bytes[owner[v]];
    }
    live += saved[o];
    peak = std::max(peak, live);
    for (int v : p.free_after_forward[o]) release(v);
  }
  bool any_backward = false;
  for (int o = 0; o < n; ++o) any_backward = any_backward || p.run_backward[o];
  if (!any_backward) return peak;
  // Backward: the output gradients, then every op's input gradients (fresh buffers unless they
  // pass the output gradient through), accumulated into the value's gradient.
  std::vector<bool> has_grad(p.num_values, false);
  for (const ValueRef& v : fg.outputs) {
    const int id = p.value_id(v);
    if (p.needs_grad[id] && !has_grad[id]) {
      has_grad[id] = true;
      live += bytes[id];
    }
  }
  peak = std::max(peak, live);
  for (int o = n - 1; o >= 0; --o) {
    if (!p.run_backward[o]) continue;
    const FlatOp& op = fg.ops[o];
    long double zeros = 0;  // output gradients nothing reached
    for (int port = 0; port < int(op.out_shapes.size()); ++port) {
      const int id = p.value_id({o, port});
      if (!has_grad[id]) zeros += bytes[id];
    }
    const bool pass = op.out_shapes.size() == 1 && flag(grad_shares_dout, o);
    long double fresh = 0, added = 0;
    for (int i = 0; i < int(op.inputs.size()); ++i) {
      if (!p.want_din[o][i]) continue;
      const int id = p.value_id(op.inputs[i]);
      if (!pass) fresh += bytes[id];
      if (!has_grad[id]) {  // the first contribution becomes the gradient (a copy if shared)
        has_grad[id] = true;
        added += bytes[id];
      }
    }
    peak = std::max(peak, live + zeros + fresh);  // a first contribution keeps its buffer
    live += added;
    if (!p.keep_saved_after[o]) live -= saved[o];
    for (int v : p.free_after_backward[o]) release(v);
    for (int port = 0; port < int(op.out_shapes.size()); ++port) {
      const int id = p.value_id({o, port});
      if (has_grad[id] && !p.grad_target[id]) {
        has_grad[id] = false;
        live -= bytes[id];
      }
    }
  }
  return peak;
}

}  // namespace fw
