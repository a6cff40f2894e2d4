#include "core/templates.h"


#include "core/error.h"

namespace fw {

namespace {

// A MetaFormer variant as data (timm's metaformer.py keyword arguments).
struct MetaFormerSpec {
  std::vector<int64_t> depths;
  std::vector<int64_t> dims;
  std::vector<std::string> mixers;
  std::vector<std::string> norms;         // block norm per stage
  std::string downsample_norm;            // stem (after conv) and downsampling (before conv)
  std::string mlp_act = "star_relu";
  bool mlp_bias = false;
  bool layer_scale = false;               // on every stage
  double layer_scale_init = 1e-5;
  std::vector<bool> res_scale = {false, false, true, true};
  std::string head = "linear";            // "linear" or "mlp"
  // Formwork's own small templates change these; timm's MetaFormers use 7/4/2 and ratio 4.
  int64_t stem_kernel = 7, stem_stride = 4, stem_padding = 2;
  double mlp_ratio = 4.0;
  int64_t sepconv_kernel = 7;
  Shape default_input = {3, 224, 224};
  int64_t default_classes = 1000;
};

const std::string kGN = "group_norm", kGNNB = "group_norm_nobias", kLNNB = "layer_norm_nobias";

MetaFormerSpec poolformer_v1(std::vector<int64_t> depths, std::vector<int64_t> dims, double ls) {
  MetaFormerSpec s{depths, dims, {"pooling", "pooling", "pooling", "pooling"}, {kGN, kGN, kGN, kGN},
                   "none"};
  s.mlp_act = "gelu";
  s.mlp_bias = true;
  s.layer_scale = true;
  s.layer_scale_init = ls;
  s.res_scale = {false, false, false, false};
  return s;
}

MetaFormerSpec v2_family(std::vector<int64_t> depths, std::vector<std::string> mixers,
                         std::vector<std::string> norms, std::string head) {
  MetaFormerSpec s{depths, {64, 128, 320, 512}, std::move(mixers), std::move(norms), kLNNB};
  s.head = std::move(head);
  return s;
}

MetaFormerSpec spec_for(const std::string& name) {
  if (name == "poolformer_s12") return poolformer_v1({2, 2, 6, 2}, {64, 128, 320, 512}, 1e-5);
  if (name == "poolformer_s24") return poolformer_v1({4, 4, 12, 4}, {64, 128, 320, 512}, 1e-5);
  if (name == "poolformer_s36") return poolformer_v1({6, 6, 18, 6}, {64, 128, 320, 512}, 1e-6);
  if (name == "poolformer_m36") return poolformer_v1({6, 6, 18, 6}, {96, 192, 384, 768}, 1e-6);
  if (name == "poolformer_m48") return poolformer_v1({8, 8, 24, 8}, {96, 192, 384, 768}, 1e-6);
  const std::vector<std::string> gn_nb = {kGNNB, kGNNB, kGNNB, kGNNB};
  const std::vector<std::string> ln_nb = {kLNNB, kLNNB, kLNNB, kLNNB};
  if (name == "poolformerv2_s12")
    return v2_family({2, 2, 6, 2}, {"pooling", "pooling", "pooling", "pooling"}, gn_nb, "linear");
  if (name == "identityformer_s12")
    return v2_family({2, 2, 6, 2}, {"identity", "identity", "identity", "identity"}, gn_nb,
                     "linear");
  if (name == "randformer_s12")
    return v2_family({2, 2, 6, 2}, {"identity", "identity", "random_mixing", "random_mixing"},
                     gn_nb, "linear");
  if (name == "convformer_s18")
    return v2_family({3, 3, 9, 3}, {"sepconv", "sepconv", "sepconv", "sepconv"}, ln_nb, "mlp");
  if (name == "caformer_s18")
    return v2_family({3, 3, 9, 3}, {"sepconv", "sepconv", "attention", "attention"}, ln_nb, "mlp");
  if (name == "formwork_fm32") {
    // Fashion-MNIST at 1x32x32: 4x4 patches -> 8x8 sep-conv stage -> 4x4 attention stage.
    MetaFormerSpec s = v2_family({2, 2}, {"sepconv", "attention"}, {kLNNB, kLNNB}, "linear");
    s.dims = {48, 96};
    s.res_scale = {false, true};
    s.stem_kernel = 4, s.stem_stride = 4, s.stem_padding = 0;
    s.mlp_ratio = 2.0;
    s.sepconv_kernel = 3;
    s.default_input = {1, 32, 32};
    s.default_classes = 10;
    return s;
  }
  if (name == "caformer_mini64") {
    // CAFormer in small: sep-conv at 16x16 and 8x8, attention at 4x4, for 1x64x64 inputs
    // (fashion-mnist-placed).
    MetaFormerSpec s = v2_family({1, 2, 2}, {"sepconv", "sepconv", "attention"},
                                 {kLNNB, kLNNB, kLNNB}, "linear");
    s.dims = {32, 64, 128};
    s.res_scale = {false, true, true};
    s.mlp_ratio = 2.0;
    s.sepconv_kernel = 5;
    s.default_input = {1, 64, 64};
    s.default_classes = 10;
    return s;
  }
  throw Error("unknown template '" + name + "'; see `formwork templates`");
}

int64_t conv_size(int64_t x, int64_t k, int64_t s, int64_t p) { return (x + 2 * p - k) / s + 1; }

void check_input(const TemplateOptions& o, int64_t multiple, const std::string& name) {
  if (o.input.size() != 3) throw Error(name + ": input size must be C,H,W");
  for (int64_t d : o.input)
    if (d < 1) throw Error(name + ": input size " + shape_str(o.input) + " is not positive");
  if (o.input[1] % multiple || o.input[2] % multiple)
    throw Error(name + ": input size " + std::to_string(o.input[1]) + "x" +
                std::to_string(o.input[2]) + " must be divisible by " + std::to_string(multiple));
  if (o.num_classes < 1) throw Error(name + ": --num-classes must be at least 1");
}

NodeId add_input(Graph& g, const TemplateOptions& o) {
  return g.add(kNoNode, "input", "input",
               {{"channels", o.input[0]}, {"height", o.input[1]}, {"width", o.input[2]}});
}

NodeId chain(Graph& g, NodeId prev, NodeId next) {
  g.connect({prev, 0}, next, 0);
  return next;
}

Graph build_metaformer(const std::string& name, const TemplateOptions& given) {
  const MetaFormerSpec s = spec_for(name);
  TemplateOptions o = given;
  if (o.input.empty()) o.input = s.default_input;
  if (o.num_classes == 0) o.num_classes = s.default_classes;
  const size_t n = s.dims.size();
  check_input(o, s.stem_stride << (n - 1), name);
  Graph g;
  NodeId cur = add_input(g, o);
  cur = chain(g, cur,
              g.add(kNoNode, "stem", "stem",
                    {{"in_channels", o.input[0]}, {"out_channels", s.dims[0]},
                     {"kernel", s.stem_kernel}, {"stride", s.stem_stride},
                     {"padding", s.stem_padding}, {"norm", s.downsample_norm}}));
  const NodeId stages = g.add(kNoNode, "group", "stages");
  cur = chain(g, cur, stages);

  // Feature-map sizes after the stem (7/4/2) and each 3/2/1 downsampling, for RandFormer.
  int64_t h = conv_size(o.input[1], s.stem_kernel, s.stem_stride, s.stem_padding);
  int64_t w = conv_size(o.input[2], s.stem_kernel, s.stem_stride, s.stem_padding);
  PortRef prev{stages, 0, true};
  int64_t prev_dim = s.dims[0];
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) h = conv_size(h, 3, 2, 1), w = conv_size(w, 3, 2, 1);
    Attrs a = {{"in_dim", prev_dim},
               {"dim", s.dims[i]},
               {"depth", s.depths[i]},
               {"downsample_norm", s.downsample_norm},
               {"token_mixer", s.mixers[i]},
               {"mlp_act", s.mlp_act},
               {"mlp_bias", s.mlp_bias},
               {"norm", s.norms[i]},
               {"use_layer_scale", s.layer_scale},
               {"layer_scale_init", s.layer_scale_init},
               {"use_res_scale", s.res_scale[i]},
               {"res_scale_init", 1.0},
               {"num_tokens", h * w},
               {"mlp_ratio", s.mlp_ratio},
               {"sepconv_kernel", s.sepconv_kernel}};
    const NodeId st = g.add(stages, "metaformer_stage", std::to_string(i), a);
    g.connect(prev, st, 0);
    prev = {st, 0};
    prev_dim = s.dims[i];
  }
  g.set_output(stages, 0, prev);
  cur = chain(g, cur,
              g.add(kNoNode, "classifier_head", "head",
                    {{"in_features", s.dims[n - 1]}, {"num_classes", o.num_classes},
                     {"kind", s.head}, {"norm", std::string("layer_norm")}}));
  chain(g, cur, g.add(kNoNode, "output", "output"));
  return g;
}

Graph build_vit(const std::string& name, const TemplateOptions& given) {
  const int64_t patch = 16, dim = 192, depth = 12, heads = 3;
  TemplateOptions o = given;
  if (o.input.empty()) o.input = {3, 224, 224};
  if (o.num_classes == 0) o.num_classes = 1000;
  check_input(o, patch, name);
  Graph g;
  NodeId cur = add_input(g, o);
  cur = chain(g, cur,
              g.add(kNoNode, "patch_embed", "patch_embed",
                    {{"in_channels", o.input[0]}, {"dim", dim}, {"patch_size", patch}}));
  // cls_token and pos_embed are parameters of the model root: an anonymous node.
  cur = chain(g, cur,
              g.add(kNoNode, "cls_pos_embed", "",
                    {{"dim", dim}, {"num_patches", (o.input[1] / patch) * (o.input[2] / patch)}}));
  const NodeId blocks = g.add(kNoNode, "group", "blocks");
  cur = chain(g, cur, blocks);
  PortRef prev{blocks, 0, true};
  for (int64_t i = 0; i < depth; ++i) {
    const NodeId b = g.add(blocks, "vit_block", std::to_string(i), {{"dim", dim}, {"heads", heads}});
    g.connect(prev, b, 0);
    prev = {b, 0};
  }
  g.set_output(blocks, 0, prev);
  cur = chain(g, cur, g.add(kNoNode, "layer_norm", "norm", {{"channels", dim}, {"eps", 1e-6}}));
  cur = chain(g, cur, g.add(kNoNode, "select_token", "cls_pool"));
  cur = chain(g, cur,
              g.add(kNoNode, "linear", "head",
                    {{"in_features", dim}, {"out_features", o.num_classes}}));
  chain(g, cur, g.add(kNoNode, "output", "output"));
  return g;
}

}  // namespace

const std::vector<TemplateInfo>& template_list() {
  static const std::vector<TemplateInfo> list = {
      {"poolformer_s12", "poolformer", "PoolFormer-S12: pooling mixer, GroupNorm, GELU, layer scale", 0.9},
      {"poolformer_s24", "poolformer", "PoolFormer-S24", 0.9},
      {"poolformer_s36", "poolformer", "PoolFormer-S36", 0.9},
      {"poolformer_m36", "poolformer", "PoolFormer-M36 (dims 96-768)", 0.95},
      {"poolformer_m48", "poolformer", "PoolFormer-M48 (dims 96-768)", 0.95},
      {"poolformerv2_s12", "metaformer", "PoolFormerV2-S12: StarReLU, res scale, no biases"},
      {"convformer_s18", "metaformer", "ConvFormer-S18: separable-conv mixers, MLP head"},
      {"caformer_s18", "metaformer", "CAFormer-S18: sep-conv stages 1-2, attention stages 3-4"},
      {"identityformer_s12", "metaformer", "IdentityFormer-S12: identity token mixer"},
      {"randformer_s12", "metaformer", "RandFormer-S12: fixed random mixing in stages 3-4"},
      {"vit_tiny_patch16_224", "vit", "ViT-Tiny/16: 12 blocks, dim 192, 3 heads", 0.9},
      {"formwork_fm32", "formwork",
       "Formwork-FM32 (1x32x32, 10 classes): 4x4 patches, sep-conv stage at 8x8, attention at 4x4"},
      {"caformer_mini64", "formwork",
       "CAFormer-mini (1x64x64, 10 classes): sep-conv at 16x16 and 8x8, attention at 4x4"},
  };
  return list;
}

std::vector<std::string> template_names() {
  std::vector<std::string> out;
  for (const TemplateInfo& t : template_list()) out.push_back(t.name);
  return out;
}

bool is_template(const std::string& name) {
  for (const TemplateInfo& t : template_list())
    if (t.name == name) return true;
  return false;
}

Graph build_template(const std::string& name, const TemplateOptions& opts) {
  if (!is_template(name)) throw Error("unknown template '" + name + "'; see `formwork templates`");
  Graph g = name.rfind("vit_", 0) == 0 ? build_vit(name, opts) : build_metaformer(name, opts);
  g.meta.set("template", name);
  return g;
}

}  // namespace fw
