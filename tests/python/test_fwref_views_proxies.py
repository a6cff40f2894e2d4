#!/usr/bin/python3
"""Self-test of fwref.views and fwref.proxies on tiny models, against independent computations:
Grad-CAM weights by central finite differences, attention rows by hand, grad_norm by the
closed-form softmax-regression gradient, snip by SNIP's connection-mask gradient, synflow by the
homogeneity identity of a bias-free linear chain (synflow = layers · R), jacob_cov by its closed
form for a linear model, NASWOT by hand-picked activation patterns; plus the proxies leave the
model untouched, and they run on a real template at 3x32x32."""
import math
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import fwref  # noqa: E402
from fwref import proxies, views  # noqa: E402
from fwref.layers import StarReLU, SquaredReLU  # noqa: E402
from fwref.models import MetaFormer, TEMPLATE_SPECS, VisionTransformer, init_weights  # noqa: E402

check = fwtest.Checker("views and proxies")
torch.manual_seed(0)

# A tiny CAFormer (SepConv, SepConv, attention, attention; MLP head) and a tiny ViT, float64.
spec = dict(TEMPLATE_SPECS["caformer_s18"], depths=(1, 1, 2, 1), dims=(8, 16, 32, 64))
caf = MetaFormer(spec, num_classes=5, img_size=(64, 64))
init_weights(caf)
caf = caf.double().eval()
with torch.no_grad():  # non-trivial scales, so nothing hides behind init values
    for n, p in caf.named_parameters():
        if n.endswith("scale") or n.endswith("act1.bias") or n.endswith("act.bias") or "norm" in n:
            p.add_(0.1 * torch.randn_like(p))
vit = VisionTransformer(patch_size=16, embed_dim=32, depth=2, num_heads=2, num_classes=5, img_size=(64, 64))
init_weights(vit)
vit = vit.double().eval()
x = torch.randn(3, 3, 64, 64, dtype=torch.float64)
y = torch.tensor([0, 3, 4])

# ---- Grad-CAM ---------------------------------------------------------------------------------
print("Grad-CAM")


def fd_weights(model, layer, k, channels, hw, eps=1e-4):
    """α[b, c] by central differences: shift channel c of the layer output uniformly by ±eps
    (on the grid positions only, not a class token) and divide the score change by 2·eps·h·w."""
    mod = views.get_module(model, layer)
    out = []
    for c in channels:
        vals = []
        for sgn in (1, -1):
            def hook(m, a, o, sgn=sgn, c=c):
                o = o.clone()
                if o.dim() == 4:
                    o[:, c] += sgn * eps
                else:
                    o[:, o.shape[1] - hw:, c] += sgn * eps
                return o
            h = mod.register_forward_hook(hook)
            with torch.no_grad():
                vals.append(model(x)[:, k])
            h.remove()
        out.append(((vals[0] - vals[1]) / (2 * eps * hw)).numpy())
    return np.stack(out, 1)  # [B, len(channels)]


for model, layer, shape in ((caf, "stages.1", (3, 8, 8)), (caf, "stages.2.blocks.1", (3, 4, 4)),
                            (caf, "stages.3", (3, 2, 2)), (vit, "blocks.0", (3, 4, 4))):
    k = 2
    cam, alpha, A = views.gradcam(model, x, layer, k, return_parts=True)
    check.equal(f"gradcam {layer}: shape", cam.shape, shape)
    check.ok(f"gradcam {layer}: non-negative", bool((cam >= 0).all()))
    raw = views.module_output(model, x, layer)
    if raw.ndim == 3:  # tokens [B, N, C] → grid, dropping a class token (N = h·w + 1)
        raw = raw[:, raw.shape[1] - shape[1] * shape[2]:].reshape(3, shape[1], shape[2], -1).transpose(0, 3, 1, 2)
    check.close(f"gradcam {layer}: activations on the grid", A, raw, 0, 0)
    chans = sorted({0, 1, A.shape[1] // 2, A.shape[1] - 1})
    check.close(f"gradcam {layer}: weights == finite differences (channels {chans})", alpha[:, chans],
                fd_weights(model, layer, k, chans, shape[1] * shape[2]), 1e-7, 1e-5)
    check.close(f"gradcam {layer}: cam == relu(Σ_c α_c A_c)", cam,
                np.maximum((alpha[:, :, None, None] * raw).sum(1), 0), 1e-12, 1e-10)
percls = views.gradcam(caf, x, "stages.3", [0, 1, 2])
check.close("gradcam per-sample classes", percls[1], views.gradcam(caf, x[1:2], "stages.3", 1)[0], 1e-10, 1e-8)

# ---- attention probabilities ------------------------------------------------------------------
print("attention")
for model, layer, heads, n in ((caf, "stages.2.blocks.0.token_mixer", 1, 16), (caf, "stages.3.blocks.0.token_mixer", 2, 4),
                               (vit, "blocks.1.attn", 2, 17)):
    P = views.attention_probs(model, x, layer)
    check.equal(f"attention {layer}: shape", P.shape, (3, heads, n, n))
    check.close(f"attention {layer}: rows sum to 1", P.sum(-1), np.ones((3, heads, n)), 1e-12, 0)
    mod = views.get_module(model, layer)
    store = {}
    hk = mod.register_forward_pre_hook(lambda m, a: store.__setitem__("t", a[0].detach()))
    with torch.no_grad():
        model(x)
    hk.remove()
    qkv = mod.qkv(store["t"]).reshape(3, n, 3, heads, -1)
    q, kk = qkv[:, :, 0].transpose(1, 2), qkv[:, :, 1].transpose(1, 2)
    want = torch.softmax(q @ kk.transpose(-1, -2) / math.sqrt(q.shape[-1]), -1)
    check.close(f"attention {layer}: == softmax(q kᵀ/√d) by hand", P, want.detach(), 1e-12, 1e-10)
try:
    views.attention_probs(caf, x, "stages.1.blocks.0.token_mixer")
    check.ok("attention on a non-attention module refused", False)
except ValueError as e:
    check.ok("attention on a non-attention module refused", "not attention" in str(e))

# ---- grad_norm: closed form for softmax regression ---------------------------------------------
print("proxies")
lin = nn.Sequential(nn.Flatten(), nn.Linear(12, 4)).double()
xs = torch.randn(5, 3, 2, 2, dtype=torch.float64)
ys = torch.tensor([0, 1, 2, 3, 1])
with torch.no_grad():
    p = torch.softmax(lin(xs), -1)
    gW = (p - F.one_hot(ys, 4).double()).t() @ xs.reshape(5, -1) / 5
check.close("grad_norm == ‖(softmax - onehot)ᵀx / B‖", proxies.grad_norm(lin, xs, ys), float(gW.norm()), 1e-12, 1e-10)
check.close("snip == Σ|W ⊙ closed-form grad|", proxies.snip(lin, xs, ys), float((lin[1].weight * gW).abs().sum()),
            1e-12, 1e-10)

# ---- snip: SNIP's connection-mask gradient ----------------------------------------------------
params = dict(caf.named_parameters())
masks = {n + ".weight": torch.ones_like(m.weight, requires_grad=True) for n, m in proxies.weight_layers(caf)}
masked = {k: (v * masks[k] if k in masks else v) for k, v in params.items()}
loss = F.cross_entropy(torch.nn.utils.stateless.functional_call(caf, masked, (x,)), y)
grads = torch.autograd.grad(loss, list(masks.values()))
want = float(sum(g.abs().sum() for g in grads))
check.close("snip == Σ|∂L/∂mask| (SNIP mask form)", proxies.snip(caf, x, y), want, 1e-12, 1e-9)
check.equal("weight layers of the tiny caformer", len(proxies.weight_layers(caf)),
            1 + 3 + 2 * (3 + 2) + 3 * (2 + 2) + 2)

# ---- synflow: homogeneity of a bias-free linear chain ----------------------------------------
chain = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.Flatten(),
                      nn.Linear(4 * 5 * 5, 6, bias=False), nn.Linear(6, 2, bias=False)).double()
with torch.no_grad():
    ab = [m.weight.abs() for m in (chain[0], chain[2], chain[3])]
    h = F.conv2d(torch.ones(1, 3, 5, 5, dtype=torch.float64), ab[0], padding=1).flatten(1)
    R = float((h @ ab[1].t() @ ab[2].t()).sum())
s, sl = proxies.synflow_and_log(chain, (3, 5, 5))
check.close("synflow == 3·R for a 3-layer bias-free linear chain", s, 3 * R, 0, 1e-12)
check.close("synflow_log == ln(synflow)", sl, math.log(s), 1e-12, 0)
big = nn.Sequential(*[nn.Linear(8, 8, bias=False) for _ in range(40)]).double()
with torch.no_grad():
    for m in big:
        m.weight.fill_(100.0)
s_big, sl_big = proxies.synflow_and_log(big, (8,))
want_log = math.log(40) + 41 * math.log(8) + 40 * math.log(100)  # 40·R, R = 8·(8·100)^40
check.ok("synflow_log finite where synflow overflows float32", math.isfinite(sl_big) and s_big > 3.4e38,
         f"synflow {s_big:.3e}, log {sl_big:.6f}")
check.close("synflow_log of the 40-layer chain", sl_big, want_log, 1e-9, 0)

# ---- jacob_cov: closed form for a linear model ------------------------------------------------
B, k = 4, 1e-5
want = -((math.log(B + k) + 1 / (B + k)) + (B - 1) * (math.log(k) + 1 / k))
check.close("jacob_cov of a linear model (rank-1 corrcoef)", proxies.jacob_cov(lin, xs[:B]), want, 0, 1e-6)
Jx = x.clone().requires_grad_(True)
out = caf(Jx)
(J,) = torch.autograd.grad(out.sum(), Jx)
v = np.linalg.eigvals(np.corrcoef(J.reshape(3, -1).numpy())).real
check.close("jacob_cov (tiny caformer) == zero-cost-nas eval_score with eig",
            proxies.jacob_cov(caf, x), float(-np.sum(np.log(v + k) + 1 / (v + k))), 1e-9, 1e-9)

# ---- naswot ------------------------------------------------------------------------------------
ident = nn.Linear(3, 3, bias=False).double()
with torch.no_grad():
    ident.weight.copy_(torch.eye(3))
for act, name in ((nn.ReLU(), "ReLU"), (StarReLU(), "StarReLU"), (SquaredReLU(), "SquaredReLU"), (nn.GELU(), "GELU")):
    net = nn.Sequential(ident, act).double()
    xs3 = torch.tensor([[1., -1, 2], [3, 2, -1], [-1, -2, -3], [1, 1, 1]], dtype=torch.float64)
    codes = (xs3 > 0).double().numpy()
    Kw = codes @ codes.T + (1 - codes) @ (1 - codes).T
    check.close(f"naswot kernel with {name} (counted once)", proxies.naswot_kernel(net, xs3), Kw, 0, 0)
check.close("naswot == slogdet of that kernel", proxies.naswot(net, xs3), np.linalg.slogdet(Kw)[1], 1e-12, 0)
acts = [n for n, _ in proxies.activation_modules(caf)]
check.equal("activation nodes of the tiny caformer", len(acts), 2 + 2 + 2 * 1 + 1 + 1)  # SepConv+MLP ×2, MLP ×3, head
units = 0
for d, hw, blocks, sep in ((8, 256, 1, True), (16, 64, 1, True), (32, 16, 2, False), (64, 4, 1, False)):
    units += blocks * hw * (4 * d + (2 * d if sep else 0))
units += 4 * 64  # head fc1 → SquaredReLU
K = proxies.naswot_kernel(caf, x)
check.close("naswot kernel diagonal = number of activation units", np.diag(K), np.full(3, float(units)), 0, 0)

# ---- no side effects; a real template -------------------------------------------------------
before = {k: v.clone() for k, v in caf.state_dict().items()}
res = proxies.compute_proxies(caf, x, y)
check.ok("proxies leave the model unchanged", all(torch.equal(before[k], v) for k, v in caf.state_dict().items())
         and all(p.grad is None for p in caf.parameters()))
check.equal("compute_proxies keys", list(res), list(proxies.PROXIES))
check.ok("all proxies finite on the tiny caformer", all(math.isfinite(v) for v in res.values()), str(res))
torch.manual_seed(1)
m = fwref.build("poolformerv2_s12", num_classes=10, input_size=(3, 32, 32))
xr, yr = torch.randn(2, 3, 32, 32), torch.tensor([1, 7])
res = proxies.compute_proxies(m, xr, yr, dtype=torch.float32)
check.ok("proxies on poolformerv2_s12 @32 finite", all(math.isfinite(v) for v in res.values()),
         ", ".join(f"{k}={v:.4g}" for k, v in res.items()))

sys.exit(check.finish())
