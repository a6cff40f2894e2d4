// formwork_opcheck SPEC.json [SPEC.json ...]
//
// Runs one CPU op forward (and backward) on tensors read from .npy files and writes the results
// as .npy, for the PyTorch cross-check (tests/python/test_ops_vs_torch.py). Paths are relative to
// the spec file. A spec:
//   {
//     "op": "conv2d",
//     "attrs": {"kernel": 3, "padding": 1},      JSON int -> int, float -> float, bool, string
//     "impl": "fast",                            or "reference" (the double reference)
//     "threads": 2,                              optional
//     "training": false, "seed": 0,              optional (dropout, drop_path)
//     "inputs": ["x.npy"], "params": ["w.npy", "b.npy"],
//     "outputs": ["y.npy"],
//     "saved": ["probs.npy"],                    optional: the saved slots (attention maps)
//     "grad_outputs": ["gy.npy"],                optional: runs backward with these
//     "grad_inputs": ["gx.npy"],                 null entries: gradient not wanted
//     "grad_params": ["gw.npy", "gb.npy"]
//   }
// Exit status: 0 on success, 1 on any error (printed on stderr with the spec's path).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/reference.h"
#include "kernels/parallel.h"
#include "npy_lite.h"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fw::Tensor load(const fs::path& dir, const std::string& name) {
  fwtest::npy::Array a = fwtest::npy::read((dir / name).string());
  return fw::Tensor(a.shape, std::move(a.data));
}

void save(const fs::path& dir, const json& name, const fw::Tensor& t) {
  if (name.is_null()) return;
  fwtest::npy::write((dir / name.get<std::string>()).string(), t.shape, t.data);
}

fw::Attrs parse_attrs(const json& j) {
  fw::Attrs a;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const json& v = it.value();
    if (v.is_boolean())
      a.set(it.key(), v.get<bool>());
    else if (v.is_number_integer())
      a.set(it.key(), v.get<int64_t>());
    else if (v.is_number())
      a.set(it.key(), v.get<double>());
    else if (v.is_string())
      a.set(it.key(), v.get<std::string>());
    else
      throw fw::Error("attribute '" + it.key() + "' must be a number, bool or string");
  }
  return a;
}

std::vector<fw::Tensor> load_list(const fs::path& dir, const json& spec, const char* key) {
  std::vector<fw::Tensor> v;
  if (spec.contains(key))
    for (const json& n : spec[key]) v.push_back(load(dir, n.get<std::string>()));
  return v;
}

const json& entry(const json& spec, const char* key, size_t i) {
  static const json null;
  if (!spec.contains(key) || i >= spec[key].size()) return null;
  return spec[key][i];
}

void run_fast(const json& spec, const fs::path& dir, const fw::Attrs& attrs,
              const fw::cpu::RunMode& mode, const std::vector<fw::Tensor>& in,
              const std::vector<fw::Tensor>& params, const std::vector<fw::Tensor>& dout) {
  const std::string op = spec.at("op");
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel(op);
  if (!k) throw fw::Error("no CPU kernel for op '" + op + "'");
  fw::Tensor out;
  std::vector<fw::Tensor> saved(k->saved);
  fw::cpu::ForwardArgs fa{attrs, mode, {}, {}, {&out}, {}};
  for (const auto& t : in) fa.in.push_back(&t);
  for (const auto& t : params) fa.params.push_back(&t);
  for (auto& t : saved) fa.saved.push_back(&t);
  k->forward(fa);
  save(dir, entry(spec, "outputs", 0), out);
  for (size_t i = 0; i < saved.size(); ++i) save(dir, entry(spec, "saved", i), saved[i]);
  if (dout.empty()) return;

  const fw::cpu::BackwardNeeds needs = k->needs(attrs, spec.contains("grad_params"));
  std::vector<fw::Tensor> din(in.size()), dparams(params.size());
  fw::cpu::BackwardArgs ba{attrs, mode, {}, {}, {}, {}, {}, {}, {}, {}};
  for (size_t i = 0; i < in.size(); ++i) {
    ba.in_shapes.push_back(in[i].shape);
    ba.in.push_back(needs.needs_input(int(i)) ? &in[i] : nullptr);
    ba.din.push_back(entry(spec, "grad_inputs", i).is_null() ? nullptr : &din[i]);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    ba.params.push_back(&params[i]);
    ba.dparams.push_back(entry(spec, "grad_params", i).is_null() ? nullptr : &dparams[i]);
  }
  ba.out.push_back(needs.output ? &out : nullptr);
  for (const auto& t : saved) ba.saved.push_back(&t);
  for (const auto& t : dout) ba.dout.push_back(&t);
  k->backward(ba);
  for (size_t i = 0; i < din.size(); ++i) save(dir, entry(spec, "grad_inputs", i), din[i]);
  for (size_t i = 0; i < dparams.size(); ++i) save(dir, entry(spec, "grad_params", i), dparams[i]);
}

void run_reference(const json& spec, const fs::path& dir, const fw::Attrs& attrs,
                   const fw::cpu::RunMode& mode, const std::vector<fw::Tensor>& in,
                   const std::vector<fw::Tensor>& params, const std::vector<fw::Tensor>& dout) {
  namespace ref = fw::cpu::ref;
  const std::string op = spec.at("op");
  std::vector<ref::DTensor> din, dparams, ddout;
  for (const auto& t : in) din.push_back(ref::to_double(t));
  for (const auto& t : params) dparams.push_back(ref::to_double(t));
  for (const auto& t : dout) ddout.push_back(ref::to_double(t));
  ref::DTensor probs;
  const auto out = ref::forward(op, attrs, mode, din, dparams, &probs);
  save(dir, entry(spec, "outputs", 0), ref::to_float(out.at(0)));
  if (!probs.data.empty()) save(dir, entry(spec, "saved", 0), ref::to_float(probs));
  if (dout.empty()) return;
  const auto g = ref::backward(op, attrs, mode, din, dparams, ddout);
  for (size_t i = 0; i < g.din.size(); ++i)
    if (!g.din[i].data.empty()) save(dir, entry(spec, "grad_inputs", i), ref::to_float(g.din[i]));
  for (size_t i = 0; i < g.dparams.size(); ++i)
    save(dir, entry(spec, "grad_params", i), ref::to_float(g.dparams[i]));
}

void run_spec(const fs::path& path) {
  std::ifstream f(path);
  if (!f) throw fw::Error("cannot open");
  const json spec = json::parse(f);
  const fs::path dir = path.parent_path();
  const fw::Attrs attrs = parse_attrs(spec.value("attrs", json::object()));
  const fw::cpu::RunMode mode{spec.value("training", false), spec.value("seed", uint64_t(0))};
  if (spec.contains("threads")) fw::set_num_threads(spec["threads"].get<int>());
  const auto in = load_list(dir, spec, "inputs");
  const auto params = load_list(dir, spec, "params");
  const auto dout = load_list(dir, spec, "grad_outputs");
  if (spec.value("impl", std::string("fast")) == "reference")
    run_reference(spec, dir, attrs, mode, in, params, dout);
  else
    run_fast(spec, dir, attrs, mode, in, params, dout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: formwork_opcheck SPEC.json [SPEC.json ...]\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    try {
      run_spec(argv[i]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", argv[i], e.what());
      return 1;
    }
  }
  return 0;
}
