// The Python text of the PyTorch export (torch_library.h). Each op's semantics are core/OPS.md's
// "Semantics"; each block class mirrors its BuildFn in core/blocks_builtin.cpp.
#include "core/export/torch_library.h"

namespace fw::torch_export {

namespace {

// Helper functions: the leaf ops without a torch equivalent, in functional form.
const char* kDropPath = R"PY(def drop_path(x, p, training):
    """Stochastic depth: while training, zero whole samples with probability p and scale the kept
    ones by 1 / (1 - p); the identity in evaluation."""
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(1.0 - p)
    return x * keep / (1.0 - p)
)PY";

const char* kLayerNorm2dFn = R"PY(def layer_norm2d(x, weight, bias, eps):
    """LayerNorm over the channels C at every pixel of x [B, C, H, W]."""
    x = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), weight, bias, eps)
    return x.permute(0, 3, 1, 2)
)PY";

const char* kScaleFn = R"PY(def scale_channels(x, scale, channels_first):
    """x * scale over the channels: dim 1 of [B, C, ...] (channels_first) or the last dim."""
    if channels_first:
        scale = scale.reshape((-1,) + (1,) * (x.dim() - 2))
    return x * scale
)PY";

const char* kSquaredReluFn = R"PY(def squared_relu(x):
    """relu(x)^2."""
    return torch.square(F.relu(x))
)PY";

const char* kStarReluFn = R"PY(def star_relu(x, scale, bias):
    """scale * relu(x)^2 + bias (scale and bias: 1-element tensors)."""
    return scale * torch.square(F.relu(x)) + bias
)PY";

const char* kPoolMixerFn = R"PY(def pool_mixer(x, pool_size):
    """PoolFormer's token mixer: average pooling (stride 1, padding not counted) minus the input."""
    return F.avg_pool2d(x, pool_size, 1, pool_size // 2, count_include_pad=False) - x
)PY";

const char* kSelfAttentionFn = R"PY(def self_attention(qkv, heads, head_dim):
    """Multi-head softmax attention from packed qkv [B, N, 3 * heads * head_dim]:
    softmax(q k^T / sqrt(head_dim)) v, heads concatenated: [B, N, heads * head_dim]."""
    B, N, _ = qkv.shape
    q, k, v = qkv.reshape(B, N, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
    attn = ((q @ k.transpose(-2, -1)) * head_dim ** -0.5).softmax(dim=-1)
    return (attn @ v).transpose(1, 2).reshape(B, N, heads * head_dim)
)PY";

const char* kRandomMixingFn = R"PY(def random_mixing(x, matrix):
    """RandFormer's token mixing of x [B, C, H, W]: out[b, c, m] = sum_n matrix[m, n] * x[b, c, n]
    over the tokens n = h * W + w."""
    B, C, H, W = x.shape
    return (x.reshape(B, C, H * W) @ matrix.t()).reshape(B, C, H, W)
)PY";

const char* kToTokensFn = R"PY(def to_tokens(x):
    """[B, C, H, W] -> [B, H * W, C] tokens."""
    return x.flatten(2).transpose(1, 2)
)PY";

const char* kToNchwFn = R"PY(def to_nchw(x, grid):
    """[B, N, C] tokens -> [B, C, H, W], with H and W those of the feature map `grid`."""
    return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], grid.shape[2], grid.shape[3])
)PY";

const char* kClsPosEmbedFn = R"PY(def cls_pos_embed(x, cls_token, pos_embed):
    """ViT: prepend the class token to x [B, N, C], then add the position embedding."""
    return torch.cat([cls_token.expand(x.shape[0], -1, -1), x], dim=1) + pos_embed
)PY";

const char* kInitWeights = R"PY(def init_weights(module):
    """Formwork's (and timm's) initialisation of convolutions and linear layers: weights from a
    normal of std .02 truncated at +-2, biases 0. Norms, scales and embeddings set their own."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.trunc_normal_(module.weight, std=0.02, a=-2.0, b=2.0)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
)PY";

// Leaf ops as modules.
const char* kDropPathCls = R"PY(class DropPath(nn.Module):
    """Stochastic depth as a module (the identity in evaluation)."""

    def __init__(self, p=0.0):
        super().__init__()
        self.p = p

    def forward(self, x):
        return drop_path(x, self.p, self.training)
)PY";

const char* kLayerNorm2dCls = R"PY(class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of each pixel of a [B, C, H, W] map."""

    def __init__(self, channels, eps=1e-6, bias=True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def forward(self, x):
        return layer_norm2d(x, self.weight, self.bias, self.eps)
)PY";

const char* kLayerNormNoBiasCls = R"PY(class LayerNormNoBias(nn.Module):
    """LayerNorm over the last dimension with a learnable weight and no bias."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        return F.layer_norm(x, (self.weight.shape[0],), self.weight, None, self.eps)
)PY";

const char* kGroupNormNoBiasCls = R"PY(class GroupNormNoBias(nn.Module):
    """GroupNorm with a learnable per-channel weight and no bias (timm's GroupNorm1NoBias)."""

    def __init__(self, num_groups, channels, eps=1e-6):
        super().__init__()
        self.num_groups = num_groups
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, None, self.eps)
)PY";

const char* kScaleCls = R"PY(class Scale(nn.Module):
    """A learnable per-channel scale (layer scale, res scale)."""

    def __init__(self, dim, init_value=1.0, layout="channels_first"):
        super().__init__()
        self.channels_first = layout == "channels_first"
        self.scale = nn.Parameter(torch.full((dim,), float(init_value)))

    def forward(self, x):
        return scale_channels(x, self.scale, self.channels_first)
)PY";

const char* kSquaredReluCls = R"PY(class SquaredReLU(nn.Module):
    """relu(x)^2."""

    def forward(self, x):
        return squared_relu(x)
)PY";

const char* kStarReluCls = R"PY(class StarReLU(nn.Module):
    """scale * relu(x)^2 + bias with a learnable 1-element scale and bias (MetaFormer)."""

    def __init__(self, scale_value=1.0, bias_value=0.0):
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), float(scale_value)))
        self.bias = nn.Parameter(torch.full((1,), float(bias_value)))

    def forward(self, x):
        return star_relu(x, self.scale, self.bias)
)PY";

const char* kPoolingCls = R"PY(class Pooling(nn.Module):
    """PoolFormer's token mixer: average pooling minus the input."""

    def __init__(self, pool_size=3):
        super().__init__()
        self.pool_size = pool_size

    def forward(self, x):
        return pool_mixer(x, self.pool_size)
)PY";

const char* kRandomMixingCls = R"PY(class RandomMixing(nn.Module):
    """RandFormer's token mixer: a fixed (not trained) random row-stochastic matrix over the
    num_tokens = H * W tokens of a [B, C, H, W] map."""

    def __init__(self, num_tokens=196):
        super().__init__()
        matrix = torch.rand(num_tokens, num_tokens).softmax(dim=-1)
        self.random_matrix = nn.Parameter(matrix, requires_grad=False)

    def forward(self, x):
        return random_mixing(x, self.random_matrix)
)PY";

const char* kSelfAttentionCls = R"PY(class SelfAttention(nn.Module):
    """Softmax attention from packed qkv tokens."""

    def __init__(self, heads, head_dim):
        super().__init__()
        self.heads = heads
        self.head_dim = head_dim

    def forward(self, qkv):
        return self_attention(qkv, self.heads, self.head_dim)
)PY";

const char* kToTokensCls = R"PY(class ToTokens(nn.Module):
    """[B, C, H, W] -> [B, H * W, C]."""

    def forward(self, x):
        return to_tokens(x)
)PY";

const char* kGlobalAvgPoolCls = R"PY(class GlobalAvgPool(nn.Module):
    """Mean over H and W: [B, C, H, W] -> [B, C]."""

    def forward(self, x):
        return x.mean((2, 3))
)PY";

const char* kSelectTokenCls = R"PY(class SelectToken(nn.Module):
    """[B, N, C] -> [B, C]: token `index` (0: ViT's class token)."""

    def __init__(self, index=0):
        super().__init__()
        self.index = index

    def forward(self, x):
        return x[:, self.index]
)PY";

const char* kClsPosEmbedCls = R"PY(class ClsPosEmbed(nn.Module):
    """ViT: prepend a learnable class token, add a learnable position embedding."""

    def __init__(self, dim, num_patches):
        super().__init__()
        self.cls_token = nn.Parameter(nn.init.normal_(torch.empty(1, 1, dim), std=1e-6))
        pos = torch.empty(1, num_patches + 1, dim)
        self.pos_embed = nn.Parameter(nn.init.trunc_normal_(pos, std=0.02, a=-2.0, b=2.0))

    def forward(self, x):
        return cls_pos_embed(x, self.cls_token, self.pos_embed)
)PY";

// The blocks' norm and activation options.
const char* kMakeNorm = R"PY(def make_norm(kind, channels, nchw):
    """The norm a block's `norm` option names: GroupNorm with one group (eps 1e-5 with a bias,
    1e-6 without) or LayerNorm over the channels (eps 1e-6) of a [B, C, H, W] map (nchw) or of
    tokens; "none" is the identity."""
    if kind == "none":
        return nn.Identity()
    if kind in ("group_norm", "group_norm_nobias"):
        if not nchw:
            raise ValueError(f"norm {kind!r} needs [B, C, H, W] maps; attention blocks work on tokens")
        if kind == "group_norm":
            return nn.GroupNorm(1, channels, eps=1e-5)
        return GroupNormNoBias(1, channels, eps=1e-6)
    bias = kind == "layer_norm"
    if nchw:
        return LayerNorm2d(channels, eps=1e-6, bias=bias)
    return nn.LayerNorm(channels, eps=1e-6) if bias else LayerNormNoBias(channels, eps=1e-6)
)PY";

const char* kMakeAct = R"PY(def make_act(kind):
    """The activation a block's option names."""
    acts = {"gelu": nn.GELU, "relu": nn.ReLU, "squared_relu": SquaredReLU, "star_relu": StarReLU}
    return acts[kind]()
)PY";

// Block classes (core/blocks_builtin.cpp).
const char* kMlp = R"PY(class Mlp(nn.Module):
@doc
@init
        super().__init__()
        out_features = out_features if out_features > 0 else in_features
        if layout == "channels_first":  # 1x1 convolutions on [B, C, H, W]
            self.fc1 = nn.Conv2d(in_features, hidden_features, 1, bias=bias)
            self.fc2 = nn.Conv2d(hidden_features, out_features, 1, bias=bias)
        else:  # linear layers on the last dimension
            self.fc1 = nn.Linear(in_features, hidden_features, bias=bias)
            self.fc2 = nn.Linear(hidden_features, out_features, bias=bias)
        self.act = make_act(act)
        self.drop1 = nn.Dropout(drop)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        x = self.drop1(self.act(self.fc1(x)))
        return self.drop2(self.fc2(x))
)PY";

const char* kAttention = R"PY(class Attention(nn.Module):
@doc
@init
        super().__init__()
        self.heads = heads if heads > 0 else max(1, dim // head_dim)
        self.head_dim = head_dim
        inner = self.heads * head_dim
        self.qkv = nn.Linear(dim, 3 * inner, bias=qkv_bias)
        self.proj = nn.Linear(inner, dim, bias=proj_bias)

    def forward(self, x):
        x = self_attention(self.qkv(x), self.heads, self.head_dim)
        return self.proj(x)
)PY";

const char* kSepConv = R"PY(class SepConv(nn.Module):
@doc
@init
        super().__init__()
        mid = int(expansion * dim)
        self.pwconv1 = nn.Conv2d(dim, mid, 1, bias=bias)
        self.act1 = make_act(act)
        self.dwconv = nn.Conv2d(mid, mid, kernel, padding=kernel // 2, groups=mid, bias=bias)
        self.pwconv2 = nn.Conv2d(mid, dim, 1, bias=bias)

    def forward(self, x):
        x = self.act1(self.pwconv1(x))
        return self.pwconv2(self.dwconv(x))
)PY";

const char* kMetaFormerBlock = R"PY(class MetaFormerBlock(nn.Module):
@doc
@init
        super().__init__()
        nchw = token_mixer != "attention"  # attention mixes [B, N, C] tokens, the others maps
        layout = "channels_first" if nchw else "last"
        self.norm1 = make_norm(norm, dim, nchw)
        if token_mixer == "pooling":
            self.token_mixer = Pooling(pool_size)
        elif token_mixer == "identity":
            self.token_mixer = nn.Identity()
        elif token_mixer == "random_mixing":
            self.token_mixer = RandomMixing(num_tokens)
        elif token_mixer == "sepconv":
            self.token_mixer = SepConv(dim, expansion=sepconv_expansion, kernel=sepconv_kernel)
        elif token_mixer == "attention":
            self.token_mixer = Attention(dim, head_dim=head_dim)
        else:
            raise ValueError(f"unknown token mixer {token_mixer!r}")
        self.drop_path1 = DropPath(drop_path)
        self.layer_scale1 = Scale(dim, layer_scale_init, layout) if use_layer_scale else nn.Identity()
        self.res_scale1 = Scale(dim, res_scale_init, layout) if use_res_scale else nn.Identity()
        self.norm2 = make_norm(norm, dim, nchw)
        self.mlp = Mlp(dim, int(mlp_ratio * dim), act=mlp_act, bias=mlp_bias, layout=layout)
        self.drop_path2 = DropPath(drop_path)
        self.layer_scale2 = Scale(dim, layer_scale_init, layout) if use_layer_scale else nn.Identity()
        self.res_scale2 = Scale(dim, res_scale_init, layout) if use_res_scale else nn.Identity()

    def forward(self, x):
        x = self.res_scale1(x) + self.layer_scale1(self.drop_path1(self.token_mixer(self.norm1(x))))
        x = self.res_scale2(x) + self.layer_scale2(self.drop_path2(self.mlp(self.norm2(x))))
        return x
)PY";

const char* kMetaFormerStage = R"PY(class MetaFormerStage(nn.Module):
@doc
@init
        super().__init__()
        self.tokens = token_mixer == "attention"  # its blocks work on [B, N, C] tokens
        if in_dim != dim:
            self.downsample = Downsampling(in_dim, dim, norm=downsample_norm)
        else:
            self.downsample = nn.Identity()
        self.blocks = nn.Sequential(*[
            MetaFormerBlock(
                dim,
@block_kwargs
            )
            for _ in range(depth)
        ])

    def forward(self, x):
        x = self.downsample(x)
        if not self.tokens:
            return self.blocks(x)
        return to_nchw(self.blocks(to_tokens(x)), x)
)PY";

const char* kStem = R"PY(class Stem(nn.Module):
@doc
@init
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding)
        self.norm = make_norm(norm, out_channels, nchw=True)

    def forward(self, x):
        return self.norm(self.conv(x))
)PY";

const char* kDownsampling = R"PY(class Downsampling(nn.Module):
@doc
@init
        super().__init__()
        self.norm = make_norm(norm, in_channels, nchw=True)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding)

    def forward(self, x):
        return self.conv(self.norm(x))
)PY";

const char* kMlpHead = R"PY(class MlpHead(nn.Module):
@doc
@init
        super().__init__()
        hidden = int(mlp_ratio * in_features)
        self.fc1 = nn.Linear(in_features, hidden)
        self.act = SquaredReLU()
        self.norm = nn.LayerNorm(hidden, eps=1e-6)
        self.head_drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = self.norm(self.act(self.fc1(x)))
        return self.fc2(self.head_drop(x))
)PY";

const char* kClassifierHead = R"PY(class ClassifierHead(nn.Module):
@doc
@init
        super().__init__()
        if norm == "layer_norm":
            self.norm = nn.LayerNorm(in_features, eps=1e-6)
        elif norm == "layer_norm_nobias":
            self.norm = LayerNormNoBias(in_features, eps=1e-6)
        else:
            self.norm = nn.Identity()
        if kind == "mlp":
            self.drop = nn.Dropout(dropout)
            self.fc = MlpHead(in_features, num_classes, mlp_ratio=mlp_ratio, dropout=dropout)
        else:
            self.drop = nn.Identity()
            self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x):
        x = x.mean((2, 3))  # global average pooling: [B, C, H, W] -> [B, C]
        return self.fc(self.drop(self.norm(x)))
)PY";

const char* kPatchEmbed = R"PY(class PatchEmbed(nn.Module):
@doc
@init
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)

    def forward(self, x):
        return to_tokens(self.proj(x))
)PY";

const char* kVitBlock = R"PY(class VitBlock(nn.Module):
@doc
@init
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads=heads, head_dim=dim // heads, qkv_bias=qkv_bias,
                              proj_bias=True)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(mlp_ratio * dim), act="gelu", bias=True, layout="last")

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))
)PY";

// Reading weights and arrays, writing logits: torch and the standard library only.
const char* kIo = R"PY(SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "BOOL": torch.bool,
}


def load_safetensors(path):
    """The tensors of a .safetensors file as {name: tensor}: an 8-byte little-endian header
    length, a JSON header {name: {"dtype", "shape", "data_offsets"}}, then the data."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
    (size,) = struct.unpack("<Q", data[:8])
    if 8 + size > len(data):
        raise ValueError(f"{path}: not a safetensors file (a header of {size} bytes in a file of "
                         f"{len(data)})")
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
    except ValueError as e:  # UnicodeDecodeError is a ValueError too
        raise ValueError(f"{path}: not a safetensors file (its header is not JSON: {e})") from None
    body = memoryview(data)[8 + size:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has dtype {entry.get('dtype')!r}, "
                             f"not one of {', '.join(SAFETENSORS_DTYPES)}")
        shape = [int(d) for d in entry["shape"]]
        begin, end = (int(o) for o in entry["data_offsets"])
        nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
        if not 0 <= begin <= end <= len(body) or end - begin != nbytes:
            raise ValueError(f"{path}: tensor {name!r}: data offsets [{begin}, {end}] do not hold "
                             f"{shape} {entry['dtype']} in {len(body)} bytes of data")
        if nbytes == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
        else:
            tensors[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype).reshape(shape)
    return tensors


NPY_DTYPES = {"<f4": torch.float32, "<f8": torch.float64, "<f2": torch.float16}


def load_npy(path):
    """A .npy array (versions 1-3, C order, little-endian float32, float64 or float16) as a
    float32 tensor."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        raise ValueError(f"{path}: not a .npy file")
    if data[6] == 1:
        (size,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (size,) = struct.unpack("<I", data[8:12])
        start = 12
    try:
        header = ast.literal_eval(data[start:start + size].decode("latin1"))
        descr, fortran, shape = header["descr"], header["fortran_order"], tuple(header["shape"])
    except (ValueError, SyntaxError, KeyError, TypeError):
        raise ValueError(f"{path}: not a .npy file (unreadable header)") from None
    dtype = NPY_DTYPES.get(descr)
    if dtype is None or fortran:
        raise ValueError(f"{path}: holds a {descr!r}{' Fortran-order' if fortran else ''} array; "
                         "expected float32 ('<f4') in C order")
    nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    body = data[start + size:]
    if len(body) < nbytes:
        raise ValueError(f"{path}: truncated ({len(body)} bytes of data for {list(shape)})")
    if nbytes == 0:
        return torch.empty(shape)
    return torch.frombuffer(bytearray(body[:nbytes]), dtype=dtype).reshape(shape).float()


def save_npy(path, tensor):
    """Writes a tensor as a float32 .npy file (version 1.0, C order), replacing `path` at once."""
    t = tensor.detach().to(torch.float32).contiguous().cpu()
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (tuple(t.shape),)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    values = t.flatten().tolist()
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")
    data += struct.pack(f"<{len(values)}f", *values)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
)PY";

}  // namespace

const std::vector<PyEntry>& python_library() {
  static const std::vector<PyEntry> lib = {
      {"drop_path", {}, kDropPath, ""},
      {"layer_norm2d", {}, kLayerNorm2dFn, ""},
      {"scale_channels", {}, kScaleFn, ""},
      {"squared_relu", {}, kSquaredReluFn, ""},
      {"star_relu", {}, kStarReluFn, ""},
      {"pool_mixer", {}, kPoolMixerFn, ""},
      {"self_attention", {}, kSelfAttentionFn, ""},
      {"random_mixing", {}, kRandomMixingFn, ""},
      {"to_tokens", {}, kToTokensFn, ""},
      {"to_nchw", {}, kToNchwFn, ""},
      {"cls_pos_embed", {}, kClsPosEmbedFn, ""},
      {"init_weights", {}, kInitWeights, ""},
      {"DropPath", {"drop_path"}, kDropPathCls, ""},
      {"LayerNorm2d", {"layer_norm2d"}, kLayerNorm2dCls, ""},
      {"LayerNormNoBias", {}, kLayerNormNoBiasCls, ""},
      {"GroupNormNoBias", {}, kGroupNormNoBiasCls, ""},
      {"Scale", {"scale_channels"}, kScaleCls, ""},
      {"SquaredReLU", {"squared_relu"}, kSquaredReluCls, ""},
      {"StarReLU", {"star_relu"}, kStarReluCls, ""},
      {"Pooling", {"pool_mixer"}, kPoolingCls, ""},
      {"RandomMixing", {"random_mixing"}, kRandomMixingCls, ""},
      {"SelfAttention", {"self_attention"}, kSelfAttentionCls, ""},
      {"ToTokens", {"to_tokens"}, kToTokensCls, ""},
      {"GlobalAvgPool", {}, kGlobalAvgPoolCls, ""},
      {"SelectToken", {}, kSelectTokenCls, ""},
      {"ClsPosEmbed", {"cls_pos_embed"}, kClsPosEmbedCls, ""},
      {"make_norm", {"LayerNorm2d", "LayerNormNoBias", "GroupNormNoBias"}, kMakeNorm, ""},
      {"make_act", {"SquaredReLU", "StarReLU"}, kMakeAct, ""},
      {"Mlp", {"make_act"}, kMlp, "mlp"},
      {"Attention", {"self_attention"}, kAttention, "attention"},
      {"SepConv", {"make_act"}, kSepConv, "sepconv"},
      {"MetaFormerBlock",
       {"make_norm", "Pooling", "RandomMixing", "SepConv", "Attention", "Mlp", "DropPath", "Scale"},
       kMetaFormerBlock,
       "metaformer_block"},
      {"Stem", {"make_norm"}, kStem, "stem"},
      {"Downsampling", {"make_norm"}, kDownsampling, "downsampling"},
      {"MetaFormerStage",
       {"Downsampling", "MetaFormerBlock", "to_tokens", "to_nchw"},
       kMetaFormerStage,
       "metaformer_stage"},
      {"MlpHead", {"SquaredReLU"}, kMlpHead, "mlp_head"},
      {"ClassifierHead", {"MlpHead", "LayerNormNoBias"}, kClassifierHead, "classifier_head"},
      {"PatchEmbed", {"to_tokens"}, kPatchEmbed, "patch_embed"},
      {"VitBlock", {"Attention", "Mlp"}, kVitBlock, "vit_block"},
      {"io", {}, kIo, ""},
  };
  return lib;
}

}  // namespace fw::torch_export
