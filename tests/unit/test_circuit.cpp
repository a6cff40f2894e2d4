// Structure of generated circuit diagrams (views/circuit.h, ../shared/design/CIRCUITS.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/analysis.h"
#include "core/error.h"
#include "core/templates.h"
#include "views/canvas.h"
#include "views/circuit.h"

namespace fw::views {
namespace {

struct Fixture {
  Graph g;
  Analysis a;
  explicit Fixture(const std::string& name, Shape input = {}) {
    TemplateOptions o;
    o.input = std::move(input);
    g = build_template(name, o);
    a = analyze(g);
  }
  Circuit at(const std::string& path) const {
    const NodeId id = path.empty() ? kNoNode : g.find_path(path);
    EXPECT_TRUE(path.empty() || id != kNoNode) << path;
    return build_circuit(g, a, id);
  }
};

int count_marks(const Circuit& c, CircuitMark::Kind k, const std::string& axis = "") {
  return static_cast<int>(std::count_if(c.marks.begin(), c.marks.end(), [&](const CircuitMark& m) {
    return m.kind == k && (axis.empty() || m.axis == axis);
  }));
}

std::vector<const CircuitOp*> ops_of_kind(const Circuit& c, CircuitOp::Kind k) {
  std::vector<const CircuitOp*> out;
  for (const CircuitOp& o : c.ops)
    if (o.kind == k) out.push_back(&o);
  return out;
}

const CircuitOp& op_named(const Fixture& f, const Circuit& c, const std::string& path) {
  const NodeId id = f.g.find_path(path);
  const CircuitOp* o = c.op_of(id);
  if (!o) throw Error("no op drawn for " + path);
  return *o;
}

std::set<std::string> labels(const Circuit& c) {
  std::set<std::string> out;
  for (const CircuitWire& w : c.wires)
    if (w.labelled) out.insert(w.axis.size);
  return out;
}

// Everything a circuit must hold whatever it draws.
void check_invariants(const Circuit& c) {
  ASSERT_GT(c.width, 0);
  ASSERT_GT(c.height, 0);
  for (const CircuitWire& w : c.wires) {
    EXPECT_LE(w.x0, w.x1 + 1e-3f) << "flow runs left to right: " << w.axis.name;
    EXPECT_FALSE(w.axis.size.empty());
    EXPECT_GE(w.x0, -1e-3f);
    EXPECT_LE(w.x1, c.width + 1e-3f);
  }
  for (const CircuitOp& o : c.ops) {
    // learned ops, and only they, list trainable weights (closed boxes list a parameter count)
    if (o.kind != CircuitOp::Kind::Box && !o.learned) {
      for (const std::string& w : o.weights)
        EXPECT_TRUE(w.size() > 7 && w.substr(w.size() - 7) == " frozen") << o.symbol << ": " << w;
    }
  }
  // blocks nest strictly: each inner block lies inside one of the next depth out
  for (const CircuitBlock& b : c.blocks) {
    if (b.depth == 0) continue;
    bool inside = false;
    for (const CircuitBlock& o : c.blocks)
      inside = inside || (o.depth == b.depth - 1 && o.x0 <= b.x0 && o.x1 >= b.x1 &&
                          o.y0 <= b.y0 && o.y1 >= b.y1);
    EXPECT_TRUE(inside) << b.title;
  }
}

TEST(Circuit, MetaFormerBlockHasTwoResidualCopyAddPairs) {
  Fixture f("caformer_s18");
  const Circuit c = f.at("stages.2.blocks.0");
  check_invariants(c);
  EXPECT_TRUE(c.note.empty()) << c.note;
  // the two residual adds are drawn as additions, each after a copy
  const CircuitOp& r1 = op_named(f, c, "stages.2.blocks.0.residual1");
  const CircuitOp& r2 = op_named(f, c, "stages.2.blocks.0.residual2");
  EXPECT_EQ(r1.detail, "add");
  EXPECT_EQ(r2.detail, "add");
  EXPECT_LT(r1.x1, r2.x0);
  EXPECT_EQ(count_marks(c, CircuitMark::Kind::Plus), 2);
  // each copy dot on the C and N wires at the residual: 2 residuals, attention's q/k/v copy = 3
  EXPECT_EQ(count_marks(c, CircuitMark::Kind::Copy, "C"), 3);
  EXPECT_EQ(count_marks(c, CircuitMark::Kind::Add, "C"), 2);
}

TEST(Circuit, PoolingMixerSubtractsItsInput) {
  Fixture f("poolformer_s12");
  const Circuit c = f.at("stages.0.blocks.0");
  check_invariants(c);
  // two residual additions, and pool(x) - x: a third addition with a ·(−1) on the skip
  EXPECT_EQ(count_marks(c, CircuitMark::Kind::Plus), 3);
  int negated = 0;
  for (const CircuitMark& m : c.marks) negated += m.kind == CircuitMark::Kind::Scalar && m.text == "·(−1)";
  EXPECT_EQ(negated, 1);
  EXPECT_FALSE(ops_of_kind(c, CircuitOp::Kind::Conv).empty());  // the ★ window
  EXPECT_FALSE(ops_of_kind(c, CircuitOp::Kind::Pool).empty());  // its mean
}

TEST(Circuit, GroupNormOneGroupCoversGridAndChannelsLayerNormOnlyChannels) {
  Fixture pool("poolformer_s12");
  const Circuit pc = pool.at("stages.0.blocks.0");
  const CircuitOp& gn = op_named(pool, pc, "stages.0.blocks.0.norm1");
  EXPECT_EQ(gn.kind, CircuitOp::Kind::Norm);
  EXPECT_EQ(gn.axes, (std::vector<std::string>{"H×W", "C"}));
  EXPECT_TRUE(gn.learned);
  EXPECT_EQ(gn.sub, "+");  // GroupNorm with a bias

  Fixture ca("caformer_s18");
  const Circuit cc = ca.at("stages.0.blocks.0");
  const CircuitOp& ln = op_named(ca, cc, "stages.0.blocks.0.norm1");
  EXPECT_EQ(ln.kind, CircuitOp::Kind::Norm);
  EXPECT_EQ(ln.axes, (std::vector<std::string>{"C"}));
  EXPECT_EQ(ln.sub, "");  // bias-free LayerNorm
  // the two norms look different: one circle spans two wires, the other one
  EXPECT_GT(gn.y1 - gn.y0, ln.y1 - ln.y0 + 10);
}

TEST(Circuit, AttentionShowsHeadsCupsAndSoftmaxOnKeys) {
  Fixture f("caformer_s18");
  const Circuit c = f.at("stages.2.blocks.0.token_mixer");
  check_invariants(c);
  const Node& core = f.g.node(f.g.find_path("stages.2.blocks.0.token_mixer.core"));
  const std::string heads = std::to_string(core.attrs.i("heads"));
  const std::string hd = std::to_string(core.attrs.i("head_dim"));
  bool heads_wire = false, d_wire = false;
  for (const CircuitWire& w : c.wires) {
    heads_wire = heads_wire || (w.axis.name == "h" && w.axis.size == heads && w.labelled);
    d_wire = d_wire || (w.axis.name == "d" && w.axis.size == hd && w.labelled);
  }
  EXPECT_TRUE(heads_wire);
  EXPECT_TRUE(d_wire);
  EXPECT_EQ(count_marks(c, CircuitMark::Kind::Cup, "d"), 1);     // q·k contracts d
  EXPECT_EQ(count_marks(c, CircuitMark::Kind::Cup, "N"), 1);     // attn·v contracts the keys
  EXPECT_EQ(count_marks(c, CircuitMark::Kind::Shared, "h"), 2);  // h kept at both
  const auto soft = ops_of_kind(c, CircuitOp::Kind::Softmax);
  ASSERT_EQ(soft.size(), 1u);
  EXPECT_EQ(soft[0]->axes, (std::vector<std::string>{"N"}));
  EXPECT_FALSE(soft[0]->learned);
  // L^Q, L^K, L^V and L^O, learned
  int linears = 0;
  for (const CircuitOp* o : ops_of_kind(c, CircuitOp::Kind::Linear)) linears += o->learned;
  EXPECT_EQ(linears, 4);
}

TEST(Circuit, SizesFollowTheInputSize) {
  Fixture big("poolformer_s12");
  Fixture small("poolformer_s12", {3, 64, 64});
  const auto at224 = labels(big.at("stages.0.blocks.0"));
  const auto at64 = labels(small.at("stages.0.blocks.0"));
  EXPECT_TRUE(at224.count("56×56"));
  EXPECT_FALSE(at224.count("16×16"));
  EXPECT_TRUE(at64.count("16×16"));
  EXPECT_FALSE(at64.count("56×56"));
  EXPECT_TRUE(at64.count("64"));   // channels
  EXPECT_TRUE(at64.count("256"));  // MLP hidden width
}

TEST(Circuit, NetworkLevelDrawsEveryChild) {
  for (const char* name : {"poolformer_s12", "caformer_s18", "vit_tiny_patch16_224",
                           "randformer_s12", "identityformer_s12", "formwork_fm32"}) {
    SCOPED_TRACE(name);
    Fixture f(name);
    const Circuit c = f.at("");
    check_invariants(c);
    EXPECT_TRUE(c.note.empty()) << c.note;
    for (NodeId id : f.g.children(kNoNode)) {
      const Node& n = f.g.node(id);
      if (n.kind == "input" || n.kind == "output") continue;
      bool drawn = c.op_of(id) != nullptr;
      for (const CircuitBlock& b : c.blocks) drawn = drawn || b.node == id;
      EXPECT_TRUE(drawn) << f.g.path(id);
    }
  }
}

TEST(Circuit, EveryLevelOfEveryTemplateBuilds) {
  for (const std::string& name : template_names()) {
    SCOPED_TRACE(name);
    Fixture f(name);
    for (NodeId id : f.g.preorder()) {
      const Node& n = f.g.node(id);
      if (n.kind == "input" || n.kind == "output") continue;
      const Circuit c = build_circuit(f.g, f.a, id);
      check_invariants(c);
      EXPECT_TRUE(c.note.empty()) << f.g.path(id) << ": " << c.note;
    }
  }
}

TEST(Circuit, RepeatedBlocksAreDrawnOnceWithTheirCount) {
  Fixture f("poolformer_s12");
  const Circuit c = f.at("stages.0");
  const NodeId blocks = f.g.find_path("stages.0.blocks");
  const auto it = std::find_if(c.blocks.begin(), c.blocks.end(),
                               [&](const CircuitBlock& b) { return b.node == blocks; });
  ASSERT_NE(it, c.blocks.end());
  EXPECT_EQ(it->repeat, static_cast<int>(f.g.node(blocks).children.size()));
}

TEST(Circuit, RandomMixingIsAFrozenLinearOnTokens) {
  Fixture f("randformer_s12");
  const Circuit c = f.at("stages.2.blocks.0");
  const CircuitOp* frozen = nullptr;
  for (const CircuitOp* o : ops_of_kind(c, CircuitOp::Kind::Linear))
    if (o->sup == "R") frozen = o;
  ASSERT_NE(frozen, nullptr);
  EXPECT_FALSE(frozen->learned);
  EXPECT_EQ(frozen->axes, (std::vector<std::string>{"N"}));
}

TEST(Circuit, ProblemsAreMarkedNotFatal) {
  Fixture f("poolformer_s12");
  const NodeId fc1 = f.g.find_path("stages.0.blocks.0.mlp.fc1");
  f.g.set_attr(fc1, "in_channels", int64_t(32));  // 64 channels arrive
  f.a = analyze(f.g);
  ASSERT_FALSE(f.a.ok());
  const Circuit c = f.at("stages.0.blocks.0.mlp");
  const CircuitOp* o = c.op_of(fc1);
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->problem);
  EXPECT_NE(o->message.find("channels"), std::string::npos) << o->message;
  // the wire into it is marked; the picture says why in its words
  bool marked = false;
  for (const CircuitWire& w : c.wires) marked = marked || (w.problem && w.x1 <= o->x0 + 1);
  EXPECT_TRUE(marked);
  RecordingCanvas rec;
  draw_circuit(rec, c, Transform{});
  const auto texts = rec.texts();
  EXPECT_NE(std::find(texts.begin(), texts.end(), o->message), texts.end());
}

TEST(Circuit, UnknownLevelThrows) {
  Fixture f("poolformer_s12");
  EXPECT_THROW(build_circuit(f.g, f.a, 999999), Error);
}

TEST(Circuit, DrawingHoldsEveryLabelAndHitTestsOps) {
  Fixture f("caformer_s18");
  const Circuit c = f.at("stages.2.blocks.0");
  RecordingCanvas rec;
  draw_circuit(rec, c, Transform{});
  const auto texts = rec.texts();
  for (const std::string& size : labels(c))
    EXPECT_NE(std::find(texts.begin(), texts.end(), size), texts.end()) << size;
  const CircuitOp& n2 = op_named(f, c, "stages.2.blocks.0.norm2");
  EXPECT_EQ(c.hit({(n2.x0 + n2.x1) / 2, (n2.y0 + n2.y1) / 2}), n2.node);
  // the same circuit through a scaled transform: same calls, scaled
  RecordingCanvas twice;
  draw_circuit(twice, c, Transform{{0, 0}, 2});
  ASSERT_EQ(twice.commands().size(), rec.commands().size());
}

}  // namespace
}  // namespace fw::views
