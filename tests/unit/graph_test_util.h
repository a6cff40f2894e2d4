// A double-precision reference runner for whole graphs, for the executor tests: runs a FlatGraph
// op by op with the reference implementations (kernels/cpu/reference.h), optionally replacing
// one value (to differentiate with respect to an intermediate activation). No memory planning,
// no aliasing: an independent oracle for forward outputs and, through finite differences, for
// every gradient the executor returns.
#pragma once
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "kernels/backend.h"
#include "kernels/cpu/reference.h"

namespace fwtest {

using fw::cpu::ref::DTensor;

struct RefGraph {
  const fw::FlatGraph& fg;
  const fw::Analysis& a;
  std::map<std::string, DTensor> params;  // by full name
  bool training = false;
  uint64_t seed = 0;

  RefGraph(const fw::FlatGraph& f, const fw::Analysis& an, const fw::TensorMap& p) : fg(f), a(an) {
    for (const auto& [name, t] : p) params[name] = fw::cpu::ref::to_double(t);
  }

  // Every value of the graph (outer index: op, inner: port). `override_value` replaces one value
  // after it is computed.
  std::vector<std::vector<DTensor>> run(const std::vector<DTensor>& inputs,
                                        const fw::ValueRef* override_at = nullptr,
                                        const DTensor* override_value = nullptr) const {
    std::vector<std::vector<DTensor>> vals(fg.ops.size());
    for (int o = 0; o < int(fg.ops.size()); ++o) {
      const fw::FlatOp& op = fg.ops[o];
      if (op.def->id == "input") {
        const size_t k = std::find(fg.inputs.begin(), fg.inputs.end(), o) - fg.inputs.begin();
        vals[o] = {inputs.at(k)};
      } else {
        std::vector<DTensor> in, ps;
        for (const fw::ValueRef& v : op.inputs) in.push_back(vals[v.op][v.port]);
        for (int pi : op.params) ps.push_back(params.at(a.params[pi].name));
        vals[o] = fw::cpu::ref::forward(op.def->id, *op.attrs, {training, fw::op_seed(seed, o)},
                                        in, ps);
      }
      if (override_at && override_at->op == o) vals[o][override_at->port] = *override_value;
    }
    return vals;
  }

  std::vector<DTensor> outputs(const std::vector<DTensor>& inputs) const {
    const auto vals = run(inputs);
    std::vector<DTensor> out;
    for (const fw::ValueRef& v : fg.outputs) out.push_back(vals[v.op][v.port]);
    return out;
  }

  // Σ dout·outputs.
  double loss(const std::vector<DTensor>& inputs, const std::vector<DTensor>& dout,
              const fw::ValueRef* override_at = nullptr,
              const DTensor* override_value = nullptr) const {
    const auto vals = run(inputs, override_at, override_value);
    double l = 0;
    for (size_t k = 0; k < fg.outputs.size(); ++k) {
      const DTensor& y = vals[fg.outputs[k].op][fg.outputs[k].port];
      for (int64_t i = 0; i < y.size(); ++i) l += y[i] * dout[k][i];
    }
    return l;
  }
};

}  // namespace fwtest
