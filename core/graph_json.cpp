#include "core/graph_json.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/format.h"

namespace fw {

using json = nlohmann::ordered_json;

namespace {

constexpr const char* kFormatTag = "formwork-graph";

json attr_json(const AttrValue& v) {
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<bool>(&v)) return *p;
  return std::get<std::string>(v);
}

json ref_json(const PortRef& r) {
  if (!r.connected()) return nullptr;
  json j = {{"node", r.node}, {"port", r.port}};
  if (r.group_input) j["group_input"] = true;
  return j;
}

json attrs_json(const Attrs& a) {
  json j = json::object();
  for (const auto& [k, v] : a) j[k] = attr_json(v);
  return j;
}

// Parsing --------------------------------------------------------------------------------------
struct Reader {
  std::string what;

  [[noreturn]] void fail(const std::string& msg) const { throw Error(what + ": " + msg); }

  AttrValue attr(const json& v, const std::string& where) const {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) return v.get<double>();
    if (v.is_string()) return v.get<std::string>();
    fail(where + ": attribute value must be a number, bool or string");
  }

  Attrs attrs(const json& j, const std::string& where) const {
    Attrs a;
    if (j.is_null()) return a;
    if (!j.is_object()) fail(where + ": 'attrs' must be an object");
    for (auto it = j.begin(); it != j.end(); ++it)
      a.set(it.key(), attr(it.value(), where + ": attribute '" + it.key() + "'"));
    return a;
  }

  int64_t integer(const json& j, const char* key, const std::string& where, int64_t def,
                  bool required) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) fail(where + ": '" + key + "' is missing");
      return def;
    }
    if (!it->is_number_integer()) fail(where + ": '" + key + "' must be an integer");
    return it->get<int64_t>();
  }

  PortRef ref(const json& j, const std::string& where) const {
    if (j.is_null()) return {};
    if (!j.is_object())
      fail(where + ": a connection must be an object {\"node\", \"port\"} or null");
    PortRef r;
    r.node = NodeId(integer(j, "node", where, 0, true));
    r.port = int(integer(j, "port", where, 0, false));
    if (auto it = j.find("group_input"); it != j.end()) {
      if (!it->is_boolean()) fail(where + ": 'group_input' must be true or false");
      r.group_input = it->get<bool>();
    }
    if (r.node <= 0) fail(where + ": connection names node " + std::to_string(r.node));
    if (r.port < 0) fail(where + ": connection names port " + std::to_string(r.port));
    return r;
  }

  std::vector<PortRef> refs(const json& j, const char* key, const std::string& where) const {
    std::vector<PortRef> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) fail(where + ": '" + key + "' must be an array");
    for (size_t i = 0; i < it->size(); ++i)
      out.push_back(ref((*it)[i], where + ": " + key + "[" + std::to_string(i) + "]"));
    return out;
  }
};

}  // namespace

std::string graph_to_json(const Graph& g, int indent) {
  json root;
  root["format"] = kFormatTag;
  root["version"] = kGraphFormatVersion;
  root["meta"] = attrs_json(g.meta);
  json nodes = json::array();
  for (NodeId id : g.preorder()) {
    const Node& n = g.node(id);
    json j;
    j["id"] = n.id;
    j["parent"] = n.parent;
    j["name"] = n.name;
    j["kind"] = n.kind;
    j["attrs"] = attrs_json(n.attrs);
    json ins = json::array();
    for (const PortRef& r : n.inputs) ins.push_back(ref_json(r));
    j["inputs"] = ins;
    if (!n.outputs.empty()) {
      json outs = json::array();
      for (const PortRef& r : n.outputs) outs.push_back(ref_json(r));
      j["outputs"] = outs;
    }
    j["pos"] = {n.x, n.y};
    nodes.push_back(std::move(j));
  }
  root["nodes"] = std::move(nodes);
  return root.dump(indent) + "\n";
}

Graph graph_from_json(const std::string& text, const std::string& what) {
  Reader rd{what};
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // parse errors and numbers that do not fit a double
    rd.fail(std::string("not valid JSON (") + e.what() + ")");
  }
  if (!root.is_object()) rd.fail("not a Formwork architecture (the top level is not an object)");
  auto fmt = root.find("format");
  if (fmt == root.end() || !fmt->is_string() || fmt->get<std::string>() != kFormatTag)
    rd.fail(std::string("not a Formwork architecture (\"format\" must be \"") + kFormatTag + "\")");
  const int64_t version = rd.integer(root, "version", "header", 0, true);
  if (version > kGraphFormatVersion)
    rd.fail("architecture format version " + std::to_string(version) +
            " is newer than this Formwork supports (" + std::to_string(kGraphFormatVersion) +
            "); update Formwork");
  if (version < 1)
    rd.fail("architecture format version " + std::to_string(version) + " is invalid");

  Graph g;
  if (auto m = root.find("meta"); m != root.end()) g.meta = rd.attrs(*m, "meta");
  auto nodes = root.find("nodes");
  if (nodes == root.end() || !nodes->is_array()) rd.fail("'nodes' must be an array");

  // First pass: create every node; second pass: check references now that all exist.
  std::vector<NodeId> order;
  std::unordered_map<NodeId, int> depth;  // nesting level of each node (parents come first)
  for (size_t i = 0; i < nodes->size(); ++i) {
    const json& j = (*nodes)[i];
    std::string where = "nodes[" + std::to_string(i) + "]";
    if (!j.is_object()) rd.fail(where + ": must be an object");
    Node n;
    n.id = NodeId(rd.integer(j, "id", where, 0, true));
    where = "node " + std::to_string(n.id);
    n.parent = NodeId(rd.integer(j, "parent", where, 0, false));
    if (auto it = j.find("name"); it != j.end()) {
      if (!it->is_string()) rd.fail(where + ": 'name' must be a string");
      n.name = it->get<std::string>();
    }
    auto kind = j.find("kind");
    if (kind == j.end() || !kind->is_string()) rd.fail(where + ": 'kind' must be a string");
    n.kind = kind->get<std::string>();
    const OpDef* def = find_op(n.kind);
    if (!def) rd.fail(where + " ('" + n.name + "'): unknown op kind '" + n.kind + "'");
    try {
      n.attrs = complete_attrs(*def, rd.attrs(j.value("attrs", json()), where));
    } catch (const Error& e) {
      rd.fail(where + " ('" + n.name + "'): " + e.what());
    }
    n.inputs = rd.refs(j, "inputs", where);
    if (n.inputs.empty()) n.inputs.resize(def->inputs.size());
    if (n.inputs.size() != def->inputs.size())
      rd.fail(where + " ('" + n.name + "'): " + n.kind + " has " +
              std::to_string(def->inputs.size()) + " inputs, the file lists " +
              std::to_string(n.inputs.size()));
    if (def->cls != OpClass::Leaf) {
      n.outputs = rd.refs(j, "outputs", where);
      if (n.outputs.empty()) n.outputs.resize(def->outputs.size());
      if (n.outputs.size() != def->outputs.size())
        rd.fail(where + " ('" + n.name + "'): " + n.kind + " has " +
                std::to_string(def->outputs.size()) + " outputs, the file lists " +
                std::to_string(n.outputs.size()));
    }
    if (auto pos = j.find("pos"); pos != j.end() && !pos->is_null()) {
      if (!pos->is_array() || pos->size() != 2 || !(*pos)[0].is_number() || !(*pos)[1].is_number())
        rd.fail(where + ": 'pos' must be [x, y]");
      const double x = (*pos)[0].get<double>(), y = (*pos)[1].get<double>();
      if (!(std::fabs(x) <= kMaxPosition && std::fabs(y) <= kMaxPosition))
        rd.fail(where + ": 'pos' [" + format_number(x) + ", " + format_number(y) +
                "] is outside the canvas (at most " + format_number(kMaxPosition) +
                " from the origin)");
      n.x = static_cast<float>(x);
      n.y = static_cast<float>(y);
    }
    int level = 0;
    if (n.parent != kNoNode) {
      const Node* p = g.find(n.parent);
      if (p && op_def(p->kind).cls == OpClass::Leaf)
        rd.fail(where + ": parent " + std::to_string(n.parent) + " is a " + p->kind +
                ", which cannot contain nodes");
      if (auto it = depth.find(n.parent); it != depth.end()) level = it->second + 1;
      if (level > kMaxGraphDepth)
        rd.fail(where + ": groups nested more than " + std::to_string(kMaxGraphDepth) +
                " levels deep (Formwork's limit)");
    }
    try {
      g.insert_raw(std::move(n));
    } catch (const Error& e) {
      rd.fail(e.what());
    }
    order.push_back(NodeId(rd.integer(j, "id", where, 0, true)));
    depth[order.back()] = level;
  }
  for (NodeId id : order) {
    const Node& n = g.node(id);
    const std::string where = "node " + std::to_string(id) + " ('" + n.name + "')";
    auto check = [&](const PortRef& r, const std::string& port, bool is_output) {
      if (!r.connected()) return;
      const Node* src = g.find(r.node);
      if (!src)
        rd.fail(where + ": " + port + " names node " + std::to_string(r.node) +
                ", which does not exist");
      if (r.group_input) {
        const NodeId group = is_output ? n.id : n.parent;
        if (r.node != group)
          rd.fail(where + ": " + port + " reads the inputs of node " + std::to_string(r.node) +
                  ", which is not its group");
        if (r.port >= int(src->inputs.size()))
          rd.fail(where + ": " + port + " names group input " + std::to_string(r.port) + " of " +
                  std::to_string(src->inputs.size()));
        return;
      }
      const NodeId expected_parent = is_output ? n.id : n.parent;
      if (src->parent != expected_parent)
        rd.fail(where + ": " + port + " comes from node " + std::to_string(r.node) +
                (is_output ? ", which is not its child" : ", which is in another group"));
      if (r.port >= int(op_def(src->kind).outputs.size()))
        rd.fail(where + ": " + port + " names output " + std::to_string(r.port) + " of node " +
                std::to_string(r.node) + ", which has " +
                std::to_string(op_def(src->kind).outputs.size()));
    };
    for (size_t i = 0; i < n.inputs.size(); ++i)
      check(n.inputs[i], "input " + std::to_string(i), false);
    for (size_t i = 0; i < n.outputs.size(); ++i)
      check(n.outputs[i], "output " + std::to_string(i), true);
  }
  return g;
}

Graph read_graph_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return graph_from_json(std::string(bytes.begin(), bytes.end()), path);
}

void write_graph_file(const std::string& path, const Graph& g) {
  const std::string text = graph_to_json(g);
  write_file_atomic(path, [&](int fd) { write_all(fd, text.data(), text.size(), path); });
}

}  // namespace fw
