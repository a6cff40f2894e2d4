// The op and block registry: one table that the palette, the templates, the loaders, shape
// inference and the cost model all read. Nothing else switches on op names.
//
// Contents
//  1. AttrSpec   - an attribute's type, default, limits and help (the inspector's widget)
//  2. ParamSpec  - a parameter a node owns: local name, shape, initialiser, trainable
//  3. OpDef      - one op or block kind
//  4. lookup     - find_op(), op_def(), all_ops()
//
// Leaf ops ("primitive") have an `infer` function and are executed by kernels/. Composite kinds
// (stem, downsampling, metaformer_block, stage, head, ...) have a `build` function that creates
// their children from their attributes; their shapes, parameters and MACs are their children's.
// Generic groups ("group") have neither: the user edits their children directly.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/attrs.h"
#include "core/tensor.h"

namespace fw {

class Graph;
using NodeId = int32_t;

// 1. Attributes ---------------------------------------------------------------------------------
enum class AttrType { Int, Float, Bool, Choice, String };

struct AttrSpec {
  std::string name;
  AttrType type = AttrType::Int;
  AttrValue def;                      // default value, of the type above (Choice: a string)
  double min = 0, max = 0;            // inclusive limits for Int/Float; min == max: unbounded
  std::vector<std::string> choices;   // Choice only
  std::string help;
};

// 2. Parameters -------------------------------------------------------------------------------
enum class InitKind {
  TruncNormal,    // truncated normal, std = value, cut at +-2 (timm's trunc_normal_(std=.02))
  Normal,         // normal, std = value (ViT's cls_token: 1e-6)
  Zeros,
  Ones,
  Constant,       // every element = value (layer scale, res scale, StarReLU scale/bias)
  RandomSoftmax,  // RandFormer: softmax over the last dim of uniform [0,1) noise (fixed matrix)
};

struct ParamSpec {
  std::string name;       // local name, appended to the node's module path ("weight")
  Shape shape;
  InitKind init = InitKind::Zeros;
  double value = 0;       // std or constant, see InitKind
  bool trainable = true;  // false: requires_grad=False in PyTorch, still in the state_dict
};

// 3. Op / block definitions -----------------------------------------------------------------------
// Shape functions receive per-sample shapes (no batch) and throw fw::Error with a message that
// names the port or attribute, e.g. "expects 320 channels, gets 128". The caller prefixes the
// node's module path.
using InferFn = std::function<std::vector<Shape>(const Attrs&, const std::vector<Shape>& in)>;
using ParamsFn = std::function<std::vector<ParamSpec>(const Attrs&, const std::vector<Shape>& in)>;
// MACs per sample; documented rule in core/cost.md: conv, linear, attention matmuls, token mixing.
using MacsFn = std::function<int64_t(const Attrs&, const std::vector<Shape>& in,
                                     const std::vector<Shape>& out)>;
using BuildFn = std::function<void(Graph&, NodeId self)>;
// Extra validation of a composite's attributes before building (throws fw::Error).
using CheckFn = std::function<void(const Attrs&)>;

enum class OpClass { Leaf, Composite, Group };

struct OpDef {
  std::string id;        // registry id, stored in files: "conv2d", "metaformer_block"
  std::string label;     // palette label: "Conv2d", "MetaFormer block"
  std::string category;  // palette family and colour: "io", "conv", "linear", "norm", "act",
                         // "mixer", "attention", "shape", "arith", "block", "stage", "head"
  std::string help;      // one line for the palette tooltip and `formwork ops`
  OpClass cls = OpClass::Leaf;
  std::vector<std::string> inputs;   // input port names
  std::vector<std::string> outputs;  // output port names
  std::vector<AttrSpec> attrs;
  InferFn infer;    // leaf: required
  ParamsFn params;  // leaf: optional (no parameters)
  MacsFn macs;      // leaf: optional (0 MACs)
  BuildFn build;    // composite: required
  CheckFn check;    // optional
  // Inputs whose shape, but not values, the op reads (to_nchw's grid reference): the memory
  // planner does not keep them alive for it.
  std::vector<int> shape_only_inputs;

  const AttrSpec* attr(const std::string& name) const;
};

// 4. Lookup ---------------------------------------------------------------------------------------
const OpDef* find_op(std::string_view id);  // nullptr if unknown
const OpDef& op_def(std::string_view id);   // throws fw::Error("unknown op kind 'x'")
const std::vector<const OpDef*>& all_ops(); // registration order

// Fills missing attributes with their defaults and checks types, limits and choices; throws
// fw::Error naming the attribute.
Attrs complete_attrs(const OpDef& def, const Attrs& given);

}  // namespace fw
