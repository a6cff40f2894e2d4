#!/usr/bin/python3
"""The PyTorch reference models (fwref) are right: exact parameter counts (total and fixed) and
MACs at each template's default size equal docs TEMPLATES.md (3x224x224 / 1000 classes) for timm's
templates and the hand counts of README's figures (1x32x32 / 1x64x64, 10 classes) for Formwork's
own formwork_fm32 / caformer_mini64; timm's names and shapes at spots that are easy to get wrong;
layer semantics against independent formulas (including sail-sg's channels-last forms); and a
forward at 3x64x64 / 10 classes (Formwork's own: their default 1x32x32 / 1x64x64) runs, is
finite and batch-independent."""
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import fwref  # noqa: E402
from fwref import layers as L  # noqa: E402

check = fwtest.Checker("reference models")

# ---- 1. sizes at the default input and classes ---------------------------------------------
print("sizes at the default size (3x224x224 / 1000 classes; Formwork's own 1x32x32 / 1x64x64 / 10)")
for name in fwref.TEMPLATES:
    m = fwref.build(name, device="meta")
    total, fixed = fwref.count_params(m)
    want_total, want_fixed, want_macs = fwref.REFERENCE_SIZES[name]
    check.equal(f"{name} default input", m.input_size,
                tuple(fwref.defaults(name)[0]) if name in fwref.OWN_TEMPLATES else (3, 224, 224))
    check.equal(f"{name} params", total, want_total)
    check.equal(f"{name} fixed params", fixed, want_fixed)
    check.equal(f"{name} MACs", fwref.macs(m, m.input_size), want_macs)
check.equal("formwork_fm32 defaults", fwref.defaults("formwork_fm32"), ((1, 32, 32), 10))
check.equal("caformer_mini64 defaults", fwref.defaults("caformer_mini64"), ((1, 64, 64), 10))

# ---- 2. names and shapes that are easy to get wrong ----------------------------------------
print("timm names and shapes")


def shapes(name, **kw):
    m = fwref.build(name, device="meta", **kw)
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}, m


def expect(sd, name, key, shape):
    check.equal(f"{name}: {key}", sd.get(key, "absent"), shape if shape is not None else "absent")


sd, _ = shapes("poolformer_s12")
expect(sd, "poolformer_s12", "stem.conv.weight", (64, 3, 7, 7))
expect(sd, "poolformer_s12", "stem.norm.weight", None)
expect(sd, "poolformer_s12", "stages.0.blocks.0.norm1.bias", (64,))
expect(sd, "poolformer_s12", "stages.0.blocks.0.mlp.fc1.weight", (256, 64, 1, 1))
expect(sd, "poolformer_s12", "stages.0.blocks.0.mlp.fc1.bias", (256,))
expect(sd, "poolformer_s12", "stages.0.blocks.0.layer_scale1.scale", (64,))
expect(sd, "poolformer_s12", "stages.0.blocks.0.res_scale1.scale", None)
expect(sd, "poolformer_s12", "stages.1.downsample.conv.weight", (128, 64, 3, 3))
expect(sd, "poolformer_s12", "stages.1.downsample.norm.weight", None)
expect(sd, "poolformer_s12", "head.norm.bias", (512,))
expect(sd, "poolformer_s12", "head.fc.weight", (1000, 512))
check.equal("poolformer_s12 key count", len(sd), 2 + 12 * 10 + 3 * 2 + 2 + 2)

sd, _ = shapes("poolformerv2_s12")
expect(sd, "poolformerv2_s12", "stem.norm.weight", (64,))
expect(sd, "poolformerv2_s12", "stem.norm.bias", None)
expect(sd, "poolformerv2_s12", "stages.1.downsample.norm.weight", (64,))
expect(sd, "poolformerv2_s12", "stages.0.blocks.0.norm1.bias", None)
expect(sd, "poolformerv2_s12", "stages.0.blocks.0.mlp.fc1.bias", None)
expect(sd, "poolformerv2_s12", "stages.0.blocks.0.mlp.act.scale", (1,))
expect(sd, "poolformerv2_s12", "stages.0.blocks.0.mlp.act.bias", (1,))
expect(sd, "poolformerv2_s12", "stages.0.blocks.0.res_scale1.scale", None)
expect(sd, "poolformerv2_s12", "stages.2.blocks.0.res_scale1.scale", (320,))
expect(sd, "poolformerv2_s12", "stages.3.blocks.1.res_scale2.scale", (512,))
expect(sd, "poolformerv2_s12", "head.fc.weight", (1000, 512))

sd, _ = shapes("convformer_s18")
expect(sd, "convformer_s18", "stages.0.blocks.0.token_mixer.pwconv1.weight", (128, 64, 1, 1))
expect(sd, "convformer_s18", "stages.0.blocks.0.token_mixer.dwconv.weight", (128, 1, 7, 7))
expect(sd, "convformer_s18", "stages.0.blocks.0.token_mixer.act1.scale", (1,))
expect(sd, "convformer_s18", "stages.0.blocks.0.token_mixer.pwconv2.weight", (64, 128, 1, 1))
expect(sd, "convformer_s18", "head.fc.fc1.weight", (2048, 512))
expect(sd, "convformer_s18", "head.fc.norm.bias", (2048,))
expect(sd, "convformer_s18", "head.fc.fc2.bias", (1000,))

sd, _ = shapes("caformer_s18", num_classes=10, input_size=(3, 64, 64))
expect(sd, "caformer_s18", "stages.2.blocks.0.norm1.weight", (320,))
expect(sd, "caformer_s18", "stages.2.blocks.0.norm1.bias", None)
expect(sd, "caformer_s18", "stages.2.blocks.0.token_mixer.qkv.weight", (960, 320))
expect(sd, "caformer_s18", "stages.2.blocks.0.token_mixer.qkv.bias", None)
expect(sd, "caformer_s18", "stages.2.blocks.0.token_mixer.proj.weight", (320, 320))
expect(sd, "caformer_s18", "stages.2.blocks.0.mlp.fc1.weight", (1280, 320))
expect(sd, "caformer_s18", "stages.3.blocks.2.mlp.fc2.weight", (512, 2048))
expect(sd, "caformer_s18", "head.fc.fc2.weight", (10, 2048))

sd, m = shapes("randformer_s12")
expect(sd, "randformer_s12", "stages.2.blocks.5.token_mixer.random_matrix", (196, 196))
expect(sd, "randformer_s12", "stages.3.blocks.1.token_mixer.random_matrix", (49, 49))
check.equal("randformer random_matrix requires_grad",
            m.stages[2].blocks[0].token_mixer.random_matrix.requires_grad, False)
sd, _ = shapes("randformer_s12", num_classes=10, input_size=(3, 64, 64))
expect(sd, "randformer_s12@64", "stages.2.blocks.0.token_mixer.random_matrix", (16, 16))
expect(sd, "randformer_s12@64", "stages.3.blocks.0.token_mixer.random_matrix", (4, 4))
check.equal("randformer_s12@64 params", fwref.count_params(fwref.build(
    "randformer_s12", 10, (3, 64, 64), device="meta")), (11891712 - 513 * 990 + 6 * 256 + 2 * 16,
                                                         6 * 256 + 2 * 16))

# Formwork's own (core/templates.cpp): v2 family with fewer, narrower stages.
sd, m = shapes("formwork_fm32")
expect(sd, "formwork_fm32", "stem.conv.weight", (48, 1, 4, 4))  # 4x4 patches, stride 4, no padding
expect(sd, "formwork_fm32", "stem.conv.bias", (48,))
expect(sd, "formwork_fm32", "stem.norm.weight", (48,))
expect(sd, "formwork_fm32", "stem.norm.bias", None)
expect(sd, "formwork_fm32", "stages.0.downsample.conv.weight", None)
expect(sd, "formwork_fm32", "stages.0.blocks.0.norm1.bias", None)
expect(sd, "formwork_fm32", "stages.0.blocks.0.token_mixer.pwconv1.weight", (96, 48, 1, 1))
expect(sd, "formwork_fm32", "stages.0.blocks.0.token_mixer.dwconv.weight", (96, 1, 3, 3))
expect(sd, "formwork_fm32", "stages.0.blocks.1.mlp.fc1.weight", (96, 48, 1, 1))  # MLP ratio 2
expect(sd, "formwork_fm32", "stages.0.blocks.1.mlp.fc1.bias", None)
expect(sd, "formwork_fm32", "stages.0.blocks.0.res_scale1.scale", None)
expect(sd, "formwork_fm32", "stages.0.blocks.0.layer_scale1.scale", None)
expect(sd, "formwork_fm32", "stages.1.downsample.norm.weight", (48,))
expect(sd, "formwork_fm32", "stages.1.downsample.conv.weight", (96, 48, 3, 3))
expect(sd, "formwork_fm32", "stages.1.blocks.0.token_mixer.qkv.weight", (288, 96))  # 3 heads of 32
expect(sd, "formwork_fm32", "stages.1.blocks.1.token_mixer.proj.weight", (96, 96))
expect(sd, "formwork_fm32", "stages.1.blocks.1.mlp.fc2.weight", (96, 192))
expect(sd, "formwork_fm32", "stages.1.blocks.0.res_scale1.scale", (96,))
expect(sd, "formwork_fm32", "stages.1.blocks.1.res_scale2.scale", (96,))
expect(sd, "formwork_fm32", "stages.2.blocks.0.norm1.weight", None)
expect(sd, "formwork_fm32", "head.norm.bias", (96,))
expect(sd, "formwork_fm32", "head.fc.weight", (10, 96))  # linear head
expect(sd, "formwork_fm32", "head.fc.fc1.weight", None)
# stem 3; sep-conv blocks 11 keys each; downsample 3; attention blocks 10 (with res scales); head 4
check.equal("formwork_fm32 key count", len(sd), 3 + 2 * 11 + 3 + 2 * 10 + 4)
check.equal("formwork_fm32 attention heads", m.stages[1].blocks[0].token_mixer.num_heads, 3)
check.equal("formwork_fm32 total stride", fwref.total_stride("formwork_fm32"), 8)

sd, m = shapes("caformer_mini64")
expect(sd, "caformer_mini64", "stem.conv.weight", (32, 1, 7, 7))
expect(sd, "caformer_mini64", "stem.norm.weight", (32,))
expect(sd, "caformer_mini64", "stages.0.blocks.0.token_mixer.dwconv.weight", (64, 1, 5, 5))
expect(sd, "caformer_mini64", "stages.0.blocks.1.norm1.weight", None)  # depth 1
expect(sd, "caformer_mini64", "stages.0.blocks.0.res_scale1.scale", None)
expect(sd, "caformer_mini64", "stages.1.downsample.conv.weight", (64, 32, 3, 3))
expect(sd, "caformer_mini64", "stages.1.blocks.1.token_mixer.dwconv.weight", (128, 1, 5, 5))
expect(sd, "caformer_mini64", "stages.1.blocks.0.res_scale1.scale", (64,))
expect(sd, "caformer_mini64", "stages.1.blocks.0.mlp.fc1.weight", (128, 64, 1, 1))
expect(sd, "caformer_mini64", "stages.2.blocks.0.norm1.weight", (128,))
expect(sd, "caformer_mini64", "stages.2.blocks.0.norm1.bias", None)
expect(sd, "caformer_mini64", "stages.2.blocks.0.token_mixer.qkv.weight", (384, 128))
expect(sd, "caformer_mini64", "stages.2.blocks.1.mlp.fc1.weight", (256, 128))
expect(sd, "caformer_mini64", "stages.2.blocks.1.res_scale2.scale", (128,))
expect(sd, "caformer_mini64", "stages.3.downsample.conv.weight", None)
expect(sd, "caformer_mini64", "head.fc.weight", (10, 128))
# stem 3; stage 0: 11; stage 1: downsample 3 + 13 per block (res scales); stage 2: 3 + 10 per
# block; head 4
check.equal("caformer_mini64 key count", len(sd), 3 + 11 + (3 + 2 * 13) + (3 + 2 * 10) + 4)
check.equal("caformer_mini64 attention heads", m.stages[2].blocks[0].token_mixer.num_heads, 4)
check.equal("caformer_mini64 total stride", fwref.total_stride("caformer_mini64"), 16)

sd, _ = shapes("vit_tiny_patch16_224")
expect(sd, "vit", "cls_token", (1, 1, 192))
expect(sd, "vit", "pos_embed", (1, 197, 192))
expect(sd, "vit", "patch_embed.proj.weight", (192, 3, 16, 16))
expect(sd, "vit", "blocks.0.attn.qkv.bias", (576,))
expect(sd, "vit", "blocks.11.mlp.fc2.weight", (192, 768))
expect(sd, "vit", "norm.bias", (192,))
expect(sd, "vit", "head.weight", (1000, 192))
check.equal("vit first keys", list(sd)[:3], ["cls_token", "pos_embed", "patch_embed.proj.weight"])
sd, _ = shapes("vit_tiny_patch16_224", num_classes=10, input_size=(3, 64, 64))
expect(sd, "vit@64", "pos_embed", (1, 17, 192))

# ---- 3. layer semantics against independent formulas ---------------------------------------
print("layer semantics")
g = torch.Generator().manual_seed(0)
x = torch.randn(2, 8, 5, 6, generator=g, dtype=torch.float64) * 3 + 1
w = torch.rand(8, generator=g, dtype=torch.float64) + 0.5
b = torch.randn(8, generator=g, dtype=torch.float64)
nhwc = x.permute(0, 2, 3, 1)


def layer_norm_general(t, dims, eps, weight, bias=None):  # sail-sg LayerNormGeneral, channels last
    c = t - t.mean(dims, keepdim=True)
    s = c.pow(2).mean(dims, keepdim=True)
    t = c / torch.sqrt(s + eps) * weight
    return t + bias if bias is not None else t


gn = L.GroupNorm1(8, eps=1e-6, bias=False).double()
with torch.no_grad():
    gn.weight.copy_(w)
check.close("GroupNorm1NoBias == sail-sg LayerNormGeneral((1,2,3))", gn(x),
            layer_norm_general(nhwc, (1, 2, 3), 1e-6, w).permute(0, 3, 1, 2), 1e-12, 1e-12)
gnb = L.GroupNorm1(8, eps=1e-5, bias=True).double()
with torch.no_grad():
    gnb.weight.copy_(w)
    gnb.bias.copy_(b)
check.close("GroupNorm1 (v1, eps 1e-5, bias)", gnb(x),
            layer_norm_general(nhwc, (1, 2, 3), 1e-5, w, b).permute(0, 3, 1, 2), 1e-12, 1e-12)
ln2d = L.LayerNorm2d(8, bias=False).double()
with torch.no_grad():
    ln2d.weight.copy_(w)
check.close("LayerNorm2dNoBias == sail-sg LayerNormGeneral(-1)", ln2d(x),
            layer_norm_general(nhwc, (-1,), 1e-6, w).permute(0, 3, 1, 2), 1e-12, 1e-12)
check.ok("GroupNorm1 differs from LayerNorm2d (they are not interchangeable)",
         float((gn(x) - ln2d(x)).abs().max()) > 1e-3)

# avg pool 3x3 stride 1 pad 1 without counting the padding, minus x
ones = torch.ones(1, 1, 5, 6, dtype=torch.float64)
box = torch.ones(8, 1, 3, 3, dtype=torch.float64)
sums = F.conv2d(x, box, padding=1, groups=8)
counts = F.conv2d(ones, box[:1], padding=1)
check.close("Pooling == avg(count_include_pad=False) - x", L.Pooling()(x), sums / counts - x, 1e-12, 1e-12)
check.equal("Pooling corner count", float(counts[0, 0, 0, 0]), 4.0)

star = L.StarReLU(scale_value=0.8, bias_value=-0.1).double()  # 0.8 and -0.1 rounded to float32
check.close("StarReLU", star(x), float(star.scale) * torch.clamp(x, min=0) ** 2 + float(star.bias),
            1e-12, 1e-12)
check.close("SquaredReLU", L.SquaredReLU()(x), torch.clamp(x, min=0) ** 2, 1e-12, 1e-12)
check.ok("GELU is the erf form", isinstance(fwref.build("poolformer_s12", device="meta")
                                           .stages[0].blocks[0].mlp.act, torch.nn.GELU)
         and fwref.build("poolformer_s12", device="meta").stages[0].blocks[0].mlp.act.approximate == "none")

rm = L.RandomMixing(30).double()
sail = torch.einsum("mn,bnc->bmc", rm.random_matrix, nhwc.reshape(2, 30, 8)).reshape(2, 5, 6, 8)
check.close("RandomMixing == sail-sg NHWC einsum", rm(x), sail.permute(0, 3, 1, 2), 1e-12, 1e-12)
check.close("random_matrix rows sum to 1", rm.random_matrix.sum(1), torch.ones(30, dtype=torch.float64),
            1e-6, 0)

att = L.MetaAttention(64).double()
t = torch.randn(2, 7, 64, generator=g, dtype=torch.float64)
with torch.no_grad():
    qkv = att.qkv(t)
    outs = []
    for h in range(att.num_heads):  # per head, explicit
        q = qkv[..., h * 32:(h + 1) * 32]
        k = qkv[..., 64 + h * 32:64 + (h + 1) * 32]
        v = qkv[..., 128 + h * 32:128 + (h + 1) * 32]
        a = torch.softmax(q @ k.transpose(1, 2) / np.sqrt(32), -1)
        outs.append(a @ v)
    want = att.proj(torch.cat(outs, -1))
    check.close("MetaAttention (2 heads of 32)", att(t), want, 1e-12, 1e-12)
va = L.VitAttention(192, 3).double()
tv = torch.randn(1, 5, 192, generator=g, dtype=torch.float64)
with torch.no_grad():
    mha = F.multi_head_attention_forward(
        tv.transpose(0, 1), tv.transpose(0, 1), tv.transpose(0, 1), 192, 3, va.qkv.weight, va.qkv.bias,
        None, None, False, 0.0, va.proj.weight, va.proj.bias, training=False, need_weights=False)[0]
    check.close("VitAttention == torch multi_head_attention_forward", va(tv), mha.transpose(0, 1),
                1e-12, 1e-12)

# ---- 4. forward at 3x64x64 / 10 classes ----------------------------------------------------
print("forward at 3x64x64, 10 classes (Formwork's own: their default size)")
torch.manual_seed(0)
for name in fwref.TEMPLATES:
    size = fwref.defaults(name)[0] if name in fwref.OWN_TEMPLATES else (3, 64, 64)
    xin = torch.randn(2, *size)
    m = fwref.build(name, num_classes=10, input_size=size)
    with torch.no_grad():
        y = m(xin)
        y1 = m(xin[1:2]) if not name.startswith("poolformer_m") else None  # (the big ones: once)
    ok = tuple(y.shape) == (2, 10) and bool(torch.isfinite(y).all())
    check.ok(f"{name} forward [2,10] finite", ok, f"shape {list(y.shape)}")
    check.ok(f"{name} logits vary across samples", float((y[0] - y[1]).abs().max()) > 0)
    if y1 is not None:
        check.close(f"{name} batch-independent", y1[0], y[1], 1e-5, 1e-4)
    if name in ("randformer_s12", "vit_tiny_patch16_224"):
        try:
            m(torch.randn(1, 3, 96, 96))
            check.ok(f"{name} refuses another input size", False)
        except ValueError as e:
            check.ok(f"{name} refuses another input size", "build input size" in str(e), str(e)[:60])
    del m

# Feature-map sizes through Formwork's own stems and stages (hooks on the real modules).
for name, size, grids in (("formwork_fm32", (1, 32, 32), [(48, 8, 8), (96, 4, 4)]),
                          ("caformer_mini64", (1, 64, 64), [(32, 16, 16), (64, 8, 8), (128, 4, 4)]),
                          ("formwork_fm32", (3, 40, 56), [(48, 10, 14), (96, 5, 7)])):
    m = fwref.build(name, num_classes=10, input_size=size, device="meta")
    got = []
    hooks = [st.register_forward_hook(lambda mod, a, out: got.append(tuple(out.shape[1:])))
             for st in m.stages]
    m(torch.empty(1, *size, device="meta"))
    for h in hooks:
        h.remove()
    check.equal(f"{name}@{'x'.join(map(str, size))} stage outputs", got, grids)

for name, size, stride in (("poolformer_s12", (3, 100, 100), 32), ("formwork_fm32", (1, 36, 36), 8),
                           ("caformer_mini64", (1, 40, 40), 16)):
    try:
        fwref.build(name, input_size=size, device="meta")
        check.ok(f"{name}: input size not divisible by {stride} refused", False)
    except ValueError:
        check.ok(f"{name}: input size not divisible by {stride} refused", True)

sys.exit(check.finish())
