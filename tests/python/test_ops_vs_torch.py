#!/usr/bin/python3
"""Every CPU op against PyTorch: forward outputs, attention maps and all gradients.

For each case, random data (torch, seeded) is written as .npy; PyTorch computes the output and
the gradients of sum(out * gy) in float64; formwork_opcheck (env FORMWORK_OPCHECK) runs the fast
kernel and the double reference on the same files. Errors are max|a - b| / max|b|; limits 1e-5
(forward) and 1e-4 (gradients). Dropout and drop_path in training mode cannot match PyTorch's
random numbers: their masks are checked for structure instead (values 0 or x/(1-p), gradients
through the same mask, whole samples for drop_path).

Exit 0 all pass, 1 a failure, 77 skip (no torch or no formwork_opcheck).
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    print(f"SKIP: {e}")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
OPCHECK = os.environ.get("FORMWORK_OPCHECK") or os.path.join(
    HERE, "..", "..", "build", "tests", "formwork_opcheck")
if not os.path.exists(OPCHECK):
    print(f"SKIP: formwork_opcheck not found ({OPCHECK}); set FORMWORK_OPCHECK")
    sys.exit(77)

FWD_TOL, GRAD_TOL = 1e-5, 1e-4


# ---- PyTorch semantics of each op (core/OPS.md) ------------------------------------------------
def t_conv2d(a, x, w, b=None):
    return F.conv2d(x, w, b, a.get("stride", 1), a.get("padding", 0), 1, a.get("groups", 1))


def t_linear(a, x, w, b=None):
    return F.linear(x, w, b)


def t_avg_pool2d(a, x):
    return F.avg_pool2d(x, a.get("kernel", 3), a.get("stride", 1), a.get("padding", 1),
                        count_include_pad=False)


def t_pool_mixer(a, x):
    k = a.get("pool_size", 3)
    return F.avg_pool2d(x, k, 1, k // 2, count_include_pad=False) - x


def t_group_norm(a, x, w=None, b=None):
    return F.group_norm(x, a.get("groups", 1), w, b, a.get("eps", 1e-5))


def t_layer_norm2d(a, x, w, b=None):
    c = x.shape[1]
    return F.layer_norm(x.permute(0, 2, 3, 1), (c,), w, b, a.get("eps", 1e-6)).permute(0, 3, 1, 2)


def t_layer_norm(a, x, w, b=None):
    return F.layer_norm(x, (x.shape[-1],), w, b, a.get("eps", 1e-6))


def t_self_attention(a, qkv):
    B, N, _ = qkv.shape
    h, d = a.get("heads", 2), a.get("head_dim", 32)
    q, k, v = qkv.reshape(B, N, 3, h, d).permute(2, 0, 3, 1, 4)
    attn = torch.softmax(q @ k.transpose(-2, -1) * d ** -0.5, -1)
    return (attn @ v).transpose(1, 2).reshape(B, N, h * d), attn


def t_random_mixing(a, x, R):
    B, C, H, W = x.shape
    return torch.einsum("mn,bcn->bcm", R, x.reshape(B, C, H * W)).reshape(B, C, H, W)


def t_scale(a, x, s):
    if a.get("layout", "channels_first") == "last":
        return x * s
    return x * s.view(1, -1, *([1] * (x.dim() - 2)))


def t_to_nchw(a, x, grid):
    B, N, C = x.shape
    return x.transpose(1, 2).reshape(B, C, grid.shape[2], grid.shape[3])


def t_cls_pos_embed(a, x, cls, pos):
    return torch.cat([cls.expand(x.shape[0], -1, -1), x], 1) + pos


TORCH = {
    "conv2d": t_conv2d,
    "linear": t_linear,
    "avg_pool2d": t_avg_pool2d,
    "pool_mixer": t_pool_mixer,
    "group_norm": t_group_norm,
    "layer_norm2d": t_layer_norm2d,
    "layer_norm": t_layer_norm,
    "gelu": lambda a, x: F.gelu(x),
    "relu": lambda a, x: F.relu(x),
    "squared_relu": lambda a, x: F.relu(x) ** 2,
    "star_relu": lambda a, x, s, b: s * F.relu(x) ** 2 + b,
    "self_attention": t_self_attention,
    "random_mixing": t_random_mixing,
    "identity": lambda a, x: x,
    "scale": t_scale,
    "add": lambda a, x, y: x + y,
    "global_avg_pool": lambda a, x: x.mean((2, 3)),
    "to_tokens": lambda a, x: x.flatten(2).transpose(1, 2),
    "to_nchw": t_to_nchw,
    "cls_pos_embed": t_cls_pos_embed,
    "select_token": lambda a, x: x[:, a.get("index", 0)],
    "dropout": lambda a, x: x,  # evaluation mode
    "drop_path": lambda a, x: x,
}


# ---- cases: (op, attrs, input shapes, parameter shapes[, shape-only inputs]) -------------------
def cases():
    c = []
    for B in (1, 3):
        c += [
            ("conv2d", {"in_channels": 3, "out_channels": 16, "kernel": 7, "stride": 4,
                        "padding": 2}, [(B, 3, 35, 33)], [(16, 3, 7, 7), (16,)]),
            ("conv2d", {"kernel": 1}, [(B, 24, 9, 11)], [(40, 24, 1, 1), (40,)]),
            ("conv2d", {"kernel": 3, "stride": 2, "padding": 1, "bias": False},
             [(B, 8, 13, 10)], [(12, 8, 3, 3)]),
            ("conv2d", {"kernel": 7, "padding": 3, "groups": 16}, [(B, 16, 14, 19)],
             [(16, 1, 7, 7), (16,)]),
            ("conv2d", {"kernel": 3, "padding": 1, "groups": 4}, [(B, 8, 7, 7)],
             [(12, 2, 3, 3), (12,)]),
            ("linear", {"in_features": 20, "out_features": 36}, [(B, 49, 20)], [(36, 20), (36,)]),
            ("linear", {"bias": False}, [(B, 17)], [(5, 17)]),
            ("avg_pool2d", {"kernel": 3, "stride": 1, "padding": 1}, [(B, 4, 9, 13)], []),
            ("avg_pool2d", {"kernel": 3, "stride": 2, "padding": 1}, [(B, 4, 11, 8)], []),
            ("pool_mixer", {"pool_size": 3}, [(B, 6, 14, 14)], []),
            ("pool_mixer", {"pool_size": 5}, [(B, 2, 7, 9)], []),
            ("group_norm", {"channels": 12, "groups": 1}, [(B, 12, 7, 9)], [(12,), (12,)]),
            ("group_norm", {"channels": 12, "groups": 4, "eps": 1e-3}, [(B, 12, 5, 5)],
             [(12,), (12,)]),
            ("group_norm", {"affine": False}, [(B, 6, 4, 3)], []),
            ("group_norm", {"channels": 6, "bias": False, "eps": 1e-6}, [(B, 6, 4, 3)], [(6,)]),
            ("layer_norm2d", {"channels": 10}, [(B, 10, 6, 7)], [(10,), (10,)]),
            ("layer_norm2d", {"channels": 10, "bias": False}, [(B, 10, 6, 7)], [(10,)]),
            ("layer_norm", {"channels": 32}, [(B, 49, 32)], [(32,), (32,)]),
            ("layer_norm", {"channels": 32, "bias": False}, [(B, 32)], [(32,)]),
            ("gelu", {}, [(B, 49, 64)], []),
            ("relu", {}, [(B, 8, 9, 9)], []),
            ("squared_relu", {}, [(B, 8, 9, 9)], []),
            ("star_relu", {"scale_init": 1.0, "bias_init": 0.0}, [(B, 8, 9, 9)], [(1,), (1,)]),
            ("self_attention", {"heads": 4, "head_dim": 8}, [(B, 49, 96)], []),
            ("self_attention", {"heads": 2, "head_dim": 16}, [(B, 17, 96)], []),
            ("random_mixing", {"num_tokens": 49}, [(B, 6, 7, 7)], [(49, 49)]),
            ("identity", {}, [(B, 5, 4)], []),
            ("scale", {"dim": 12, "init_value": 1e-5, "layout": "channels_first"},
             [(B, 12, 5, 6)], [(12,)]),
            ("scale", {"dim": 12, "layout": "last"}, [(B, 10, 12)], [(12,)]),
            ("add", {}, [(B, 6, 5, 5), (B, 6, 5, 5)], []),
            ("global_avg_pool", {}, [(B, 16, 7, 7)], []),
            ("to_tokens", {}, [(B, 16, 7, 5)], []),
            ("to_nchw", {}, [(B, 35, 16), (B, 4, 7, 5)], [], [1]),
            ("cls_pos_embed", {"dim": 16, "num_patches": 9}, [(B, 9, 16)],
             [(1, 1, 16), (1, 10, 16)]),
            ("select_token", {"index": 0}, [(B, 10, 16)], []),
            ("select_token", {"index": -1}, [(B, 10, 16)], []),
            ("dropout", {"p": 0.1}, [(B, 10, 16)], []),
            ("drop_path", {"p": 0.1}, [(B, 10, 16)], []),
        ]
    return c


def save(path, t):
    np.save(path, t.detach().to(torch.float32).numpy())


def err(a, b):
    b = b.detach().to(torch.float64).numpy()
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-6)) if b.size else 0.0


def prepare(work, idx, op, attrs, in_shapes, p_shapes, shape_only, gen):
    """Writes the data and two specs (fast, reference); returns torch's results."""
    xs = [torch.randn(s, generator=gen) for s in in_shapes]
    ps = [torch.randn(s, generator=gen) * 0.5 for s in p_shapes]
    if op == "random_mixing":
        ps = [torch.softmax(torch.rand(p_shapes[0], generator=gen), -1)]
    pre = f"c{idx}_"
    for i, t in enumerate(xs):
        save(os.path.join(work, f"{pre}x{i}.npy"), t)
    for i, t in enumerate(ps):
        save(os.path.join(work, f"{pre}p{i}.npy"), t)
    # PyTorch in float64 on the same float32 values.
    xd = [t.double().requires_grad_(i not in shape_only) for i, t in enumerate(xs)]
    pd = [t.double().requires_grad_() for t in ps]
    res = TORCH[op](attrs, *xd, *pd)
    out, probs = (res if isinstance(res, tuple) else (res, None))
    gy = torch.randn(out.shape, generator=gen)
    save(os.path.join(work, f"{pre}gy.npy"), gy)
    wrt = [t for t in xd if t.requires_grad] + pd
    grads = torch.autograd.grad(out, wrt, gy.double(), allow_unused=True)
    grads = [g if g is not None else torch.zeros_like(t) for g, t in zip(grads, wrt)]
    specs = []
    for impl in ("fast", "reference"):
        tag = f"{pre}{impl}_"
        spec = {
            "op": op, "attrs": attrs, "impl": impl, "threads": 2,
            "inputs": [f"{pre}x{i}.npy" for i in range(len(xs))],
            "params": [f"{pre}p{i}.npy" for i in range(len(ps))],
            "outputs": [f"{tag}y.npy"],
            "saved": [f"{tag}probs.npy"] if op == "self_attention" else [],
            "grad_outputs": [f"{pre}gy.npy"],
            "grad_inputs": [None if i in shape_only else f"{tag}gx{i}.npy" for i in range(len(xs))],
            "grad_params": [f"{tag}gp{i}.npy" for i in range(len(ps))],
        }
        path = os.path.join(work, f"{tag}spec.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        specs.append((impl, path, spec))
    return out, probs, grads, specs


def compare(work, spec, out, probs, grads):
    fwd = err(np.load(os.path.join(work, spec["outputs"][0])), out)
    if probs is not None:
        fwd = max(fwd, err(np.load(os.path.join(work, spec["saved"][0])), probs))
    names = [n for n in spec["grad_inputs"] if n] + spec["grad_params"]
    grad = max([err(np.load(os.path.join(work, n)), g) for n, g in zip(names, grads)] or [0.0])
    return fwd, grad


def check_stochastic(work):
    """Dropout / drop_path in training: mask structure and gradient consistency."""
    problems = []
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(16, 8, 8, generator=gen) + 3.0  # nonzero everywhere
    save(os.path.join(work, "s_x.npy"), x)
    save(os.path.join(work, "s_gy.npy"), torch.ones_like(x))
    for op, p in (("dropout", 0.3), ("drop_path", 0.5)):
        spec = {"op": op, "attrs": {"p": p}, "training": True, "seed": 17,
                "inputs": ["s_x.npy"], "outputs": [f"s_{op}_y.npy"],
                "grad_outputs": ["s_gy.npy"], "grad_inputs": [f"s_{op}_gx.npy"]}
        path = os.path.join(work, f"s_{op}.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        subprocess.run([OPCHECK, path], check=True)
        y = np.load(os.path.join(work, f"s_{op}_y.npy"))
        gx = np.load(os.path.join(work, f"s_{op}_gx.npy"))
        xs = x.numpy()
        kept = y != 0
        ok = np.allclose(y[kept], xs[kept] / (1 - p), rtol=1e-6)
        ok &= np.allclose(gx, kept / (1 - p), rtol=1e-6)
        frac = 1 - kept.mean()
        ok &= abs(frac - p) < (0.05 if op == "dropout" else 0.3)
        if op == "drop_path":
            ok &= bool(np.all(kept.reshape(16, -1).all(1) | (~kept).reshape(16, -1).all(1)))
        print(f"{op:16s} training p={p}: dropped {frac:.3f}  {'ok' if ok else 'FAIL'}")
        if not ok:
            problems.append(f"{op} training mask")
    return problems


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    failures = []
    with tempfile.TemporaryDirectory() as work:
        prepared = []
        for idx, case in enumerate(cases()):
            op, attrs, ins, ps = case[:4]
            shape_only = case[4] if len(case) > 4 else []
            prepared.append((case, prepare(work, idx, op, attrs, ins, ps, shape_only, gen)))
        all_specs = [path for _, (_, _, _, specs) in prepared for _, path, _ in specs]
        run = subprocess.run([OPCHECK] + all_specs, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr)
            print("FAIL: formwork_opcheck failed")
            return 1
        print(f"{'op':16s} {'inputs':28s} {'impl':9s} {'fwd err':>9s} {'grad err':>9s}")
        for case, (out, probs, grads, specs) in prepared:
            op, attrs, ins = case[:3]
            for impl, _, spec in specs:
                fwd, grad = compare(work, spec, out, probs, grads)
                ok = fwd <= FWD_TOL and grad <= GRAD_TOL
                shapes = " ".join("x".join(map(str, s)) for s in ins)
                print(f"{op:16s} {shapes:28s} {impl:9s} {fwd:9.2e} {grad:9.2e} {'' if ok else 'FAIL'}")
                if not ok:
                    failures.append(f"{op} {attrs} {shapes} {impl}")
        failures += check_stochastic(work)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"all {len(prepared)} cases match PyTorch (fast and reference)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
