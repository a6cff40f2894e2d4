"""Building blocks of the reference models, with timm's module names and parameter layouts.

Every class here mirrors the module of the same role in timm's ``metaformer.py`` /
``vision_transformer.py`` (attribute names, registration order, parameter shapes), so that a
``state_dict`` of a model built from them has exactly timm's keys. The code is our own.

All constructors take ``device`` so that a model can be built on the ``meta`` device (shapes only,
no memory), which is how parameter counts and MACs are computed quickly.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "Scale", "SquaredReLU", "StarReLU", "GroupNorm1", "LayerNorm2d", "LayerNorm", "Mlp",
    "Pooling", "SepConv", "MetaAttention", "RandomMixing", "MlpHead", "Stem", "Downsampling",
    "MetaFormerBlock", "MetaFormerStage", "PatchEmbed", "VitAttention", "VitBlock",
    "ACTIVATION_TYPES",
]


# ---------------------------------------------------------------------------------------------
# Elementwise pieces
# ---------------------------------------------------------------------------------------------
class Scale(nn.Module):
    """``x * scale``; ``scale`` is ``[dim]``, broadcast over dim 1 (NCHW) or the last dim (tokens)."""

    def __init__(self, dim: int, init_value: float = 1.0, use_nchw: bool = True, device=None):
        super().__init__()
        self.shape = (dim, 1, 1) if use_nchw else (dim,)
        self.init_value = float(init_value)
        self.scale = nn.Parameter(torch.full((dim,), float(init_value), device=device))

    def forward(self, x):
        return x * self.scale.view(self.shape)


class SquaredReLU(nn.Module):
    """``relu(x) ** 2``. Holds an ``nn.ReLU`` child named ``relu`` as timm does (no parameters)."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()

    def forward(self, x):
        return torch.square(self.relu(x))


class StarReLU(nn.Module):
    """``scale * relu(x) ** 2 + bias`` with one-element parameters ``scale`` (1.0) and ``bias`` (0.0)."""

    def __init__(self, scale_value: float = 1.0, bias_value: float = 0.0, device=None):
        super().__init__()
        self.relu = nn.ReLU()
        self.init_values = (float(scale_value), float(bias_value))
        self.scale = nn.Parameter(torch.full((1,), float(scale_value), device=device))
        self.bias = nn.Parameter(torch.full((1,), float(bias_value), device=device))

    def forward(self, x):
        return self.scale * self.relu(x) ** 2 + self.bias


# The activation modules whose *input* NASWOT reads (the ReLU inside StarReLU / SquaredReLU is an
# implementation detail and not counted separately).
ACTIVATION_TYPES = (nn.GELU, nn.ReLU, StarReLU, SquaredReLU)


# ---------------------------------------------------------------------------------------------
# Norms (timm: GroupNorm1 / GroupNorm1NoBias, LayerNorm2d / LayerNorm2dNoBias, LayerNorm / NoBias)
# ---------------------------------------------------------------------------------------------
class GroupNorm1(nn.GroupNorm):
    """GroupNorm with one group: normalises each sample over (C, H, W) jointly, per-channel affine.

    ``bias=False`` gives timm's ``GroupNorm1NoBias`` (no ``bias`` entry in the state dict).
    timm: GroupNorm1 eps 1e-5 (poolformer v1); GroupNorm1NoBias eps 1e-6 (poolformer v2).
    """

    def __init__(self, num_channels: int, eps: float = 1e-5, bias: bool = True, device=None):
        super().__init__(1, num_channels, eps=eps, affine=True, device=device)
        if not bias:
            self.bias = None  # unregisters the parameter, like timm's *NoBias classes

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over channels of an NCHW tensor (every pixel normalised over C). eps 1e-6."""

    def __init__(self, num_channels: int, eps: float = 1e-6, bias: bool = True, device=None):
        super().__init__(num_channels, eps=eps, elementwise_affine=True, device=device)
        if not bias:
            self.bias = None

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class LayerNorm(nn.LayerNorm):
    """LayerNorm over the last dim. eps 1e-6 (timm.layers.LayerNorm default)."""

    def __init__(self, num_channels: int, eps: float = 1e-6, bias: bool = True, device=None):
        super().__init__(num_channels, eps=eps, elementwise_affine=True, device=device)
        if not bias:
            self.bias = None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


# ---------------------------------------------------------------------------------------------
# MLPs and token mixers
# ---------------------------------------------------------------------------------------------
class Mlp(nn.Module):
    """timm.layers.Mlp: fc1 → act → drop1 → norm(Identity) → fc2 → drop2.

    ``use_conv=True`` makes fc1/fc2 1x1 ``Conv2d`` (weights ``[out, in, 1, 1]``), as timm's MetaFormer
    does in NCHW stages; otherwise ``Linear`` (token stages, ViT).
    """

    def __init__(self, in_features: int, hidden_features: int, act_layer: Callable[[], nn.Module],
                 bias: bool = True, use_conv: bool = False, device=None):
        super().__init__()
        if use_conv:
            self.fc1 = nn.Conv2d(in_features, hidden_features, 1, bias=bias, device=device)
        else:
            self.fc1 = nn.Linear(in_features, hidden_features, bias=bias, device=device)
        self.act = act_layer()
        self.drop1 = nn.Dropout(0.0)
        self.norm = nn.Identity()
        if use_conv:
            self.fc2 = nn.Conv2d(hidden_features, in_features, 1, bias=bias, device=device)
        else:
            self.fc2 = nn.Linear(hidden_features, in_features, bias=bias, device=device)
        self.drop2 = nn.Dropout(0.0)

    def forward(self, x):
        x = self.fc1(x)
        x = self.act(x)
        x = self.drop1(x)
        x = self.norm(x)
        x = self.fc2(x)
        return self.drop2(x)


class Pooling(nn.Module):
    """PoolFormer mixer: ``avg_pool(x, 3, stride 1, pad 1, count_include_pad=False) - x``."""

    def __init__(self, pool_size: int = 3, **_):
        super().__init__()
        self.pool = nn.AvgPool2d(pool_size, stride=1, padding=pool_size // 2, count_include_pad=False)

    def forward(self, x):
        return self.pool(x) - x


class SepConv(nn.Module):
    """ConvFormer mixer (MobileNetV2 inverted separable conv), NCHW:
    pwconv1 (1x1 conv, C→2C, no bias) → act1 StarReLU → dwconv (7x7 depthwise, pad 3, no bias;
    Formwork's own templates: k x k, pad k // 2) → act2 Identity → pwconv2 (1x1 conv, 2C→C, no bias)."""

    def __init__(self, dim: int, expansion_ratio: float = 2, kernel_size: int = 7, padding: int = 3,
                 device=None, **_):
        super().__init__()
        mid = int(expansion_ratio * dim)
        self.pwconv1 = nn.Conv2d(dim, mid, 1, bias=False, device=device)
        self.act1 = StarReLU(device=device)
        self.dwconv = nn.Conv2d(mid, mid, kernel_size, padding=padding, groups=mid, bias=False,
                                device=device)
        self.act2 = nn.Identity()
        self.pwconv2 = nn.Conv2d(mid, dim, 1, bias=False, device=device)

    def forward(self, x):
        x = self.pwconv1(x)
        x = self.act1(x)
        x = self.dwconv(x)
        x = self.act2(x)
        return self.pwconv2(x)


def _attention_core(module: nn.Module, qkv: torch.Tensor, B: int, N: int, heads: int, head_dim: int):
    """Shared eager attention: returns ``[B, N, heads*head_dim]``; stores/forwards the probabilities
    ``[B, heads, N, N]`` when ``module.attn_probs_hook`` is set (used by ``fwref.views``)."""
    q, k, v = qkv.reshape(B, N, 3, heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    attn = (q @ k.transpose(-2, -1)) * (head_dim ** -0.5)
    attn = attn.softmax(dim=-1)
    hook = getattr(module, "attn_probs_hook", None)
    if hook is not None:
        hook(module, attn)
    x = attn @ v
    return x.transpose(1, 2).reshape(B, N, heads * head_dim)


class MetaAttention(nn.Module):
    """CAFormer attention (timm metaformer.Attention): head_dim 32, heads = dim // 32,
    qkv Linear(dim, 3*heads*32, no bias), proj Linear(heads*32, dim, no bias). Tokens [B, N, C]."""

    def __init__(self, dim: int, head_dim: int = 32, device=None, **_):
        super().__init__()
        self.head_dim = head_dim
        self.scale = head_dim ** -0.5
        self.num_heads = max(dim // head_dim, 1)
        self.attention_dim = self.num_heads * head_dim
        self.qkv = nn.Linear(dim, self.attention_dim * 3, bias=False, device=device)
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(self.attention_dim, dim, bias=False, device=device)
        self.proj_drop = nn.Dropout(0.0)
        self.attn_probs_hook = None

    def forward(self, x):
        B, N, _ = x.shape
        x = _attention_core(self, self.qkv(x), B, N, self.num_heads, self.head_dim)
        return self.proj_drop(self.proj(x))


class RandomMixing(nn.Module):
    """RandFormer mixer (sail-sg semantics, NCHW): ``out[b,c,m] = Σ_n R[m,n] x[b,c,n]`` with the
    N = H·W tokens in row-major order; ``random_matrix`` R ``[N, N]`` = row-softmax of U[0,1), a
    Parameter with ``requires_grad=False``, sized when the model is built."""

    def __init__(self, num_tokens: int, device=None, **_):
        super().__init__()
        if device is not None and torch.device(device).type == "meta":
            data = torch.empty(num_tokens, num_tokens, device=device)
        else:
            data = torch.softmax(torch.rand(num_tokens, num_tokens), dim=-1).to(device)
        self.random_matrix = nn.Parameter(data, requires_grad=False)

    def forward(self, x):
        B, C, H, W = x.shape
        n = self.random_matrix.shape[0]
        if H * W != n:
            raise ValueError(f"RandomMixing built for {n} tokens got a {H}x{W} grid "
                             f"({H * W} tokens): RandFormer runs at its build input size only")
        y = torch.einsum("mn,bcn->bcm", self.random_matrix, x.reshape(B, C, H * W))
        return y.reshape(B, C, H, W)


class MlpHead(nn.Module):
    """ConvFormer/CAFormer head.fc: fc1 (C→4C) → SquaredReLU → LayerNorm(4C, eps 1e-6, bias)
    → head_drop → fc2 (4C→classes); all Linear with bias."""

    def __init__(self, dim: int, num_classes: int, mlp_ratio: float = 4, device=None):
        super().__init__()
        hidden = int(mlp_ratio * dim)
        self.fc1 = nn.Linear(dim, hidden, device=device)
        self.act = SquaredReLU()
        self.norm = LayerNorm(hidden, eps=1e-6, device=device)
        self.fc2 = nn.Linear(hidden, num_classes, device=device)
        self.head_drop = nn.Dropout(0.0)

    def forward(self, x):
        x = self.fc1(x)
        x = self.act(x)
        x = self.norm(x)
        x = self.head_drop(x)
        return self.fc2(x)


# ---------------------------------------------------------------------------------------------
# MetaFormer skeleton
# ---------------------------------------------------------------------------------------------
class Stem(nn.Module):
    """conv 7x7 stride 4 pad 2 (with bias; formwork_fm32: 4x4 stride 4 pad 0), then ``norm``
    (Identity for poolformer v1)."""

    def __init__(self, in_chs: int, out_chs: int, norm_layer=None, kernel_size: int = 7,
                 stride: int = 4, padding: int = 2, device=None):
        super().__init__()
        self.conv = nn.Conv2d(in_chs, out_chs, kernel_size, stride=stride, padding=padding,
                              device=device)
        self.norm = norm_layer(out_chs) if norm_layer else nn.Identity()

    def forward(self, x):
        return self.norm(self.conv(x))


class Downsampling(nn.Module):
    """``norm`` (pre-norm, Identity for poolformer v1) then conv 3x3 stride 2 pad 1 with bias."""

    def __init__(self, in_chs: int, out_chs: int, norm_layer=None, device=None):
        super().__init__()
        self.norm = norm_layer(in_chs) if norm_layer else nn.Identity()
        self.conv = nn.Conv2d(in_chs, out_chs, 3, stride=2, padding=1, device=device)

    def forward(self, x):
        return self.conv(self.norm(x))


class MetaFormerBlock(nn.Module):
    """x = res_scale1(x) + layer_scale1(token_mixer(norm1(x)));
    x = res_scale2(x) + layer_scale2(mlp(norm2(x))). Missing scales are Identity.
    MLP hidden width int(mlp_ratio·dim) (timm: 4; Formwork's own templates: 2)."""

    def __init__(self, dim: int, token_mixer: Callable[..., nn.Module], mlp_act: Callable[[], nn.Module],
                 mlp_bias: bool, norm_layer: Callable[[int], nn.Module], use_nchw: bool,
                 layer_scale_init_value: Optional[float], res_scale_init_value: Optional[float],
                 mlp_ratio: float = 4.0, device=None):
        super().__init__()
        def ls():
            return (Scale(dim, layer_scale_init_value, use_nchw, device=device)
                    if layer_scale_init_value is not None else nn.Identity())
        def rs():
            return (Scale(dim, res_scale_init_value, use_nchw, device=device)
                    if res_scale_init_value is not None else nn.Identity())
        self.norm1 = norm_layer(dim)
        self.token_mixer = token_mixer(dim=dim, device=device)
        self.drop_path1 = nn.Identity()
        self.layer_scale1 = ls()
        self.res_scale1 = rs()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(mlp_ratio * dim), act_layer=mlp_act, bias=mlp_bias, use_conv=use_nchw,
                       device=device)
        self.drop_path2 = nn.Identity()
        self.layer_scale2 = ls()
        self.res_scale2 = rs()

    def forward(self, x):
        x = self.res_scale1(x) + self.layer_scale1(self.drop_path1(self.token_mixer(self.norm1(x))))
        x = self.res_scale2(x) + self.layer_scale2(self.drop_path2(self.mlp(self.norm2(x))))
        return x


class MetaFormerStage(nn.Module):
    """downsample (Identity for stage 0: the stem did it) → blocks. Attention stages convert
    NCHW → tokens [B, H·W, C] after the downsample and back to NCHW after the last block."""

    def __init__(self, in_chs: int, out_chs: int, depth: int, token_mixer, mlp_act, mlp_bias: bool,
                 downsample_norm, norm_layer, layer_scale_init_value, res_scale_init_value,
                 use_nchw: bool = True, mlp_ratio: float = 4.0, device=None):
        super().__init__()
        self.use_nchw = use_nchw
        self.downsample = (nn.Identity() if in_chs == out_chs else
                           Downsampling(in_chs, out_chs, norm_layer=downsample_norm, device=device))
        self.blocks = nn.Sequential(*[
            MetaFormerBlock(out_chs, token_mixer, mlp_act, mlp_bias, norm_layer, use_nchw,
                            layer_scale_init_value, res_scale_init_value, mlp_ratio, device=device)
            for _ in range(depth)])

    def forward(self, x):
        x = self.downsample(x)
        B, C, H, W = x.shape
        if not self.use_nchw:
            x = x.reshape(B, C, H * W).transpose(1, 2)
        x = self.blocks(x)
        if not self.use_nchw:
            x = x.transpose(1, 2).reshape(B, C, H, W)
        return x


# ---------------------------------------------------------------------------------------------
# ViT pieces
# ---------------------------------------------------------------------------------------------
class PatchEmbed(nn.Module):
    """proj: Conv2d(in, dim, k=patch, stride=patch, bias) → flatten to tokens [B, N, dim]; norm Identity."""

    def __init__(self, img_size: Tuple[int, int], patch_size: int, in_chans: int, embed_dim: int,
                 device=None):
        super().__init__()
        self.grid_size = (img_size[0] // patch_size, img_size[1] // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size, device=device)
        self.norm = nn.Identity()

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        return self.norm(x)


class VitAttention(nn.Module):
    """timm.layers.Attention: qkv Linear(dim, 3·dim, bias) → softmax(q·kᵀ·d^-0.5) v → proj Linear(dim, dim)."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, device=None):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias, device=device)
        self.q_norm = nn.Identity()
        self.k_norm = nn.Identity()
        self.attn_drop = nn.Dropout(0.0)
        self.norm = nn.Identity()
        self.proj = nn.Linear(dim, dim, device=device)
        self.proj_drop = nn.Dropout(0.0)
        self.attn_probs_hook = None

    def forward(self, x):
        B, N, _ = x.shape
        x = _attention_core(self, self.qkv(x), B, N, self.num_heads, self.head_dim)
        x = self.norm(x)
        return self.proj_drop(self.proj(x))


class VitBlock(nn.Module):
    """x = x + attn(norm1(x)); x = x + mlp(norm2(x)); LayerNorm eps 1e-6, GELU (erf) MLP ratio 4."""

    def __init__(self, dim: int, num_heads: int, device=None):
        super().__init__()
        self.norm1 = LayerNorm(dim, eps=1e-6, device=device)
        self.attn = VitAttention(dim, num_heads, device=device)
        self.ls1 = nn.Identity()
        self.drop_path1 = nn.Identity()
        self.norm2 = LayerNorm(dim, eps=1e-6, device=device)
        self.mlp = Mlp(dim, 4 * dim, act_layer=nn.GELU, bias=True, use_conv=False, device=device)
        self.ls2 = nn.Identity()
        self.drop_path2 = nn.Identity()

    def forward(self, x):
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        x = x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))
        return x
