// Graph building, editing, validation messages, shape inference and the JSON format.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "core/analysis.h"
#include "core/error.h"
#include "core/graph_json.h"
#include "core/templates.h"

using namespace fw;

namespace {

// input -> conv2d(3->8, k3 s2 p1) -> gelu -> global_avg_pool -> linear(8->4) -> output
struct Small {
  Graph g;
  NodeId in, conv, act, pool, fc, out;
  Small() {
    in = g.add(kNoNode, "input", "input",
               {{"channels", int64_t(3)}, {"height", int64_t(16)}, {"width", int64_t(16)}});
    conv = g.add(kNoNode, "conv2d", "conv",
                 {{"in_channels", int64_t(3)},
                  {"out_channels", int64_t(8)},
                  {"kernel", int64_t(3)},
                  {"stride", int64_t(2)},
                  {"padding", int64_t(1)}});
    act = g.add(kNoNode, "gelu", "act");
    pool = g.add(kNoNode, "global_avg_pool", "pool");
    fc =
        g.add(kNoNode, "linear", "fc", {{"in_features", int64_t(8)}, {"out_features", int64_t(4)}});
    out = g.add(kNoNode, "output", "output");
    g.connect({in, 0}, conv);
    g.connect({conv, 0}, act);
    g.connect({act, 0}, pool);
    g.connect({pool, 0}, fc);
    g.connect({fc, 0}, out);
  }
};

std::string first_problem(const Graph& g) {
  Analysis a = analyze(g);
  return a.problems.empty() ? "" : a.problems.front().message;
}

}  // namespace

TEST(Graph, ShapesParamsAndMacs) {
  Small s;
  Analysis a = analyze(s.g);
  ASSERT_TRUE(a.ok()) << first_problem(s.g);
  EXPECT_EQ(a.of(s.conv)->out[0], (Shape{8, 8, 8}));
  EXPECT_EQ(a.of(s.fc)->out[0], (Shape{4}));
  EXPECT_EQ(a.total_params, 8 * 3 * 9 + 8 + 8 * 4 + 4);
  EXPECT_EQ(a.total_macs, 8 * 8 * 8 * 3 * 9 + 8 * 4);
  ASSERT_EQ(a.params.size(), 4u);
  EXPECT_EQ(a.params[0].name, "conv.weight");
  EXPECT_EQ(a.params[0].shape, (Shape{8, 3, 3, 3}));
}

// input [4096, 8192, 8192] -> stage{conv0, conv1...} -> pool -> fc -> output, 64x64 kernels.
Graph big_convs(const std::vector<std::pair<int64_t, int64_t>>& convs) {
  const int n = int(convs.size());
  std::string nodes =
      R"({"id": 1, "parent": 0, "name": "input", "kind": "input",
          "attrs": {"channels": 4096, "height": 8192, "width": 8192}, "inputs": []},
         {"id": 2, "parent": 0, "name": "stage", "kind": "group",
          "inputs": [{"node": 1, "port": 0}], "outputs": [{"node": )" +
      std::to_string(2 + n) + R"(, "port": 0}]})";
  for (int i = 0; i < n; ++i) {
    std::string src = i == 0 ? R"({"node": 2, "port": 0, "group_input": true})"
                             : R"({"node": )" + std::to_string(2 + i) + R"(, "port": 0})";
    nodes += R"(, {"id": )" + std::to_string(3 + i) + R"(, "parent": 2, "name": "conv)" +
             std::to_string(i) + R"(", "kind": "conv2d", "attrs": {"in_channels": )" +
             std::to_string(convs[i].first) + R"(, "out_channels": )" +
             std::to_string(convs[i].second) + R"(, "kernel": 64, "padding": )" +
             std::to_string(32 - i) + R"(}, "inputs": [)" + src + "]}";
  }
  const std::string k = std::to_string(3 + n);
  nodes +=
      R"(, {"id": )" + k +
      R"(, "parent": 0, "name": "pool", "kind": "global_avg_pool", "inputs": [{"node": 2, "port": 0}]})";
  nodes += R"(, {"id": )" + std::to_string(4 + n) +
           R"(, "parent": 0, "name": "fc", "kind": "linear", "attrs": {"in_features": )" +
           std::to_string(convs.back().second) + R"(, "out_features": 10}, "inputs": [{"node": )" +
           k + R"(, "port": 0}]})";
  nodes += R"(, {"id": )" + std::to_string(5 + n) +
           R"(, "parent": 0, "name": "output", "kind": "output", "inputs": [{"node": )" +
           std::to_string(4 + n) + R"(, "port": 0}]})";
  return graph_from_json(
      R"({"format": "formwork-graph", "version": 1, "meta": {}, "nodes": [)" + nodes + "]}",
      "big.json");
}

// Attribute-valid graphs whose MAC count exceeds int64: the count saturates (never wraps to a
// negative or small number) and the node where it first does is a problem.
TEST(Graph, MacCountBeyondInt64IsAProblemNotAWrappedNumber) {
  // One conv: 65536 x 8193^2 x 4096 x 64^2 = 7.4e22 MACs.
  Analysis a = analyze(big_convs({{4096, 65536}}));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.problems.front().message, "stage.conv0: MAC count exceeds 9.2e18 (int64)");
  EXPECT_EQ(a.problems.size(), 1u);  // not again for the stage and the graph
  EXPECT_EQ(a.total_macs, kCountOverflow);
  // Two convs of 4.6e18 each: each fits, their sum in the stage does not.
  const Graph two = big_convs({{4096, 4096}, {4096, 4096}});
  a = analyze(two);
  ASSERT_EQ(a.problems.size(), 1u);
  EXPECT_EQ(a.problems.front().message, "stage: MAC count exceeds 9.2e18 (int64)");
  EXPECT_GT(a.of(two.find_path("stage.conv0"))->macs, int64_t(4) << 60);  // each conv fits
  EXPECT_LT(a.of(two.find_path("stage.conv0"))->macs, kCountOverflow);
  EXPECT_EQ(a.total_macs, kCountOverflow);
  EXPECT_THROW(require_valid(a), Error);
  // One conv of 4.6e18 is exact.
  a = analyze(big_convs({{4096, 4096}}));
  EXPECT_TRUE(a.ok()) << a.problems.front().message;
  EXPECT_EQ(a.total_macs, int64_t(4096) * 8193 * 8193 * 4096 * 64 * 64 + 4096 * 10);
}

TEST(Graph, SaturatingCounts) {
  EXPECT_EQ(mul_sat({int64_t(1) << 31, int64_t(1) << 31}), int64_t(1) << 62);
  EXPECT_EQ(mul_sat({int64_t(1) << 32, int64_t(1) << 31}), kCountOverflow);
  EXPECT_EQ(add_sat(INT64_MAX - 1, 1), kCountOverflow);
  EXPECT_EQ(add_sat(kCountOverflow, 5), kCountOverflow);
  EXPECT_EQ(numel_sat({int64_t(1) << 40, int64_t(1) << 40}), kCountOverflow);
  EXPECT_EQ(numel_sat({2, 3, 4}), 24);
}

TEST(Graph, ShapeInferenceFollowsTheInputSize) {
  Small s;
  s.g.set_attr(s.in, "height", int64_t(33));
  Analysis a = analyze(s.g);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.of(s.conv)->out[0], (Shape{8, 17, 8}));
}

TEST(Graph, UnconnectedPortIsNamed) {
  Small s;
  s.g.disconnect(s.fc, 0);
  EXPECT_EQ(first_problem(s.g), "fc: input 'x' is not connected");
  Analysis a = analyze(s.g);
  EXPECT_EQ(a.problems.front().node, s.fc);
  EXPECT_EQ(a.problems.front().port, 0);
}

TEST(Graph, ChannelMismatchNamesNodeAndNumbers) {
  Graph g = build_template("poolformer_s12");
  const NodeId fc1 = g.find_path("stages.2.blocks.0.mlp.fc1");
  ASSERT_NE(fc1, kNoNode);
  g.set_attr(fc1, "in_channels", int64_t(128));
  EXPECT_EQ(first_problem(g), "stages.2.blocks.0.mlp.fc1: expects 128 channels, gets 320");
}

TEST(Graph, CycleIsReported) {
  Small s;
  // act -> pool -> act
  s.g.connect({s.pool, 0}, s.act);
  const std::string p = first_problem(s.g);
  EXPECT_NE(p.find("cycle"), std::string::npos) << p;
  EXPECT_NE(p.find("act"), std::string::npos) << p;
}

TEST(Graph, RefusesBadConnections) {
  Graph g = build_template("poolformer_s12");
  const NodeId stem_conv = g.find_path("stem.conv");
  const NodeId head = g.find_path("head");
  EXPECT_THROW(g.connect({stem_conv, 0}, head, 0), Error);  // different groups
  EXPECT_THROW(g.connect({head, 0}, head, 0), Error);       // itself
  EXPECT_THROW(g.connect({head, 3}, g.top_level_of_kind("output")[0], 0), Error);  // no port 3
  EXPECT_THROW(g.add(kNoNode, "conv2d", "c", {{"groups", int64_t(3)}}), Error);    // 64 % 3
  EXPECT_THROW(g.add(kNoNode, "conv2d", "c", {{"kernel", int64_t(0)}}), Error);    // limits
  EXPECT_THROW(g.add(kNoNode, "nonsense", "c"), Error);
}

TEST(Graph, RemoveDisconnectsConsumers) {
  Small s;
  s.g.remove(s.act);
  EXPECT_FALSE(s.g.contains(s.act));
  EXPECT_FALSE(s.g.node(s.pool).inputs[0].connected());
  EXPECT_EQ(first_problem(s.g), "pool: input 'x' is not connected");
}

TEST(Graph, CompositeRebuildsFromAttributes) {
  Graph g = build_template("poolformer_s12", {{3, 64, 64}, 10});
  const NodeId block = g.find_path("stages.0.blocks.0");
  g.set_attr(block, "token_mixer", std::string("sepconv"));
  EXPECT_NE(g.find_path("stages.0.blocks.0.token_mixer.dwconv"), kNoNode);
  Analysis a = analyze(g);
  EXPECT_TRUE(a.ok()) << first_problem(g);
  // A value the block cannot be built with is refused and the block keeps its old state.
  EXPECT_THROW(g.set_attr(block, "token_mixer", std::string("attention")),
               Error);  // GroupNorm on tokens
  EXPECT_EQ(g.node(block).attrs.s("token_mixer"), "sepconv");
  EXPECT_TRUE(analyze(g).ok());
}

TEST(Graph, ModulePathsAndLookup) {
  Graph g = build_template("vit_tiny_patch16_224", {{3, 64, 64}, 10});
  const NodeId qkv = g.find_path("blocks.3.attn.qkv");
  ASSERT_NE(qkv, kNoNode);
  EXPECT_EQ(g.node(qkv).kind, "linear");
  Analysis a = analyze(g);
  ASSERT_TRUE(a.ok()) << first_problem(g);
  auto pos = std::find_if(a.params.begin(), a.params.end(),
                          [](const ParamInfo& p) { return p.name == "pos_embed"; });
  ASSERT_NE(pos, a.params.end());
  EXPECT_EQ(pos->shape, (Shape{1, 17, 192}));
}

TEST(Graph, FlattenResolvesGroups) {
  Graph g = build_template("caformer_s18", {{3, 64, 64}, 10});
  Analysis a = analyze(g);
  ASSERT_TRUE(a.ok());
  FlatGraph fg = flatten(g, a);
  ASSERT_EQ(fg.inputs.size(), 1u);
  ASSERT_EQ(fg.outputs.size(), 1u);
  EXPECT_EQ(fg.ops.front().def->id, "input");
  EXPECT_EQ(fg.ops[size_t(fg.outputs[0].op)].path, "head.fc.fc2");
  size_t nparams = 0;
  for (size_t i = 0; i < fg.ops.size(); ++i) {
    for (const ValueRef& v : fg.ops[i].inputs) EXPECT_LT(size_t(v.op), i);  // topological
    nparams += fg.ops[i].params.size();
    EXPECT_EQ(fg.ops[i].def->cls, OpClass::Leaf);
  }
  EXPECT_EQ(nparams, a.params.size());
}

TEST(GraphJson, RoundTripsEveryTemplateExactly) {
  for (const std::string& name : template_names()) {
    SCOPED_TRACE(name);
    Graph g = build_template(name, {{3, 64, 64}, 10});
    g.move(g.find_path("stem") ? g.find_path("stem") : g.find_path("patch_embed"), 12.5f, -3.25f);
    const std::string text = graph_to_json(g);
    Graph back = graph_from_json(text, "mem.json");
    EXPECT_TRUE(back == g);
    EXPECT_EQ(graph_to_json(back), text);
  }
}

TEST(GraphJson, KeepsIntAndFloatAttributesApart) {
  Small s;
  Graph back = graph_from_json(graph_to_json(s.g), "mem.json");
  EXPECT_TRUE(std::holds_alternative<int64_t>(back.node(s.conv).attrs.get("kernel")));
  const NodeId ln = s.g.add(kNoNode, "layer_norm", "ln", {{"eps", 1.0}});
  back = graph_from_json(graph_to_json(s.g), "mem.json");
  EXPECT_TRUE(std::holds_alternative<double>(back.node(ln).attrs.get("eps")));
}

TEST(GraphJson, ClearErrors) {
  auto err = [](const std::string& text) {
    try {
      graph_from_json(text, "a.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(err("{").find("a.json: not valid JSON"), std::string::npos);
  // A number that does not fit a double is a bad file too, not an internal error.
  EXPECT_NE(
      err(R"({"format": "formwork-graph", "version": 1e999})").find("a.json: not valid JSON ("),
      std::string::npos);
  EXPECT_NE(err("[]").find("not a Formwork architecture"), std::string::npos);
  EXPECT_NE(err(R"({"format":"formwork-graph","version":9,"nodes":[]})").find("version 9 is newer"),
            std::string::npos);
  EXPECT_NE(err(R"({"format":"formwork-graph","version":1,"nodes":[{"id":1,"kind":"warp"}]})")
                .find("unknown op kind 'warp'"),
            std::string::npos);
  EXPECT_NE(err(R"({"format":"formwork-graph","version":1,"nodes":[
                {"id":1,"kind":"gelu","inputs":[{"node":7,"port":0}]}]})")
                .find("node 1 ('')"),
            std::string::npos);
  EXPECT_NE(err(R"({"format":"formwork-graph","version":1,"nodes":[
                {"id":1,"kind":"conv2d","attrs":{"kernel":"big"}}]})")
                .find("attribute 'kernel' must be int"),
            std::string::npos);
  EXPECT_NE(err(R"({"format":"formwork-graph","version":1,"nodes":[
                {"id":1,"kind":"gelu"},{"id":1,"kind":"gelu"}]})")
                .find("duplicate node id 1"),
            std::string::npos);
}

namespace {

// input -> relu × n -> output as a file, the nodes listed in `order` (forward, reverse or
// shuffled).
std::string relu_chain_json(int n, const std::string& order) {
  std::vector<std::string> nodes;
  nodes.push_back(
      R"({"id":1,"kind":"input","name":"input","attrs":{"channels":3,"height":4,"width":4}})");
  for (int i = 0; i < n; ++i)
    nodes.push_back("{\"id\":" + std::to_string(i + 2) + ",\"kind\":\"relu\",\"name\":\"r" +
                    std::to_string(i) + "\",\"inputs\":[{\"node\":" + std::to_string(i + 1) +
                    ",\"port\":0}]}");
  nodes.push_back("{\"id\":" + std::to_string(n + 2) +
                  ",\"kind\":\"output\",\"name\":\"output\",\"inputs\":[{\"node\":" +
                  std::to_string(n + 1) + ",\"port\":0}]}");
  if (order == "reverse") std::reverse(nodes.begin(), nodes.end());
  if (order == "shuffled")  // a fixed permutation: stride 7919 through the list
    for (size_t i = 0; i < nodes.size(); ++i) std::swap(nodes[i], nodes[(i * 7919) % nodes.size()]);
  std::string text = R"({"format":"formwork-graph","version":1,"nodes":[)";
  for (size_t i = 0; i < nodes.size(); ++i) text += (i ? "," : "") + nodes[i];
  return text + "]}";
}

// Groups nested `depth` levels, an identity inside the innermost.
std::string nested_json(int depth) {
  std::string nodes =
      R"({"id":1,"kind":"input","name":"input","attrs":{"channels":3,"height":4,"width":4}})";
  const int leaf = depth + 2;
  for (int i = 0; i < depth; ++i) {
    const int id = i + 2, parent = i == 0 ? 0 : i + 1;
    const std::string in =
        i == 0 ? R"({"node":1,"port":0})"
               : "{\"node\":" + std::to_string(parent) + ",\"port\":0,\"group_input\":true}";
    nodes += ",{\"id\":" + std::to_string(id) + ",\"parent\":" + std::to_string(parent) +
             ",\"kind\":\"group\",\"name\":\"g\",\"inputs\":[" + in +
             "],\"outputs\":[{\"node\":" + std::to_string(i + 1 == depth ? leaf : id + 1) +
             ",\"port\":0}]}";
  }
  nodes += ",{\"id\":" + std::to_string(leaf) + ",\"parent\":" + std::to_string(depth + 1) +
           R"(,"kind":"identity","name":"id","inputs":[{"node":)" + std::to_string(depth + 1) +
           R"(,"port":0,"group_input":true}]})";
  nodes += ",{\"id\":" + std::to_string(leaf + 1) +
           R"(,"kind":"output","name":"output","inputs":[{"node":2,"port":0}]})";
  return R"({"format":"formwork-graph","version":1,"nodes":[)" + nodes + "]}";
}

}  // namespace

// #16: the analysis was quadratic in the node count when nodes were not listed in a
// topological order (20,000 nodes: 11 s). Kahn's algorithm makes every order linear; a
// forward-listed graph keeps its order.
TEST(Graph, AnalysisIsLinearInAnyNodeOrder) {
  const int n = 100000;
  for (const char* order : {"forward", "reverse", "shuffled"}) {
    const auto t0 = std::chrono::steady_clock::now();
    const Graph g = graph_from_json(relu_chain_json(n, order), "chain.json");
    const Analysis a = analyze(g);
    ASSERT_TRUE(a.ok()) << order << ": " << a.problems.front().message;
    const FlatGraph fg = flatten(g, a);
    ASSERT_EQ(fg.ops.size(), size_t(n + 1)) << order;  // input and the relus (output is not an op)
    for (int i = 1; i <= n; ++i) ASSERT_EQ(fg.ops[i].inputs.at(0).op, i - 1) << order;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Not a timing assertion of speed: a quadratic pass over 10^5 nodes takes minutes.
    EXPECT_LT(s, 60.0) << order;
  }
}

// #16 (found by fuzz_graph_json under UBSan): a whole number too large for int64 in an integer
// attribute was converted anyway (undefined behaviour: a wrapped value). Refused naming it.
TEST(GraphJson, RefusesAnIntegerAttributeBeyondInt64) {
  for (const char* value : {"3.3333e52", "-1e19", "9223372036854775808.0"}) {
    const std::string text =
        std::string(R"({"format":"formwork-graph","version":1,"nodes":[{"id":1,"kind":"input",)") +
        R"("name":"input","attrs":{"channels":)" + value + R"(,"height":4,"width":4}}]})";
    try {
      graph_from_json(text, "big.json");
      ADD_FAILURE() << value << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("does not fit a 64-bit integer"), std::string::npos)
          << e.what();
    }
  }
}

// #16: groups nested thousands deep overflowed the stack in the analysis (exit 139). The file
// reader refuses nesting beyond kMaxGraphDepth with one line; up to it, everything works.
TEST(GraphJson, RefusesNestingBeyondTheLimit) {
  const Graph ok = graph_from_json(nested_json(kMaxGraphDepth), "deep.json");
  EXPECT_TRUE(analyze(ok).ok());
  for (int depth : {kMaxGraphDepth + 2, 100000}) {
    try {
      graph_from_json(nested_json(depth), "deep.json");
      ADD_FAILURE() << depth << " levels were accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("nested more than 256 levels"), std::string::npos)
          << e.what();
    }
  }
}

// #16: a position that does not fit a float became inf, which the file writer stored as null and
// the reader then refused: `new` wrote a project it could not reopen. Now refused on reading.
TEST(GraphJson, RefusesPositionsOffTheCanvas) {
  for (const char* pos : {"[1e300, 0]", "[0, -1e39]", "[2e7, 0]"}) {
    const std::string text =
        std::string(
            R"({"format":"formwork-graph","version":1,"nodes":[{"id":1,"kind":"gelu","pos":)") +
        pos + "}]}";
    try {
      graph_from_json(text, "far.json");
      ADD_FAILURE() << pos << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("outside the canvas"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(graph_from_json(
      R"({"format":"formwork-graph","version":1,"nodes":[{"id":1,"kind":"gelu","pos":[-9999999, 5e6]}]})",
      "near.json"));
}
