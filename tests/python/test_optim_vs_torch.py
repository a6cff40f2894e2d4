#!/usr/bin/python3
"""Formwork's AdamW + warm-up/cosine schedule, gradient clipping and label-smoothing
cross-entropy against PyTorch: torch.optim.AdamW with a LambdaLR, clip_grad_norm_ and
F.cross_entropy(label_smoothing=...). Drives tests/tools/optimcheck.cpp ($FORMWORK_OPTIMCHECK).

AdamW is compared after every one of ~10 steps to 1e-6 (absolute, on parameters of order 1),
on parameter shapes that exercise timm's no-weight-decay rule (conv/linear weights decay;
biases, norm weights, scales, cls_token and pos_embed do not), with steps where some
parameters have no gradient (torch skips them and keeps their step counts), a frozen parameter,
amsgrad, and a resume through a .safetensors state file half-way."""
import json
import math
import os
import subprocess
import sys

import numpy as np

import fwtest

torch = fwtest.skip_unless_torch()
import torch.nn.functional as F  # noqa: E402

exe = os.environ.get("FORMWORK_OPTIMCHECK", "")
if not (exe and os.path.isfile(exe) and os.access(exe, os.X_OK)):
    fwtest.skip("FORMWORK_OPTIMCHECK is not set to the formwork_optimcheck tool (ctest sets it)")

check = fwtest.Checker("optim vs torch")
rng = np.random.default_rng(1234)

SHAPES = {
    "stem.conv.weight": (8, 3, 3, 3),
    "stem.conv.bias": (8,),
    "stages.0.blocks.0.norm1.weight": (8,),
    "stages.0.blocks.0.layer_scale1.scale": (8,),
    "stages.0.blocks.0.mlp.act.scale": (1,),
    "stages.0.blocks.0.mlp.fc1.weight": (32, 8),
    "head.fc.weight": (10, 32),
    "head.fc.bias": (10,),
    "cls_token": (1, 1, 16),
    "pos_embed": (1, 5, 16),
}


def timm_decays(name, shape):
    """timm's param_groups_weight_decay with the ViT no_weight_decay names."""
    last = name.rsplit(".", 1)[-1]
    return not (len(shape) <= 1 or name.endswith(".bias")
                or last in ("cls_token", "dist_token", "reg_token", "pos_embed"))


def lr_at(s, base, warmup_lr, min_lr, W, T):
    """The schedule as documented in kernels/train/optim.h (timm's cosine, warmup_prefix)."""
    if s < W:
        return warmup_lr + (base - warmup_lr) * s / W
    if s >= T:
        return min_lr
    return min_lr + 0.5 * (base - min_lr) * (1 + math.cos(math.pi * (s - W) / (T - W)))


def run_tool(mode, d):
    res = subprocess.run([exe, mode, d], capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        print(res.stdout, res.stderr)
        raise fwtest.FormworkError(f"formwork_optimcheck {mode}: exit status {res.returncode}")
    with open(os.path.join(d, "result.json")) as f:
        return json.load(f)


def adamw_case(title, steps=10, lr=3e-2, betas=(0.9, 0.999), eps=1e-8, wd=0.05, amsgrad=False,
               warmup_lr=1e-4, min_lr=1e-4, W=3, T=10, skip=None, frozen=(), resume_at=None):
    """skip(step, name) -> True: no gradient for that parameter in that step."""
    params = {n: rng.standard_normal(s).astype(np.float32) for n, s in SHAPES.items()}
    grads = [{n: (rng.standard_normal(s) * rng.uniform(0.01, 3)).astype(np.float32)
              for n, s in SHAPES.items() if not (skip and skip(k, n))} for k in range(steps)]
    with fwtest.temp_dir() as d:
        cfg = {"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "weight_decay": wd,
               "amsgrad": amsgrad, "warmup_lr": warmup_lr, "min_lr": min_lr, "warmup_steps": W,
               "total_steps": T, "steps": steps, "params": list(SHAPES), "frozen": list(frozen)}
        if resume_at is not None:
            cfg["resume_at"] = resume_at
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        for n, p in params.items():
            fwtest.save_npy(os.path.join(d, f"param.{n}.npy"), p)
        for k, g in enumerate(grads):
            for n, a in g.items():
                fwtest.save_npy(os.path.join(d, f"grad.{k}.{n}.npy"), a)
        res = run_tool("adamw", d)
        ours = [{n: fwtest.load_npy(os.path.join(d, f"out.{k}.{n}.npy")) for n in SHAPES}
                for k in range(steps)]

    # torch: two param groups by timm's rule; frozen parameters are not given to the optimiser.
    tp = {n: torch.nn.Parameter(torch.from_numpy(p.copy())) for n, p in params.items()}
    decay = [tp[n] for n in SHAPES if n not in frozen and timm_decays(n, SHAPES[n])]
    no_decay = [tp[n] for n in SHAPES if n not in frozen and not timm_decays(n, SHAPES[n])]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=betas, eps=eps, amsgrad=amsgrad, foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_at(s, lr, warmup_lr, min_lr, W, T) / lr)
    torch_lrs = []
    worst = 0.0
    for k in range(steps):
        torch_lrs.append(opt.param_groups[0]["lr"])
        for n, p in tp.items():
            p.grad = torch.from_numpy(grads[k][n].copy()) if n in grads[k] else None
        opt.step()
        sched.step()
        for n in SHAPES:
            d_abs = float(np.max(np.abs(ours[k][n] - tp[n].detach().numpy())))
            worst = max(worst, d_abs)
            if d_abs > 1e-6:
                check.ok(f"{title}: step {k} {n}", False, f"max-abs {d_abs:.3e}")
    check.ok(f"{title}: parameters after each of {steps} steps within 1e-6", worst <= 1e-6,
             f"worst max-abs {worst:.3e}")
    check.close(f"{title}: learning rates", np.array(res["lrs"]), np.array(torch_lrs),
                atol=0, rtol=1e-12)
    want_decay = {n: n not in frozen and wd != 0 and timm_decays(n, s) for n, s in SHAPES.items()}
    check.equal(f"{title}: no-weight-decay groups", res["decayed"], want_decay)
    for n in frozen:
        check.ok(f"{title}: frozen {n} unchanged", np.array_equal(ours[-1][n], params[n]))


adamw_case("warm-up + cosine, wd 0.05")
adamw_case("no warm-up, amsgrad, missing grads, frozen", amsgrad=True, W=0, T=12, steps=12,
           wd=0.1, betas=(0.8, 0.99), skip=lambda k, n: (k + len(n)) % 4 == 0,
           frozen=("stages.0.blocks.0.mlp.fc1.weight",))
adamw_case("resume through a state file", resume_at=4, skip=lambda k, n: k == 2 and "bias" in n)
adamw_case("large eps, schedule past its end", eps=1e-3, lr=1e-3, W=2, T=6, steps=9,
           warmup_lr=0.0, min_lr=1e-5)

# ---- gradient clipping ----
with fwtest.temp_dir() as d:
    names = ["a", "b.weight", "c"]
    gs = {n: (rng.standard_normal(s) * 3).astype(np.float32)
          for n, s in zip(names, [(4, 5), (7,), (2, 3, 3)])}
    for max_norm in (1.0, 1e3):
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({"max_norm": max_norm, "params": names}, f)
        for n, g in gs.items():
            fwtest.save_npy(os.path.join(d, f"grad.{n}.npy"), g)
        res = run_tool("clip", d)
        ps = [torch.nn.Parameter(torch.zeros(g.shape)) for g in gs.values()]
        for p, g in zip(ps, gs.values()):
            p.grad = torch.from_numpy(g.copy())
        total = float(torch.nn.utils.clip_grad_norm_(ps, max_norm))
        check.close(f"clip {max_norm:g}: total norm", np.float64(res["total_norm"]),
                    np.float64(total), atol=0, rtol=1e-6)
        for n, p in zip(names, ps):
            check.close(f"clip {max_norm:g}: {n}", fwtest.load_npy(os.path.join(d, f"out.{n}.npy")),
                        p.grad.numpy(), atol=1e-7, rtol=1e-6)

# ---- label-smoothing cross-entropy ----
with fwtest.temp_dir() as d:
    # scale 0: constant logits; "ties": small integers, so most rows have equal logits.
    for B, K, smoothing, scale in [(16, 10, 0.0, 1.0), (16, 10, 0.1, 3.0), (5, 1000, 0.2, 10.0),
                                   (7, 3, 0.5, 200.0), (1, 10, 1.0, 1.0), (40, 10, 0.0, 0.0),
                                   (64, 10, 0.1, "ties"), (64, 7, 0.0, "ties")]:
        if scale == "ties":
            logits = rng.integers(-1, 2, (B, K)).astype(np.float32)
        else:
            logits = (rng.standard_normal((B, K)) * scale).astype(np.float32)
        labels = rng.integers(0, K, B).astype(np.int64)
        fwtest.save_npy(os.path.join(d, "logits.npy"), logits)
        fwtest.save_npy(os.path.join(d, "labels.npy"), labels, dtype=np.int64)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({"smoothing": smoothing}, f)
        res = run_tool("ce", d)
        z = torch.from_numpy(logits.astype(np.float64)).requires_grad_(True)
        loss = F.cross_entropy(z, torch.from_numpy(labels), label_smoothing=smoothing)
        loss.backward()
        tag = f"ce B={B} K={K} eps={smoothing} scale={scale}"
        check.close(f"{tag}: loss", np.float64(res["loss"]), np.float64(loss.item()),
                    atol=1e-6, rtol=1e-6)
        check.close(f"{tag}: grad", fwtest.load_npy(os.path.join(d, "grad.npy")),
                    z.grad.numpy(), atol=1e-7, rtol=1e-5)
        # PyTorch's ranking: argmax (first maximum) for top-1; a stable descending sort for top-5
        # (topk's order of equal values is unspecified: torch 1.13 does not take the first).
        top1 = int((z.detach().argmax(1) == torch.from_numpy(labels)).sum())
        check.equal(f"{tag}: top-1", res["top1"], top1)
        k5 = min(5, K)
        ranked = torch.sort(z.detach(), stable=True, dim=1, descending=True).indices[:, :k5]
        top5 = int((ranked == torch.from_numpy(labels)[:, None]).any(1).sum())
        check.equal(f"{tag}: top-5", res["top5"], top5)
        if scale == 0.0:
            check.equal(f"{tag}: constant logits: top-1 is the share of class 0", res["top1"],
                        int((labels == 0).sum()))

sys.exit(check.finish())
