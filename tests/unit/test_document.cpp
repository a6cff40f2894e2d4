// The editing model: commands, refusals with reasons, undo/redo, copy/paste, dirty state.
#include <gtest/gtest.h>

#include "core/document.h"
#include "core/graph_json.h"
#include "core/templates.h"

using namespace fw;

namespace {
Document small_doc(NodeId* conv, NodeId* pool) {
  Document d;
  const NodeId in = d.add(kNoNode, "input", "input", {{"channels", int64_t(3)}, {"height", int64_t(8)}, {"width", int64_t(8)}}).node;
  *conv = d.add(kNoNode, "conv2d", "conv", {{"in_channels", int64_t(3)}, {"out_channels", int64_t(16)}, {"kernel", int64_t(3)}, {"padding", int64_t(1)}}).node;
  *pool = d.add(kNoNode, "global_avg_pool", "pool").node;
  EXPECT_TRUE(d.connect({in, 0}, *conv, 0));
  EXPECT_TRUE(d.connect({*conv, 0}, *pool, 0));
  return d;
}
}  // namespace

TEST(Document, RefusesConnectionWithShapeMismatchAndSaysWhy) {
  NodeId conv, pool;
  Document d = small_doc(&conv, &pool);
  const NodeId fc = d.add(kNoNode, "linear", "fc", {{"in_features", int64_t(10)}, {"out_features", int64_t(2)}}).node;
  const int64_t rev = d.revision();
  EditResult r = d.connect({pool, 0}, fc, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.node, fc);
  EXPECT_EQ(r.port, 0);
  EXPECT_EQ(r.reason, "fc: expects 10 features, gets 16");
  EXPECT_FALSE(d.graph().node(fc).inputs[0].connected());
  EXPECT_EQ(d.revision(), rev);  // nothing happened
  ASSERT_TRUE(d.set_attr(fc, "in_features", int64_t(16)));
  EXPECT_TRUE(d.connect({pool, 0}, fc, 0));
}

TEST(Document, RefusesASecondWrongSourceForAPortThatAlreadyMismatches) {
  NodeId conv, pool;
  Document d = small_doc(&conv, &pool);
  const NodeId fc = d.add(kNoNode, "linear", "fc", {{"in_features", int64_t(16)}, {"out_features", int64_t(2)}}).node;
  ASSERT_TRUE(d.connect({pool, 0}, fc, 0));
  ASSERT_TRUE(d.set_attr(fc, "in_features", int64_t(10)));  // now fc mismatches its source
  ASSERT_FALSE(d.analysis().ok());
  const NodeId pool2 = d.add(kNoNode, "global_avg_pool", "pool2").node;
  ASSERT_TRUE(d.connect({conv, 0}, pool2, 0));
  // Another 16-feature source repeats the same mismatch: refused, the old edge stays.
  EditResult r = d.connect({pool2, 0}, fc, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "fc: expects 10 features, gets 16");
  EXPECT_EQ(d.graph().node(fc).inputs[0].node, pool);
  // A source that fits is accepted (and mends the graph).
  const NodeId fit = d.add(kNoNode, "linear", "fit", {{"in_features", int64_t(16)}, {"out_features", int64_t(10)}}).node;
  ASSERT_TRUE(d.connect({pool2, 0}, fit, 0));
  EXPECT_TRUE(d.connect({fit, 0}, fc, 0));
}

TEST(Document, RefusesCycles) {
  NodeId conv, pool;
  Document d = small_doc(&conv, &pool);
  const NodeId act = d.add(kNoNode, "gelu", "act").node;
  ASSERT_TRUE(d.connect({conv, 0}, act, 0));
  const NodeId add = d.add(kNoNode, "add", "sum").node;
  ASSERT_TRUE(d.connect({act, 0}, add, 0));
  EditResult r = d.connect({add, 0}, add, 1);
  EXPECT_FALSE(r.ok);
  EditResult r2 = d.connect({add, 0}, act, 0);
  EXPECT_FALSE(r2.ok);
  EXPECT_NE(r2.reason.find("cycle"), std::string::npos) << r2.reason;
}

TEST(Document, UndoRedoEveryEdit) {
  NodeId conv, pool;
  Document d = small_doc(&conv, &pool);
  const std::string s0 = graph_to_json(d.graph());
  ASSERT_TRUE(d.set_attr(conv, "out_channels", int64_t(32)));
  EXPECT_EQ(d.analysis().of(pool)->out[0], (Shape{32}));
  ASSERT_TRUE(d.move({conv, pool}, 10, 5));
  ASSERT_TRUE(d.rename(pool, "gap"));
  ASSERT_TRUE(d.remove({conv}));
  EXPECT_FALSE(d.graph().node(pool).inputs[0].connected());
  const std::string s4 = graph_to_json(d.graph());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(d.undo());
  EXPECT_EQ(graph_to_json(d.graph()), s0);
  EXPECT_EQ(d.analysis().of(pool)->out[0], (Shape{16}));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(d.redo());
  EXPECT_EQ(graph_to_json(d.graph()), s4);
  EXPECT_FALSE(d.redo());
}

TEST(Document, CompositeAttributeEditUndoes) {
  Document d(build_template("caformer_s18", {{3, 64, 64}, 10}));
  const std::string before = graph_to_json(d.graph());
  const NodeId stage = d.graph().find_path("stages.1");
  ASSERT_TRUE(d.set_attr(stage, "depth", int64_t(5)));
  EXPECT_NE(d.graph().find_path("stages.1.blocks.4"), kNoNode);
  EXPECT_TRUE(d.analysis().ok());
  ASSERT_TRUE(d.undo());
  EXPECT_EQ(graph_to_json(d.graph()), before);
}

TEST(Document, GroupsMergeIntoOneStep) {
  NodeId conv, pool;
  Document d = small_doc(&conv, &pool);
  d.begin_group("Drag");
  for (int i = 0; i < 10; ++i) d.move({conv}, 1, 0);
  d.end_group();
  EXPECT_FLOAT_EQ(d.graph().node(conv).x, 10);
  ASSERT_TRUE(d.undo());
  EXPECT_FLOAT_EQ(d.graph().node(conv).x, 0);
}

TEST(Document, CopyPasteKeepsInnerEdges) {
  Document d(build_template("poolformer_s12", {{3, 64, 64}, 10}));
  const NodeId block = d.graph().find_path("stages.0.blocks.1");
  const NodeId blocks = d.graph().find_path("stages.0.blocks");
  const std::string frag = d.copy({block});
  EditResult r = d.paste(blocks, frag, 40, 40);
  ASSERT_TRUE(r.ok) << r.reason;
  ASSERT_EQ(r.created.size(), 1u);
  const Node& copy = d.graph().node(r.created[0]);
  EXPECT_EQ(copy.kind, "metaformer_block");
  EXPECT_FALSE(copy.inputs[0].connected());  // the outside edge is not copied
  EXPECT_EQ(copy.children.size(), d.graph().node(block).children.size());
  // Rewire it in after block 1: the graph is valid again with one more block... but two nodes
  // now share the name "1": the analysis says so.
  EXPECT_FALSE(d.analysis().ok());
  ASSERT_TRUE(d.rename(r.created[0], "2"));
  ASSERT_TRUE(d.connect({block, 0}, r.created[0], 0));
  ASSERT_TRUE(d.set_output(blocks, 0, {r.created[0], 0}));
  EXPECT_TRUE(d.analysis().ok()) << d.analysis().problems.front().message;
  EXPECT_NE(d.graph().find_path("stages.0.blocks.2.mlp.fc1"), kNoNode);
}

TEST(Document, DirtyFollowsSavedRevision) {
  NodeId conv, pool;
  Document d = small_doc(&conv, &pool);
  d.mark_saved();
  EXPECT_FALSE(d.dirty());
  ASSERT_TRUE(d.move({conv}, 3, 3));
  EXPECT_TRUE(d.dirty());
  ASSERT_TRUE(d.undo());
  EXPECT_FALSE(d.dirty());
  ASSERT_TRUE(d.redo());
  EXPECT_TRUE(d.dirty());
}

TEST(Document, PlaceSetsManyPositionsInOneStep) {
  NodeId conv, pool;
  Document d = small_doc(&conv, &pool);
  ASSERT_TRUE(d.place({{conv, 100, 20}, {pool, 300, -40}}));
  EXPECT_FLOAT_EQ(d.graph().node(conv).x, 100);
  EXPECT_FLOAT_EQ(d.graph().node(pool).y, -40);
  EXPECT_EQ(d.undo_label(), "Arrange");
  ASSERT_TRUE(d.undo());
  EXPECT_FLOAT_EQ(d.graph().node(conv).x, 0);
  EXPECT_FLOAT_EQ(d.graph().node(pool).y, 0);
  EXPECT_FALSE(d.place({{9999, 1, 1}}).ok);  // unknown node: refused, nothing changes
  EXPECT_FALSE(d.can_redo() && d.redo_label() != "Arrange");
}
