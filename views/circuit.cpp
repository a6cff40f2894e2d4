// Layout of neural circuit diagrams (views/circuit.h). A diagram is composed of pieces: each piece
// takes a tensor (rows of wires at y = 0, kWireGap, 2·kWireGap, ...) on its left edge and gives
// one on its right edge; pieces are put in sequence (joined by labelled wire segments), in
// parallel (copy ... add), or framed as blocks. Everything is in diagram units.
#include "views/circuit.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/format.h"
#include "views/text_metrics.h"

namespace fw::views {

namespace {

constexpr float R = kWireGap;
constexpr size_t kInlineChildren = 6;  // a big composite with at most this many children opens once
constexpr float kMinGap = 30;          // a labelled wire segment between two operations
constexpr float kOpPad = 4;            // around an operation inside its piece
constexpr float kBoxHalf = 9;          // box extent above the first and below the last row it spans
constexpr float kBlockPad = 10;        // inside a block frame
constexpr float kBlockTitle = 18;
constexpr float kForkSpace = 26;  // vertical space between the segments of a tuple
constexpr float kFanWidth = 26;   // the S-curves after a copy and before an addition
const Font kLabelFont{FontFace::Sans, 11};
const Font kAxisFont{FontFace::Serif, 11};

using Axes = std::vector<CircuitAxis>;

struct Piece {
  float w = 0;
  float top = 0, bottom = 0;  // vertical extent relative to row 0
  Axes in, out;
  Circuit c;  // relative coordinates
};

float row_y(size_t i) { return static_cast<float>(i) * R; }

void extend(Piece& p, float y0, float y1) {
  p.top = std::min(p.top, y0);
  p.bottom = std::max(p.bottom, y1);
}

void place(Circuit& dst, const Circuit& src, float dx, float dy) {
  for (CircuitWire w : src.wires) {
    w.x0 += dx, w.x1 += dx, w.y0 += dy, w.y1 += dy;
    dst.wires.push_back(std::move(w));
  }
  for (CircuitOp o : src.ops) {
    o.x0 += dx, o.x1 += dx, o.y0 += dy, o.y1 += dy;
    if (o.text_y != 0) o.text_y += dy;
    dst.ops.push_back(std::move(o));
  }
  for (CircuitMark m : src.marks) {
    m.x0 += dx, m.x1 += dx, m.y0 += dy, m.y1 += dy;
    dst.marks.push_back(std::move(m));
  }
  for (CircuitBlock b : src.blocks) {
    b.x0 += dx, b.x1 += dx, b.y0 += dy, b.y1 += dy;
    dst.blocks.push_back(std::move(b));
  }
  for (CircuitLabel l : src.labels) {
    l.x += dx, l.y += dy;
    dst.labels.push_back(std::move(l));
  }
}

std::string dims(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// A shape as wires: [C,H,W] -> grid above C; [N,C] -> N̄ above C; [C] -> C.
Axes axes_of(const Shape& s) {
  if (s.size() == 3)
    return {{"H×W", std::to_string(s[1]) + "×" + std::to_string(s[2]), false, true},
            {"C", std::to_string(s[0])}};
  if (s.size() == 2) return {{"N", std::to_string(s[0]), true}, {"C", std::to_string(s[1])}};
  if (s.size() == 1) return {{"C", std::to_string(s[0])}};
  Axes out;
  for (size_t i = 0; i < s.size(); ++i)
    out.push_back({"d" + std::to_string(i), std::to_string(s[i])});
  if (out.empty()) out.push_back({"?", "?"});
  return out;
}

float label_width(const CircuitAxis& a) {
  return text_width(a.name, kAxisFont) + 3 + text_width(a.size, kLabelFont);
}

// The wires between two pieces (or leading in/out): labelled with their sizes.
float gap_width(const Axes& axes) {
  float w = kMinGap;
  for (const CircuitAxis& a : axes) w = std::max(w, label_width(a) + 12);
  return w;
}

void wire(Circuit& c, float x0, float y0, float x1, float y1, const CircuitAxis& a,
          bool labelled = false, bool problem = false) {
  c.wires.push_back({x0, y0, x1, y1, a, labelled, problem});
}

// ---- Graph reading
// -------------------------------------------------------------------------------

struct Reader {
  const Graph& g;
  const Analysis& a;
  std::set<NodeId> problem_nodes;          // a problem names them or a node inside them
  std::map<NodeId, std::string> messages;  // the first problem naming the node itself

  const NodeInfo* info(NodeId id) const {
    const NodeInfo* i = a.of(id);
    return i && i->ok ? i : nullptr;
  }
  Shape in_shape(NodeId id, int port = 0) const {
    const NodeInfo* i = info(id);
    return i && port < static_cast<int>(i->in.size()) ? i->in[port] : Shape{};
  }
  Shape out_shape(NodeId id, int port = 0) const {
    const NodeInfo* i = info(id);
    return i && port < static_cast<int>(i->out.size()) ? i->out[port] : Shape{};
  }
  std::vector<std::string> weights(NodeId id) const {
    std::vector<std::string> out;
    const std::string prefix = g.path(id);
    for (const ParamInfo& p : a.params)
      if (p.node == id) {
        const std::string local = p.name.size() > prefix.size() && !prefix.empty()
                                      ? p.name.substr(prefix.size() + 1)
                                      : p.name;
        out.push_back(local + " " + dims(p.shape) + (p.trainable ? "" : " frozen"));
      }
    return out;
  }
  int leaves(NodeId id) const {
    const Node& n = g.node(id);
    if (n.children.empty()) return 1;
    int k = 0;
    for (NodeId c : n.children) k += leaves(c);
    return k;
  }
  bool shape_only(const Node& n, int port) const {
    const OpDef* d = find_op(n.kind);
    return d && std::find(d->shape_only_inputs.begin(), d->shape_only_inputs.end(), port) !=
                    d->shape_only_inputs.end();
  }
};

CircuitOp make_op(const Reader& r, NodeId id, CircuitOp::Kind kind, std::string symbol) {
  CircuitOp o;
  o.kind = kind;
  o.node = id;
  o.symbol = std::move(symbol);
  o.problem = r.problem_nodes.count(id) != 0;
  if (const auto it = r.messages.find(id); it != r.messages.end()) o.message = it->second;
  o.weights = r.weights(id);
  o.learned = false;
  for (const ParamInfo& p : r.a.params) o.learned = o.learned || (p.node == id && p.trainable);
  return o;
}

// An operation that consumes rows [r0, r0 + k) of `in` and puts `produced` in their place; the
// other rows pass by. The op's box spans the rows it consumes and produces.
Piece row_op(const Axes& in, size_t r0, size_t k, const Axes& produced, CircuitOp op, float box_w) {
  Piece p;
  p.in = in;
  r0 = std::min(r0, in.size());
  k = std::min(k, in.size() - r0);
  p.out.assign(in.begin(), in.begin() + static_cast<long>(r0));
  p.out.insert(p.out.end(), produced.begin(), produced.end());
  p.out.insert(p.out.end(), in.begin() + static_cast<long>(r0 + k), in.end());
  // Rows after the op move up (it produces fewer) or down (more): they bend beside the box,
  // after it or before it, and pass straight under it.
  const bool up = produced.size() < k && r0 + k < in.size();
  const bool down = produced.size() > k && r0 + k < in.size();
  const float bend = 16;
  const float x0 = kOpPad + 6 + (down ? bend : 0), x1 = x0 + box_w;
  p.w = x1 + kOpPad + 6 + (up ? bend : 0);
  const size_t span = std::max<size_t>(std::max(k, produced.size()), 1);
  op.x0 = x0, op.x1 = x1;
  op.y0 = row_y(r0) - kBoxHalf;
  op.y1 = row_y(r0 + span - 1) + kBoxHalf;
  for (size_t i = r0; i < r0 + k; ++i) op.axes.push_back(in[i].name);
  for (size_t i = 0; i < r0; ++i) wire(p.c, 0, row_y(i), p.w, row_y(i), in[i]);
  for (size_t i = r0; i < r0 + k; ++i) wire(p.c, 0, row_y(i), x0, row_y(i), in[i]);
  for (size_t j = 0; j < produced.size(); ++j)
    wire(p.c, x1, row_y(r0 + j), p.w, row_y(r0 + j), produced[j]);
  for (size_t i = r0 + k; i < in.size(); ++i) {
    const float from = row_y(i), to = row_y(i - k + produced.size());
    if (up) {
      wire(p.c, 0, from, x1, from, in[i]);
      wire(p.c, x1, from, p.w, to, in[i]);
    } else if (down) {
      wire(p.c, 0, from, x0, to, in[i]);
      wire(p.c, x0, to, p.w, to, in[i]);
    } else {
      wire(p.c, 0, from, p.w, to, in[i]);
    }
  }
  const size_t lines =
      (op.detail.empty() ? 0 : 1) + (op.kind == CircuitOp::Kind::Box ? 0 : op.weights.size());
  extend(p, op.y0, op.y1 + 4 + 11.5f * static_cast<float>(lines));
  extend(p, 0, row_y(std::max(in.size(), p.out.size()) - 1));
  p.c.ops.push_back(std::move(op));
  return p;
}

// Wires straight through, with an operation drawn above them (elementwise functions).
Piece above_op(const Axes& in, CircuitOp op) {
  Piece p;
  p.in = p.out = in;
  const float tw =
      text_width(op.symbol, Font{op.learned ? FontFace::SansBold : FontFace::Sans, 11});
  p.w = tw + 34;
  op.x0 = 8, op.x1 = p.w - 8;
  op.y0 = -R - 8, op.y1 = -R + 8;
  for (size_t i = 0; i < in.size(); ++i) wire(p.c, 0, row_y(i), p.w, row_y(i), in[i]);
  extend(p, op.y0, row_y(in.size() - 1));
  p.c.ops.push_back(std::move(op));
  return p;
}

// Pieces side by side, joined by labelled wire segments; with `lead`, labelled segments before
// the first and after the last too.
Piece sequence(const std::vector<Piece>& parts, const Axes& in, bool lead) {
  Piece p;
  p.in = parts.empty() ? in : parts.front().in;
  p.out = parts.empty() ? in : parts.back().out;
  float x = 0;
  Axes cur = p.in;
  auto gap = [&](const Axes& axes, const Axes* next) {
    const float gw = gap_width(axes);
    const size_t n = next ? std::max(axes.size(), next->size()) : axes.size();
    for (size_t i = 0; i < n; ++i) {
      const bool have = i < axes.size(), want = !next || i < next->size();
      const bool bad = next && (!have || !want || (*next)[i].size != axes[i].size);
      const CircuitAxis& ax = have ? axes[i] : (*next)[i];
      wire(p.c, x, row_y(i), x + gw, row_y(i), ax, true, bad);
    }
    extend(p, -12, row_y(n ? n - 1 : 0));
    x += gw;
  };
  // the wires into an op the analysis refuses are part of its problem
  auto gap_into = [&](const Axes& axes, const Piece& next) {
    const size_t first = p.c.wires.size();
    gap(axes, &next.in);
    if (!next.c.ops.empty() && !next.c.ops.front().message.empty())
      for (size_t i = first; i < p.c.wires.size(); ++i) p.c.wires[i].problem = true;
  };
  if (parts.empty())
    gap(cur, nullptr);
  else if (lead)
    gap_into(cur, parts.front());
  for (size_t k = 0; k < parts.size(); ++k) {
    const Piece& part = parts[k];
    if (k > 0) gap_into(parts[k - 1].out, part);
    place(p.c, part.c, x, 0);
    extend(p, part.top, part.bottom);
    x += part.w;
  }
  if (lead && !parts.empty()) gap(parts.back().out, nullptr);
  p.w = x;
  return p;
}

// Copy -> branches side by side in height -> add. The first branch (the skip) stays on the main
// rows; the others are stacked above it, separated by dashed lines.
Piece parallel(const Axes& in, std::vector<Piece> branches, const Axes& out,
               const std::vector<CircuitOp>& join_ops) {
  Piece p;
  p.in = in;
  p.out = out;
  float inner = 0;
  for (const Piece& b : branches) inner = std::max(inner, b.w);
  const float copy_x = 6, fan0 = copy_x, body_x = fan0 + kFanWidth, body_x1 = body_x + inner + 12,
              add_x = body_x1 + kFanWidth;
  p.w = add_x + 6;
  // Vertical offsets: branch 0 at 0, the others upwards.
  std::vector<float> dy(branches.size(), 0);
  float top = std::min(branches.empty() ? 0.0f : branches[0].top, -10.0f);
  for (size_t i = 1; i < branches.size(); ++i) {
    const float rows_h = branches[i].bottom;
    dy[i] = top - kForkSpace - rows_h;
    top = dy[i] + std::min(branches[i].top, -10.0f);
  }
  for (size_t i = 0; i < branches.size(); ++i) {
    const Piece& b = branches[i];
    // fan out from the copy
    for (size_t r = 0; r < b.in.size() && r < in.size(); ++r)
      wire(p.c, fan0, row_y(r), body_x, dy[i] + row_y(r), in[r]);
    // the branch, then straight wires to the common right edge of the branches
    const float bx = body_x + (inner + 12 - b.w) / 2;
    for (size_t r = 0; r < b.in.size(); ++r)
      wire(p.c, body_x, dy[i] + row_y(r), bx, dy[i] + row_y(r), b.in[r]);
    place(p.c, b.c, bx, dy[i]);
    for (size_t r = 0; r < b.out.size(); ++r) {
      wire(p.c, bx + b.w, dy[i] + row_y(r), body_x1, dy[i] + row_y(r), b.out[r]);
      wire(p.c, body_x1, dy[i] + row_y(r), add_x, row_y(r), b.out[r], false,
           r >= out.size() || b.out[r].size != out[r].size);
    }
    extend(p, dy[i] + b.top, dy[i] + b.bottom);
  }
  for (size_t r = 0; r < in.size(); ++r) {
    wire(p.c, 0, row_y(r), copy_x, row_y(r), in[r]);
    p.c.marks.push_back(
        {CircuitMark::Kind::Copy, copy_x, row_y(r), copy_x, row_y(r), in[r].name, ""});
  }
  for (size_t r = 0; r < out.size(); ++r) {
    p.c.marks.push_back(
        {CircuitMark::Kind::Add, add_x, row_y(r), add_x, row_y(r), out[r].name, ""});
    wire(p.c, add_x, row_y(r), p.w, row_y(r), out[r]);
  }
  // separators between consecutive segments, and the + of the addition on each
  for (size_t i = 1; i < branches.size(); ++i) {
    const float y =
        (dy[i - 1] + std::min(branches[i - 1].top, -10.0f) + dy[i] + branches[i].bottom) / 2;
    p.c.marks.push_back({CircuitMark::Kind::Separator, body_x, y, body_x1, y, "", ""});
    p.c.marks.push_back({CircuitMark::Kind::Plus, add_x - 10, y, add_x - 10, y, "", "+"});
  }
  for (CircuitOp o : join_ops) {  // the add node itself: a hit area over the addition dots
    o.x0 = add_x - 6, o.x1 = add_x + 6;
    o.y0 = -6, o.y1 = row_y(out.empty() ? 0 : out.size() - 1) + 6;
    p.c.ops.push_back(std::move(o));
  }
  extend(p, 0, row_y(std::max<size_t>(in.size(), 1) - 1));
  return p;
}

// A titled frame around a body; wires pass through its edges.
Piece framed(Piece body, NodeId node, std::string title, bool enterable) {
  Piece p;
  p.in = body.in;
  p.out = body.out;
  const float pad = kBlockPad;
  p.w = body.w + 2 * pad;
  for (size_t r = 0; r < body.in.size(); ++r) wire(p.c, 0, row_y(r), pad, row_y(r), body.in[r]);
  for (size_t r = 0; r < body.out.size(); ++r)
    wire(p.c, pad + body.w, row_y(r), p.w, row_y(r), body.out[r]);
  CircuitBlock b;
  b.node = node;
  b.title = std::move(title);
  b.enterable = enterable;
  b.x0 = 0, b.x1 = p.w;
  b.y0 = body.top - kBlockTitle - 4;
  b.y1 = body.bottom + pad;
  const float title_w = text_width(b.title, Font{FontFace::SansBold, 11}) + 2 * pad;
  if (title_w > p.w) {  // widen to the title, body centred
    const float extra = title_w - p.w;
    p.w = title_w;
    b.x1 = p.w;
    Piece wider;
    place(wider.c, p.c, 0, 0);
    p.c = Circuit{};
    for (CircuitWire w : wider.c.wires) {
      if (w.x0 >= pad + body.w - 0.01f) w.x0 += extra, w.x1 += extra;
      p.c.wires.push_back(w);
    }
    for (size_t r = 0; r < body.in.size(); ++r)
      wire(p.c, pad, row_y(r), pad + extra / 2, row_y(r), body.in[r]);
    for (size_t r = 0; r < body.out.size(); ++r)
      wire(p.c, pad + extra / 2 + body.w, row_y(r), pad + extra + body.w, row_y(r), body.out[r]);
    p.c.blocks.push_back(b);
    for (CircuitBlock& inner : body.c.blocks) ++inner.depth;
    place(p.c, body.c, pad + extra / 2, 0);
  } else {
    p.c.blocks.push_back(b);
    for (CircuitBlock& inner : body.c.blocks) ++inner.depth;
    place(p.c, body.c, pad, 0);
  }
  p.top = b.y0;
  p.bottom = b.y1;
  return p;
}

// ---- Pieces for nodes
// -----------------------------------------------------------------------------

class Builder {
 public:
  explicit Builder(const Reader& r) : r_(r) {}

  Piece node_piece(NodeId id, const Axes& in_axes);
  // The body of a level (its children as a flow) into `out`; false, with `why`, when it is not
  // series-parallel.
  bool flow(NodeId level, const Axes& in_axes, Piece& out, std::string& why);

 private:
  struct Value {
    NodeId node = kNoNode;  // producer; the level itself for its input
    int port = 0;
    bool operator<(const Value& o) const { return node != o.node ? node < o.node : port < o.port; }
  };
  struct Use {
    NodeId node = kNoNode;  // kNoNode: the level's output
    int port = 0;
  };

  const std::map<Value, std::vector<Use>>& index(NodeId level) const;
  std::vector<Use> uses(NodeId level, Value v) const;
  std::set<NodeId> reach(NodeId level, NodeId from) const;
  const std::map<NodeId, int>& topo_order(NodeId level) const;
  mutable std::map<NodeId, std::map<Value, std::vector<Use>>> index_;  // per level
  mutable std::map<NodeId, std::map<NodeId, int>> order_;              // per level
  bool chain(NodeId level, Value v, NodeId stop, Axes cur, std::vector<Piece>& parts, Value& end,
             std::string& why, int depth);

  Piece conv_piece(NodeId id, const Node& n, const Axes& in);
  Piece attention_piece(NodeId id, const Node& n, const Axes& in, bool projections);
  Piece closed_piece(NodeId id, const Node& n, const Axes& in, const Axes& out);

  const Reader& r_;
  int open_budget_ = 1;  // levels of big composites still opened inline
};

// The level's edges, read once: who uses each value (children in order, then the level's
// outputs as kNoNode).
const std::map<Builder::Value, std::vector<Builder::Use>>& Builder::index(NodeId level) const {
  auto [it, fresh] = index_.try_emplace(level);
  if (!fresh) return it->second;
  auto& uses = it->second;
  for (NodeId c : r_.g.children(level)) {
    const Node& n = r_.g.node(c);
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const PortRef& s = n.inputs[i];
      if (!s.connected() || r_.shape_only(n, static_cast<int>(i))) continue;
      if (s.group_input && s.node != level) continue;
      uses[{s.group_input ? level : s.node, s.port}].push_back({c, static_cast<int>(i)});
    }
  }
  if (level != kNoNode)
    for (const PortRef& s : r_.g.node(level).outputs)
      if (s.connected()) uses[{s.group_input ? level : s.node, s.port}].push_back({kNoNode, 0});
  return uses;
}

std::vector<Builder::Use> Builder::uses(NodeId level, Value v) const {
  const auto& idx = index(level);
  const auto it = idx.find(v);
  return it == idx.end() ? std::vector<Use>{} : it->second;
}

// The level's children in a topological order of its edges (Kahn; nodes on a cycle are left
// out).
const std::map<NodeId, int>& Builder::topo_order(NodeId level) const {
  auto [it, fresh] = order_.try_emplace(level);
  if (!fresh) return it->second;
  const auto& idx = index(level);
  std::map<NodeId, int> indegree;
  for (NodeId c : r_.g.children(level)) indegree[c] = 0;
  for (const auto& [value, us] : idx)
    if (value.node != level)
      for (const Use& u : us)
        if (u.node != kNoNode) ++indegree[u.node];
  std::vector<NodeId> ready;
  for (NodeId c : r_.g.children(level))
    if (indegree[c] == 0) ready.push_back(c);
  int next = 0;
  while (!ready.empty()) {
    const NodeId n = ready.back();
    ready.pop_back();
    it->second[n] = next++;
    for (auto e = idx.lower_bound({n, 0}); e != idx.end() && e->first.node == n; ++e)
      for (const Use& u : e->second)
        if (u.node != kNoNode && --indegree[u.node] == 0) ready.push_back(u.node);
  }
  return it->second;
}

// Every child reachable from `from` (itself included) along the level's edges.
std::set<NodeId> Builder::reach(NodeId level, NodeId from) const {
  const auto& idx = index(level);
  std::set<NodeId> seen;
  std::vector<NodeId> stack{from};
  while (!stack.empty()) {
    const NodeId n = stack.back();
    stack.pop_back();
    if (n == kNoNode || !seen.insert(n).second) continue;
    for (auto it = idx.lower_bound({n, 0}); it != idx.end() && it->first.node == n; ++it)
      for (const Use& u : it->second) stack.push_back(u.node);
  }
  return seen;
}

// Follows the flow from value `v` until `stop` (a join; kNoNode: the level's output), appending
// a piece per node or fork.
bool Builder::chain(NodeId level, Value v, NodeId stop, Axes cur, std::vector<Piece>& parts,
                    Value& end, std::string& why, int depth) {
  if (depth > 64) return why = "flow too deep", false;
  for (int guard = 0; guard < 10000; ++guard) {
    std::vector<Use> us = uses(level, v);
    if (us.empty()) {
      end = v;
      return stop == kNoNode ? true : (why = "a branch ends before it rejoins", false);
    }
    if (us.size() == 1) {
      const Use u = us[0];
      if (u.node == kNoNode || u.node == stop) {
        end = v;
        return true;
      }
      const Node& n = r_.g.node(u.node);
      if (n.kind == "output") {
        end = v;
        return true;
      }
      int flow_inputs = 0;
      for (size_t i = 0; i < n.inputs.size(); ++i)
        flow_inputs += n.inputs[i].connected() && !r_.shape_only(n, static_cast<int>(i));
      if (flow_inputs > 1)
        return why = "'" + r_.g.path(u.node) + "' joins flows from elsewhere", false;
      Piece p = node_piece(u.node, cur);
      cur = p.out;
      parts.push_back(std::move(p));
      v = {u.node, 0};
      continue;
    }
    // A fork: the join is the first node every use reaches (the common descendant that no other
    // common descendant comes before).
    std::set<NodeId> common;
    bool first = true;
    for (const Use& u : us) {
      const std::set<NodeId> r = u.node == kNoNode ? std::set<NodeId>{} : reach(level, u.node);
      if (first) {
        common = r;
        first = false;
      } else {
        std::set<NodeId> both;
        std::set_intersection(common.begin(), common.end(), r.begin(), r.end(),
                              std::inserter(both, both.end()));
        common = std::move(both);
      }
    }
    NodeId join = kNoNode;
    const std::map<NodeId, int>& order = topo_order(level);
    int best = 0;
    for (NodeId c : common) {
      const auto it = order.find(c);
      if (it != order.end() && (join == kNoNode || it->second < best)) join = c, best = it->second;
    }
    if (join == kNoNode) return why = "a value is used twice and the uses never meet", false;
    std::vector<Piece> branches;
    std::vector<std::pair<int, Piece>> ordered;  // (join input port, branch)
    for (const Use& u : us) {
      std::vector<Piece> bp;
      Value bend;
      int port = u.port;
      if (u.node != join) {
        Piece first = node_piece(u.node, cur);
        Axes after = first.out;
        bp.push_back(std::move(first));
        if (!chain(level, {u.node, 0}, join, after, bp, bend, why, depth + 1)) return false;
        // which input of the join this branch feeds
        const Node& jn = r_.g.node(join);
        for (size_t i = 0; i < jn.inputs.size(); ++i)
          if (!jn.inputs[i].group_input && jn.inputs[i].node == bend.node &&
              jn.inputs[i].port == bend.port)
            port = static_cast<int>(i);
      }
      ordered.emplace_back(port, sequence(bp, cur, false));
    }
    // the shortcut (the join's first input: residual's skip) stays on the main rows
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& [port, b] : ordered) branches.push_back(std::move(b));
    const Node& jn = r_.g.node(join);
    const Shape js = r_.out_shape(join);
    const Axes out = js.empty() ? cur : axes_of(js);
    std::vector<CircuitOp> join_ops;
    if (jn.kind == "add") {
      CircuitOp o = make_op(r_, join, CircuitOp::Kind::Box, "+");
      o.detail = "add";
      join_ops.push_back(std::move(o));
      parts.push_back(parallel(cur, std::move(branches), out, join_ops));
    } else {
      parts.push_back(parallel(cur, std::move(branches), cur, join_ops));
      Piece jp = node_piece(join, cur);
      parts.push_back(std::move(jp));
    }
    cur = out;
    v = {join, 0};
  }
  return why = "flow too long", false;
}

bool Builder::flow(NodeId level, const Axes& in_axes, Piece& out, std::string& why) {
  std::vector<Piece> parts;
  Value start{level, 0};
  if (level == kNoNode) {
    const auto inputs = r_.g.top_level_of_kind("input");
    if (inputs.size() != 1)
      return why = "the graph has " + std::to_string(inputs.size()) + " inputs", false;
    start = {inputs[0], 0};
  }
  Value end;
  if (!chain(level, start, kNoNode, in_axes, parts, end, why, 0)) return false;
  out = sequence(parts, in_axes, true);
  return true;
}

Piece Builder::closed_piece(NodeId id, const Node& n, const Axes& in, const Axes& out) {
  // "stages.0" rather than "0": a numbered child says whose it is
  const bool numbered = !n.name.empty() && std::all_of(n.name.begin(), n.name.end(), ::isdigit);
  std::string title = n.name.empty() ? n.kind : n.name;
  if (numbered && n.parent != kNoNode && !r_.g.node(n.parent).name.empty())
    title = r_.g.node(n.parent).name + "." + n.name;
  CircuitOp o = make_op(r_, id, CircuitOp::Kind::Box, title);
  const OpDef* d = find_op(n.kind);
  o.detail = d ? d->label : n.kind;
  if (n.kind == "metaformer_block" || n.kind == "metaformer_stage")
    o.detail += " · " + n.attrs.s("token_mixer");
  o.enterable = !n.children.empty();
  const NodeInfo* info = r_.info(id);
  o.learned = info && info->params > 0;
  o.weights.clear();
  if (info && info->params > 0)
    o.weights.push_back(format_si(static_cast<double>(info->params)) + " params");
  const float w = std::max({text_width(o.symbol, Font{FontFace::SansBold, 12}),
                            text_width(o.detail, Font{FontFace::Sans, 10.5f}), 60.0f}) +
                  16;
  Piece p = row_op(in, 0, in.size(), out, o, w);
  // a closed box spans at least its two text lines
  CircuitOp& box = p.c.ops.back();
  box.y1 = std::max(box.y1, box.y0 + 36);
  extend(p, box.y0, box.y1);
  return p;
}

Piece Builder::conv_piece(NodeId id, const Node& n, const Axes& in) {
  const int64_t k = n.attrs.i("kernel"), s = n.attrs.i("stride"), groups = n.attrs.i("groups");
  const int64_t cin = n.attrs.i("in_channels"), cout = n.attrs.i("out_channels");
  const bool bias = n.attrs.b("bias");
  const Shape os = r_.out_shape(id);
  const Axes out = os.empty() ? in : axes_of(os);
  CircuitOp lin = make_op(r_, id, CircuitOp::Kind::Linear, "L");
  lin.sub = bias ? "+" : "";
  if (k == 1 && s == 1 && groups == 1 && in.size() == 2) {  // a linear layer on C, over the grid
    lin.detail = "1×1";
    return row_op(in, 1, 1, {out.size() == 2 ? out[1] : CircuitAxis{"C", std::to_string(cout)}},
                  lin, 30);
  }
  // ★: the grid in, the strided grid and the window out; then L over the window (and C)
  CircuitOp star = make_op(r_, id, CircuitOp::Kind::Conv, "★");
  star.learned = false;
  star.weights.clear();
  star.detail =
      std::to_string(k) + "×" + std::to_string(k) + (s > 1 ? " /" + std::to_string(s) : "");
  const CircuitAxis grid_out = out.empty() ? in[0] : out[0];
  const CircuitAxis window{"k²", std::to_string(k * k)};
  std::vector<Piece> parts;
  parts.push_back(row_op(in, 0, 1, {grid_out, window}, star, 34));
  const Axes mid = parts.back().out;  // [grid', k², C]
  const CircuitAxis cout_axis = out.size() == 2 ? out[1] : CircuitAxis{"C", std::to_string(cout)};
  if (groups == cin && groups == cout && groups > 1) {  // depthwise: C kept, one filter each
    lin.detail = "depthwise";
    Piece lp = row_op(mid, 1, 1, {}, lin, 24);
    CircuitOp& box = lp.c.ops.back();
    box.y1 = row_y(1) + kBoxHalf;
    lp.c.marks.push_back({CircuitMark::Kind::Shared, (box.x0 + box.x1) / 2, box.y1,
                          (box.x0 + box.x1) / 2, row_y(2), "C", ""});
    box.axes = {"k²", "C"};
    box.text_y = row_y(2) + 5;  // its lines under the C wire it keeps
    extend(lp, 0, box.text_y + 11.5f * static_cast<float>(1 + box.weights.size()));
    parts.push_back(std::move(lp));
  } else {
    if (groups > 1) lin.detail = "groups " + std::to_string(groups);
    parts.push_back(row_op(mid, 1, 2, {cout_axis}, lin, 30));
  }
  return sequence(parts, in, false);
}

// Multi-head attention (CIRCUITS.md): copy into q, k, v; L^Q, L^K, L^V emit d and h; the
// scores contract d (a cup) with h shared (a dot); ·d^-1/2; softmax on the key tokens; the key
// tokens contract with v's tokens; L^O takes d and h back to C. Without projections (the bare
// self_attention op) the input [N, 3·h·d] is split into q, k, v and h·d is merged at the end.
Piece Builder::attention_piece(NodeId id, const Node& n, const Axes& in, bool projections) {
  NodeId qkv = kNoNode, core = id, proj = kNoNode;
  if (projections)
    for (NodeId c : n.children) {
      const Node& cn = r_.g.node(c);
      if (cn.kind == "self_attention")
        core = c;
      else if (cn.name == "qkv")
        qkv = c;
      else if (cn.name == "proj")
        proj = c;
    }
  const Node& cn = r_.g.node(core);
  const int64_t heads = cn.attrs.i("heads"), hd = cn.attrs.i("head_dim");
  const CircuitAxis tok = in.empty() ? CircuitAxis{"N", "?", true} : in[0];
  const CircuitAxis ch = in.size() > 1 ? in[1] : CircuitAxis{"C", "?"};
  const CircuitAxis d{"d", std::to_string(hd)}, h{"h", std::to_string(heads)};
  Piece p;
  p.in = in;
  const Shape os = r_.out_shape(id);
  p.out = os.empty() ? in : axes_of(os);
  Circuit& c = p.c;
  const float seg = 5 * R;  // q at rows 0..2, k at 5..7, v at 10..12
  const float copy_x = 6, fan1 = copy_x + kFanWidth + 8;
  float x = fan1 + gap_width({tok, ch});
  const float lx0 = x, lx1 = x + 34;
  const char* names[3] = {"Q", "K", "V"};
  for (int s = 0; s < 3; ++s) {
    const float y0 = s * seg;
    for (int r = 0; r < 2; ++r) {
      wire(c, copy_x, row_y(r), fan1, y0 + row_y(r), r == 0 ? tok : ch);
      wire(c, fan1, y0 + row_y(r), lx0, y0 + row_y(r), r == 0 ? tok : ch, true);
    }
    CircuitOp L =
        make_op(r_, projections ? qkv : core, CircuitOp::Kind::Linear, projections ? "L" : "split");
    L.sup = names[s];
    if (projections) {
      // one fused linear in the graph: its weight is listed once, under V
      const Node& q = r_.g.node(qkv);
      L.sub = q.attrs.b("bias") ? "+" : "";
      L.weights.clear();
      if (s == 2) {
        for (const std::string& w : r_.weights(qkv)) L.weights.push_back("qkv " + w);
        L.weights.push_back("= 3 × [" + std::to_string(heads * hd) + ", " + ch.size + "]");
      }
    } else {
      L.kind = CircuitOp::Kind::Flatten;
      L.learned = false;
      L.weights.clear();
    }
    L.axes = {"C"};
    L.x0 = lx0, L.x1 = projections ? lx1 : lx0 + 6;
    L.y0 = y0 + row_y(1) - kBoxHalf, L.y1 = y0 + row_y(2) + kBoxHalf;
    c.ops.push_back(L);
    wire(c, lx0, y0, lx1, y0, tok);  // tokens pass over the linear layer
  }
  for (int r = 0; r < 2; ++r)
    wire(c, 0, row_y(r), copy_x, row_y(r), r == 0 ? tok : ch),
        c.marks.push_back({CircuitMark::Kind::Copy, copy_x, row_y(r), copy_x, row_y(r),
                           r == 0 ? tok.name : ch.name, ""});
  c.marks.push_back(
      {CircuitMark::Kind::Separator, fan1, seg - R * 0.9f, lx1 + 10, seg - R * 0.9f, "", ""});
  c.marks.push_back({CircuitMark::Kind::Separator, fan1, 2 * seg - R * 0.9f, lx1 + 10,
                     2 * seg - R * 0.9f, "", ""});
  x = lx1;
  const float gw = gap_width({tok, d, h});
  const float sx = x + gw;  // scores
  for (int s = 0; s < 3; ++s) {
    const float y0 = s * seg;
    wire(c, x, y0, sx, y0, tok, true);
    wire(c, x, y0 + R, sx, y0 + R, d, true);
    wire(c, x, y0 + 2 * R, sx, y0 + 2 * R, h, true);
  }
  const NodeId core_node = core;
  // q·k: d cup, h shared; the key tokens move up to row 1
  c.marks.push_back({CircuitMark::Kind::Cup, sx, row_y(1), sx, seg + row_y(1), "d", ""});
  c.marks.push_back(
      {CircuitMark::Kind::Shared, sx + 10, row_y(2), sx + 10, seg + row_y(2), "h", ""});
  const float scale_x = sx + 40, soft_x = scale_x + 60, vx = soft_x + 56;
  CircuitAxis key = tok;
  key.name = "N";
  wire(c, sx, 0, vx, 0, tok);  // query tokens
  wire(c, sx, seg, sx + 40, row_y(1), key);
  wire(c, sx + 40, row_y(1), soft_x - 12, row_y(1), key, true);
  wire(c, sx + 10, row_y(2), vx, row_y(2), h);
  c.marks.push_back(
      {CircuitMark::Kind::Scalar, scale_x, -R, scale_x + 40, -R, "", "·" + d.size + "^−½"});
  CircuitOp soft = make_op(r_, core_node, CircuitOp::Kind::Softmax, "");
  soft.learned = false;
  soft.weights.clear();
  soft.axes = {"N"};
  soft.x0 = soft_x - 12, soft.x1 = soft_x + 8, soft.y0 = row_y(1) - 9, soft.y1 = row_y(1) + 9;
  c.ops.push_back(soft);
  wire(c, soft_x + 8, row_y(1), vx, row_y(1), key);
  // v passes under the scores, then meets them: tokens cup, h shared, d moves up to row 1
  wire(c, sx, 2 * seg, vx, 2 * seg, tok);
  wire(c, sx, 2 * seg + R, vx + 10, 2 * seg + R, d);
  wire(c, sx, 2 * seg + 2 * R, vx + 10, 2 * seg + 2 * R, h);
  c.marks.push_back({CircuitMark::Kind::Cup, vx, row_y(1), vx, 2 * seg, "N", ""});
  c.marks.push_back(
      {CircuitMark::Kind::Shared, vx + 10, row_y(2), vx + 10, 2 * seg + row_y(2), "h", ""});
  const float after = vx + 50;
  wire(c, vx, 0, after, 0, tok);
  wire(c, vx + 10, 2 * seg + R, after, row_y(1), d);
  wire(c, vx + 10, row_y(2), after, row_y(2), h);
  // the scaled dot-product attention block
  CircuitBlock sdpa;
  sdpa.node = core_node;
  sdpa.title = "Scaled dot-product attention";
  sdpa.enterable = false;
  sdpa.x0 = sx - 14, sdpa.x1 = vx + 30;
  sdpa.y0 = -2 * R - kBlockTitle, sdpa.y1 = 2 * seg + 2 * R + 12;
  const float weights_bottom = 2 * seg + 2 * R + kBoxHalf + 4 + 2 * 11.5f;
  sdpa.depth = 0;  // framed() below puts it inside the multi-head block
  c.blocks.push_back(sdpa);
  const float gx = after + gap_width({tok, d, h});
  wire(c, after, 0, gx, 0, tok, true);
  wire(c, after, row_y(1), gx, row_y(1), d, true);
  wire(c, after, row_y(2), gx, row_y(2), h, true);
  CircuitOp O =
      make_op(r_, projections ? proj : core, CircuitOp::Kind::Linear, projections ? "L" : "merge");
  O.sup = projections ? "O" : "";
  if (projections) {
    O.sub = r_.g.node(proj).attrs.b("bias") ? "+" : "";
  } else {
    O.kind = CircuitOp::Kind::Flatten;
    O.learned = false;
    O.weights.clear();
  }
  O.axes = {"d", "h"};
  O.x0 = gx, O.x1 = gx + (projections ? 34 : 6);
  O.y0 = row_y(1) - kBoxHalf, O.y1 = row_y(2) + kBoxHalf;
  c.ops.push_back(O);
  wire(c, gx, 0, O.x1, 0, tok);
  p.w = O.x1 + 10;
  wire(c, O.x1, 0, p.w, 0, p.out.empty() ? tok : p.out[0]);
  wire(c, O.x1, row_y(1), p.w, row_y(1), p.out.size() > 1 ? p.out[1] : ch);
  p.top = sdpa.y0;
  p.bottom = std::max(sdpa.y1, weights_bottom);
  return framed(
      std::move(p), id,
      projections ? "Multi-head attention · " + n.name : "Self-attention core · " + n.name,
      projections);
}

Piece Builder::node_piece(NodeId id, const Axes& in_axes) {
  const Node& n = r_.g.node(id);
  const Shape is = r_.in_shape(id), os = r_.out_shape(id);
  const Axes in = is.empty() ? in_axes : axes_of(is);
  const Axes out = os.empty() ? in : axes_of(os);
  const std::string& k = n.kind;
  using K = CircuitOp::Kind;
  const size_t last = in.empty() ? 0 : in.size() - 1;

  if (!n.children.empty() || find_op(k) == nullptr ||
      (find_op(k) && find_op(k)->cls != OpClass::Leaf)) {
    if (n.children.empty()) return closed_piece(id, n, in, out);
    if (k == "attention" && r_.leaves(id) <= kInlineLeaves) return attention_piece(id, n, in, true);
    // identical blocks: drawn once, in parentheses, with the count
    if (n.children.size() > 1) {
      const Node& first = r_.g.node(n.children.front());
      bool same = !first.children.empty();
      for (NodeId c : n.children) {
        const Node& cn = r_.g.node(c);
        same = same && cn.kind == first.kind && cn.attrs == first.attrs;
      }
      if (same) {
        Piece one = closed_piece(n.children.front(), first, in, out);
        one.c.ops.back().symbol = n.name + ".0–" + std::to_string(n.children.size() - 1);
        Piece framed_one = framed(std::move(one), id, n.name.empty() ? n.kind : n.name, true);
        framed_one.c.blocks.front().repeat = static_cast<int>(n.children.size());
        return framed_one;
      }
    }
    // small composites open inline; so does one level of a short sequence of big ones (the
    // network's stages), each of them then drawn closed
    const bool small = r_.leaves(id) <= kInlineLeaves;
    const bool short_run = n.children.size() <= kInlineChildren && open_budget_ > 0;
    if (small || short_run) {
      Piece body;
      std::string why;
      if (!small) --open_budget_;
      const bool ok = flow(id, in, body, why);
      if (!small) ++open_budget_;
      if (ok) {
        const OpDef* d = find_op(k);
        std::string title = (d ? d->label : k) + (n.name.empty() ? "" : " · " + n.name);
        return framed(std::move(body), id, title, true);
      }
    }
    return closed_piece(id, n, in, out);
  }

  if (k == "linear") {
    CircuitOp o = make_op(r_, id, K::Linear, "L");
    o.sub = n.attrs.b("bias") ? "+" : "";
    return row_op(in, last, 1, {out.empty() ? in[last] : out.back()}, o, 30);
  }
  if (k == "conv2d") return conv_piece(id, n, in);
  if (k == "group_norm" || k == "layer_norm2d" || k == "layer_norm") {
    CircuitOp o = make_op(r_, id, K::Norm, k == "group_norm" ? "GN" : "LN");
    o.sub = o.learned && o.weights.size() > 1 ? "+" : "";
    if (k == "group_norm") {
      const int64_t groups = n.attrs.i("groups");
      if (groups > 1) o.detail = std::to_string(groups) + " groups";
      return row_op(in, 0, in.size(), in, o, 26);  // over C and the grid
    }
    return row_op(in, last, 1, {in[last]}, o, 22);  // over C alone
  }
  if (k == "pool_mixer" || k == "avg_pool2d") {
    const int64_t ps = k == "pool_mixer" ? n.attrs.i("pool_size") : n.attrs.i("kernel");
    const int64_t stride = k == "pool_mixer" ? 1 : n.attrs.i("stride");
    CircuitOp star = make_op(r_, id, K::Conv, "★");
    star.detail = std::to_string(ps) + "×" + std::to_string(ps) +
                  (stride > 1 ? " /" + std::to_string(stride) : "");
    const CircuitAxis window{"k²", std::to_string(ps * ps)};
    std::vector<Piece> parts;
    parts.push_back(row_op(in, 0, 1, {out.empty() ? in[0] : out[0], window}, star, 34));
    CircuitOp mean = make_op(r_, id, K::Pool, "E");
    mean.detail = "mean";
    parts.push_back(row_op(parts.back().out, 1, 1, {}, mean, 24));
    Piece pool = sequence(parts, in, false);
    if (k == "avg_pool2d") return pool;
    // pool(x) - x: a copy, the skip scaled by -1, an addition
    Piece skip;
    skip.in = skip.out = in;
    skip.w = 60;
    for (size_t r = 0; r < in.size(); ++r) wire(skip.c, 0, row_y(r), skip.w, row_y(r), in[r]);
    skip.c.marks.push_back({CircuitMark::Kind::Scalar, 10, row_y(in.size()) - 6, 50,
                            row_y(in.size()) - 6, "", "·(−1)"});
    extend(skip, 0, row_y(in.size()) + 4);
    std::vector<Piece> branches;
    branches.push_back(std::move(skip));
    branches.push_back(std::move(pool));
    return framed(parallel(in, std::move(branches), in, {}), id, "Pooling · " + n.name, false);
  }
  if (k == "global_avg_pool") {
    CircuitOp o = make_op(r_, id, K::Pool, "E");
    o.detail = "mean";
    return row_op(in, 0, 1, {}, o, 24);
  }
  if (k == "gelu" || k == "relu" || k == "squared_relu" || k == "star_relu") {
    const char* name = k == "gelu"           ? "GELU"
                       : k == "relu"         ? "ReLU"
                       : k == "squared_relu" ? "ReLU²"
                                             : "StarReLU";
    CircuitOp o = make_op(r_, id, K::Elementwise, name);
    return above_op(in, o);
  }
  if (k == "scale") {
    CircuitOp o = make_op(r_, id, K::Elementwise, "⊙γ");
    o.axes = {"C"};
    return above_op(in, o);
  }
  if (k == "dropout" || k == "drop_path") {
    CircuitOp o = make_op(r_, id, K::Elementwise, k == "dropout" ? "dropout" : "drop path");
    return above_op(in, o);
  }
  if (k == "identity") {
    Piece p;
    p.in = p.out = in;
    p.w = 56;
    for (size_t r = 0; r < in.size(); ++r) wire(p.c, 0, row_y(r), p.w, row_y(r), in[r]);
    CircuitOp o = make_op(r_, id, K::Box, "identity");
    o.x0 = 4, o.x1 = p.w - 4, o.y0 = -R - 6, o.y1 = -R + 6;
    o.kind = K::Elementwise;
    p.c.ops.push_back(o);
    extend(p, o.y0, row_y(in.size() - 1));
    return p;
  }
  if (k == "to_tokens" || k == "to_nchw") {
    CircuitOp o = make_op(r_, id, K::Flatten, k == "to_tokens" ? "flatten" : "unflatten");
    return row_op(in, 0, std::min<size_t>(in.size(), 1), {out.empty() ? in[0] : out[0]}, o, 6);
  }
  if (k == "random_mixing") {
    const CircuitAxis tokens{"N", std::to_string(n.attrs.i("num_tokens")), true};
    std::vector<Piece> parts;
    CircuitOp f = make_op(r_, id, K::Flatten, "flatten");
    f.learned = false, f.weights.clear();
    parts.push_back(row_op(in, 0, 1, {tokens}, f, 6));
    CircuitOp L = make_op(r_, id, K::Linear, "L");
    L.sup = "R";  // not bold: its matrix is fixed
    parts.push_back(row_op(parts.back().out, 0, 1, {tokens}, L, 30));
    CircuitOp u = make_op(r_, id, K::Flatten, "unflatten");
    u.learned = false, u.weights.clear();
    parts.push_back(row_op(parts.back().out, 0, 1, {in[0]}, u, 6));
    return framed(sequence(parts, in, false), id, "Random mixing · " + n.name, false);
  }
  if (k == "self_attention") return attention_piece(id, n, in, false);
  if (k == "cls_pos_embed") {
    CircuitOp o = make_op(r_, id, K::Concat, "cls");
    o.detail = "+pos";
    return row_op(in, 0, 1, {out.empty() ? in[0] : out[0]}, o, 30);
  }
  if (k == "select_token") {
    CircuitOp o = make_op(r_, id, K::Select, "[" + std::to_string(n.attrs.i("index")) + "]");
    return row_op(in, 0, 1, {}, o, 26);
  }
  if (k == "add") {  // an addition outside a copy (both inputs from elsewhere)
    CircuitOp o = make_op(r_, id, K::Box, "+");
    return row_op(in, 0, in.size(), out, o, 20);
  }
  // Any other op: a box over every wire.
  CircuitOp o = make_op(r_, id, K::Box, find_op(k) ? find_op(k)->label : k);
  return row_op(in, 0, in.size(), out, o, std::max(40.0f, text_width(o.symbol, kLabelFont) + 12));
}

}  // namespace

const CircuitOp* Circuit::op_of(NodeId node) const {
  for (const CircuitOp& o : ops)
    if (o.node == node) return &o;
  return nullptr;
}

NodeId Circuit::hit(Vec2 p) const {
  for (const CircuitOp& o : ops)
    if (p.x >= o.x0 && p.x <= o.x1 && p.y >= o.y0 && p.y <= o.y1) return o.node;
  NodeId best = kNoNode;
  int depth = -1;
  for (const CircuitBlock& b : blocks)
    if (p.x >= b.x0 && p.x <= b.x1 && p.y >= b.y0 && p.y <= b.y1 && b.depth > depth)
      best = b.node, depth = b.depth;
  return best;
}

Circuit build_circuit(const Graph& g, const Analysis& a, NodeId level) {
  if (level != kNoNode && !g.contains(level))
    throw Error("no node " + std::to_string(level) + " in the graph");
  Reader r{g, a, {}, {}};
  for (const Problem& p : a.problems)
    if (p.node != kNoNode) {
      r.problem_nodes.insert(p.node);
      if (!r.messages.count(p.node)) {
        const std::string path = g.path(p.node) + ": ";
        r.messages[p.node] =
            p.message.rfind(path, 0) == 0 ? p.message.substr(path.size()) : p.message;
      }
      for (NodeId anc : g.lineage(p.node)) r.problem_nodes.insert(anc);
    }
  Builder b(r);
  Piece body;
  std::string why, title;
  Axes in;
  if (level == kNoNode) {
    const auto inputs = g.top_level_of_kind("input");
    in = inputs.empty() ? Axes{{"?", "?"}} : axes_of(r.out_shape(inputs[0]));
    title = "Network" + (g.meta.has("template") ? " · " + g.meta.s("template") : std::string());
  } else {
    const Node& n = g.node(level);
    const Shape is = r.in_shape(level);
    in = is.empty() ? Axes{{"?", "?"}} : axes_of(is);
    const OpDef* d = find_op(n.kind);
    title = g.path(level) + " · " + (d ? d->label : n.kind);
    if (n.kind == "metaformer_block" || n.kind == "metaformer_stage")
      title += " (" + n.attrs.s("token_mixer") + ")";
  }
  bool ok = false;
  if (level != kNoNode && g.node(level).children.empty()) {
    body = sequence({b.node_piece(level, in)}, in, true);
    ok = true;
  } else if (level != kNoNode && g.node(level).kind == "attention") {
    body = sequence({b.node_piece(level, in)}, in, true);
    ok = true;
  } else {
    ok = b.flow(level, in, body, why);
  }
  Circuit c;
  if (!ok) {
    // Not series-parallel: the children in execution order, each on the wires it receives.
    std::vector<Piece> parts;
    const std::vector<NodeId>& kids = g.children(level);
    Axes cur = in;
    std::vector<NodeId> order;
    if (a.ok()) {
      for (const FlatOp& op : flatten(g, a).ops)
        for (NodeId anc : g.lineage(op.node)) {
          if (std::find(kids.begin(), kids.end(), anc) != kids.end() &&
              std::find(order.begin(), order.end(), anc) == order.end())
            order.push_back(anc);
        }
    } else {
      order = kids;
    }
    for (NodeId id : order) {
      const std::string& kind = g.node(id).kind;
      if (kind == "input" || kind == "output") continue;
      parts.push_back(b.node_piece(id, cur));
      cur = parts.back().out;
    }
    body = sequence(parts, in, true);
    c.note = "drawn in execution order: " + why;
  }
  c.level = level;
  c.title = title;
  for (const CircuitOp& o : body.c.ops)
    if (o.node != kNoNode) c.paths[o.node] = g.path(o.node);
  for (const CircuitBlock& bl : body.c.blocks)
    if (bl.node != kNoNode) c.paths[bl.node] = g.path(bl.node);
  constexpr float kMargin = 24, kTitleH = 26;
  const std::string in_name = level == kNoNode ? "input" : "x",
                    out_name = level == kNoNode ? "logits" : "y";
  const Font end_font{FontFace::Sans, 10.5f};
  const float left = kMargin + text_width(in_name, end_font) + 6;
  const float right = kMargin + text_width(out_name, end_font) + 6;
  const float dy = kMargin + kTitleH - body.top;
  place(c, body.c, left, dy);
  c.width = left + body.w + right;
  float bottom = dy + body.bottom + kMargin;
  // the input and output names at the ends of the wires
  c.labels.push_back({left - 4, dy - 6, in_name, Align::Right, true});
  c.labels.push_back({left + body.w + 4, dy - 6, out_name, Align::Left, true});
  // legend: axis names
  std::set<std::string> names;
  for (const CircuitWire& w : c.wires) names.insert(w.axis.name);
  static const std::map<std::string, std::string> meaning = {
      {"H×W", "H×W: the grid (height × width), one double wire"},
      {"C", "C: channels / features"},
      {"N", "N̄: tokens (an item axis, overlined)"},
      {"h", "h: heads"},
      {"d", "d: head dimension"},
      {"k²", "k²: the kernel window"}};
  for (const auto& [name, text] : meaning)
    if (names.count(name)) c.legend.push_back(text);
  c.legend.push_back("bold: learned (weights' shapes below); + : with bias");
  if (!c.note.empty()) c.legend.push_back(c.note);
  c.height = bottom + 14 * static_cast<float>(c.legend.size()) + 8;
  // widen for the title and legend
  float tw = text_width(c.title, Font{FontFace::SansBold, 14}) + 2 * kMargin;
  for (const std::string& l : c.legend) tw = std::max(tw, text_width(l, kLabelFont) + 2 * kMargin);
  c.width = std::max(c.width, tw);
  return c;
}

// ---- Drawing
// ---------------------------------------------------------------------------------------

namespace {

const Color kInk = rgb_hex(0x2b2b2b), kDim = rgb_hex(0x6d6d6d), kPaper = rgb_hex(0xffffff);
const Color kLinearFill = rgb_hex(0xdfe9dc), kConvFill = rgb_hex(0xcfe2f3),
            kBoxFill = rgb_hex(0xeef0f6);
const Color kConcatFill = rgb_hex(0xf6c48c), kNormFill = rgb_hex(0xffffff);
const Color kSelect = rgb_hex(0xd6336c), kHover = rgb_hex(0x4c8bf5), kProblem = rgb_hex(0xd93025);
const Color kBlockFill[3] = {rgb_hex(0xf4f5f9), rgb_hex(0xe9ecf4), rgb_hex(0xf8f8fb)};

void draw_wire(Canvas& cv, const Transform& t, const CircuitWire& w) {
  const Stroke s{w.problem ? kProblem : kInk, t(w.axis.grid ? 1.0f : 1.4f)};
  auto one = [&](float off) {
    const Vec2 a = t({w.x0, w.y0 + off}), b = t({w.x1, w.y1 + off});
    if (std::fabs(w.y0 - w.y1) < 0.01f) {
      cv.line(a, b, s);
    } else {
      const float mx = (a.x + b.x) / 2;
      cv.bezier(a, {mx, a.y}, {mx, b.y}, b, s);
    }
  };
  if (w.axis.grid) {
    one(-1.6f);
    one(1.6f);
  } else {
    one(0);
  }
  if (!w.labelled) return;
  const Font af{FontFace::Serif, t(11)}, lf{FontFace::Sans, t(11)};
  const float nw = text_width(w.axis.name, af);
  const float total = nw + t(3) + text_width(w.axis.size, lf);
  const float cx = (t(w.x0) + t(w.x1)) / 2 + t.origin.x;
  const float y = t(w.y0) + t.origin.y - t(3) - line_height(lf);
  const float x = cx - total / 2;
  cv.text({x, y}, w.axis.name, af, kDim);
  if (w.axis.token) {  // the overline of an item axis
    const float ly = y + t(1.5f);
    cv.line({x, ly}, {x + nw, ly}, Stroke{kDim, t(0.9f)});
  }
  cv.text({x + nw + t(3), y}, w.axis.size, lf, w.problem ? kProblem : kInk);
}

Stroke op_stroke(const Transform& t, const CircuitOp& o, const CircuitDrawState& st) {
  if (o.node != kNoNode && o.node == st.selected) return {kSelect, t(2.2f)};
  if (o.problem) return {kProblem, t(1.8f)};
  if (o.node != kNoNode && o.node == st.hovered) return {kHover, t(1.8f)};
  return {kInk, t(o.learned ? 1.6f : 1.0f)};
}

void symbol_text(Canvas& cv, const Transform& t, const CircuitOp& o, Vec2 centre, float size,
                 bool serif) {
  const Font f{o.learned ? (serif ? FontFace::SerifBold : FontFace::SansBold)
                         : (serif ? FontFace::Serif : FontFace::Sans),
               t(size)};
  const Font small{f.face, t(size * 0.62f)};
  const float w = text_width(o.symbol, f);
  const float sw = std::max(text_width(o.sup, small), text_width(o.sub, small));
  const float x = centre.x - (w + sw) / 2, y = centre.y - line_height(f) / 2;
  cv.text({x, y}, o.symbol, f, kInk);
  if (!o.sup.empty()) cv.text({x + w + t(0.5f), y - t(1)}, o.sup, small, kInk);
  if (!o.sub.empty()) cv.text({x + w + t(0.5f), y + line_height(f) * 0.55f}, o.sub, small, kInk);
}

void draw_op(Canvas& cv, const Transform& t, const CircuitOp& o, const CircuitDrawState& st) {
  using K = CircuitOp::Kind;
  const Vec2 a = t({o.x0, o.y0}), b = t({o.x1, o.y1});
  const Vec2 mid{(a.x + b.x) / 2, (a.y + b.y) / 2};
  const Stroke s = op_stroke(t, o, st);
  const Font detail{FontFace::Sans, t(9.5f)};
  auto under = [&](float y) {
    float yy = o.text_y != 0 ? t.origin.y + t(o.text_y) : y + t(2);
    if (!o.message.empty()) {
      cv.text({mid.x, yy}, o.message, detail, kProblem, Align::Center);
      yy += line_height(detail);
    }
    if (!o.detail.empty()) {
      cv.text({mid.x, yy}, o.detail, detail, kDim, Align::Center);
      yy += line_height(detail);
    }
    if (o.kind != K::Box)
      for (const std::string& wgt : o.weights) {
        cv.text({mid.x, yy}, wgt, detail, kDim, Align::Center);
        yy += line_height(detail);
      }
  };
  switch (o.kind) {
    case K::Linear: {
      const float cut = std::min(t(8), (b.y - a.y) / 3);
      cv.polygon({{a.x, a.y}, {b.x, a.y}, {b.x, b.y}, {a.x + cut, b.y}, {a.x, b.y - cut}},
                 kLinearFill, s);
      symbol_text(cv, t, o, mid, 15, true);
      under(b.y);
      break;
    }
    case K::Conv: {
      const float inset = (b.y - a.y) * 0.22f;
      cv.polygon({{a.x, a.y + inset}, {b.x, a.y}, {b.x, b.y}, {a.x, b.y - inset}}, kConvFill, s);
      symbol_text(cv, t, o, mid, 13, false);
      under(b.y);
      break;
    }
    case K::Pool:
      cv.rect(a, b, kBoxFill, s, t(3));
      symbol_text(cv, t, o, mid, 15, true);
      under(b.y);
      break;
    case K::Norm: {
      const float r = std::max((b.x - a.x), (b.y - a.y)) / 2;
      cv.circle(mid, std::min(r, (b.y - a.y) / 2 + t(1)), kNormFill, s);
      symbol_text(cv, t, o, mid, 9.5f, false);
      under(b.y);
      break;
    }
    case K::Elementwise: {
      const Font f{o.learned ? FontFace::SansBold : FontFace::Sans, t(11)};
      const float y = mid.y - line_height(f) / 2;
      const float ah = t(4);
      cv.polygon({{a.x, mid.y - ah}, {a.x + t(6), mid.y}, {a.x, mid.y + ah}}, kInk, Stroke{});
      cv.polygon({{b.x - t(6), mid.y - ah}, {b.x, mid.y}, {b.x - t(6), mid.y + ah}}, kInk,
                 Stroke{});
      const Color ink = o.node == st.selected && o.node != kNoNode ? kSelect
                        : o.problem                                ? kProblem
                                                                   : kInk;
      cv.text({mid.x, y}, o.symbol, f, ink, Align::Center);
      break;
    }
    case K::Softmax:
      cv.polygon({{a.x, mid.y}, {b.x, a.y}, {b.x, b.y}}, kPaper, s);
      break;
    case K::Flatten:
      cv.rect({mid.x - t(2.5f), a.y - t(2)}, {mid.x + t(2.5f), b.y + t(2)},
              s.color == kInk ? kInk : s.color, Stroke{});
      break;
    case K::Concat:
      cv.rect(a, b, kConcatFill, s, t(2));
      cv.rect({a.x + t(4), a.y + t(3)}, {a.x + t(7), b.y - t(3)}, kInk, Stroke{});
      symbol_text(cv, t, o, {mid.x + t(3), mid.y}, 10, false);
      under(b.y);
      break;
    case K::Select:
      cv.rect(a, b, kBoxFill, s, t(2));
      symbol_text(cv, t, o, mid, 10, false);
      break;
    case K::Box: {
      if (o.symbol == "+" && o.detail == "add") break;  // the addition is drawn by its dots
      cv.rect(a, b, kBoxFill, s, t(4));
      const Font tf{FontFace::SansBold, t(12)};
      const float inner = b.x - a.x - t(8);
      float y = a.y + t(4);
      cv.text({mid.x, y}, fit_text(o.symbol, tf, inner), tf, kInk, Align::Center);
      y += line_height(tf);
      cv.text({mid.x, y}, fit_text(o.detail, detail, inner), detail, kDim, Align::Center);
      y += line_height(detail);
      for (const std::string& wgt : o.weights) {
        cv.text({mid.x, y}, fit_text(wgt, detail, inner), detail, kDim, Align::Center);
        y += line_height(detail);
      }
      if (o.enterable)
        cv.text({b.x - t(4), b.y - t(2) - line_height(detail)}, "\xE2\x96\xB8", detail, kDim,
                Align::Right);
      break;
    }
  }
}

void draw_mark(Canvas& cv, const Transform& t, const CircuitMark& m) {
  using K = CircuitMark::Kind;
  const Vec2 a = t({m.x0, m.y0}), b = t({m.x1, m.y1});
  switch (m.kind) {
    case K::Copy:
    case K::Add:
      cv.circle(a, t(2.8f), kInk, Stroke{});
      break;
    case K::Plus: {
      const Font f{FontFace::SansBold, t(12)};
      cv.circle(a, t(6), kPaper, Stroke{kInk, t(1)});
      cv.text({a.x, a.y - line_height(f) / 2 - t(0.5f)}, "+", f, kInk, Align::Center);
      break;
    }
    case K::Separator:
      cv.line(a, b, Stroke{kDim, t(1), true});
      break;
    case K::Cup: {
      const float w = std::max(t(10), (b.y - a.y) * 0.18f);
      cv.bezier(a, {a.x + w, a.y}, {b.x + w, b.y}, b, Stroke{kInk, t(1.4f)});
      break;
    }
    case K::Shared:
      cv.line(a, b, Stroke{kInk, t(1.2f)});
      cv.circle(a, t(2.8f), kInk, Stroke{});
      cv.circle(b, t(2.8f), kInk, Stroke{});
      break;
    case K::Scalar: {
      const Font f{FontFace::Serif, t(10.5f)};
      cv.line(a, b, Stroke{kInk, t(1)});
      cv.polygon({{b.x - t(5), b.y - t(3)}, {b.x, b.y}, {b.x - t(5), b.y + t(3)}}, kInk, Stroke{});
      cv.text({(a.x + b.x) / 2, a.y - line_height(f) - t(1)}, m.text, f, kInk, Align::Center);
      break;
    }
  }
}

void draw_block(Canvas& cv, const Transform& t, const CircuitBlock& b, const CircuitDrawState& st) {
  const Vec2 a = t({b.x0, b.y0}), z = t({b.x1, b.y1});
  cv.rect({a.x + t(2.5f), a.y + t(2.5f)}, {z.x + t(2.5f), z.y + t(2.5f)}, rgba(0, 0, 0, 28),
          Stroke{}, t(6));  // soft shadow
  Stroke s{rgb_hex(0xb9bfcc), t(1)};
  if (b.node != kNoNode && b.node == st.selected)
    s = {kSelect, t(2.2f)};
  else if (b.node != kNoNode && b.node == st.hovered)
    s = {kHover, t(1.6f)};
  cv.rect(a, z, kBlockFill[b.depth % 3], s, t(6));
  const Font f{FontFace::SansBold, t(11)};
  cv.text({a.x + t(8), a.y + t(4)}, b.title, f, kInk);
  if (b.repeat > 1) {  // large parentheses and the count
    const float h = z.y - a.y;
    const Stroke ps{kInk, t(1.6f)};
    cv.bezier({a.x - t(2), a.y + t(4)}, {a.x - t(9), a.y + h * 0.3f}, {a.x - t(9), a.y + h * 0.7f},
              {a.x - t(2), z.y - t(4)}, ps);
    cv.bezier({z.x + t(2), a.y + t(4)}, {z.x + t(9), a.y + h * 0.3f}, {z.x + t(9), a.y + h * 0.7f},
              {z.x + t(2), z.y - t(4)}, ps);
    cv.text({z.x + t(10), z.y - t(14)}, "×" + std::to_string(b.repeat),
            Font{FontFace::SansBold, t(12)}, kInk);
  }
}

}  // namespace

void draw_circuit(Canvas& cv, const Circuit& c, const Transform& t, const CircuitDrawState& st) {
  Group all(cv, "circuit");
  cv.text(t({24, 12}), c.title, Font{FontFace::SansBold, t(14)}, kInk);
  // Groups are named by the node drawn ("node:stages.0.blocks.0.norm1"): an SVG keeps them.
  auto id = [&](NodeId n, const std::string& fallback) {
    const auto it = c.paths.find(n);
    return it == c.paths.end() ? fallback : "node:" + it->second;
  };
  for (const CircuitBlock& b : c.blocks) {
    Group g(cv, id(b.node, "block:" + b.title));
    draw_block(cv, t, b, st);
  }
  for (const CircuitMark& m : c.marks)
    if (m.kind == CircuitMark::Kind::Separator) draw_mark(cv, t, m);
  for (const CircuitWire& w : c.wires) {
    Group g(cv, "wire:" + w.axis.name);
    draw_wire(cv, t, w);
  }
  for (const CircuitOp& o : c.ops) {
    Group g(cv, id(o.node, "op:" + o.symbol));
    draw_op(cv, t, o, st);
  }
  for (const CircuitMark& m : c.marks)
    if (m.kind != CircuitMark::Kind::Separator) draw_mark(cv, t, m);
  for (const CircuitLabel& l : c.labels)
    cv.text(t({l.x, l.y}), l.text, Font{FontFace::Sans, t(l.small ? 10.5f : 12)}, kDim, l.align);
  float y = c.height - 14 * static_cast<float>(c.legend.size()) - 4;
  for (const std::string& line : c.legend) {
    cv.text(t({24, y}), line, Font{FontFace::Sans, t(10.5f)}, kDim);
    y += 14;
  }
}

Picture circuit_picture(const Graph& g, const Analysis& a, NodeId level) {
  auto circuit = std::make_shared<Circuit>(build_circuit(g, a, level));
  Picture p;
  p.size = {circuit->width, circuit->height};
  p.background = kPaper;
  p.draw = [circuit](Canvas& cv, const Transform& t) { draw_circuit(cv, *circuit, t); };
  return p;
}

}  // namespace fw::views
