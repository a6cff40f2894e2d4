// Parameter counts are not typed here: tests/python/test_template_sizes.py derives them from the
// PyTorch reference models (tests/python/fwref) for every template, at the default size and at
// 3x64x64 / 10 classes, and for caformer_mini64 also from a layer-by-layer count. What stays here:
// MACs against the reference counts of ../shared/design/TEMPLATES.md (3x224x224, 1000 classes),
// typed because they are that document's numbers, and the totals' consistency with the parameter
// list.
#include <gtest/gtest.h>

#include "core/analysis.h"
#include "core/error.h"
#include "core/templates.h"
#include "core/tensor.h"

namespace {

struct Expected {
  const char* name;
  int64_t macs;  // TEMPLATES.md's reference count
};

const Expected kTable[] = {
    {"poolformer_s12", 1812267008},   {"poolformer_s24", 3392208896},
    {"poolformer_s36", 4972150784},   {"poolformer_m36", 8758788096},
    {"poolformer_m48", 11533320192},  {"poolformerv2_s12", 1812267008},
    {"convformer_s18", 3940984320},   {"caformer_s18", 4106941440},
    {"identityformer_s12", 1812267008}, {"randformer_s12", 1888484352},
    {"vit_tiny_patch16_224", 1253683200},
};

TEST(Templates, MacsMatchTemplatesMd) {
  for (const Expected& e : kTable) {
    SCOPED_TRACE(e.name);
    fw::Graph g = fw::build_template(e.name);
    fw::Analysis a = fw::analyze(g);
    ASSERT_TRUE(a.ok()) << a.problems.front().message;
    EXPECT_EQ(a.total_macs, e.macs);
  }
}

TEST(Templates, TotalsAreTheSumOfTheParameterList) {
  for (const std::string& name : fw::template_names()) {
    SCOPED_TRACE(name);
    fw::Graph g = fw::build_template(name);
    fw::Analysis a = fw::analyze(g);
    ASSERT_TRUE(a.ok()) << a.problems.front().message;
    int64_t total = 0, trainable = 0;
    for (const fw::ParamInfo& p : a.params) {
      total += fw::numel(p.shape);
      if (p.trainable) trainable += fw::numel(p.shape);
    }
    EXPECT_GT(total, 0);
    EXPECT_EQ(a.total_params, total);
    EXPECT_EQ(a.total_trainable, trainable);
  }
}

TEST(Templates, EveryTemplateListedAndBuildsAtSmallSizes) {
  EXPECT_EQ(fw::template_names().size(), std::size(kTable) + 2);  // + Formwork's own two
  for (const std::string& name : fw::template_names()) {
    SCOPED_TRACE(name);
    fw::Graph g = fw::build_template(name, {{3, 64, 64}, 10});
    fw::Analysis a = fw::analyze(g);
    ASSERT_TRUE(a.ok()) << a.problems.front().message;
    const fw::NodeId out = g.top_level_of_kind("output").at(0);
    EXPECT_EQ(a.of(out)->in.at(0), (fw::Shape{10}));
  }
}

TEST(Templates, RejectsBadNamesAndSizes) {
  EXPECT_THROW(fw::build_template("poolformer_s13"), fw::Error);
  EXPECT_THROW(fw::build_template("poolformer_s12", {{3, 100, 100}, 10}), fw::Error);
  EXPECT_THROW(fw::build_template("poolformer_s12", {{3, 64, 64}, -1}), fw::Error);
}

TEST(Templates, TimmParameterNames) {
  fw::Graph g = fw::build_template("caformer_s18");
  fw::Analysis a = fw::analyze(g);
  std::vector<std::string> names;
  for (const auto& p : a.params) names.push_back(p.name);
  auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  EXPECT_EQ(names.front(), "stem.conv.weight");
  EXPECT_TRUE(has("stem.norm.weight"));
  EXPECT_FALSE(has("stem.norm.bias"));
  EXPECT_TRUE(has("stages.1.downsample.norm.weight"));
  EXPECT_TRUE(has("stages.1.downsample.conv.bias"));
  EXPECT_TRUE(has("stages.0.blocks.0.token_mixer.pwconv1.weight"));
  EXPECT_TRUE(has("stages.0.blocks.0.token_mixer.act1.scale"));
  EXPECT_TRUE(has("stages.2.blocks.0.token_mixer.qkv.weight"));
  EXPECT_TRUE(has("stages.2.blocks.8.mlp.fc2.weight"));
  EXPECT_TRUE(has("stages.3.blocks.2.res_scale2.scale"));
  EXPECT_TRUE(has("head.fc.fc1.weight"));
  EXPECT_TRUE(has("head.fc.norm.bias"));
  EXPECT_EQ(names.back(), "head.fc.fc2.bias");
}

}  // namespace
