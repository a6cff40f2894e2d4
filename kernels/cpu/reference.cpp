#include "kernels/cpu/ref_impl.h"

namespace fw::cpu::ref {

DTensor to_double(const Tensor& t) {
  DTensor d(t.shape);
  for (int64_t i = 0; i < d.size(); ++i) d[i] = t.data[i];
  return d;
}

Tensor to_float(const DTensor& t) {
  Tensor f(t.shape);
  for (int64_t i = 0; i < t.size(); ++i) f.data[i] = static_cast<float>(t[i]);
  return f;
}

Grads zero_grads(const Call& c) {
  Grads g;
  for (const DTensor& t : c.in) g.din.emplace_back(t.shape);
  for (const DTensor& t : c.params) g.dparams.emplace_back(t.shape);
  return g;
}

namespace {

const RefOp* find(std::string_view op) {
  for (const auto* list : {&spatial_ops(), &norm_ops(), &misc_ops()})
    for (const RefOp& r : *list)
      if (r.id == op) return &r;
  return nullptr;
}

const RefOp& get(std::string_view op) {
  const RefOp* r = find(op);
  if (!r) throw Error("no reference implementation of op '" + std::string(op) + "'");
  return *r;
}

}  // namespace

bool supports(std::string_view op) { return find(op) != nullptr; }

std::vector<DTensor> forward(std::string_view op, const Attrs& attrs, const RunMode& mode,
                             const std::vector<DTensor>& in, const std::vector<DTensor>& params,
                             DTensor* probs) {
  return get(op).forward(Call{attrs, mode, in, params, probs});
}

Grads backward(std::string_view op, const Attrs& attrs, const RunMode& mode,
               const std::vector<DTensor>& in, const std::vector<DTensor>& params,
               const std::vector<DTensor>& dout) {
  Grads g = get(op).backward(Call{attrs, mode, in, params, nullptr}, dout);
  if (op == "to_nchw" && g.din.size() > 1) g.din[1] = DTensor();  // grid: shape only
  return g;
}

}  // namespace fw::cpu::ref
