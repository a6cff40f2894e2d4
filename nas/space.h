// Search spaces marked on a graph, and the subnets they hold (CONTRACT.md, "Search").
//
// Contents
//  1. SearchSpace  - choices (node, attribute, values) and analytic constraints; its JSON file
//  2. Checking     - every way a space can be wrong, as one fw::Error line
//  3. Subnets      - one value per choice: canonical key, choices JSON, the graph it makes
//  4. On the graph - the space a graph carries (graph.meta "search_space"), so that editing it is
//                    an undoable graph edit and saving the project saves it
//
// Model
//  - A choice names a node by module path ("stages.1") and one of its attributes ("token_mixer",
//    "depth", "dim", "mlp_ratio", "head_dim", "sepconv_kernel", "pool_size", ...), with the set of
//    values it may take, in the user's order. A value has the attribute's type (core/registry.h
//    AttrSpec): ints for Int, numbers for Float, true/false for Bool, one of the choices for Choice.
//  - A subnet is one index per choice (`Pick`). Its identity is its canonical key: the choices
//    sorted by "node.attr", joined as "node.attr=value;..." with values written by
//    attr_to_string. Two picks with the same key are the same subnet and are evaluated once.
//  - apply_subnet copies the base graph, sets every chosen attribute (a composite rebuilds its
//    children: a stage rebuilds its blocks), then carries widths over: when a node's `dim` (or
//    `out_channels`) changed, what consumes its output takes the new width — the next stage's
//    `in_dim`, a downsampling's or conv's `in_channels`, a head's or linear's `in_features` — found
//    by following the output through enclosing groups' outputs and into groups' inputs. A token
//    mixer chosen as random_mixing gets `num_tokens` = the H·W it sees. The result is analysed;
//    a graph with problems is refused with the first problem as the reason (the subnet is invalid
//    and is never scored). The space itself is not carried into the subnet (meta removed).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/attrs.h"
#include "core/graph.h"

namespace fw {

// 1. SearchSpace -----------------------------------------------------------------------------------

struct SpaceChoice {
  std::string node;  // module path of the node ("stages.1")
  std::string attr;  // attribute name ("token_mixer")
  std::vector<AttrValue> values;

  std::string label() const { return node + "." + attr; }  // "stages.1.token_mixer"
  bool operator==(const SpaceChoice&) const = default;
};

struct SpaceConstraints {
  std::optional<double> params_max, macs_max, latency_ms_max;
  bool empty() const { return !params_max && !macs_max && !latency_ms_max; }
  bool operator==(const SpaceConstraints&) const = default;
};

struct SearchSpace {
  std::vector<SpaceChoice> choices;
  SpaceConstraints constraints;

  // Number of subnets: the product of the value counts (a double: spaces can be huge).
  double size() const;
  bool empty() const { return choices.empty(); }
  // The CONTRACT's file: {"choices": [{"node", "attr", "values"}], "constraints": {...}}.
  // Values are written as JSON numbers, booleans or strings by their type.
  std::string to_json(int indent = 1) const;
  // Parses the file's text. Throws fw::Error naming `where` (a file name) for bad JSON, a missing
  // or mistyped key, an unknown constraint, an empty values list. Types are checked against the
  // graph by check_space, not here (a value is kept as the JSON gave it: int, double, bool, string).
  static SearchSpace from_json(const std::string& text, const std::string& where = "search space");
  // Index of the choice (node, attr), or -1.
  int find(const std::string& node, const std::string& attr) const;
  bool operator==(const SearchSpace&) const = default;
};

// 2. Checking --------------------------------------------------------------------------------------

// Checks a space against its base graph and returns it with every value converted to its
// attribute's type (an int 2 for a Float attribute becomes 2.0). Throws fw::Error, one line:
//   "search space: no choices"                     (an empty space)
//   "search space: no node 'stages.7' (choice 3)"
//   "search space: stages.1 (metaformer_stage) has no attribute 'depht'"
//   "search space: stages.1.depth: value 0 is outside 1..64"
//   "search space: stages.1.token_mixer: 'conv' is not one of pooling, sepconv, ..."
//   "search space: stages.1.depth: value 'two' is not an int"
//   "search space: stages.1.depth: the value 2 is listed twice"
//   "search space: stages.1.depth is chosen twice (choices 1 and 4)"
//   "search space: constraint params_max must be a positive number, got -1"
SearchSpace check_space(const Graph& base, const SearchSpace& space);

// 3. Subnets ---------------------------------------------------------------------------------------

using Pick = std::vector<int>;  // one value index per choice, in the space's order

// "stages.1.depth=2;stages.1.token_mixer=attention" (sorted by label).
std::string subnet_key(const SearchSpace& s, const Pick& pick);
// {"stages.1.token_mixer": "attention", "stages.1.depth": 2} in the space's order, as JSON text.
std::string subnet_choices_json(const SearchSpace& s, const Pick& pick);
// The reverse: a choices object (label -> value) back to a pick. Throws fw::Error for a label not
// in the space or a value not among its values.
Pick pick_from_choices_json(const SearchSpace& s, const std::string& json);
// The pick whose values equal the base graph's current attributes, where every one is among the
// values; nullopt otherwise (the base is not in the space).
std::optional<Pick> base_pick(const Graph& base, const SearchSpace& s);

// The subnet's graph (see Model). Throws fw::Error with the reason when the subnet is not a valid
// graph ("stages.2.downsample.conv: expects 96 channels, gets 64"). `space` must be checked.
Graph apply_subnet(const Graph& base, const SearchSpace& space, const Pick& pick);

// 4. On the graph ----------------------------------------------------------------------------------

inline constexpr const char* kSearchSpaceMeta = "search_space";
// The space stored in g.meta (empty space when none). Throws fw::Error for a malformed one.
SearchSpace graph_space(const Graph& g);
// The meta value to store for a space ("" for an empty space: remove the key).
std::string space_meta_value(const SearchSpace& s);

}  // namespace fw
