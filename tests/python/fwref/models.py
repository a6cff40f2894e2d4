"""Reference PyTorch models of Formwork's built-in templates.

``build(name, num_classes=None, input_size=None, device=None)`` returns an ``nn.Module`` in
eval mode whose ``state_dict`` keys, parameter shapes and forward semantics are those of timm's
``metaformer.py`` / ``vision_transformer.py`` (identityformer / randformer: sail-sg
``metaformer_baselines.py`` semantics with timm-style names), or, for Formwork's own
``formwork_fm32`` and ``caformer_mini64``, those of core/templates.cpp in the same timm-style
names. Unset ``num_classes`` / ``input_size`` take the template's defaults (1000 and 3x224x224 for
timm's templates; 10 and 1x32x32 / 1x64x64 for Formwork's own). ``device="meta"`` builds shapes only.

Template summary (TEMPLATE_SPECS has the exact settings):

  template              depths      dims              block norm                 mixers            head.fc
  poolformer_s12/24/36  2,2,6,2 /   64,128,320,512    GroupNorm1 + bias, 1e-5    pool              Linear
                        4,4,12,4 / 6,6,18,6
  poolformer_m36/48     6,6,18,6 /  96,192,384,768    GroupNorm1 + bias, 1e-5    pool              Linear
                        8,8,24,8
  poolformerv2_s12      2,2,6,2     64,128,320,512    GroupNorm1 no bias, 1e-6   pool              Linear
  identityformer_s12    2,2,6,2     64,128,320,512    GroupNorm1 no bias, 1e-6   identity          Linear
  randformer_s12        2,2,6,2     64,128,320,512    GroupNorm1 no bias, 1e-6   id,id,rand,rand   Linear
  convformer_s18        3,3,9,3     64,128,320,512    LayerNorm2d no bias, 1e-6  SepConv           MlpHead
  caformer_s18          3,3,9,3     64,128,320,512    LN2d nb ×2, LN nb ×2       SepConv ×2, attn ×2  MlpHead
  vit_tiny_patch16_224  12 blocks   192, 3 heads      LayerNorm + bias, 1e-6     attention         Linear (cls token)
  formwork_fm32         2,2         48,96             LN2d nb, LN nb             SepConv 3x3, attn  Linear
  caformer_mini64       1,2,2       32,64,128         LN2d nb ×2, LN nb          SepConv 5x5 ×2, attn  Linear

poolformer v1: GELU MLPs with bias, layer scale (1e-5 s12/s24, 1e-6 s36/m36/m48), no stem or
downsampling norm. All others: StarReLU MLPs without bias, stem post-norm and downsampling pre-norm
LayerNorm2d without bias (1e-6), res scale 1.0 on stages 2 and 3, no layer scale. Every
MetaFormer's head is global average pool → head.norm LayerNorm2d *with* bias (1e-6) → head.fc.

Formwork's own small templates (core/templates.cpp) are v2-family MetaFormers with fewer stages:
StarReLU MLPs of ratio 2 without bias, stem post-norm and downsampling pre-norm LayerNorm2d without
bias, no layer scale, res scale 1.0 on every stage but the first, attention with head_dim 32, a
linear head. formwork_fm32 (1x32x32): 4x4 stride 4 stem without padding → 8x8 sep-conv stage (dim
48, 3x3 depthwise) → 4x4 attention stage (dim 96, 3 heads); total stride 8. caformer_mini64
(1x64x64): the usual 7x7/4/2 stem → 16x16 and 8x8 sep-conv stages (dims 32, 64; 5x5 depthwise) →
4x4 attention stage (dim 128, 4 heads); total stride 16.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from .layers import (GroupNorm1, LayerNorm, LayerNorm2d, MetaAttention, MetaFormerStage, MlpHead,
                     PatchEmbed, Pooling, RandomMixing, Scale, SepConv, StarReLU, Stem, VitBlock)

__all__ = ["MetaFormer", "VisionTransformer", "build", "defaults", "total_stride", "TEMPLATES",
           "OWN_TEMPLATES", "TEMPLATE_SPECS", "count_params", "init_weights"]

_S12 = dict(depths=(2, 2, 6, 2), dims=(64, 128, 320, 512))

# Settings per template. Keys:
#   depths, dims; mixers: one of 'pool', 'identity', 'sepconv', 'attention', 'random' per stage;
#   norm: per-stage block norm ('gn1' GroupNorm1 eps 1e-5 with bias, 'gn1nb' GroupNorm1 no bias eps 1e-6,
#         'ln2dnb' LayerNorm2d no bias eps 1e-6, 'lnnb' token LayerNorm no bias eps 1e-6);
#   downsample_norm: None (v1) or 'ln2dnb'; mlp_act: 'gelu' | 'starrelu'; mlp_bias;
#   layer_scale: per-stage init value or None; res_scale: per-stage init or None; mlp_head: bool;
#   stem: (kernel, stride, padding) of the stem conv; mlp_ratio: MLP hidden = int(ratio·dim);
#   sepconv_kernel: depthwise kernel of SepConv (padding k // 2);
#   default_input (C, H, W) and default_classes: what build() uses when they are not given.
TEMPLATE_SPECS: Dict[str, dict] = {}

# timm's values; Formwork's own templates override some of them.
_DEFAULTS = dict(stem=(7, 4, 2), mlp_ratio=4.0, sepconv_kernel=7, default_input=(3, 224, 224),
                 default_classes=1000)


def _v1(depths, dims, ls):
    return dict(_DEFAULTS, depths=depths, dims=dims, mixers=("pool",) * 4, norm=("gn1",) * 4,
                downsample_norm=None, mlp_act="gelu", mlp_bias=True, layer_scale=(ls,) * 4,
                res_scale=(None,) * 4, mlp_head=False)


def _v2(mixers, norm=("gn1nb",) * 4, mlp_head=False, **dd):
    spec = dict(_DEFAULTS, mixers=mixers, norm=norm, downsample_norm="ln2dnb", mlp_act="starrelu",
                mlp_bias=False, layer_scale=(None,) * len(mixers),
                res_scale=(None, None, 1.0, 1.0), mlp_head=mlp_head)
    spec.update(dd)
    return spec


TEMPLATE_SPECS.update({
    "poolformer_s12": _v1((2, 2, 6, 2), (64, 128, 320, 512), 1e-5),
    "poolformer_s24": _v1((4, 4, 12, 4), (64, 128, 320, 512), 1e-5),
    "poolformer_s36": _v1((6, 6, 18, 6), (64, 128, 320, 512), 1e-6),
    "poolformer_m36": _v1((6, 6, 18, 6), (96, 192, 384, 768), 1e-6),
    "poolformer_m48": _v1((8, 8, 24, 8), (96, 192, 384, 768), 1e-6),
    "poolformerv2_s12": _v2(("pool",) * 4, **_S12),
    "identityformer_s12": _v2(("identity",) * 4, **_S12),
    "randformer_s12": _v2(("identity", "identity", "random", "random"), **_S12),
    "convformer_s18": _v2(("sepconv",) * 4, norm=("ln2dnb",) * 4, mlp_head=True,
                          depths=(3, 3, 9, 3), dims=(64, 128, 320, 512)),
    "caformer_s18": _v2(("sepconv", "sepconv", "attention", "attention"),
                        norm=("ln2dnb", "ln2dnb", "lnnb", "lnnb"), mlp_head=True,
                        depths=(3, 3, 9, 3), dims=(64, 128, 320, 512)),
    # Formwork's own (core/templates.cpp). Formwork names every block norm layer_norm_nobias:
    # LayerNorm2d in [C,H,W] stages, token LayerNorm in attention stages.
    "formwork_fm32": _v2(("sepconv", "attention"), norm=("ln2dnb", "lnnb"),
                         depths=(2, 2), dims=(48, 96), res_scale=(None, 1.0), stem=(4, 4, 0),
                         mlp_ratio=2.0, sepconv_kernel=3, default_input=(1, 32, 32),
                         default_classes=10),
    "caformer_mini64": _v2(("sepconv", "sepconv", "attention"), norm=("ln2dnb", "ln2dnb", "lnnb"),
                           depths=(1, 2, 2), dims=(32, 64, 128), res_scale=(None, 1.0, 1.0),
                           mlp_ratio=2.0, sepconv_kernel=5, default_input=(1, 64, 64),
                           default_classes=10),
})

VIT_SPECS = {"vit_tiny_patch16_224": dict(patch_size=16, embed_dim=192, depth=12, num_heads=3)}
VIT_DEFAULTS = ((3, 224, 224), 1000)  # default input and classes of the ViT

TEMPLATES = tuple(TEMPLATE_SPECS) + tuple(VIT_SPECS)
# Formwork's own designs (family "formwork"), not timm's: 1-channel inputs, 10 classes by default.
OWN_TEMPLATES = ("formwork_fm32", "caformer_mini64")


def _norm_factory(kind: Optional[str], device):
    if kind is None:
        return None
    if kind == "gn1":
        return partial(GroupNorm1, eps=1e-5, bias=True, device=device)
    if kind == "gn1nb":
        return partial(GroupNorm1, eps=1e-6, bias=False, device=device)
    if kind == "ln2dnb":
        return partial(LayerNorm2d, eps=1e-6, bias=False, device=device)
    if kind == "lnnb":
        return partial(LayerNorm, eps=1e-6, bias=False, device=device)
    raise ValueError(kind)


class MetaFormer(nn.Module):
    """timm ``MetaFormer``: stem → stages.0..3 → head(global_pool, norm, flatten, drop, fc).

    ``head.norm`` is LayerNorm2d *with* bias, eps 1e-6, applied to the pooled ``[B, C, 1, 1]`` map
    (for every template, poolformer v1 included). ``head.fc`` is Linear, or MlpHead for
    convformer_s18/caformer_s18.
    """

    def __init__(self, spec: dict, num_classes: int = 1000, in_chans: int = 3,
                 img_size: Tuple[int, int] = (224, 224), device=None):
        super().__init__()
        depths, dims = spec["depths"], spec["dims"]
        self.num_classes = num_classes
        self.num_features = dims[-1]
        ds_norm = _norm_factory(spec["downsample_norm"], device)
        act = nn.GELU if spec["mlp_act"] == "gelu" else partial(StarReLU, device=device)
        sk, ss, sp = spec["stem"]
        self.stem = Stem(in_chans, dims[0], norm_layer=ds_norm, kernel_size=sk, stride=ss, padding=sp,
                         device=device)
        # Feature-map size after the stem conv and after each 3x3/2/1 downsampling (RandomMixing).
        h, w = ((s + 2 * sp - sk) // ss + 1 for s in img_size)
        stages = []
        prev = dims[0]
        for i in range(len(depths)):
            if i > 0:
                h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
            kind = spec["mixers"][i]
            if kind == "pool":
                mixer = Pooling
            elif kind == "identity":
                mixer = lambda dim, device=None: nn.Identity()  # noqa: E731
            elif kind == "sepconv":
                k = spec["sepconv_kernel"]
                mixer = partial(SepConv, kernel_size=k, padding=k // 2)
            elif kind == "attention":
                mixer = MetaAttention
            elif kind == "random":
                mixer = partial(RandomMixing, h * w)
            else:
                raise ValueError(kind)
            stages.append(MetaFormerStage(
                prev, dims[i], depths[i], mixer, act, spec["mlp_bias"], ds_norm,
                _norm_factory(spec["norm"][i], device), spec["layer_scale"][i], spec["res_scale"][i],
                use_nchw=(kind != "attention"), mlp_ratio=spec["mlp_ratio"], device=device))
            prev = dims[i]
        self.stages = nn.Sequential(*stages)
        fc = (MlpHead(self.num_features, num_classes, device=device) if spec["mlp_head"]
              else nn.Linear(self.num_features, num_classes, device=device))
        self.head = nn.Sequential(OrderedDict([
            ("global_pool", nn.AdaptiveAvgPool2d(1)),
            ("norm", LayerNorm2d(self.num_features, eps=1e-6, bias=True, device=device)),
            ("flatten", nn.Flatten(1)),
            ("drop", nn.Dropout(0.0)),
            ("fc", fc),
        ]))

    def forward_features(self, x):
        return self.stages(self.stem(x))

    def forward(self, x):
        return self.head(self.forward_features(x))


class VisionTransformer(nn.Module):
    """timm ``VisionTransformer`` (class token, learned absolute position embedding sized for the
    build input, pre-norm blocks, final LayerNorm, head on the class token)."""

    def __init__(self, patch_size: int, embed_dim: int, depth: int, num_heads: int,
                 num_classes: int = 1000, in_chans: int = 3, img_size: Tuple[int, int] = (224, 224),
                 device=None):
        super().__init__()
        self.num_classes = num_classes
        self.embed_dim = embed_dim
        self.num_prefix_tokens = 1
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim, device=device)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim, device=device))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.patch_embed.num_patches + 1, embed_dim, device=device))
        self.pos_drop = nn.Dropout(0.0)
        self.patch_drop = nn.Identity()
        self.norm_pre = nn.Identity()
        self.blocks = nn.Sequential(*[VitBlock(embed_dim, num_heads, device=device)
                                      for _ in range(depth)])
        self.norm = LayerNorm(embed_dim, eps=1e-6, device=device)
        self.fc_norm = nn.Identity()
        self.head_drop = nn.Dropout(0.0)
        self.head = nn.Linear(embed_dim, num_classes, device=device)

    def forward_features(self, x):
        x = self.patch_embed(x)
        if x.shape[1] + 1 != self.pos_embed.shape[1]:
            raise ValueError(f"ViT built for {self.pos_embed.shape[1] - 1} patches got {x.shape[1]}: "
                             "it runs at its build input size only")
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm_pre(self.patch_drop(self.pos_drop(x)))
        x = self.blocks(x)
        return self.norm(x)

    def forward(self, x):
        x = self.forward_features(x)
        x = x[:, 0]
        x = self.head_drop(self.fc_norm(x))
        return self.head(x)


def _trunc_normal_(t: torch.Tensor, std: float = 0.02):
    # timm.layers.trunc_normal_(std=.02, a=-2, b=2) truncates at ±2 absolute, i.e. ±100σ. torch's
    # normal_ (Box-Muller on float32 uniforms) never goes beyond ~6σ, so plain normal_ has exactly
    # that distribution, at a fraction of the cost of nn.init.trunc_normal_.
    t.normal_(0.0, std)


@torch.no_grad()
def init_weights(model: nn.Module) -> None:
    """Initialises every parameter, timm-style: Conv2d/Linear weights trunc-normal(std .02),
    biases 0; norm weights 1, biases 0; Scale / StarReLU their construction values; RandFormer
    matrices row-softmax of U[0,1); ViT cls_token ~ N(0, 1e-6), pos_embed trunc-normal(.02).
    Uses the global torch RNG (seed it for determinism). Raises if a parameter is left out, so it
    can initialise a model materialised with ``to_empty``."""
    done = set()
    if isinstance(model, VisionTransformer):
        _trunc_normal_(model.pos_embed)
        nn.init.normal_(model.cls_token, std=1e-6)
        done.update((id(model.pos_embed), id(model.cls_token)))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            _trunc_normal_(m.weight)
        elif isinstance(m, (nn.GroupNorm, nn.LayerNorm)):
            m.weight.fill_(1.0)
        elif isinstance(m, Scale):
            m.scale.fill_(m.init_value)
        elif isinstance(m, StarReLU):
            m.scale.fill_(m.init_values[0])
            m.bias.fill_(m.init_values[1])
            done.add(id(m.bias))
        elif isinstance(m, RandomMixing):
            n = m.random_matrix.shape[0]
            m.random_matrix.copy_(torch.softmax(torch.rand(n, n), dim=-1))
        else:
            continue
        for name, p in m.named_parameters(recurse=False):
            if name == "bias" and not isinstance(m, StarReLU):
                p.zero_()
            done.add(id(p))
    left = [n for n, p in model.named_parameters() if id(p) not in done]
    if left:
        raise RuntimeError(f"init_weights left parameters uninitialised: {left[:5]}")


def defaults(name: str) -> Tuple[Tuple[int, int, int], int]:
    """(default input size (C, H, W), default number of classes) of template ``name``, as
    Formwork's: 3x224x224 / 1000 for timm's templates, 1x32x32 / 1x64x64 and 10 for its own."""
    if name in TEMPLATE_SPECS:
        spec = TEMPLATE_SPECS[name]
        return tuple(spec["default_input"]), spec["default_classes"]
    if name in VIT_SPECS:
        return VIT_DEFAULTS
    raise KeyError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")


def total_stride(name: str) -> int:
    """What H and W must be multiples of: the stem stride times 2 per downsampling for a MetaFormer
    (32 for timm's, 8 for formwork_fm32, 16 for caformer_mini64, as core/templates.cpp); 32 for
    the ViT (Formwork accepts multiples of its patch size, 16)."""
    if name in TEMPLATE_SPECS:
        spec = TEMPLATE_SPECS[name]
        return spec["stem"][1] * 2 ** (len(spec["dims"]) - 1)
    return 32


def build(name: str, num_classes: Optional[int] = None, input_size: Optional[Sequence[int]] = None,
          device=None, init: bool = True) -> nn.Module:
    """Builds template ``name`` for ``input_size`` = (C, H, W) with H, W multiples of the
    template's total stride (``total_stride``: 32, or 8 / 16 for formwork_fm32 / caformer_mini64).
    Unset ``num_classes`` / ``input_size`` take the template's defaults (``defaults``).

    Returns the model in eval mode. ``device="meta"`` builds shapes only (no init). RandFormer's
    mixing matrices and ViT's position embedding are sized for ``input_size``.
    """
    default_input, default_classes = defaults(name)
    num_classes = default_classes if num_classes is None else num_classes
    c, h, w = (int(v) for v in (default_input if input_size is None else input_size))
    stride = total_stride(name)
    if h % stride or w % stride or h <= 0 or w <= 0:
        raise ValueError(f"input size {c}x{h}x{w}: H and W must be positive multiples of {stride}")
    is_meta = device is not None and torch.device(device).type == "meta"
    # Real models are built on the meta device, materialised uninitialised and then given every
    # value by init_weights (skips PyTorch's default init, which would be overwritten anyway).
    build_device = "meta" if (is_meta or init) else device
    if name in TEMPLATE_SPECS:
        model = MetaFormer(TEMPLATE_SPECS[name], num_classes, c, (h, w), device=build_device)
    else:
        model = VisionTransformer(**VIT_SPECS[name], num_classes=num_classes, in_chans=c,
                                  img_size=(h, w), device=build_device)
    if init and not is_meta:
        model = model.to_empty(device=device if device is not None else "cpu")
        init_weights(model)
    model.template_name = name
    model.input_size = (c, h, w)
    return model.eval()


def count_params(model: nn.Module) -> Tuple[int, int]:
    """(total, fixed): all parameters, and those with requires_grad False (RandFormer's matrices)."""
    total = sum(p.numel() for p in model.parameters())
    fixed = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return total, fixed
