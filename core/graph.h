// The graph IR: the one source of truth that the editor draws, the analysis checks, the backends
// run and the files store.
//
// Contents
//  1. PortRef  - where a value comes from
//  2. Node     - one op, block or group
//  3. Graph    - the node table, its edits, hierarchy and module paths
//
// Model
//  - A node has a kind (an OpDef id, core/registry.h), attributes, named input and output ports,
//    and a parent (kNoNode: top level). Groups and composite blocks contain children, so the editor
//    can collapse and expand them; a node's module path is its ancestors' names joined with '.'
//    ("stages.2.blocks.0.mlp.fc1") and parameter names are path + '.' + local name, exactly as a
//    PyTorch state_dict names them. A node with an empty name adds no path segment (ViT's
//    cls_token and pos_embed live on the model root).
//  - Edges are stored on the consumer: inputs[i] says which port feeds input port i. Edges connect
//    siblings, or a child to its enclosing group's input port (PortRef::group_input). A group's
//    outputs[i] says which child port feeds output i.
//  - Graph inputs and outputs are nodes of kind "input" and "output" at the top level.
//  - Ids are stable for the graph's life (undo, selection and files use them); positions (x, y)
//    are the editor's layout and round-trip through files.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/attrs.h"
#include "core/registry.h"

namespace fw {

constexpr NodeId kNoNode = 0;

// 1. PortRef ------------------------------------------------------------------------------------
struct PortRef {
  NodeId node = kNoNode;     // producer; kNoNode = unconnected
  int port = 0;              // its output port, or (group_input) the group's input port
  bool group_input = false;  // `node` is the consumer's enclosing group

  bool connected() const { return node != kNoNode; }
  bool operator==(const PortRef& o) const = default;
};

// 2. Node ---------------------------------------------------------------------------------------
struct Node {
  NodeId id = kNoNode;
  NodeId parent = kNoNode;
  std::string name;            // module-path segment: "fc1", "0"; may be empty
  std::string kind;            // OpDef id
  Attrs attrs;                 // complete (defaults filled)
  std::vector<PortRef> inputs; // one per input port of the OpDef
  std::vector<PortRef> outputs;  // groups and composites: the child port feeding each output
  std::vector<NodeId> children;  // groups and composites, in module registration order
  float x = 0, y = 0;          // editor position, in canvas units

  bool operator==(const Node& o) const = default;
};

// 3. Graph --------------------------------------------------------------------------------------
class Graph {
 public:
  // Adds a node under `parent` (kNoNode: top level). Attributes are completed with defaults and
  // checked; a composite's children are built at once. Throws fw::Error on a bad kind/attribute.
  NodeId add(NodeId parent, const std::string& kind, const std::string& name, Attrs attrs = {});
  // Adds a node with a given id (file loading, undo). No children are built.
  void insert_raw(Node node);

  // Sets consumer input `dst_port` of `dst` to `src`. Throws if ports are out of range or the
  // nodes are not siblings (or child -> enclosing group input).
  void connect(PortRef src, NodeId dst, int dst_port = 0);
  void disconnect(NodeId dst, int dst_port);
  // Sets which child port feeds output `out_port` of group `group`.
  void set_output(NodeId group, int out_port, PortRef src);

  // Removes a node and its descendants; consumers of its outputs become unconnected.
  void remove(NodeId id);
  // Sets an attribute (checked). A composite's children are rebuilt from its new attributes.
  void set_attr(NodeId id, const std::string& name, AttrValue value);
  // Rebuilds a composite's children from its attributes (keeps the node and its edges).
  void rebuild(NodeId id);
  void rename(NodeId id, const std::string& name);
  void move(NodeId id, float x, float y);

  const Node& node(NodeId id) const;  // throws fw::Error if absent
  Node& node_mut(NodeId id);          // for direct edits that keep the invariants
  const Node* find(NodeId id) const;  // nullptr if absent
  bool contains(NodeId id) const { return nodes_.count(id) != 0; }
  const std::vector<NodeId>& children(NodeId parent) const;  // kNoNode: top level
  const std::map<NodeId, Node>& nodes() const { return nodes_; }
  size_t size() const { return nodes_.size(); }
  NodeId next_id() const { return next_id_; }

  // Module path ("stages.0.blocks.1.mlp.fc1"; "" for the root).
  std::string path(NodeId id) const;
  // Node whose module path is `path` (the first in graph order if several share it, e.g. an
  // anonymous op and its parent); kNoNode if none.
  NodeId find_path(const std::string& path) const;
  // Ancestors from the top level down to and including `id`.
  std::vector<NodeId> lineage(NodeId id) const;
  // Nodes of a kind at the top level ("input", "output"), in order.
  std::vector<NodeId> top_level_of_kind(const std::string& kind) const;
  // Every node in depth-first pre-order (parents before children, children in order).
  std::vector<NodeId> preorder() const;

  // Consumers of output `port` of `id`: (consumer node, input port) pairs.
  std::vector<std::pair<NodeId, int>> consumers(NodeId id, int port) const;

  bool operator==(const Graph& o) const;

  // Raw state access for undo (core/document.cpp): replaces or erases one node's stored state,
  // or the top-level order. They keep no invariants; apply whole patches only.
  void restore_node(NodeId id, const Node* state);
  const std::vector<NodeId>& roots() const { return roots_; }
  void restore_roots(std::vector<NodeId> roots) { roots_ = std::move(roots); }

  // Free-form metadata carried with the graph (template name, input normalisation...).
  Attrs meta;

 private:
  void remove_children(NodeId id);
  std::map<NodeId, Node> nodes_;
  std::vector<NodeId> roots_;
  NodeId next_id_ = 1;
};

}  // namespace fw
