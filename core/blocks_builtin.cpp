// Composite kinds: blocks, stages, stems and heads that build their children from their
// attributes, with timm's module names. The templates (core/templates.cpp), the palette and the
// search spaces all use these.
#include <cmath>

#include "core/graph.h"
#include "core/op_helpers.h"

namespace fw {

using namespace detail;

namespace {

// Builds a chain of children inside `parent`, starting from the parent's input port 0.
struct Chain {
  Graph& g;
  NodeId parent;
  PortRef cur;

  Chain(Graph& graph, NodeId self) : g(graph), parent(self), cur{self, 0, true} {}
  NodeId add(const std::string& kind, const std::string& name, Attrs a = {}) {
    const NodeId id = g.add(parent, kind, name, std::move(a));
    g.connect(cur, id, 0);
    cur = {id, 0};
    return id;
  }
  void finish() { g.set_output(parent, 0, cur); }
};

const std::vector<std::string> kNormChoices = {"none", "group_norm", "group_norm_nobias",
                                               "layer_norm", "layer_norm_nobias"};
const std::vector<std::string> kActChoices = {"gelu", "star_relu", "relu", "squared_relu"};

// Appends the norm named by `kind` (see kNormChoices) for `ch` channels: GroupNorm1 (timm: eps
// 1e-5 with bias, 1e-6 without), LayerNorm over channels (eps 1e-6) in the [C,H,W] ("2d") or
// token form.
void add_norm(Chain& c, const std::string& name, const std::string& kind, int64_t ch, bool nchw) {
  if (kind == "none") return;
  if (kind == "group_norm" || kind == "group_norm_nobias") {
    if (!nchw)
      throw Error("norm '" + kind + "' needs [C,H,W] maps; attention blocks work on tokens");
    const bool bias = kind == "group_norm";
    c.add("group_norm", name,
          {{"channels", ch}, {"groups", int64_t(1)}, {"eps", bias ? 1e-5 : 1e-6}, {"bias", bias}});
    return;
  }
  const bool bias = kind == "layer_norm";
  c.add(nchw ? "layer_norm2d" : "layer_norm", name,
        {{"channels", ch}, {"eps", 1e-6}, {"bias", bias}});
}

OpDef composite(std::string id, std::string label, std::string category, std::string help) {
  OpDef d;
  d.id = std::move(id);
  d.label = std::move(label);
  d.category = std::move(category);
  d.help = std::move(help);
  d.cls = OpClass::Composite;
  d.inputs = {"x"};
  d.outputs = {"y"};
  return d;
}

// Attributes a MetaFormer block takes; a stage takes them too and hands them to its blocks.
std::vector<AttrSpec> block_attrs() {
  return {
      choice_attr("token_mixer", "pooling",
                  {"pooling", "sepconv", "attention", "identity", "random_mixing"},
                  "token mixer; attention blocks work on [N,C] tokens, the others on [C,H,W]"),
      float_attr("mlp_ratio", 4.0, 0.25, 16, "MLP hidden width = int(mlp_ratio * dim)"),
      choice_attr("mlp_act", "star_relu", kActChoices, "MLP activation"),
      bool_attr("mlp_bias", false, "biases in the MLP"),
      choice_attr("norm", "layer_norm_nobias", kNormChoices, "norm before mixer and MLP"),
      bool_attr("use_layer_scale", false, "scale each branch by a learnable vector"),
      float_attr("layer_scale_init", 1e-5, 0, 0, "initial layer scale"),
      bool_attr("use_res_scale", false, "scale the shortcut by a learnable vector"),
      float_attr("res_scale_init", 1.0, 0, 0, "initial res scale"),
      int_attr("pool_size", 3, 1, 31, "pooling mixer window"),
      int_attr("head_dim", 32, 1, 1024, "attention: features per head (heads = dim / head_dim)"),
      int_attr("num_tokens", 196, 1, 1 << 16, "random mixing: H*W the matrix is built for"),
      float_attr("sepconv_expansion", 2.0, 0.25, 16, "sep-conv: hidden width = int(ratio * dim)"),
      int_attr("sepconv_kernel", 7, 1, 31, "sep-conv: depthwise kernel (odd)"),
      float_attr("drop_path", 0.0, 0.0, 0.99, "stochastic depth rate (training only)"),
  };
}

void copy_block_attrs(const Attrs& from, Attrs& to) {
  for (const AttrSpec& s : block_attrs()) to.set(s.name, from.get(s.name));
}

bool mixer_uses_tokens(const Attrs& a) { return a.s("token_mixer") == "attention"; }

void build_mlp(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const bool nchw = a.s("layout") == "channels_first";
  const int64_t in = a.i("in_features"), hid = a.i("hidden_features");
  const int64_t out = a.i("out_features") > 0 ? a.i("out_features") : in;
  Chain c(g, self);
  auto fc = [&](const char* name, int64_t i, int64_t o) {
    if (nchw)
      c.add("conv2d", name,
            {{"in_channels", i}, {"out_channels", o}, {"kernel", int64_t(1)}, {"bias", a.b("bias")}});
    else
      c.add("linear", name, {{"in_features", i}, {"out_features", o}, {"bias", a.b("bias")}});
  };
  fc("fc1", in, hid);
  c.add(a.s("act"), "act");
  if (a.f("drop") > 0) c.add("dropout", "drop1", {{"p", a.f("drop")}});
  fc("fc2", hid, out);
  if (a.f("drop") > 0) c.add("dropout", "drop2", {{"p", a.f("drop")}});
  c.finish();
}

void build_attention(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const int64_t dim = a.i("dim");
  const int64_t heads = a.i("heads") > 0 ? a.i("heads") : std::max<int64_t>(1, dim / a.i("head_dim"));
  const int64_t hd = a.i("head_dim");
  const int64_t inner = heads * hd;
  Chain c(g, self);
  c.add("linear", "qkv", {{"in_features", dim}, {"out_features", 3 * inner}, {"bias", a.b("qkv_bias")}});
  c.add("self_attention", "core", {{"heads", heads}, {"head_dim", hd}});
  c.add("linear", "proj", {{"in_features", inner}, {"out_features", dim}, {"bias", a.b("proj_bias")}});
  c.finish();
}

void build_sepconv(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const int64_t dim = a.i("dim");
  const int64_t mid = int64_t(a.f("expansion") * double(dim));
  const int64_t k = a.i("kernel");
  const bool bias = a.b("bias");
  Chain c(g, self);
  c.add("conv2d", "pwconv1", {{"in_channels", dim}, {"out_channels", mid}, {"kernel", int64_t(1)}, {"bias", bias}});
  c.add(a.s("act"), "act1");
  c.add("conv2d", "dwconv",
        {{"in_channels", mid}, {"out_channels", mid}, {"kernel", k}, {"padding", k / 2},
         {"groups", mid}, {"bias", bias}});
  c.add("conv2d", "pwconv2", {{"in_channels", mid}, {"out_channels", dim}, {"kernel", int64_t(1)}, {"bias", bias}});
  c.finish();
}

// x = res_scale1(x) + layer_scale1(drop_path1(token_mixer(norm1(x))))
// x = res_scale2(x) + layer_scale2(drop_path2(mlp(norm2(x))))
void build_metaformer_block(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const int64_t dim = a.i("dim");
  const bool nchw = !mixer_uses_tokens(a);
  const std::string layout = nchw ? "channels_first" : "last";
  const std::string& mixer = a.s("token_mixer");

  auto branch = [&](int idx, PortRef x) -> PortRef {
    const std::string n = std::to_string(idx);
    Chain c(g, self);
    c.cur = x;
    add_norm(c, "norm" + n, a.s("norm"), dim, nchw);
    if (idx == 1) {
      if (mixer == "pooling") {
        c.add("pool_mixer", "token_mixer", {{"pool_size", a.i("pool_size")}});
      } else if (mixer == "identity") {
        c.add("identity", "token_mixer");
      } else if (mixer == "random_mixing") {
        c.add("random_mixing", "token_mixer", {{"num_tokens", a.i("num_tokens")}});
      } else if (mixer == "sepconv") {
        c.add("sepconv", "token_mixer",
              {{"dim", dim}, {"expansion", a.f("sepconv_expansion")},
               {"kernel", a.i("sepconv_kernel")}});
      } else {
        c.add("attention", "token_mixer", {{"dim", dim}, {"head_dim", a.i("head_dim")}});
      }
    } else {
      c.add("mlp", "mlp",
            {{"in_features", dim}, {"hidden_features", int64_t(a.f("mlp_ratio") * double(dim))},
             {"act", a.s("mlp_act")}, {"bias", a.b("mlp_bias")}, {"layout", layout}});
    }
    if (a.f("drop_path") > 0) c.add("drop_path", "drop_path" + n, {{"p", a.f("drop_path")}});
    if (a.b("use_layer_scale"))
      c.add("scale", "layer_scale" + n,
            {{"dim", dim}, {"init_value", a.f("layer_scale_init")}, {"layout", layout}});
    PortRef body = c.cur;
    PortRef shortcut = x;
    if (a.b("use_res_scale")) {
      c.cur = x;
      shortcut = {c.add("scale", "res_scale" + n,
                        {{"dim", dim}, {"init_value", a.f("res_scale_init")}, {"layout", layout}}),
                  0};
    }
    const NodeId add = g.add(self, "add", "residual" + n);
    g.connect(shortcut, add, 0);
    g.connect(body, add, 1);
    return {add, 0};
  };
  PortRef x = branch(1, PortRef{self, 0, true});
  x = branch(2, x);
  g.set_output(self, 0, x);
}

void build_metaformer_stage(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const int64_t dim = a.i("dim");
  Chain c(g, self);
  if (a.i("in_dim") != dim)
    c.add("downsampling", "downsample",
          {{"in_channels", a.i("in_dim")}, {"out_channels", dim}, {"norm", a.s("downsample_norm")}});
  const PortRef grid = c.cur;
  const bool tokens = mixer_uses_tokens(a);
  if (tokens) c.add("to_tokens", "to_tokens");
  const NodeId blocks = c.add("group", "blocks");
  {
    Chain b(g, blocks);
    Attrs ba;
    copy_block_attrs(a, ba);
    ba.set("dim", dim);
    for (int64_t i = 0; i < a.i("depth"); ++i) b.add("metaformer_block", std::to_string(i), ba);
    b.finish();
  }
  if (tokens) {
    const NodeId back = c.add("to_nchw", "to_nchw");
    g.connect(grid, back, 1);
  }
  c.finish();
}

void build_stem(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  Chain c(g, self);
  c.add("conv2d", "conv",
        {{"in_channels", a.i("in_channels")}, {"out_channels", a.i("out_channels")},
         {"kernel", a.i("kernel")}, {"stride", a.i("stride")}, {"padding", a.i("padding")}});
  add_norm(c, "norm", a.s("norm"), a.i("out_channels"), true);
  c.finish();
}

void build_downsampling(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  Chain c(g, self);
  add_norm(c, "norm", a.s("norm"), a.i("in_channels"), true);
  c.add("conv2d", "conv",
        {{"in_channels", a.i("in_channels")}, {"out_channels", a.i("out_channels")},
         {"kernel", a.i("kernel")}, {"stride", a.i("stride")}, {"padding", a.i("padding")}});
  c.finish();
}

void build_mlp_head(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const int64_t in = a.i("in_features");
  const int64_t hid = int64_t(a.f("mlp_ratio") * double(in));
  Chain c(g, self);
  c.add("linear", "fc1", {{"in_features", in}, {"out_features", hid}});
  c.add("squared_relu", "act");
  c.add("layer_norm", "norm", {{"channels", hid}, {"eps", 1e-6}});
  if (a.f("dropout") > 0) c.add("dropout", "head_drop", {{"p", a.f("dropout")}});
  c.add("linear", "fc2", {{"in_features", hid}, {"out_features", a.i("num_classes")}});
  c.finish();
}

// timm MetaFormer head: global_pool -> norm -> flatten -> drop -> fc (Linear or MlpHead).
void build_classifier_head(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const int64_t in = a.i("in_features");
  Chain c(g, self);
  c.add("global_avg_pool", "global_pool");
  const std::string& norm = a.s("norm");
  if (norm != "none")
    c.add("layer_norm", "norm", {{"channels", in}, {"eps", 1e-6}, {"bias", norm == "layer_norm"}});
  if (a.s("kind") == "mlp") {
    if (a.f("dropout") > 0) c.add("dropout", "drop", {{"p", a.f("dropout")}});
    c.add("mlp_head", "fc",
          {{"in_features", in}, {"num_classes", a.i("num_classes")},
           {"mlp_ratio", a.f("mlp_ratio")}, {"dropout", a.f("dropout")}});
  } else {
    c.add("linear", "fc", {{"in_features", in}, {"out_features", a.i("num_classes")}});
  }
  c.finish();
}

void build_patch_embed(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  Chain c(g, self);
  c.add("conv2d", "proj",
        {{"in_channels", a.i("in_channels")}, {"out_channels", a.i("dim")},
         {"kernel", a.i("patch_size")}, {"stride", a.i("patch_size")}});
  c.add("to_tokens", "flatten");
  c.finish();
}

// timm ViT block: x = x + attn(norm1(x)); x = x + mlp(norm2(x)).
void build_vit_block(Graph& g, NodeId self) {
  const Attrs a = g.node(self).attrs;
  const int64_t dim = a.i("dim");
  const int64_t heads = a.i("heads");
  auto branch = [&](int idx, PortRef x) -> PortRef {
    const std::string n = std::to_string(idx);
    Chain c(g, self);
    c.cur = x;
    c.add("layer_norm", "norm" + n, {{"channels", dim}, {"eps", 1e-6}});
    if (idx == 1)
      c.add("attention", "attn",
            {{"dim", dim}, {"heads", heads}, {"head_dim", dim / heads},
             {"qkv_bias", a.b("qkv_bias")}, {"proj_bias", true}});
    else
      c.add("mlp", "mlp",
            {{"in_features", dim}, {"hidden_features", int64_t(a.f("mlp_ratio") * double(dim))},
             {"act", std::string("gelu")}, {"bias", true}, {"layout", std::string("last")}});
    const NodeId add = g.add(self, "add", "residual" + n);
    g.connect(x, add, 0);
    g.connect(c.cur, add, 1);
    return {add, 0};
  };
  PortRef x = branch(1, PortRef{self, 0, true});
  g.set_output(self, 0, branch(2, x));
}

}  // namespace

void register_block_ops(std::vector<OpDef>& out) {
  {
    OpDef d;
    d.id = "group";
    d.label = "Group";
    d.category = "group";
    d.help = "A named container (nn.Sequential-like); edit its children freely.";
    d.cls = OpClass::Group;
    d.inputs = {"x"};
    d.outputs = {"y"};
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("mlp", "MLP", "block", "Channel MLP: fc1 -> act -> fc2 (1x1 convs on [C,H,W]).");
    d.attrs = {int_attr("in_features", 64, 1, 1 << 20, "input features"),
               int_attr("hidden_features", 256, 1, 1 << 20, "hidden features"),
               int_attr("out_features", 0, 0, 1 << 20, "output features (0: = input)"),
               choice_attr("act", "gelu", kActChoices, "activation"),
               bool_attr("bias", true, "biases"),
               choice_attr("layout", "channels_first", {"channels_first", "last"},
                           "channels_first: 1x1 convs on [C,H,W]; last: linear on tokens"),
               float_attr("drop", 0.0, 0.0, 0.99, "dropout after act and fc2 (training only)")};
    d.build = build_mlp;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("attention", "Self-attention", "attention",
                        "Multi-head self-attention on [N,C] tokens: qkv -> softmax attention -> proj.");
    d.attrs = {int_attr("dim", 64, 1, 1 << 16, "token features"),
               int_attr("heads", 0, 0, 1024, "heads (0: dim / head_dim)"),
               int_attr("head_dim", 32, 1, 1024, "features per head"),
               bool_attr("qkv_bias", false, "bias in qkv"),
               bool_attr("proj_bias", false, "bias in proj")};
    d.build = build_attention;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("sepconv", "Separable conv", "mixer",
                        "Inverted separable conv: pwconv1 -> act -> depthwise conv -> pwconv2.");
    d.attrs = {int_attr("dim", 64, 1, 1 << 16, "channels"),
               float_attr("expansion", 2.0, 0.25, 16, "hidden width = int(expansion * dim)"),
               int_attr("kernel", 7, 1, 31, "depthwise kernel (odd)"),
               choice_attr("act", "star_relu", kActChoices, "activation after pwconv1"),
               bool_attr("bias", false, "conv biases")};
    d.check = [](const Attrs& a) {
      if (a.i("kernel") % 2 == 0) throw Error("sepconv: kernel must be odd");
    };
    d.build = build_sepconv;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("metaformer_block", "MetaFormer block", "block",
                        "norm -> token mixer -> residual -> norm -> MLP -> residual.");
    d.attrs = {int_attr("dim", 64, 1, 1 << 16, "channels")};
    for (AttrSpec& s : block_attrs()) d.attrs.push_back(std::move(s));
    d.build = build_metaformer_block;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("metaformer_stage", "MetaFormer stage", "stage",
                        "Optional downsampling, then `depth` MetaFormer blocks at `dim` channels.");
    d.attrs = {int_attr("in_dim", 64, 1, 1 << 16, "input channels (downsample when != dim)"),
               int_attr("dim", 64, 1, 1 << 16, "channels of the blocks"),
               int_attr("depth", 2, 1, 256, "number of blocks"),
               choice_attr("downsample_norm", "layer_norm_nobias", kNormChoices,
                           "norm before the downsampling conv")};
    for (AttrSpec& s : block_attrs()) d.attrs.push_back(std::move(s));
    d.build = build_metaformer_stage;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("stem", "Stem", "stage", "Patchifying conv (7x7 stride 4) and optional norm.");
    d.attrs = {int_attr("in_channels", 3, 1, 4096, "image channels"),
               int_attr("out_channels", 64, 1, 1 << 16, "output channels"),
               int_attr("kernel", 7, 1, 64, "kernel"), int_attr("stride", 4, 1, 64, "stride"),
               int_attr("padding", 2, 0, 64, "padding"),
               choice_attr("norm", "layer_norm_nobias", kNormChoices, "norm after the conv")};
    d.build = build_stem;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("downsampling", "Downsampling", "stage",
                        "Optional norm, then a strided conv (3x3 stride 2 by default).");
    d.attrs = {int_attr("in_channels", 64, 1, 1 << 16, "input channels"),
               int_attr("out_channels", 128, 1, 1 << 16, "output channels"),
               int_attr("kernel", 3, 1, 64, "kernel"), int_attr("stride", 2, 1, 64, "stride"),
               int_attr("padding", 1, 0, 64, "padding"),
               choice_attr("norm", "layer_norm_nobias", kNormChoices, "norm before the conv")};
    d.build = build_downsampling;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("mlp_head", "MLP head", "head",
                        "fc1 -> SquaredReLU -> LayerNorm -> fc2 (ConvFormer/CAFormer).");
    d.attrs = {int_attr("in_features", 512, 1, 1 << 20, "input features"),
               int_attr("num_classes", 1000, 1, 1 << 20, "classes"),
               float_attr("mlp_ratio", 4.0, 0.25, 16, "hidden = int(mlp_ratio * in)"),
               float_attr("dropout", 0.0, 0.0, 0.99, "dropout before fc2 (training only)")};
    d.build = build_mlp_head;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("classifier_head", "Classifier head", "head",
                        "Global average pool -> norm -> linear or MLP head: [C,H,W] -> logits.");
    d.attrs = {int_attr("in_features", 512, 1, 1 << 20, "channels of the last stage"),
               int_attr("num_classes", 1000, 1, 1 << 20, "classes"),
               choice_attr("kind", "linear", {"linear", "mlp"}, "linear or MLP head"),
               choice_attr("norm", "layer_norm", {"none", "layer_norm", "layer_norm_nobias"},
                           "norm after pooling"),
               float_attr("mlp_ratio", 4.0, 0.25, 16, "MLP head hidden ratio"),
               float_attr("dropout", 0.0, 0.0, 0.99, "dropout (training only)")};
    d.build = build_classifier_head;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("patch_embed", "Patch embedding", "stage",
                        "ViT: non-overlapping patch conv, then flatten to [N,C] tokens.");
    d.attrs = {int_attr("in_channels", 3, 1, 4096, "image channels"),
               int_attr("dim", 192, 1, 1 << 16, "embedding dim"),
               int_attr("patch_size", 16, 1, 256, "patch size")};
    d.build = build_patch_embed;
    out.push_back(std::move(d));
  }
  {
    OpDef d = composite("vit_block", "ViT block", "block",
                        "Pre-norm transformer block: x + attn(norm1(x)); x + mlp(norm2(x)).");
    d.attrs = {int_attr("dim", 192, 1, 1 << 16, "token features"),
               int_attr("heads", 3, 1, 1024, "attention heads"),
               float_attr("mlp_ratio", 4.0, 0.25, 16, "MLP hidden ratio"),
               bool_attr("qkv_bias", true, "bias in qkv")};
    d.check = [](const Attrs& a) {
      if (a.i("dim") % a.i("heads"))
        throw Error("vit_block: heads " + std::to_string(a.i("heads")) + " must divide dim " +
                    std::to_string(a.i("dim")));
    };
    d.build = build_vit_block;
    out.push_back(std::move(d));
  }
}

}  // namespace fw
