// Neural circuit diagrams (V. Abbott, "Neural Circuit Diagrams", TMLR 2024) generated from the
// graph at any level of the hierarchy; the conventions are ../shared/design/CIRCUITS.md.
// build_circuit() lays the diagram out as plain data (wires, operations, glyphs, blocks) that a
// test can check and the GUI can hit-test; draw_circuit() draws it through a Canvas, the same on
// screen and in a file; circuit_picture() is both for the exporters.
//
// How a level becomes a diagram
// - The level's children (or the op itself, for a leaf) are read as a series-parallel flow from
//   the level's input to its output: a value with several consumers is a copy, and the branches
//   rejoin at the node where they meet (an `add` is drawn as the paper's addition). Inputs that
//   only give a shape (to_nchw's grid) are not flow. A level that is not series-parallel is drawn
//   in execution order, and `note` says so.
// - Tensors are wires, one per axis, with their sizes from shape inference: a feature map
//   [C,H,W] is the grid (one double wire "H×W") above the channel wire C; tokens [N,C] are N̄
//   (token axis, overlined) above C; a vector [C] is one wire. (Ours: spatial axes above channels,
//   so the channel wire is where each linear layer sits and the grid visibly runs over it.)
// - A composite child is drawn inline as a titled block when it is small (at most
//   kInlineLeaves leaf ops) or, one level deep, when it has a few children (the network's
//   stages), else as one box to enter; a group of identical blocks is drawn once
//   in large parentheses with its count. The attention composite is the paper's multi-head
//   attention figure (q, k, v split into heads, the d-cups, the h-dots, softmax on the key axis).
// - Learned operations are bold and list their weights' shapes; the others are regular.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/graph.h"
#include "views/canvas.h"

namespace fw::views {

inline constexpr int kInlineLeaves = 8;
inline constexpr float kWireGap = 20;  // between the wires of one tensor (the paper's spacing)

// One axis of a tensor as drawn.
struct CircuitAxis {
  std::string name;  // "C", "H×W", "N", "h", "d", "k²", "classes"
  std::string size;  // "64", "56×56", "3136"
  bool token = false;   // drawn overlined (N̄)
  bool grid = false;    // the H×W double wire
  friend bool operator==(const CircuitAxis&, const CircuitAxis&) = default;
};

// A wire segment: from (x0, y0) to (x1, y1); an S-curve when the ys differ.
struct CircuitWire {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  CircuitAxis axis;
  bool labelled = false;  // carries its size label (the segments between operations)
  bool problem = false;   // the shapes do not agree here
};

struct CircuitOp {
  enum class Kind : uint8_t {
    Linear,       // bold L (subscript + with a bias); frozen (random mixing): not bold
    Conv,         // ★ trapezoid: grid in, strided grid and the kernel window k² out
    Pool,         // 𝔼 (mean) over the window or the grid
    Norm,         // circle over the axes it normalises
    Elementwise,  // ➤f➤ above the wires: activations, scales, dropout
    Softmax,      // white triangle on the axis it normalises, apex left
    Flatten,      // thick vertical bar (H×W <-> N)
    Concat,       // bar on an orange tile (class token)
    Select,       // picks one token
    Box,          // any other op, or a composite drawn closed (enter it to see inside)
  };
  Kind kind = Kind::Box;
  NodeId node = kNoNode;      // the graph node it draws (selection, click to enter)
  std::string symbol;         // "L", "★", "𝔼", "GELU", "⊙γ", the box's title
  std::string sup, sub;       // superscript ("Q"), subscript ("+" for a bias)
  std::string detail;         // second line: "3×3 /2", "[64, 64]", the kind of a closed box
  bool learned = false;       // bold
  bool enterable = false;     // a composite: a click enters it
  bool problem = false;       // the analysis names this node
  std::string message;        // its first problem ("expects 8 channels, gets 16"), drawn below
  std::vector<std::string> axes;     // names of the axes it consumes (Norm: normalised over)
  std::vector<std::string> weights;  // its parameters' shapes: "weight [64, 64]"
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float text_y = 0;  // where the lines below it start (0: under the box)
};

// Dots, cups, separators and the other small marks.
struct CircuitMark {
  enum class Kind : uint8_t {
    Copy,       // a copy dot on a wire
    Add,        // an addition dot on a wire
    Plus,       // the + of an addition, on a separator
    Separator,  // dashed line between the segments of a tuple (x0..x1 at y0)
    Cup,        // contraction of one axis: U joining (x0, y0) and (x0, y1)
    Shared,     // an axis kept but shared (h in attention): a dot joining (x0, y0) and (x0, y1)
    Scalar,     // a scalar factor on a wire: arrow tagged with `text` ("·d^-1/2", "·(−1)")
  };
  Kind kind = Kind::Copy;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  std::string axis;  // the axis concerned (cups and shared dots)
  std::string text;
};

// A titled block around its body (an inline composite), or a repeat in parentheses.
struct CircuitBlock {
  NodeId node = kNoNode;
  std::string title;  // "MLP · mlp", "Multi-head attention"
  int repeat = 1;     // > 1: drawn once in parentheses with ×repeat
  int depth = 0;      // nesting (0 = outermost)
  bool enterable = true;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

struct CircuitLabel {  // free text: the input and output names, block titles are drawn by blocks
  float x = 0, y = 0;
  std::string text;
  Align align = Align::Left;
  bool small = false;
};

struct Circuit {
  NodeId level = kNoNode;
  std::string title;  // "stages.0.blocks.0 · MetaFormer block (pooling)"
  std::vector<CircuitWire> wires;
  std::vector<CircuitOp> ops;
  std::vector<CircuitMark> marks;
  std::vector<CircuitBlock> blocks;  // outermost first
  std::vector<CircuitLabel> labels;
  std::vector<std::string> legend;   // symbolic sizes and notes
  std::string note;                  // "" or why the drawing is simplified
  std::map<NodeId, std::string> paths;  // module path of every node drawn (the groups' ids)
  float width = 0, height = 0;       // diagram units, content in [0, width] x [0, height]

  // The op or block drawn for `node` (ops first), or nullptr.
  const CircuitOp* op_of(NodeId node) const;
  // The innermost op or block under a point: its node, or kNoNode.
  NodeId hit(Vec2 p) const;
};

// Throws fw::Error when `level` is not in the graph. Problems in the analysis are drawn marked.
Circuit build_circuit(const Graph& g, const Analysis& a, NodeId level);

struct CircuitDrawState {
  NodeId selected = kNoNode;
  NodeId hovered = kNoNode;
};
void draw_circuit(Canvas& c, const Circuit& circuit, const Transform& t,
                  const CircuitDrawState& state = {});

// The level's diagram at full detail on white, for the exporters.
Picture circuit_picture(const Graph& g, const Analysis& a, NodeId level);

}  // namespace fw::views
