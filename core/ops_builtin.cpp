// The leaf ops of core/OPS.md: ports, attributes, shape functions, parameters and MACs.
#include <cmath>

#include "core/op_helpers.h"

namespace fw {

using namespace detail;

namespace {

using Shapes = std::vector<Shape>;

OpDef leaf(std::string id, std::string label, std::string category, std::string help,
           std::vector<std::string> inputs = {"x"}, std::vector<std::string> outputs = {"y"}) {
  OpDef d;
  d.id = std::move(id);
  d.label = std::move(label);
  d.category = std::move(category);
  d.help = std::move(help);
  d.cls = OpClass::Leaf;
  d.inputs = std::move(inputs);
  d.outputs = std::move(outputs);
  return d;
}

// Ops whose output has the input's shape.
Shapes same_shape(const Attrs&, const Shapes& in) { return {in[0]}; }

int64_t conv_out(int64_t size, int64_t k, int64_t s, int64_t p, const char* axis) {
  const int64_t o = (size + 2 * p - k) / s + 1;
  if (size + 2 * p < k || o < 1)
    shape_error(std::string("kernel ") + std::to_string(k) + " does not fit the " + axis + " " +
                std::to_string(size) + " (padding " + std::to_string(p) + ")");
  return o;
}

void expect_nchw(const Shapes& in) { expect_rank(in, 0, 3, "[C,H,W] feature-map"); }
void expect_tokens(const Shapes& in) { expect_rank(in, 0, 2, "[N,C] token"); }
void expect_vector_or_more(const Shapes& in) {
  if (in[0].empty()) shape_error("expects a tensor with a channel dimension, gets a scalar");
}

}  // namespace

void register_leaf_ops(std::vector<OpDef>& out) {
  // ---- io -------------------------------------------------------------------------------------
  {
    OpDef d = leaf("input", "Input", "io", "Graph input: an image batch [C,H,W] per sample.", {});
    d.attrs = {int_attr("channels", 3, 1, 4096, "input channels"),
               int_attr("height", 224, 1, 8192, "input height"),
               int_attr("width", 224, 1, 8192, "input width")};
    d.infer = [](const Attrs& a, const Shapes&) {
      return Shapes{{a.i("channels"), a.i("height"), a.i("width")}};
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("output", "Output", "io", "Graph output (logits).", {"x"}, {});
    d.infer = [](const Attrs&, const Shapes& in) {
      expect_vector_or_more(in);
      return Shapes{};
    };
    out.push_back(std::move(d));
  }

  // ---- conv / linear ----------------------------------------------------------------------------
  {
    OpDef d = leaf("conv2d", "Conv2d", "conv",
                   "2-D convolution (square kernel), groups for depthwise/grouped conv.");
    d.attrs = {int_attr("in_channels", 64, 1, 1 << 16, "input channels"),
               int_attr("out_channels", 64, 1, 1 << 16, "output channels"),
               int_attr("kernel", 1, 1, 64, "kernel size (square)"),
               int_attr("stride", 1, 1, 64, "stride"),
               int_attr("padding", 0, 0, 64, "zero padding on each side"),
               int_attr("groups", 1, 1, 1 << 16, "groups (= channels for depthwise)"),
               bool_attr("bias", true, "learnable bias")};
    d.check = [](const Attrs& a) {
      const int64_t g = a.i("groups");
      if (a.i("in_channels") % g || a.i("out_channels") % g)
        throw Error("conv2d: groups " + std::to_string(g) + " must divide in_channels " +
                    std::to_string(a.i("in_channels")) + " and out_channels " +
                    std::to_string(a.i("out_channels")));
    };
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_nchw(in);
      expect_channels(a.i("in_channels"), in[0][0]);
      const int64_t k = a.i("kernel"), s = a.i("stride"), p = a.i("padding");
      return Shapes{{a.i("out_channels"), conv_out(in[0][1], k, s, p, "height"),
                     conv_out(in[0][2], k, s, p, "width")}};
    };
    d.params = [](const Attrs& a, const Shapes&) {
      const int64_t k = a.i("kernel");
      std::vector<ParamSpec> p = {{"weight",
                                   {a.i("out_channels"), a.i("in_channels") / a.i("groups"), k, k},
                                   InitKind::TruncNormal, 0.02}};
      if (a.b("bias")) p.push_back({"bias", {a.i("out_channels")}, InitKind::Zeros});
      return p;
    };
    d.macs = [](const Attrs& a, const Shapes&, const Shapes& o) {
      const int64_t k = a.i("kernel");
      return mul_sat({o[0][0], o[0][1], o[0][2], a.i("in_channels") / a.i("groups"), k, k});
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("linear", "Linear", "linear",
                   "Fully connected layer on the last dimension ([N,C] tokens or [C] vectors).");
    d.attrs = {int_attr("in_features", 64, 1, 1 << 20, "input features"),
               int_attr("out_features", 64, 1, 1 << 20, "output features"),
               bool_attr("bias", true, "learnable bias")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_vector_or_more(in);
      expect_channels(a.i("in_features"), in[0].back(), "features");
      Shape s = in[0];
      s.back() = a.i("out_features");
      return Shapes{s};
    };
    d.params = [](const Attrs& a, const Shapes&) {
      std::vector<ParamSpec> p = {{"weight", {a.i("out_features"), a.i("in_features")},
                                   InitKind::TruncNormal, 0.02}};
      if (a.b("bias")) p.push_back({"bias", {a.i("out_features")}, InitKind::Zeros});
      return p;
    };
    d.macs = [](const Attrs& a, const Shapes& in, const Shapes&) {
      return mul_sat({numel(in[0]) / a.i("in_features"), a.i("in_features"), a.i("out_features")});
    };
    out.push_back(std::move(d));
  }

  // ---- pooling ------------------------------------------------------------------------------------
  {
    OpDef d = leaf("avg_pool2d", "AvgPool2d", "pool",
                   "Average pooling, padding excluded from the count (count_include_pad=False).");
    d.attrs = {int_attr("kernel", 3, 1, 64, "window size"), int_attr("stride", 1, 1, 64, "stride"),
               int_attr("padding", 1, 0, 32, "zero padding (at most kernel/2)")};
    d.check = [](const Attrs& a) {
      if (a.i("padding") * 2 > a.i("kernel"))
        throw Error("avg_pool2d: padding " + std::to_string(a.i("padding")) +
                    " must be at most half the kernel " + std::to_string(a.i("kernel")));
    };
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_nchw(in);
      const int64_t k = a.i("kernel"), s = a.i("stride"), p = a.i("padding");
      return Shapes{{in[0][0], conv_out(in[0][1], k, s, p, "height"),
                     conv_out(in[0][2], k, s, p, "width")}};
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("pool_mixer", "Pooling mixer", "mixer",
                   "PoolFormer's token mixer: avg_pool(x, k, stride 1, pad k/2) - x.");
    d.attrs = {int_attr("pool_size", 3, 1, 31, "pooling window (odd)")};
    d.check = [](const Attrs& a) {
      if (a.i("pool_size") % 2 == 0) throw Error("pool_mixer: pool_size must be odd");
    };
    d.infer = [](const Attrs&, const Shapes& in) {
      expect_nchw(in);
      return Shapes{in[0]};
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("global_avg_pool", "Global avg pool", "pool", "Mean over H and W: [C,H,W] -> [C].");
    d.infer = [](const Attrs&, const Shapes& in) {
      expect_nchw(in);
      return Shapes{{in[0][0]}};
    };
    out.push_back(std::move(d));
  }

  // ---- normalisation ---------------------------------------------------------------------------
  {
    OpDef d = leaf("group_norm", "GroupNorm", "norm",
                   "Group normalisation of a [C,H,W] map (1 group: over C, H and W).");
    d.attrs = {int_attr("channels", 64, 1, 1 << 16, "channels"),
               int_attr("groups", 1, 1, 1 << 16, "groups"),
               float_attr("eps", 1e-5, 0, 1, "added to the variance"),
               bool_attr("affine", true, "learnable per-channel weight"),
               bool_attr("bias", true, "learnable per-channel bias (with affine)")};
    d.check = [](const Attrs& a) {
      if (a.i("channels") % a.i("groups"))
        throw Error("group_norm: groups " + std::to_string(a.i("groups")) +
                    " must divide channels " + std::to_string(a.i("channels")));
    };
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_nchw(in);
      expect_channels(a.i("channels"), in[0][0]);
      return Shapes{in[0]};
    };
    d.params = [](const Attrs& a, const Shapes&) {
      std::vector<ParamSpec> p;
      if (a.b("affine")) {
        p.push_back({"weight", {a.i("channels")}, InitKind::Ones});
        if (a.b("bias")) p.push_back({"bias", {a.i("channels")}, InitKind::Zeros});
      }
      return p;
    };
    out.push_back(std::move(d));
  }
  auto norm_params = [](const Attrs& a, const Shapes&) {
    std::vector<ParamSpec> p = {{"weight", {a.i("channels")}, InitKind::Ones}};
    if (a.b("bias")) p.push_back({"bias", {a.i("channels")}, InitKind::Zeros});
    return p;
  };
  {
    OpDef d = leaf("layer_norm2d", "LayerNorm2d", "norm",
                   "Layer normalisation over the channels of each pixel of a [C,H,W] map.");
    d.attrs = {int_attr("channels", 64, 1, 1 << 16, "channels"),
               float_attr("eps", 1e-6, 0, 1, "added to the variance"),
               bool_attr("bias", true, "learnable bias")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_nchw(in);
      expect_channels(a.i("channels"), in[0][0]);
      return Shapes{in[0]};
    };
    d.params = norm_params;
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("layer_norm", "LayerNorm", "norm",
                   "Layer normalisation over the last dimension ([N,C] tokens or [C]).");
    d.attrs = {int_attr("channels", 64, 1, 1 << 20, "normalised features"),
               float_attr("eps", 1e-6, 0, 1, "added to the variance"),
               bool_attr("bias", true, "learnable bias")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_vector_or_more(in);
      expect_channels(a.i("channels"), in[0].back(), "features");
      return Shapes{in[0]};
    };
    d.params = norm_params;
    out.push_back(std::move(d));
  }

  // ---- activations ---------------------------------------------------------------------------
  for (auto [id, label, help] : {
           std::tuple{"gelu", "GELU", "GELU, exact erf form."},
           std::tuple{"relu", "ReLU", "max(x, 0)."},
           std::tuple{"squared_relu", "SquaredReLU", "relu(x)^2."},
       }) {
    OpDef d = leaf(id, label, "act", help);
    d.infer = same_shape;
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("star_relu", "StarReLU", "act", "scale * relu(x)^2 + bias (learnable scalars).");
    d.attrs = {float_attr("scale_init", 1.0, 0, 0, "initial scale"),
               float_attr("bias_init", 0.0, 0, 0, "initial bias")};
    d.infer = same_shape;
    d.params = [](const Attrs& a, const Shapes&) {
      return std::vector<ParamSpec>{{"scale", {1}, InitKind::Constant, a.f("scale_init")},
                                    {"bias", {1}, InitKind::Constant, a.f("bias_init")}};
    };
    out.push_back(std::move(d));
  }

  // ---- attention and mixing -----------------------------------------------------------------------
  {
    OpDef d = leaf("self_attention", "Softmax attention", "attention",
                   "softmax(q k^T / sqrt(d)) v over heads, from packed qkv [N, 3*heads*d].",
                   {"qkv"}, {"y"});
    d.attrs = {int_attr("heads", 2, 1, 1024, "attention heads"),
               int_attr("head_dim", 32, 1, 4096, "features per head")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_tokens(in);
      const int64_t inner = a.i("heads") * a.i("head_dim");
      if (in[0][1] != 3 * inner)
        shape_error("expects 3*heads*head_dim = " + std::to_string(3 * inner) +
                    " qkv features, gets " + std::to_string(in[0][1]));
      return Shapes{{in[0][0], inner}};
    };
    d.macs = [](const Attrs& a, const Shapes& in, const Shapes&) {
      const int64_t n = in[0][0];
      return mul_sat({2, a.i("heads"), n, n, a.i("head_dim")});
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("random_mixing", "Random mixing", "mixer",
                   "RandFormer's token mixer: a fixed random row-stochastic matrix over tokens.");
    d.attrs = {int_attr("num_tokens", 196, 1, 1 << 16, "H*W this mixer is built for")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_nchw(in);
      const int64_t n = in[0][1] * in[0][2];
      if (n != a.i("num_tokens"))
        shape_error("was built for " + std::to_string(a.i("num_tokens")) + " tokens, gets " +
                    std::to_string(n) + " (" + std::to_string(in[0][1]) + "x" +
                    std::to_string(in[0][2]) + ")");
      return Shapes{in[0]};
    };
    d.params = [](const Attrs& a, const Shapes&) {
      const int64_t n = a.i("num_tokens");
      return std::vector<ParamSpec>{
          {"random_matrix", {n, n}, InitKind::RandomSoftmax, 0, /*trainable=*/false}};
    };
    d.macs = [](const Attrs&, const Shapes& in, const Shapes&) {
      const int64_t n = in[0][1] * in[0][2];
      return mul_sat({in[0][0], n, n});
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("identity", "Identity", "mixer", "y = x (IdentityFormer's token mixer).");
    d.infer = same_shape;
    out.push_back(std::move(d));
  }

  // ---- arithmetic -------------------------------------------------------------------------------
  {
    OpDef d = leaf("scale", "Scale", "arith",
                   "Per-channel learnable scale (layer scale, res scale).");
    d.attrs = {int_attr("dim", 64, 1, 1 << 20, "channels"),
               float_attr("init_value", 1.0, 0, 0, "initial value of every element"),
               choice_attr("layout", "channels_first", {"channels_first", "last"},
                           "channels_first: dim 0 of [C,H,W]; last: last dim")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_vector_or_more(in);
      const int64_t c = a.s("layout") == "last" ? in[0].back() : in[0].front();
      expect_channels(a.i("dim"), c);
      return Shapes{in[0]};
    };
    d.params = [](const Attrs& a, const Shapes&) {
      return std::vector<ParamSpec>{
          {"scale", {a.i("dim")}, InitKind::Constant, a.f("init_value")}};
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("add", "Add", "arith", "a + b (residual connection).", {"a", "b"}, {"y"});
    d.infer = [](const Attrs&, const Shapes& in) {
      if (in[0] != in[1])
        shape_error("inputs differ: " + shape_str(in[0]) + " vs " + shape_str(in[1]));
      return Shapes{in[0]};
    };
    out.push_back(std::move(d));
  }

  // ---- shape ---------------------------------------------------------------------------------------
  {
    OpDef d = leaf("to_tokens", "To tokens", "shape", "[C,H,W] -> [H*W, C].");
    d.infer = [](const Attrs&, const Shapes& in) {
      expect_nchw(in);
      return Shapes{{in[0][1] * in[0][2], in[0][0]}};
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("to_nchw", "To NCHW", "shape",
                   "[N, C] -> [C,H,W], with H and W taken from the grid input's shape.",
                   {"x", "grid"}, {"y"});
    d.shape_only_inputs = {1};
    d.infer = [](const Attrs&, const Shapes& in) {
      expect_tokens(in);
      expect_rank(in, 1, 3, "[C,H,W] grid");
      if (in[0][0] != in[1][1] * in[1][2])
        shape_error("has " + std::to_string(in[0][0]) + " tokens, the grid " +
                    std::to_string(in[1][1]) + "x" + std::to_string(in[1][2]) + " needs " +
                    std::to_string(in[1][1] * in[1][2]));
      return Shapes{{in[0][1], in[1][1], in[1][2]}};
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("cls_pos_embed", "Class token + pos. embedding", "shape",
                   "ViT: prepend the class token, add the position embedding.");
    d.attrs = {int_attr("dim", 192, 1, 1 << 16, "embedding dim"),
               int_attr("num_patches", 196, 1, 1 << 20, "patch tokens the embedding is sized for")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_tokens(in);
      expect_channels(a.i("dim"), in[0][1], "features");
      if (in[0][0] != a.i("num_patches"))
        shape_error("position embedding was built for " + std::to_string(a.i("num_patches")) +
                    " patches, gets " + std::to_string(in[0][0]));
      return Shapes{{in[0][0] + 1, in[0][1]}};
    };
    d.params = [](const Attrs& a, const Shapes&) {
      const int64_t c = a.i("dim");
      return std::vector<ParamSpec>{
          {"cls_token", {1, 1, c}, InitKind::Normal, 1e-6},
          {"pos_embed", {1, a.i("num_patches") + 1, c}, InitKind::TruncNormal, 0.02}};
    };
    out.push_back(std::move(d));
  }
  {
    OpDef d = leaf("select_token", "Select token", "shape", "[N, C] -> [C]: token `index`.");
    d.attrs = {int_attr("index", 0, 0, 1 << 20, "token index (0: class token)")};
    d.infer = [](const Attrs& a, const Shapes& in) {
      expect_tokens(in);
      if (a.i("index") >= in[0][0])
        shape_error("token index " + std::to_string(a.i("index")) + " is out of range for " +
                    std::to_string(in[0][0]) + " tokens");
      return Shapes{{in[0][1]}};
    };
    out.push_back(std::move(d));
  }

  // ---- regularisation (training only) -------------------------------------------------------------
  for (auto [id, label, help] : {
           std::tuple{"dropout", "Dropout", "Zeroes elements with probability p (training only)."},
           std::tuple{"drop_path", "DropPath",
                      "Stochastic depth: zeroes whole samples with probability p (training only)."},
       }) {
    OpDef d = leaf(id, label, "reg", help);
    d.attrs = {float_attr("p", 0.0, 0.0, 0.99, "drop probability")};
    d.infer = same_shape;
    out.push_back(std::move(d));
  }
}

}  // namespace fw
