#include "nas/space.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/analysis.h"
#include "core/error.h"
#include "core/format.h"
#include "core/registry.h"

namespace fw {

namespace {

using json = nlohmann::ordered_json;

json value_json(const AttrValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return std::get<std::string>(v);
}

AttrValue json_value(const json& j, const std::string& where) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_unsigned()) {
    if (j.get<uint64_t>() > uint64_t(INT64_MAX))
      throw Error(where + ": value " + j.dump() + " is too large");
    return int64_t(j.get<uint64_t>());
  }
  if (j.is_number_float()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  throw Error(where + ": value " + j.dump() + " is not a number, a boolean or a string");
}

std::string value_text(const AttrValue& v) {
  if (std::holds_alternative<std::string>(v)) return "'" + std::get<std::string>(v) + "'";
  return attr_to_string(v);
}

const char* type_name(AttrType t) {
  switch (t) {
    case AttrType::Int:
      return "an int";
    case AttrType::Float:
      return "a number";
    case AttrType::Bool:
      return "true or false";
    case AttrType::Choice:
      return "a string";
    case AttrType::String:
      return "a string";
  }
  return "?";
}

// The value converted to the attribute's type, or an error naming it.
AttrValue typed_value(const AttrSpec& spec, const AttrValue& v, const std::string& label) {
  const auto bad_type = [&] {
    return Error("search space: " + label + ": value " + value_text(v) + " is not " +
                 type_name(spec.type));
  };
  AttrValue out;
  switch (spec.type) {
    case AttrType::Int:
      if (const auto* i = std::get_if<int64_t>(&v))
        out = *i;
      else if (const auto* d = std::get_if<double>(&v);
               d && std::isfinite(*d) && *d == std::floor(*d) && std::fabs(*d) < 9e15)
        out = int64_t(*d);
      else
        throw bad_type();
      break;
    case AttrType::Float:
      if (const auto* i = std::get_if<int64_t>(&v))
        out = double(*i);
      else if (const auto* d = std::get_if<double>(&v); d && std::isfinite(*d))
        out = *d;
      else
        throw bad_type();
      break;
    case AttrType::Bool:
      if (!std::holds_alternative<bool>(v)) throw bad_type();
      out = v;
      break;
    case AttrType::Choice:
    case AttrType::String:
      if (!std::holds_alternative<std::string>(v)) throw bad_type();
      out = v;
      break;
  }
  if ((spec.type == AttrType::Int || spec.type == AttrType::Float) && spec.min != spec.max) {
    const double x =
        spec.type == AttrType::Int ? double(std::get<int64_t>(out)) : std::get<double>(out);
    if (x < spec.min || x > spec.max)
      throw Error("search space: " + label + ": value " + attr_to_string(out) + " is outside " +
                  format_number(spec.min) + ".." + format_number(spec.max));
  }
  if (spec.type == AttrType::Choice) {
    const std::string& s = std::get<std::string>(out);
    if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
      std::string list;
      for (const std::string& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
      throw Error("search space: " + label + ": '" + s + "' is not one of " + list);
    }
  }
  return out;
}

// Attribute names that hold the width a node takes in, and the width it gives out.
constexpr const char* kInWidth[] = {"in_dim", "in_channels", "in_features"};
constexpr const char* kOutWidth[] = {"dim", "out_channels"};

bool has_attr(const Node& n, const char* a) { return n.attrs.has(a); }

// Consumers of output `port` of `id`, seen through group boundaries: a consumer that is a group
// stands for its children reading that input; a group's output stands for its own consumers.
void reach_consumers(const Graph& g, NodeId id, int port, std::vector<std::pair<NodeId, int>>& out,
                     int depth = 0) {
  if (depth > 64) return;
  for (const auto& [c, cp] : g.consumers(id, port)) {
    const Node& cn = g.node(c);
    const OpDef& def = op_def(cn.kind);
    if (def.cls == OpClass::Group) {
      for (NodeId ch : cn.children) {
        const Node& chn = g.node(ch);
        for (size_t i = 0; i < chn.inputs.size(); ++i)
          if (chn.inputs[i].group_input && chn.inputs[i].node == c && chn.inputs[i].port == cp)
            out.push_back({ch, int(i)});
      }
    } else {
      out.push_back({c, cp});
    }
  }
  // As the output of its enclosing group.
  const Node& n = g.node(id);
  if (n.parent != kNoNode) {
    const Node& parent = g.node(n.parent);
    for (size_t o = 0; o < parent.outputs.size(); ++o)
      if (!parent.outputs[o].group_input && parent.outputs[o].node == id &&
          parent.outputs[o].port == port && op_def(parent.kind).cls == OpClass::Group)
        reach_consumers(g, n.parent, int(o), out, depth + 1);
  }
}

// The producer feeding input `port` of `id`, seen through group boundaries (kNoNode if none).
PortRef reach_producer(const Graph& g, NodeId id, int port, int depth = 0) {
  if (depth > 64) return {};
  const Node& n = g.node(id);
  if (port >= int(n.inputs.size())) return {};
  PortRef p = n.inputs[port];
  if (!p.connected()) return {};
  if (p.group_input) {
    if (op_def(g.node(p.node).kind).cls != OpClass::Group) return {};
    return reach_producer(g, p.node, p.port, depth + 1);
  }
  const Node& prod = g.node(p.node);
  if (op_def(prod.kind).cls == OpClass::Group && p.port < int(prod.outputs.size()))
    return prod.outputs[p.port].connected() && !prod.outputs[p.port].group_input
               ? prod.outputs[p.port]
               : PortRef{};
  return p;
}

int64_t out_width(const Node& n) {
  for (const char* a : kOutWidth)
    if (has_attr(n, a)) return n.attrs.i(a);
  return -1;
}

// Sets what consumes `id`'s output to `width`; norms in between (an attribute "channels") take it
// and pass it on.
void carry_width(Graph& g, NodeId id, int64_t width, int depth = 0) {
  if (depth > 64) return;
  std::vector<std::pair<NodeId, int>> consumers;
  reach_consumers(g, id, 0, consumers);
  for (const auto& [c, cp] : consumers) {
    if (cp != 0) continue;
    const Node& cn = g.node(c);
    bool set = false;
    for (const char* a : kInWidth)
      if (has_attr(cn, a)) {
        if (cn.attrs.i(a) != width) g.set_attr(c, a, width);
        set = true;
        break;
      }
    if (!set && has_attr(cn, "channels")) {
      if (cn.attrs.i("channels") != width) g.set_attr(c, "channels", width);
      carry_width(g, c, width, depth + 1);
    }
  }
}

}  // namespace

// ---- SearchSpace
// ----------------------------------------------------------------------------------

double SearchSpace::size() const {
  if (choices.empty()) return 0;
  double n = 1;
  for (const SpaceChoice& c : choices) n *= double(c.values.size());
  return n;
}

int SearchSpace::find(const std::string& node, const std::string& attr) const {
  for (size_t i = 0; i < choices.size(); ++i)
    if (choices[i].node == node && choices[i].attr == attr) return int(i);
  return -1;
}

std::string SearchSpace::to_json(int indent) const {
  json j;
  j["choices"] = json::array();
  for (const SpaceChoice& c : choices) {
    json v = json::array();
    for (const AttrValue& x : c.values) v.push_back(value_json(x));
    j["choices"].push_back({{"node", c.node}, {"attr", c.attr}, {"values", v}});
  }
  json k = json::object();
  if (constraints.params_max) k["params_max"] = *constraints.params_max;
  if (constraints.macs_max) k["macs_max"] = *constraints.macs_max;
  if (constraints.latency_ms_max) k["latency_ms_max"] = *constraints.latency_ms_max;
  j["constraints"] = k;
  return j.dump(indent);
}

SearchSpace SearchSpace::from_json(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse errors and numbers that do not fit a double
    throw Error(where + ": not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw Error(where + ": expected a JSON object with \"choices\"");
  for (const auto& [k, v] : j.items())
    if (k != "choices" && k != "constraints")
      throw Error(where + ": unknown key '" + k + "' (expected \"choices\" and \"constraints\")");
  SearchSpace s;
  const auto ch = j.find("choices");
  if (ch == j.end() || !ch->is_array()) throw Error(where + ": \"choices\" must be an array");
  int index = 0;
  for (const json& c : *ch) {
    ++index;
    const std::string at = where + ": choice " + std::to_string(index);
    if (!c.is_object()) throw Error(at + " is not an object");
    for (const auto& [k, v] : c.items())
      if (k != "node" && k != "attr" && k != "values")
        throw Error(at + ": unknown key '" + k + "' (expected node, attr, values)");
    SpaceChoice sc;
    if (!c.contains("node") || !c["node"].is_string())
      throw Error(at + ": \"node\" must be a string");
    if (!c.contains("attr") || !c["attr"].is_string())
      throw Error(at + ": \"attr\" must be a string");
    sc.node = c["node"].get<std::string>();
    sc.attr = c["attr"].get<std::string>();
    if (!c.contains("values") || !c["values"].is_array() || c["values"].empty())
      throw Error(at + " (" + sc.label() + "): \"values\" must be a non-empty array");
    for (const json& v : c["values"])
      sc.values.push_back(json_value(v, at + " (" + sc.label() + ")"));
    s.choices.push_back(std::move(sc));
  }
  if (const auto k = j.find("constraints"); k != j.end() && !k->is_null()) {
    if (!k->is_object()) throw Error(where + ": \"constraints\" must be an object");
    for (const auto& [name, v] : k->items()) {
      std::optional<double>* slot = name == "params_max"       ? &s.constraints.params_max
                                    : name == "macs_max"       ? &s.constraints.macs_max
                                    : name == "latency_ms_max" ? &s.constraints.latency_ms_max
                                                               : nullptr;
      if (!slot)
        throw Error(where + ": unknown constraint '" + name +
                    "' (expected params_max, macs_max, latency_ms_max)");
      if (v.is_null()) continue;
      if (!v.is_number()) throw Error(where + ": constraint " + name + " must be a number");
      *slot = v.get<double>();
    }
  }
  return s;
}

// ---- Checking
// -------------------------------------------------------------------------------------

SearchSpace check_space(const Graph& base, const SearchSpace& space) {
  if (space.choices.empty()) throw Error("search space: no choices");
  SearchSpace out = space;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < out.choices.size(); ++i) {
    SpaceChoice& c = out.choices[i];
    const std::string label = c.label();
    if (auto [it, fresh] = seen.emplace(label, i); !fresh)
      throw Error("search space: " + label + " is chosen twice (choices " +
                  std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")");
    const NodeId id = c.node.empty() ? kNoNode : base.find_path(c.node);
    if (id == kNoNode)
      throw Error("search space: no node '" + c.node + "' (choice " + std::to_string(i + 1) + ")");
    const Node& n = base.node(id);
    const OpDef& def = op_def(n.kind);
    const AttrSpec* spec = def.attr(c.attr);
    if (!spec)
      throw Error("search space: " + c.node + " (" + n.kind + ") has no attribute '" + c.attr +
                  "'");
    if (c.values.empty()) throw Error("search space: " + label + ": no values");
    for (size_t v = 0; v < c.values.size(); ++v) {
      c.values[v] = typed_value(*spec, c.values[v], label);
      for (size_t w = 0; w < v; ++w)
        if (c.values[w] == c.values[v])
          throw Error("search space: " + label + ": the value " + attr_to_string(c.values[v]) +
                      " is listed twice");
    }
  }
  const auto positive = [](const char* name, const std::optional<double>& v) {
    if (v && !(std::isfinite(*v) && *v > 0))
      throw Error(std::string("search space: constraint ") + name +
                  " must be a positive number, got " + format_number(*v));
  };
  positive("params_max", out.constraints.params_max);
  positive("macs_max", out.constraints.macs_max);
  positive("latency_ms_max", out.constraints.latency_ms_max);
  return out;
}

// ---- Subnets
// --------------------------------------------------------------------------------------

std::string subnet_key(const SearchSpace& s, const Pick& pick) {
  std::vector<std::pair<std::string, std::string>> parts;
  for (size_t i = 0; i < s.choices.size(); ++i)
    parts.push_back(
        {s.choices[i].label(), attr_to_string(s.choices[i].values.at(size_t(pick.at(i))))});
  std::sort(parts.begin(), parts.end());
  std::string key;
  for (const auto& [l, v] : parts) key += (key.empty() ? "" : ";") + l + "=" + v;
  return key;
}

std::string subnet_choices_json(const SearchSpace& s, const Pick& pick) {
  json j = json::object();
  for (size_t i = 0; i < s.choices.size(); ++i)
    j[s.choices[i].label()] = value_json(s.choices[i].values.at(size_t(pick.at(i))));
  return j.dump();
}

Pick pick_from_choices_json(const SearchSpace& s, const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse errors and numbers that do not fit a double
    throw Error("subnet choices: not valid JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw Error("subnet choices: expected an object label -> value");
  Pick pick(s.choices.size(), -1);
  for (const auto& [label, v] : j.items()) {
    int idx = -1;
    for (size_t i = 0; i < s.choices.size(); ++i)
      if (s.choices[i].label() == label) idx = int(i);
    if (idx < 0) throw Error("subnet choices: '" + label + "' is not a choice of the space");
    const AttrValue want = json_value(v, "subnet choices: " + label);
    const auto& vals = s.choices[size_t(idx)].values;
    for (size_t k = 0; k < vals.size(); ++k)
      if (vals[k] == want ||
          (std::holds_alternative<double>(vals[k]) && std::holds_alternative<int64_t>(want) &&
           std::get<double>(vals[k]) == double(std::get<int64_t>(want))))
        pick[size_t(idx)] = int(k);
    if (pick[size_t(idx)] < 0)
      throw Error("subnet choices: " + label + " = " + v.dump() +
                  " is not among the choice's values");
  }
  for (size_t i = 0; i < pick.size(); ++i)
    if (pick[i] < 0) throw Error("subnet choices: no value for " + s.choices[i].label());
  return pick;
}

std::optional<Pick> base_pick(const Graph& base, const SearchSpace& s) {
  Pick pick;
  for (const SpaceChoice& c : s.choices) {
    const NodeId id = base.find_path(c.node);
    if (id == kNoNode || !base.node(id).attrs.has(c.attr)) return std::nullopt;
    const AttrValue& cur = base.node(id).attrs.get(c.attr);
    const auto it = std::find(c.values.begin(), c.values.end(), cur);
    if (it == c.values.end()) return std::nullopt;
    pick.push_back(int(it - c.values.begin()));
  }
  return pick;
}

Graph apply_subnet(const Graph& base, const SearchSpace& space, const Pick& pick) {
  if (pick.size() != space.choices.size())
    throw Error("subnet: " + std::to_string(pick.size()) + " values for " +
                std::to_string(space.choices.size()) + " choices");
  Graph g = base;
  g.meta.erase(kSearchSpaceMeta);
  // Resolve every node first: a rebuild replaces a composite's children (and their ids).
  std::vector<NodeId> ids;
  for (const SpaceChoice& c : space.choices) {
    const NodeId id = g.find_path(c.node);
    if (id == kNoNode) throw Error("subnet: no node '" + c.node + "'");
    ids.push_back(id);
  }
  // Parents before children (a stage's rebuild would discard a choice already set on its block).
  std::vector<size_t> order(space.choices.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return base.lineage(ids[a]).size() < base.lineage(ids[b]).size();
  });
  std::vector<std::pair<NodeId, int64_t>> widths;  // nodes whose output width changed
  for (size_t i : order) {
    const SpaceChoice& c = space.choices[i];
    const AttrValue& v = c.values.at(size_t(pick[i]));
    const NodeId id = g.find_path(c.node);  // ids under a rebuilt parent changed
    if (id == kNoNode) throw Error("subnet: no node '" + c.node + "' after its parent was rebuilt");
    const Node& n = g.node(id);
    if (n.attrs.get(c.attr) == v) continue;
    const int64_t before = out_width(n);
    // A stage that takes in what it gives out (no downsampling: the first stage) keeps doing so,
    // and its producer (the stem) makes the new width.
    const bool tied =
        c.attr == "dim" && n.attrs.has("in_dim") && n.attrs.i("in_dim") == n.attrs.i("dim");
    try {
      g.set_attr(id, c.attr, v);
      if (tied) {
        g.set_attr(id, "in_dim", v);
        const PortRef prod = reach_producer(g, id, 0);
        if (prod.connected()) {
          const Node& pn = g.node(prod.node);
          for (const char* a : kOutWidth)
            if (pn.attrs.has(a)) {
              g.set_attr(prod.node, a, v);
              break;
            }
        }
      }
    } catch (const Error& e) {
      throw Error(c.label() + " = " + attr_to_string(v) + ": " + e.what());
    }
    const int64_t after = out_width(g.node(id));
    if (before >= 0 && after != before) widths.push_back({id, after});
  }
  for (const auto& [id, w] : widths) carry_width(g, id, w);
  // Random mixing matrices are sized for the grid they mix (a stage first: it rebuilds its blocks).
  for (int round = 0; round < 256; ++round) {
    const Analysis a = analyze(g);
    NodeId fix = kNoNode;
    int64_t tokens = 0;
    for (NodeId id : g.preorder()) {
      const Node& n = g.node(id);
      if (!n.attrs.has("token_mixer") || !n.attrs.has("num_tokens")) continue;
      if (n.attrs.s("token_mixer") != "random_mixing") continue;
      const NodeInfo* info = a.of(id);
      if (!info || info->out.empty() || info->out[0].size() != 3) continue;
      tokens = info->out[0][1] * info->out[0][2];
      if (tokens != n.attrs.i("num_tokens")) {
        fix = id;
        break;
      }
    }
    if (fix == kNoNode) break;
    g.set_attr(fix, "num_tokens", tokens);
  }
  const Analysis a = analyze(g);
  if (!a.ok()) throw Error(a.problems.front().message);
  return g;
}

// ---- On the graph
// ---------------------------------------------------------------------------------

SearchSpace graph_space(const Graph& g) {
  if (!g.meta.has(kSearchSpaceMeta)) return {};
  const AttrValue& v = g.meta.get(kSearchSpaceMeta);
  if (!std::holds_alternative<std::string>(v))
    throw Error("graph meta 'search_space' is not a JSON string");
  const std::string& text = std::get<std::string>(v);
  if (text.empty()) return {};
  return SearchSpace::from_json(text, "graph meta 'search_space'");
}

std::string space_meta_value(const SearchSpace& s) {
  if (s.choices.empty() && s.constraints.empty()) return "";
  return s.to_json(-1);
}

}  // namespace fw
