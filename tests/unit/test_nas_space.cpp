// Search spaces and subnets (nas/space.h).
#include <gtest/gtest.h>

#include "core/analysis.h"
#include "core/error.h"
#include "core/templates.h"
#include "nas/space.h"

namespace {

fw::Graph mini() { return fw::build_template("caformer_mini64"); }

fw::SearchSpace parse(const std::string& text) {
  return fw::SearchSpace::from_json(text, "s.json");
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const fw::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Every node by module path: kind, attributes, and the paths of what feeds it (ids differ when the
// same edits are made in another order).
std::vector<std::string> structure(const fw::Graph& g) {
  std::vector<std::string> out;
  for (fw::NodeId id : g.preorder()) {
    const fw::Node& n = g.node(id);
    std::string line = g.path(id) + "/" + n.name + " " + n.kind;
    for (const auto& [k, v] : n.attrs) line += " " + k + "=" + fw::attr_to_string(v);
    for (const fw::PortRef& in : n.inputs)
      line +=
          " <" +
          (in.connected() ? (in.group_input ? "^" : g.path(in.node) + "/" + g.node(in.node).name)
                          : "-") +
          ":" + std::to_string(in.port);
    out.push_back(line);
  }
  return out;
}

const fw::Node& at(const fw::Graph& g, const std::string& path) {
  return g.node(g.find_path(path));
}

const char* kSpace = R"({"choices": [
  {"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "sepconv", "attention"]},
  {"node": "stages.1", "attr": "depth", "values": [1, 2, 3]},
  {"node": "stages.1", "attr": "dim", "values": [48, 64, 96]},
  {"node": "stages.2", "attr": "mlp_ratio", "values": [2, 4]}],
  "constraints": {"params_max": 1e6}})";

}  // namespace

TEST(NasSpace, ParsesTheContractsFileAndCountsSubnets) {
  const fw::SearchSpace s = parse(kSpace);
  ASSERT_EQ(s.choices.size(), 4u);
  EXPECT_EQ(s.choices[0].label(), "stages.1.token_mixer");
  EXPECT_EQ(s.choices[1].values[2], fw::AttrValue(int64_t(3)));
  EXPECT_EQ(s.size(), 54.0);
  EXPECT_EQ(*s.constraints.params_max, 1e6);
  EXPECT_FALSE(s.constraints.macs_max);
  // The file round-trips.
  EXPECT_EQ(parse(s.to_json()), s);
  EXPECT_EQ(s.find("stages.1", "dim"), 2);
  EXPECT_EQ(s.find("stages.2", "dim"), -1);
}

TEST(NasSpace, RefusesMalformedFiles) {
  EXPECT_NE(error_of([] { parse("{"); }).find("s.json: not valid JSON"), std::string::npos);
  // A number that does not fit a double is a bad file too, not an internal error.
  EXPECT_NE(error_of([] {
              parse(R"({"choices": [{"node": "stages.1", "attr": "depth", "values": [1e999]}]})");
            }).find("s.json: not valid JSON ("),
            std::string::npos);
  EXPECT_EQ(error_of([] { parse(R"({"choice": []})"); }),
            "s.json: unknown key 'choice' (expected \"choices\" and \"constraints\")");
  EXPECT_EQ(error_of([] {
              parse(R"({"choices": [{"node": "stages.1", "attr": "depth", "values": []}]})");
            }),
            "s.json: choice 1 (stages.1.depth): \"values\" must be a non-empty array");
  EXPECT_EQ(
      error_of([] { parse(R"({"choices": [], "constraints": {"flops_max": 1}})"); }),
      "s.json: unknown constraint 'flops_max' (expected params_max, macs_max, latency_ms_max)");
  EXPECT_EQ(error_of([] { parse(R"({"choices": [{"attr": "depth", "values": [1]}]})"); }),
            "s.json: choice 1: \"node\" must be a string");
}

TEST(NasSpace, CheckNamesEveryWayASpaceIsWrong) {
  const fw::Graph g = mini();
  const auto check = [&](const std::string& choices, const std::string& constraints = "{}") {
    return error_of([&] {
      fw::check_space(
          g, parse(R"({"choices": )" + choices + R"(, "constraints": )" + constraints + "}"));
    });
  };
  EXPECT_EQ(check("[]"), "search space: no choices");
  EXPECT_EQ(check(R"([{"node": "stages.7", "attr": "depth", "values": [1]}])"),
            "search space: no node 'stages.7' (choice 1)");
  EXPECT_EQ(check(R"([{"node": "stages.1", "attr": "depht", "values": [1]}])"),
            "search space: stages.1 (metaformer_stage) has no attribute 'depht'");
  EXPECT_EQ(check(R"([{"node": "stages.1", "attr": "depth", "values": [0]}])"),
            "search space: stages.1.depth: value 0 is outside 1..256");
  EXPECT_EQ(check(R"([{"node": "stages.1", "attr": "depth", "values": ["two"]}])"),
            "search space: stages.1.depth: value 'two' is not an int");
  EXPECT_EQ(check(R"([{"node": "stages.1", "attr": "depth", "values": [1.5]}])"),
            "search space: stages.1.depth: value 1.5 is not an int");
  EXPECT_EQ(check(R"([{"node": "stages.1", "attr": "depth", "values": [2, 2]}])"),
            "search space: stages.1.depth: the value 2 is listed twice");
  EXPECT_EQ(check(R"([{"node": "stages.1", "attr": "depth", "values": [1]},
                      {"node": "stages.1", "attr": "depth", "values": [2]}])"),
            "search space: stages.1.depth is chosen twice (choices 1 and 2)");
  EXPECT_EQ(check(R"([{"node": "stages.1", "attr": "token_mixer", "values": ["conv"]}])"),
            "search space: stages.1.token_mixer: 'conv' is not one of pooling, sepconv, attention, "
            "identity, random_mixing");
  EXPECT_EQ(
      check(R"([{"node": "stages.1", "attr": "depth", "values": [1]}])", R"({"params_max": -1})"),
      "search space: constraint params_max must be a positive number, got -1");
  // A good one comes back typed: an int for a float attribute becomes a float.
  const fw::SearchSpace s = fw::check_space(g, parse(kSpace));
  EXPECT_EQ(s.choices[3].values[0], fw::AttrValue(2.0));
}

TEST(NasSpace, KeysAreCanonicalAndChoicesRoundTrip) {
  const fw::SearchSpace s = fw::check_space(mini(), parse(kSpace));
  const fw::Pick p{2, 0, 1, 1};
  EXPECT_EQ(fw::subnet_key(s, p),
            "stages.1.depth=1;stages.1.dim=64;stages.1.token_mixer=attention;stages.2.mlp_ratio=4");
  const std::string j = fw::subnet_choices_json(s, p);
  EXPECT_EQ(
      j,
      R"({"stages.1.token_mixer":"attention","stages.1.depth":1,"stages.1.dim":64,"stages.2.mlp_ratio":4.0})");
  EXPECT_EQ(fw::pick_from_choices_json(s, j), p);
  // The same choices listed in another order are the same subnet.
  fw::SearchSpace r = s;
  std::reverse(r.choices.begin(), r.choices.end());
  EXPECT_EQ(fw::subnet_key(r, fw::Pick{1, 1, 0, 2}), fw::subnet_key(s, p));
  EXPECT_NE(error_of([&] {
              fw::pick_from_choices_json(s, R"({"stages.1.depth": 7})");
            }).find("is not among"),
            std::string::npos);
  // The base's own values.
  // The base's own values (caformer_mini64: sep-conv, depth 2, width 64 in stage 1; ratio 2 in 2).
  EXPECT_EQ(fw::base_pick(mini(), s), (fw::Pick{1, 1, 1, 0}));
  fw::SearchSpace narrow = s;
  narrow.choices[1].values = {int64_t(1), int64_t(3)};
  EXPECT_FALSE(fw::base_pick(mini(), narrow));
}

TEST(NasSpace, ApplyingEqualsEditingByHand) {
  const fw::Graph base = mini();
  const fw::SearchSpace s = fw::check_space(base, parse(kSpace));
  const fw::Graph sub = fw::apply_subnet(base, s, fw::Pick{1, 2, 2, 0});
  // The same edits made by hand, width carried to the next stage and nowhere else.
  fw::Graph want = base;
  want.set_attr(want.find_path("stages.1"), "token_mixer", std::string("sepconv"));
  want.set_attr(want.find_path("stages.1"), "depth", int64_t(3));
  want.set_attr(want.find_path("stages.1"), "dim", int64_t(96));
  want.set_attr(want.find_path("stages.2"), "in_dim", int64_t(96));
  want.set_attr(want.find_path("stages.2"), "mlp_ratio", 2.0);
  EXPECT_EQ(structure(sub), structure(want));
  const fw::Analysis a = fw::analyze(sub);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(at(sub, "stages.1").children.size(), 2u);  // downsample, blocks
  EXPECT_EQ(at(sub, "stages.1.blocks").children.size(), 3u);
  EXPECT_EQ(at(sub, "stages.1.blocks.2.token_mixer").kind, "sepconv");
  EXPECT_EQ(at(sub, "stages.2.downsample.conv").attrs.i("in_channels"), 96);
  // The base is untouched.
  EXPECT_EQ(structure(base), structure(mini()));
}

TEST(NasSpace, TheLastStagesWidthReachesTheHead) {
  const fw::Graph base = mini();
  const fw::SearchSpace s = fw::check_space(
      base, parse(R"({"choices": [{"node": "stages.2", "attr": "dim", "values": [128, 160]}]})"));
  const fw::Graph sub = fw::apply_subnet(base, s, fw::Pick{1});
  EXPECT_EQ(at(sub, "head").attrs.i("in_features"), 160);
  EXPECT_EQ(at(sub, "head.norm").attrs.i("channels"), 160);
  EXPECT_TRUE(fw::analyze(sub).ok());
}

TEST(NasSpace, TheFirstStagesWidthIsMadeByTheStem) {
  const fw::Graph base = mini();
  const fw::SearchSpace s = fw::check_space(
      base, parse(R"({"choices": [{"node": "stages.0", "attr": "dim", "values": [32, 48]}]})"));
  const fw::Graph sub = fw::apply_subnet(base, s, fw::Pick{1});
  EXPECT_EQ(at(sub, "stem").attrs.i("out_channels"), 48);
  EXPECT_EQ(at(sub, "stages.0").attrs.i("in_dim"), 48);
  EXPECT_EQ(at(sub, "stages.1").attrs.i("in_dim"), 48);
  // No downsampling appears in the first stage: the resolution stays.
  EXPECT_EQ(at(sub, "stages.0").children.size(), 1u);
  const fw::Analysis a = fw::analyze(sub);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.of(sub.find_path("stages.0"))->out[0], (fw::Shape{48, 16, 16}));
}

TEST(NasSpace, RandomMixingIsSizedForItsGrid) {
  const fw::Graph base = mini();
  const fw::SearchSpace s = fw::check_space(
      base,
      parse(
          R"({"choices": [{"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "random_mixing"]},
                                  {"node": "stages.2", "attr": "token_mixer", "values": ["attention", "random_mixing"]}]})"));
  const fw::Graph sub = fw::apply_subnet(base, s, fw::Pick{1, 1});
  EXPECT_EQ(at(sub, "stages.1").attrs.i("num_tokens"), 64);  // 8x8
  EXPECT_EQ(at(sub, "stages.2").attrs.i("num_tokens"), 16);  // 4x4
  EXPECT_EQ(at(sub, "stages.1.blocks.0.token_mixer").attrs.i("num_tokens"), 64);
  EXPECT_TRUE(fw::analyze(sub).ok());
}

TEST(NasSpace, AnInvalidSubnetIsRefusedWithTheReason) {
  const fw::Graph base = mini();
  // The next stage told to take a width nobody gives it.
  const fw::SearchSpace s = fw::check_space(
      base, parse(R"({"choices": [{"node": "stages.2", "attr": "in_dim", "values": [64, 80]}]})"));
  const std::string why = error_of([&] { fw::apply_subnet(base, s, fw::Pick{1}); });
  EXPECT_NE(why.find("stages.2.downsample"), std::string::npos) << why;
  EXPECT_NE(why.find("80"), std::string::npos) << why;
  EXPECT_NO_THROW(fw::apply_subnet(base, s, fw::Pick{0}));
}

TEST(NasSpace, TheSpaceLivesInTheGraphsMeta) {
  fw::Graph g = mini();
  EXPECT_TRUE(fw::graph_space(g).empty());
  const fw::SearchSpace s = fw::check_space(g, parse(kSpace));
  g.meta.set(fw::kSearchSpaceMeta, fw::space_meta_value(s));
  EXPECT_EQ(fw::graph_space(g), s);
  // A subnet does not carry the space.
  EXPECT_FALSE(fw::apply_subnet(g, s, fw::Pick{0, 1, 1, 1}).meta.has(fw::kSearchSpaceMeta));
  EXPECT_EQ(fw::space_meta_value(fw::SearchSpace{}), "");
}
