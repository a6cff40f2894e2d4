// A Document is a graph being edited: every edit is a command applied through one undo stack.
// The editor (app/) draws document.graph() each frame and turns gestures into these calls; a
// command that is refused changes nothing and comes back as {node, port, reason}, shown where
// it happened.
//
// - Edits: add, connect, disconnect, set_attr, rename, move, place, remove, paste (a JSON fragment
//   of nodes, e.g. from copy()), each one undo step. begin_group()/end_group() merge several calls
//   into one step (a drag that moves many nodes, a paste that also connects).
// - connect() refuses a connection that would make a cycle or whose shapes do not fit the
//   consumer ("expects 320 channels, gets 128"): the graph is analysed with the new edge, and a
//   problem that the edge introduces at the consumer (or inside it) is the reason.
// - Undo keeps only what changed (the nodes that differ before and after each step), so large
//   graphs stay cheap. undo()/redo() return false when there is nothing to do.
// - dirty(): the graph differs from the last mark_saved() (undo back to it clears it again).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/graph.h"

namespace fw {

// Where place() puts one node, in its level's canvas units.
struct Placement {
  NodeId id = kNoNode;
  float x = 0, y = 0;
};

struct EditResult {
  bool ok = true;
  NodeId node = kNoNode;  // the node created or concerned
  int port = -1;          // input port concerned, or -1
  std::string reason;     // why it was refused
  std::vector<NodeId> created;  // nodes created by the edit (add, paste)

  explicit operator bool() const { return ok; }
};

// The difference between two graph states: for each changed node, its state before and after
// (nullopt: absent), and the top-level order and meta before/after.
struct GraphPatch {
  struct Entry {
    NodeId id;
    std::optional<Node> before, after;
  };
  std::vector<Entry> nodes;
  std::vector<NodeId> roots_before, roots_after;
  Attrs meta_before, meta_after;
  std::string label;
  bool empty() const { return nodes.empty() && roots_before == roots_after && meta_before == meta_after; }
};

class Document {
 public:
  Document() = default;
  explicit Document(Graph g) : graph_(std::move(g)) {}

  const Graph& graph() const { return graph_; }
  // Analysis of the current graph, recomputed lazily after each change.
  const Analysis& analysis() const;

  EditResult add(NodeId parent, const std::string& kind, const std::string& name, Attrs attrs = {},
                 float x = 0, float y = 0);
  EditResult connect(PortRef src, NodeId dst, int dst_port);
  EditResult disconnect(NodeId dst, int dst_port);
  EditResult set_output(NodeId group, int out_port, PortRef src);
  EditResult set_attr(NodeId id, const std::string& name, AttrValue value);
  EditResult rename(NodeId id, const std::string& name);
  // Sets graph.meta[key] (nullopt: removes it) as one undo step named `label` (the search space
  // lives there, nas/space.h). An unchanged value makes no step.
  EditResult set_meta(const std::string& key, const std::optional<AttrValue>& value,
                      const std::string& label);
  EditResult move(const std::vector<NodeId>& ids, float dx, float dy);
  // Sets absolute positions of many nodes in one step (automatic layout); `label` names the step.
  EditResult place(const std::vector<Placement>& where, const std::string& label = "Arrange");
  EditResult remove(const std::vector<NodeId>& ids);
  // Copy: a JSON fragment holding the given nodes (and their descendants) and the edges among
  // them. Paste: inserts a fragment under `parent` with fresh ids, offset by (dx, dy).
  std::string copy(const std::vector<NodeId>& ids) const;
  EditResult paste(NodeId parent, const std::string& fragment, float dx, float dy);
  // Replaces the whole graph (open, new from template) and clears the history.
  void reset(Graph g);
  // Replaces the whole graph as one undo step named `label` (a search result made the base):
  // undo brings the previous graph back.
  EditResult replace(Graph g, const std::string& label);

  void begin_group(const std::string& label);
  void end_group();

  bool can_undo() const { return !undo_.empty(); }
  bool can_redo() const { return !redo_.empty(); }
  bool undo();
  bool redo();
  std::string undo_label() const { return undo_.empty() ? "" : undo_.back().label; }
  std::string redo_label() const { return redo_.empty() ? "" : redo_.back().label; }

  bool dirty() const { return revision_ != saved_revision_; }
  void mark_saved() { saved_revision_ = revision_; }
  int64_t revision() const { return revision_; }  // changes with every edit, undo and redo

 private:
  // Runs `fn` on the graph as one undo step named `label`. If fn throws fw::Error the graph is
  // restored and the error becomes the refusal reason.
  template <class Fn>
  EditResult apply(const std::string& label, NodeId node, int port, Fn&& fn);
  void push(GraphPatch p);
  void touch();

  Graph graph_;
  std::vector<GraphPatch> undo_, redo_;
  std::vector<int64_t> undo_rev_, redo_rev_;  // revision before each step
  int group_depth_ = 0;
  std::optional<Graph> group_start_;
  std::string group_label_;
  int64_t revision_ = 0, saved_revision_ = 0, next_revision_ = 1;
  mutable std::optional<Analysis> analysis_;
};

// Patch computation and application (exposed for tests).
GraphPatch diff_graphs(const Graph& before, const Graph& after);
void apply_patch(Graph& g, const GraphPatch& p, bool reverse);

}  // namespace fw
