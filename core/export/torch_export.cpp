// PyTorch export (core/export/model_export.h): the graph as one Python file of nn.Modules whose
// state_dict names are Formwork's parameter names.
//
// How a node becomes Python
//  - A built-in block kind (torch_library.h) whose children are exactly what its attributes
//    build (checked by building it again in a scratch graph and comparing) is a call of its class
//    with the attributes that differ from the defaults: `MetaFormerStage(dim=128, depth=2, ...)`.
//  - A group whose children form a chain (each one fed by the one before, the group's output the
//    last one's) is an nn.Sequential of the children.
//  - Anything else (the model itself, a user-made group, a block whose children were edited) is a
//    class of its own whose __init__ registers its children and whose forward lists their calls in
//    a topological order, one named variable per value.
//  - A leaf with parameters is a module (nn.Conv2d, nn.Linear, LayerNorm2d, ...); one without is
//    written inline in the forward (`x.mean((2, 3))`, `a + b`, `pool_mixer(x, 3)`).
//  - A node with an empty name adds no path segment: an anonymous leaf's parameters live on the
//    enclosing module (ViT's cls_token and pos_embed on the model), an anonymous group's children
//    are written into the enclosing module's class.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/export/model_export.h"
#include "core/export/torch_library.h"
#include "core/format.h"

namespace fw {

namespace {

using torch_export::PyEntry;
using torch_export::python_library;

constexpr size_t kLineWidth = 100;

// ---- Python literals and names ------------------------------------------------------------------

std::string py_str(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// The shortest decimal that reads back as `v` (Python's repr), always with a '.' or an exponent.
std::string py_float(double v) {
  if (std::isnan(v)) return "float(\"nan\")";
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "-float(\"inf\")";
  char buf[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string py_value(const AttrValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return py_float(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "True" : "False";
  return py_str(std::get<std::string>(v));
}

bool is_keyword(const std::string& s) {
  static const std::set<std::string> kw = {
      "False", "None",   "True",    "and",      "as",     "assert", "async", "await",
      "break", "class",  "continue", "def",     "del",    "elif",   "else",  "except",
      "finally", "for",  "from",    "global",   "if",     "import", "in",    "is",
      "lambda", "nonlocal", "not",  "or",       "pass",   "raise",  "return", "try",
      "while", "with",   "yield"};
  return kw.count(s) != 0;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (const char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return !is_keyword(s);
}

// nn.Module's own attributes (torch 1.13 and later): no submodule or parameter can take these.
bool is_module_attribute(const std::string& s) {
  static const std::set<std::string> names = {
      "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
      "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
      "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule",
      "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
      "named_modules", "named_parameters", "parameters", "register_backward_hook",
      "register_buffer", "register_forward_hook", "register_forward_pre_hook",
      "register_full_backward_hook", "register_full_backward_pre_hook",
      "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
      "register_module", "register_parameter", "register_state_dict_post_hook",
      "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
      "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
      "zero_grad", "_apply", "_backward_hooks", "_buffers", "_call_impl", "_forward_hooks",
      "_forward_pre_hooks", "_get_name", "_load_from_state_dict", "_modules", "_named_members",
      "_non_persistent_buffers_set", "_parameters", "_save_to_state_dict", "_slow_forward",
      "_state_dict_hooks", "_version"};
  return names.count(s) != 0 || (s.size() > 4 && s.compare(0, 2, "__") == 0 &&
                                 s.compare(s.size() - 2, 2, "__") == 0);
}

// "caformer_s18" -> "CaformerS18", "vit_tiny_patch16_224" -> "VitTinyPatch16_224".
std::string camel(const std::string& s) {
  std::vector<std::string> parts(1);
  for (const char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80)
      parts.back() += c;
    else if (!parts.back().empty())
      parts.emplace_back();
  }
  std::string out;
  for (std::string p : parts) {
    if (p.empty()) continue;
    p[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(p[0])));
    if (!out.empty() && std::isdigit(static_cast<unsigned char>(out.back())) &&
        std::isdigit(static_cast<unsigned char>(p[0])))
      out += '_';
    out += p;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "Model" + out;
  return out;
}

std::string tuple_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

std::string list_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// `name(arg, arg, ...)` on one line when it fits in kLineWidth after `lead` columns, else with
// the arguments packed on lines of their own, indented by `indent` + 4.
std::string call(const std::string& name, const std::vector<std::string>& args, size_t lead,
                 size_t indent) {
  std::string one = name + "(";
  for (size_t i = 0; i < args.size(); ++i) one += (i ? ", " : "") + args[i];
  one += ")";
  if (lead + one.size() <= kLineWidth || args.empty()) return one;
  const std::string pad(indent + 4, ' ');
  std::string out = name + "(\n" + pad;
  size_t col = pad.size();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string piece = args[i] + ",";
    if (col > pad.size() && col + 1 + piece.size() > kLineWidth) {
      out += "\n" + pad;
      col = pad.size();
    } else if (col > pad.size()) {
      out += ' ';
      ++col;
    }
    out += piece;
    col += piece.size();
  }
  return out + "\n" + std::string(indent, ' ') + ")";
}

std::string indent_lines(const std::string& text, size_t n) {
  const std::string pad(n, ' ');
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    out += (line.empty() ? "" : pad) + line + "\n";
    start = end + 1;
  }
  return out;
}

// ---- Built-in block classes ---------------------------------------------------------------------

const PyEntry* entry(const std::string& id) {
  for (const PyEntry& e : python_library())
    if (e.id == id) return &e;
  return nullptr;
}

const PyEntry* block_class(const std::string& kind) {
  for (const PyEntry& e : python_library())
    if (!e.kind.empty() && e.kind == kind) return &e;
  return nullptr;
}

// A block class's text with its markers filled from the registry (torch_library.h).
std::string expand_block_class(const PyEntry& e) {
  const OpDef& def = op_def(e.kind);
  std::string init = "    def __init__(\n        self,\n";
  for (const AttrSpec& s : def.attrs) {
    std::string line = "        " + s.name + "=" + py_value(s.def) + ",";
    if (!s.help.empty()) line += "  # " + s.help;
    init += line + "\n";
  }
  init += "    ):";
  std::string kwargs;
  {
    std::vector<std::string> args;
    for (const AttrSpec& s : op_def("metaformer_block").attrs)
      if (s.name != "dim") args.push_back(s.name + "=" + s.name + ",");
    std::string line;
    for (const std::string& a : args) {
      if (!line.empty() && 16 + line.size() + 1 + a.size() > kLineWidth) {
        kwargs += std::string(16, ' ') + line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + a;
    }
    kwargs += std::string(16, ' ') + line;
  }
  std::string text = e.text;
  auto fill = [&](const std::string& marker, const std::string& with) {
    const size_t at = text.find(marker);
    if (at != std::string::npos) text.replace(at, marker.size(), with);
  };
  fill("@doc", "    \"\"\"" + def.help + "\"\"\"\n");
  fill("@init", init);
  fill("@block_kwargs", kwargs);
  return text;
}

// Whether the subtree at `a` in `g` is the same as the one at `b` in `h`: names, kinds,
// attributes, children and the wiring inside (not the edges into `a` and `b` themselves).
bool same_subtree(const Graph& g, NodeId a, const Graph& h, NodeId b) {
  std::map<NodeId, NodeId> map{{a, b}};
  std::vector<std::pair<NodeId, NodeId>> pairs{{a, b}};
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Node& x = g.node(pairs[i].first);
    const Node& y = h.node(pairs[i].second);
    if (x.name != y.name || x.kind != y.kind || !(x.attrs == y.attrs) ||
        x.children.size() != y.children.size() || x.inputs.size() != y.inputs.size() ||
        x.outputs.size() != y.outputs.size())
      return false;
    for (size_t c = 0; c < x.children.size(); ++c) {
      map[x.children[c]] = y.children[c];
      pairs.push_back({x.children[c], y.children[c]});
    }
  }
  auto same_ref = [&](const PortRef& p, const PortRef& q) {
    if (p.connected() != q.connected() || p.port != q.port || p.group_input != q.group_input)
      return false;
    if (!p.connected()) return true;
    const auto it = map.find(p.node);
    return it != map.end() && it->second == q.node;
  };
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Node& x = g.node(pairs[i].first);
    const Node& y = h.node(pairs[i].second);
    for (size_t k = 0; k < x.outputs.size(); ++k)
      if (!same_ref(x.outputs[k], y.outputs[k])) return false;
    if (i == 0) continue;
    for (size_t k = 0; k < x.inputs.size(); ++k)
      if (!same_ref(x.inputs[k], y.inputs[k])) return false;
  }
  return true;
}

// Whether node `id` is a built-in block whose children are what its attributes build.
bool builds_as_its_class(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (!block_class(n.kind)) return false;
  Graph scratch;
  NodeId fresh = kNoNode;
  try {
    fresh = scratch.add(kNoNode, n.kind, n.name, n.attrs);
  } catch (const Error&) {
    return false;
  }
  return same_subtree(g, id, scratch, fresh);
}

// ---- The file ------------------------------------------------------------------------------------

// A value a forward computes: output `port` of `node`, or input `port` of the class's module.
struct Value {
  NodeId node = kNoNode;
  int port = 0;
  bool module_input = false;
  bool operator<(const Value& o) const {
    return std::tie(module_input, node, port) < std::tie(o.module_input, o.node, o.port);
  }
};

class TorchWriter {
 public:
  TorchWriter(const Graph& g, const Analysis& a, const ExportInfo& info)
      : g_(g), a_(a), info_(info) {
    for (size_t i = 0; i < a.params.size(); ++i) params_of_[a.params[i].node].push_back(int(i));
    for (const PyEntry& e : python_library()) taken_.insert(e.id);
    for (const char* n : {"torch", "nn", "F", "ast", "json", "math", "os", "struct", "sys",
                          "main", "Model", "SAFETENSORS_DTYPES", "NPY_DTYPES", "load_npy",
                          "save_npy", "load_safetensors"})
      taken_.insert(n);
  }

  std::string source() {
    model_class_ = unique_class_name(camel(info_.model_name));
    const std::string model = generic_class(kNoNode, model_class_);
    need("init_weights");
    need("io");
    std::string out = header();
    out += "import ast\nimport json\nimport math\nimport os\nimport struct\nimport sys\n\n";
    out += "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n";
    if (ordered_dict_) out.insert(out.find("import ast"), "from collections import OrderedDict\n");
    // The library entries needed, with what they use, in the library's order.
    std::set<std::string> all;
    std::vector<std::string> todo(needed_.begin(), needed_.end());
    while (!todo.empty()) {
      const std::string id = todo.back();
      todo.pop_back();
      if (!all.insert(id).second) continue;
      for (const std::string& u : entry(id)->uses) todo.push_back(u);
    }
    std::string io;
    for (const PyEntry& e : python_library()) {
      if (!all.count(e.id)) continue;
      const std::string text = e.kind.empty() ? e.text : expand_block_class(e);
      if (e.id == "io")
        io = text;
      else
        out += "\n\n" + text;
    }
    for (const std::string& c : classes_) out += "\n\n" + c;
    out += "\n\n" + model;
    out += "\n\n# -- weights and arrays (torch only) " + std::string(63, '-') + "\n\n" + io;
    out += "\n\n" + main_function();
    return out;
  }

 private:
  // ---- names
  std::string unique_class_name(std::string name) {
    const std::string base = name;
    for (int k = 2; taken_.count(name); ++k) name = base + "_" + std::to_string(k);
    taken_.insert(name);
    return name;
  }

  void need(const std::string& id) {
    if (!entry(id)) throw Error("PyTorch export: no Python entry '" + id + "'");
    needed_.insert(id);
  }

  std::string where(NodeId id) const {
    if (id == kNoNode) return "the model";
    const std::string p = g_.path(id);
    return p.empty() ? g_.node(id).kind : p;
  }

  // A node's name as a PyTorch module or parameter name (refused where PyTorch refuses it).
  void check_module_name(NodeId id, const std::string& name) const {
    if (name.find('.') != std::string::npos)
      throw Error(where(id) + ": the name '" + name +
                  "' has a '.', which a PyTorch module name cannot have; rename the node");
    if (is_module_attribute(name))
      throw Error(where(id) + ": '" + name +
                  "' is an attribute of every nn.Module, so no submodule can be named so; rename "
                  "the node");
  }

  static std::string member(const std::string& name) {
    return is_identifier(name) ? "self." + name : "getattr(self, " + py_str(name) + ")";
  }
  static std::string register_member(const std::string& name, const std::string& expr) {
    return is_identifier(name) ? "self." + name + " = " + expr
                               : "self.add_module(" + py_str(name) + ", " + expr + ")";
  }

  // ---- parameters of a node
  // A node's parameters by local name, in their ParamsFn order.
  std::vector<std::pair<std::string, const ParamInfo*>> local_params(NodeId id) const {
    std::vector<std::pair<std::string, const ParamInfo*>> out;
    const auto it = params_of_.find(id);
    if (it == params_of_.end()) return out;
    const std::string base = g_.path(id);
    for (int i : it->second) {
      const ParamInfo& p = a_.params[i];
      out.emplace_back(base.empty() ? p.name : p.name.substr(base.size() + 1), &p);
    }
    return out;
  }

  static std::string init_expr(const ParamInfo& p) {
    const std::string dims = tuple_str(p.shape);
    const std::string args = dims.substr(1, dims.size() - 2 - (p.shape.size() == 1 ? 1 : 0));
    switch (p.init) {
      case InitKind::TruncNormal:
        return "nn.init.trunc_normal_(torch.empty(" + args + "), std=" + py_float(p.value) +
               ", a=-2.0, b=2.0)";
      case InitKind::Normal:
        return "nn.init.normal_(torch.empty(" + args + "), std=" + py_float(p.value) + ")";
      case InitKind::Zeros: return "torch.zeros(" + args + ")";
      case InitKind::Ones: return "torch.ones(" + args + ")";
      case InitKind::Constant: return "torch.full(" + dims + ", " + py_float(p.value) + ")";
      case InitKind::RandomSoftmax: return "torch.rand(" + args + ").softmax(dim=-1)";
    }
    return "torch.zeros(" + args + ")";
  }

  // ---- leaf ops
  // The module expression of a leaf with parameters (or of any leaf in an nn.Sequential); ""
  // when the op has no module form (add, to_nchw: two inputs).
  std::string leaf_module(const Node& n) {
    const Attrs& a = n.attrs;
    const std::string& k = n.kind;
    auto I = [&](const char* name) { return std::to_string(a.i(name)); };
    auto Fl = [&](const char* name) { return py_float(a.f(name)); };
    if (k == "conv2d") {
      std::vector<std::string> args = {I("in_channels"), I("out_channels"), I("kernel")};
      if (a.i("stride") != 1) args.push_back("stride=" + I("stride"));
      if (a.i("padding") != 0) args.push_back("padding=" + I("padding"));
      if (a.i("groups") != 1) args.push_back("groups=" + I("groups"));
      if (!a.b("bias")) args.push_back("bias=False");
      return call("nn.Conv2d", args, 0, 0);
    }
    if (k == "linear")
      return call("nn.Linear",
                  a.b("bias") ? std::vector<std::string>{I("in_features"), I("out_features")}
                              : std::vector<std::string>{I("in_features"), I("out_features"),
                                                         "bias=False"},
                  0, 0);
    if (k == "group_norm") {
      const std::string args = I("groups") + ", " + I("channels") + ", eps=" + Fl("eps");
      if (!a.b("affine")) return "nn.GroupNorm(" + args + ", affine=False)";
      if (a.b("bias")) return "nn.GroupNorm(" + args + ")";
      need("GroupNormNoBias");
      return "GroupNormNoBias(" + args + ")";
    }
    if (k == "layer_norm2d") {
      need("LayerNorm2d");
      return "LayerNorm2d(" + I("channels") + ", eps=" + Fl("eps") +
             (a.b("bias") ? "" : ", bias=False") + ")";
    }
    if (k == "layer_norm") {
      if (a.b("bias")) return "nn.LayerNorm(" + I("channels") + ", eps=" + Fl("eps") + ")";
      need("LayerNormNoBias");
      return "LayerNormNoBias(" + I("channels") + ", eps=" + Fl("eps") + ")";
    }
    if (k == "gelu") return "nn.GELU()";
    if (k == "relu") return "nn.ReLU()";
    if (k == "identity") return "nn.Identity()";
    if (k == "dropout") return "nn.Dropout(" + Fl("p") + ")";
    if (k == "avg_pool2d")
      return "nn.AvgPool2d(" + I("kernel") + ", " + I("stride") + ", " + I("padding") +
             ", count_include_pad=False)";
    struct Simple {
      const char* kind;
      const char* cls;
      std::vector<const char*> args;
    };
    static const std::vector<Simple> simple = {
        {"squared_relu", "SquaredReLU", {}},
        {"star_relu", "StarReLU", {"scale_init", "bias_init"}},
        {"drop_path", "DropPath", {"p"}},
        {"pool_mixer", "Pooling", {"pool_size"}},
        {"global_avg_pool", "GlobalAvgPool", {}},
        {"to_tokens", "ToTokens", {}},
        {"select_token", "SelectToken", {"index"}},
        {"self_attention", "SelfAttention", {"heads", "head_dim"}},
        {"random_mixing", "RandomMixing", {"num_tokens"}},
        {"scale", "Scale", {"dim", "init_value", "layout"}},
        {"cls_pos_embed", "ClsPosEmbed", {"dim", "num_patches"}},
    };
    for (const Simple& s : simple) {
      if (k != s.kind) continue;
      need(s.cls);
      std::vector<std::string> args;
      for (const char* name : s.args) args.push_back(py_value(a.get(name)));
      return call(s.cls, args, 0, 0);
    }
    return "";
  }

  // The inline expression of a leaf: `in` are its inputs' variables, `p` its parameters'
  // expressions by local name (absent: None).
  std::string leaf_call(NodeId id, const Node& n, const std::vector<std::string>& in,
                        const std::map<std::string, std::string>& p) {
    const Attrs& a = n.attrs;
    const std::string& k = n.kind;
    auto P = [&](const char* name) {
      const auto it = p.find(name);
      return it == p.end() ? std::string("None") : it->second;
    };
    auto I = [&](const char* name) { return std::to_string(a.i(name)); };
    auto Fl = [&](const char* name) { return py_float(a.f(name)); };
    auto fn = [&](const char* f, std::vector<std::string> args) {
      need(f);
      return call(f, args, 0, 0);
    };
    const std::string x = in.empty() ? "" : in[0];
    if (k == "conv2d") {
      std::vector<std::string> args = {x, P("weight"), P("bias")};
      if (a.i("stride") != 1) args.push_back("stride=" + I("stride"));
      if (a.i("padding") != 0) args.push_back("padding=" + I("padding"));
      if (a.i("groups") != 1) args.push_back("groups=" + I("groups"));
      return call("F.conv2d", args, 0, 0);
    }
    if (k == "linear") return "F.linear(" + x + ", " + P("weight") + ", " + P("bias") + ")";
    if (k == "avg_pool2d")
      return "F.avg_pool2d(" + x + ", " + I("kernel") + ", " + I("stride") + ", " + I("padding") +
             ", count_include_pad=False)";
    if (k == "pool_mixer") return fn("pool_mixer", {x, I("pool_size")});
    if (k == "global_avg_pool") return x + ".mean((2, 3))";
    if (k == "group_norm")
      return "F.group_norm(" + x + ", " + I("groups") + ", " + P("weight") + ", " + P("bias") +
             ", " + Fl("eps") + ")";
    if (k == "layer_norm2d") return fn("layer_norm2d", {x, P("weight"), P("bias"), Fl("eps")});
    if (k == "layer_norm")
      return "F.layer_norm(" + x + ", (" + I("channels") + ",), " + P("weight") + ", " +
             P("bias") + ", " + Fl("eps") + ")";
    if (k == "gelu") return "F.gelu(" + x + ")";
    if (k == "relu") return "F.relu(" + x + ")";
    if (k == "squared_relu") return fn("squared_relu", {x});
    if (k == "star_relu") return fn("star_relu", {x, P("scale"), P("bias")});
    if (k == "self_attention") return fn("self_attention", {x, I("heads"), I("head_dim")});
    if (k == "random_mixing") return fn("random_mixing", {x, P("random_matrix")});
    if (k == "identity") return x;
    if (k == "scale")
      return fn("scale_channels",
                {x, P("scale"), a.s("layout") == "channels_first" ? "True" : "False"});
    if (k == "add") return in[0] + " + " + in[1];
    if (k == "to_tokens") return fn("to_tokens", {x});
    if (k == "to_nchw") return fn("to_nchw", {in[0], in[1]});
    if (k == "cls_pos_embed") return fn("cls_pos_embed", {x, P("cls_token"), P("pos_embed")});
    if (k == "select_token") return x + "[:, " + I("index") + "]";
    if (k == "dropout") return "F.dropout(" + x + ", " + Fl("p") + ", self.training)";
    if (k == "drop_path") return fn("drop_path", {x, Fl("p"), "self.training"});
    throw Error(where(id) + ": op '" + k + "' has no PyTorch mapping");
  }

  // ---- modules
  bool is_leaf(const Node& n) const { return op_def(n.kind).cls == OpClass::Leaf; }
  static bool has_module_form(const std::string& kind) {
    return kind != "add" && kind != "to_nchw" && kind != "input" && kind != "output";
  }
  bool transparent(const Node& n) const { return n.name.empty() && !is_leaf(n); }

  // Whether group `id`'s children form a chain that an nn.Sequential runs.
  bool is_chain(NodeId id) {
    const Node& grp = g_.node(id);
    if (grp.children.empty() || grp.outputs.size() != 1) return false;
    std::set<std::string> names;
    PortRef prev{id, 0, true};
    for (NodeId c : grp.children) {
      const Node& n = g_.node(c);
      if (n.name.empty() || !names.insert(n.name).second || n.inputs.size() != 1 ||
          op_def(n.kind).outputs.size() != 1 || !(n.inputs[0] == prev))
        return false;
      if (is_leaf(n) && !has_module_form(n.kind)) return false;
      prev = PortRef{c, 0, false};
    }
    return grp.outputs[0] == prev;
  }

  // The expression that builds node `id` as a module; continuation lines are indented by
  // `indent`, and the first line starts `lead` columns in.
  std::string module_expr(NodeId id, size_t lead, size_t indent) {
    const Node& n = g_.node(id);
    if (is_leaf(n)) {
      const std::string m = leaf_module(n);
      if (m.empty()) throw Error(where(id) + ": op '" + n.kind + "' has no PyTorch module form");
      return m;
    }
    if (const PyEntry* e = block_class(n.kind); e && builds_as_its_class(g_, id)) {
      need(e->id);
      // The leading integer attributes (sizes: dim, depth, channels...) always, the others where
      // they differ from the default.
      std::vector<std::string> args;
      bool leading = true;
      for (const AttrSpec& s : op_def(n.kind).attrs) {
        leading = leading && s.type == AttrType::Int;
        if (leading || !(n.attrs.get(s.name) == s.def))
          args.push_back(s.name + "=" + py_value(n.attrs.get(s.name)));
      }
      return call(e->id, args, lead, indent);
    }
    if (is_chain(id)) {
      bool numbered = true;
      for (size_t i = 0; i < n.children.size(); ++i)
        numbered = numbered && g_.node(n.children[i]).name == std::to_string(i);
      const std::string pad(indent + 4, ' ');
      std::vector<std::string> items;
      for (NodeId c : n.children) {
        check_module_name(c, g_.node(c).name);
        if (numbered) {
          items.push_back(module_expr(c, pad.size(), pad.size()));
        } else {
          const std::string head = "(" + py_str(g_.node(c).name) + ", ";
          items.push_back(head + module_expr(c, pad.size() + head.size(), pad.size()) + ")");
        }
      }
      // Children that are all alike: one expression and their count.
      if (numbered && items.size() > 1 &&
          std::all_of(items.begin(), items.end(), [&](const std::string& s) { return s == items[0]; }) &&
          items[0].find('\n') == std::string::npos) {
        const std::string one = "nn.Sequential(*[" + items[0] + " for _ in range(" +
                                std::to_string(items.size()) + ")])";
        if (lead + one.size() <= kLineWidth) return one;
      }
      std::string out = numbered ? "nn.Sequential(\n" : "nn.Sequential(OrderedDict([\n";
      for (const std::string& item : items) out += pad + item + ",\n";
      ordered_dict_ = ordered_dict_ || !numbered;
      return out + std::string(indent, ' ') + (numbered ? ")" : "]))");
    }
    std::string name = camel(n.name.empty() ? n.kind : g_.path(id));
    name = unique_class_name(name);
    classes_.push_back(generic_class(id, name));
    return name + "()";
  }

  // The children of `owner` that its class registers or computes, anonymous groups opened.
  void collect_items(NodeId owner, std::vector<NodeId>& items) const {
    for (NodeId c : g_.children(owner)) {
      if (transparent(g_.node(c)))
        collect_items(c, items);
      else
        items.push_back(c);
    }
  }

  // What `ref`, read inside `parent`, is in the class of `owner` (anonymous groups looked
  // through).
  Value resolve(const PortRef& ref, NodeId owner) const {
    if (!ref.connected()) throw Error("PyTorch export: an unconnected port in a valid graph");
    if (ref.group_input) {
      if (ref.node == owner) return Value{kNoNode, ref.port, true};
      const Node& grp = g_.node(ref.node);
      return resolve(grp.inputs.at(ref.port), owner);
    }
    const Node& n = g_.node(ref.node);
    if (transparent(n)) return resolve(n.outputs.at(ref.port), owner);
    return Value{ref.node, ref.port, false};
  }

  // The class of node `owner` (kNoNode: the model): its children registered in __init__ and
  // called in forward in a topological order.
  std::string generic_class(NodeId owner, const std::string& cls) {
    const bool root = owner == kNoNode;
    std::vector<NodeId> items;
    collect_items(owner, items);

    // Inputs of each item, resolved; how often each value is read.
    std::map<NodeId, std::vector<Value>> ins;
    std::map<Value, int> uses;
    std::vector<NodeId> graph_inputs, graph_outputs;
    for (NodeId id : items) {
      const Node& n = g_.node(id);
      if (n.kind == "input") graph_inputs.push_back(id);
      if (n.kind == "output") graph_outputs.push_back(id);
      for (const PortRef& r : n.inputs) {
        ins[id].push_back(resolve(r, owner));
        ++uses[ins[id].back()];
      }
    }
    std::vector<Value> results;
    if (root) {
      for (NodeId o : graph_outputs) results.push_back(ins[o].at(0));
    } else {
      for (const PortRef& r : g_.node(owner).outputs) results.push_back(resolve(r, owner));
    }
    for (const Value& v : results) ++uses[v];

    // Topological order, ties in registration order.
    std::vector<NodeId> order;
    {
      std::set<NodeId> done;
      std::vector<bool> placed(items.size(), false);
      while (order.size() < items.size()) {
        bool progress = false;
        for (size_t i = 0; i < items.size(); ++i) {
          if (placed[i]) continue;
          bool ready = true;
          for (const Value& v : ins[items[i]])
            ready = ready && (v.module_input || done.count(v.node));
          if (!ready) continue;
          placed[i] = true;
          done.insert(items[i]);
          order.push_back(items[i]);
          progress = true;
          break;
        }
        if (!progress) throw Error(where(owner) + ": a cycle; the graph should have been refused");
      }
    }

    // __init__: the members (named children with parameters or inside), and the parameters of
    // anonymous leaves, registered on this module.
    std::vector<std::string> init;
    std::set<std::string> names;
    auto claim = [&](NodeId id, const std::string& name) {
      check_module_name(id, name);
      if (!names.insert(name).second)
        throw Error(where(id) + ": a second module or parameter named '" + name + "' in " +
                    (root ? std::string("the model") : where(owner)) + "; rename one of them");
    };
    std::set<NodeId> members;
    std::map<NodeId, std::map<std::string, std::string>> inline_params;
    for (NodeId id : items) {
      const Node& n = g_.node(id);
      if (!is_leaf(n)) {
        claim(id, n.name);
        const std::string lead = "        " + register_member(n.name, "");
        init.push_back(register_member(n.name, module_expr(id, lead.size(), 8)));
        members.insert(id);
        continue;
      }
      const auto params = local_params(id);
      if (params.empty()) continue;
      if (!n.name.empty()) {
        claim(id, n.name);
        init.push_back(register_member(n.name, module_expr(id, 0, 8)));
        members.insert(id);
        continue;
      }
      for (const auto& [local, p] : params) {
        claim(id, local);
        const std::string value = init_expr(*p);
        init.push_back("self." + local + " = nn.Parameter(" + value +
                       (p->trainable ? "" : ", requires_grad=False") + ")");
        inline_params[id][local] = "self." + local;
      }
    }

    // forward: one variable per value; `x` is reused once the value it holds is read for the
    // last time.
    std::map<Value, std::string> var;
    std::set<std::string> vars = {"x", "self"};
    for (const std::string& t : taken_) vars.insert(t);
    auto fresh_var = [&](const std::string& name) {
      std::string base;
      for (const char c : name)
        base += (std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80)
                    ? c
                    : '_';
      if (base.empty() || std::isdigit(static_cast<unsigned char>(base[0]))) base = "x" + base;
      if (is_keyword(base)) base += "_";
      std::string v = base;
      for (int k = 2; vars.count(v); ++k) v = base + "_" + std::to_string(k);
      vars.insert(v);
      return v;
    };
    std::vector<std::string> args;
    if (root) {
      for (NodeId id : graph_inputs) {
        const std::string v = graph_inputs.size() == 1 ? "x" : fresh_var(g_.node(id).name);
        var[Value{id, 0, false}] = v;
        args.push_back(v);
      }
    } else {
      var[Value{kNoNode, 0, true}] = "x";
      args.push_back("x");
    }
    std::map<std::string, Value> holder;  // variable -> the value it holds now
    for (const auto& [v, name] : var) holder[name] = v;
    std::vector<std::string> body;
    for (NodeId id : order) {
      const Node& n = g_.node(id);
      if (n.kind == "input" || n.kind == "output") continue;
      std::vector<std::string> in;
      for (const Value& v : ins[id]) {
        const auto it = var.find(v);
        if (it == var.end()) throw Error(where(id) + ": an input read before it is computed");
        in.push_back(it->second);
        --uses[v];
      }
      std::string expr;
      if (members.count(id)) {
        std::string list;
        for (const std::string& s : in) list += (list.empty() ? "" : ", ") + s;
        expr = member(n.name) + "(" + list + ")";
      } else {
        expr = leaf_call(id, n, in, inline_params[id]);
      }
      const Value out{id, 0, false};
      std::string name;
      const auto x = holder.find("x");
      if (x == holder.end() || uses[x->second] <= 0)
        name = "x";
      else
        name = fresh_var(n.name.empty() ? n.kind : n.name);
      var[out] = name;
      holder[name] = out;
      body.push_back(name + " = " + expr);
    }
    std::string ret;
    for (const Value& v : results) {
      const auto it = var.find(v);
      if (it == var.end()) throw Error(where(owner) + ": an output that nothing computes");
      ret += (ret.empty() ? "" : ", ") + it->second;
    }

    // The text.
    std::string doc;
    if (root) {
      doc = info_.model_name + ", as Formwork builds it.";
    } else {
      const Node& n = g_.node(owner);
      doc = g_.path(owner) + " (" + n.kind +
            (block_class(n.kind) ? ", its children edited since its attributes built them" : "") +
            "): its children, in order.";
    }
    // The docstring, wrapped at kLineWidth.
    std::string wrapped, line = "    \"\"\"";
    size_t start = 0;
    bool empty = true;
    while (start < doc.size()) {
      size_t end = doc.find(' ', start);
      if (end == std::string::npos) end = doc.size();
      const std::string word = doc.substr(start, end - start);
      if (!empty && line.size() + 1 + word.size() > kLineWidth - 3) {
        wrapped += line + "\n";
        line = "    " + word;
      } else {
        line += (empty ? "" : " ") + word;
      }
      empty = false;
      start = end + 1;
    }
    wrapped += line + "\"\"\"\n";
    std::string out = "class " + cls + "(nn.Module):\n" + wrapped + "\n";
    if (root && graph_inputs.size() == 1) {
      const NodeInfo* in = a_.of(graph_inputs[0]);
      if (in && !in->out.empty())
        out += "    input_size = " + tuple_str(in->out[0]) + "  # C, H, W of one sample\n\n";
    }
    out += "    def __init__(self):\n        super().__init__()\n";
    for (const std::string& line : init) out += "        " + line + "\n";
    if (root) out += "        self.apply(init_weights)\n";
    std::string sig;
    for (const std::string& s : args) sig += ", " + s;
    out += "\n    def forward(self" + sig + "):\n";
    for (const std::string& line : body) out += indent_lines(line, 8);
    out += "        return " + (ret.empty() ? std::string("None") : ret) + "\n";
    return out;
  }

  // ---- header and __main__
  std::string header() const {
    std::string template_name;
    if (g_.meta.has("template")) template_name = attr_to_string(g_.meta.get("template"));
    Shape in, out;
    for (NodeId id : g_.top_level_of_kind("input"))
      if (const NodeInfo* ni = a_.of(id); ni && !ni->out.empty()) in = ni->out[0];
    for (NodeId id : g_.top_level_of_kind("output"))
      if (const NodeInfo* ni = a_.of(id); ni && !ni->in.empty()) out = ni->in[0];
    std::string s = "\"\"\"" + info_.model_name + " as a PyTorch module.\n\n";
    s += "Written by Formwork " + info_.producer_version + " (`formwork export ... --torch`) from the graph\n" +
         info_.model_name +
         (template_name.empty() || template_name == info_.model_name
              ? std::string()
              : " (template " + template_name + ")") +
         ": input " + list_str(in) + " per sample, output " + list_str(out) + ", " +
         format_count(a_.total_params) + " parameters (" + format_count(a_.total_trainable) +
         " trainable).\n\n";
    s += "The model class is " + model_class_ +
         ". Its state_dict names and shapes are Formwork's parameter names and\n"
         "shapes, so the weights Formwork writes (`formwork weights export`, `formwork weights "
         "init`)\nload into it as they are. Needs PyTorch (1.13 or later) and nothing else.\n\n";
    s += "Use:\n";
    s += "    python3 THIS_FILE.py W.safetensors X.npy Y.npy\n";
    s += "        loads W strictly, runs X (float32 [B, " +
         (in.size() == 3 ? std::to_string(in[0]) + ", " + std::to_string(in[1]) + ", " +
                               std::to_string(in[2])
                         : std::string("C, H, W")) +
         "]) in evaluation mode, writes the logits\n        (float32 " +
         (out.empty() ? std::string("[B, K]") : "[B, " + list_str(out).substr(1)) +
         ") to Y: what `formwork infer ... --weights W --input X --out Y` writes.\n";
    s += "    from THIS_FILE import " + model_class_ + ", load_safetensors\n";
    s += "    model = " + model_class_ + "()\n";
    s += "    model.load_state_dict(load_safetensors(\"W.safetensors\"))\n";
    s += "\"\"\"\n";
    return s;
  }

  // The file's command line: `python3 F.py W X Y` ("@model": the model's class).
  std::string main_function() const {
    std::string s = R"PY(def main(argv):
    prog = os.path.basename(argv[0])
    if len(argv) != 4:
        print(f"usage: python3 {prog} WEIGHTS.safetensors INPUT.npy OUTPUT.npy\n"
              f"runs @model with WEIGHTS on INPUT (float32 [B, C, H, W]) and writes its "
              f"logits (float32) to OUTPUT", file=sys.stderr)
        return 2
    weights, inputs, outputs = argv[1:]
    try:
        model = @model()
        model.load_state_dict(load_safetensors(weights), strict=True)
        model.eval()
        x = load_npy(inputs)
        if x.dim() != 4 or tuple(x.shape[1:]) != tuple(model.input_size):
            want = ["B", *model.input_size]
            raise ValueError(f"{inputs}: an input of shape {list(x.shape)}; the model takes {want}")
        with torch.no_grad():
            y = model(x)
        save_npy(outputs, y)
    except OSError as e:
        print(f"{prog}: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError, KeyError) as e:
        message = " ".join(str(e).split())
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 1
    print(f"wrote {outputs}: logits {list(y.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
)PY";
    for (size_t at = s.find("@model"); at != std::string::npos; at = s.find("@model", at))
      s.replace(at, 6, model_class_);
    return s;
  }

  const Graph& g_;
  const Analysis& a_;
  const ExportInfo& info_;
  std::map<NodeId, std::vector<int>> params_of_;
  std::set<std::string> needed_;     // library entries used
  std::set<std::string> taken_;      // class and function names at module level
  std::vector<std::string> classes_;  // the classes written for nodes, innermost first
  std::string model_class_;
  bool ordered_dict_ = false;
};

}  // namespace

std::string torch_module_source(const Graph& g, const Analysis& a, const ExportInfo& info) {
  require_valid(a);
  if (g.top_level_of_kind("input").size() != 1 || g.top_level_of_kind("output").size() != 1)
    throw Error("PyTorch export takes a graph with one input and one output node (this one has " +
                std::to_string(g.top_level_of_kind("input").size()) + " and " +
                std::to_string(g.top_level_of_kind("output").size()) + ")");
  return TorchWriter(g, a, info).source();
}

}  // namespace fw
