#!/usr/bin/python3
"""The CPU executor against PyTorch on every template (fwref models with timm's names).

For each of the 13 templates (`formwork templates`; fwref.TEMPLATES) at 3x64x64 (Formwork's own
formwork_fm32 / caformer_mini64 at their default 1x32x32 / 1x64x64) / 10 classes, batch 2: seeded
weights (below) go to a safetensors file; formwork_graphcheck (env FORMWORK_GRAPHCHECK) runs the
graph forward and backward with an upstream gradient gy; PyTorch runs the same model in float64.
Compared: logits, the outputs of chosen modules (Grad-CAM layers) and the gradients of Σ gy·logits
with respect to every trainable parameter, the input and those module outputs; attention
probabilities of CAFormer and ViT attention modules.

Weights. timm's init (layer scale 1e-5 / 1e-6 in PoolFormer v1, conv/linear std .02) makes the
blocks' contributions, and so their parameters' gradients, tiny next to the stem's and the head's;
a check against the model's largest gradient cannot see them. So the weights are fwref's init
passed through e2e_common.perturb (seeded, O(1): conv/linear N(0, 1/fan_in), norm weights
1 + 0.25·N, biases 0.1·N, StarReLU scales U(0.5, 1.5), ViT tokens N(0, 1)), and then every layer
scale and res scale (`*.layer_scale1/2.scale`, `*.res_scale1/2.scale`, fwref.layers.Scale) is
drawn from U(0.3, 0.7): large enough that every block matters, and not 1.0, so that a scale the
engine ignored would show. RandFormer's fixed mixing matrices keep their init.

Parameter gradients: each trainable parameter on its own, by its own normalised error
max|got - want| / max|want| <= GRAD_TOL (1e-3); no floor shared with other tensors. A parameter
whose float64 gradient is zero up to rounding (max|want| <= ZERO_REL·G, G the largest |gradient|
of the model; ZERO_REL = 1e-10, while float64 rounding leaves ~1e-17·G and the smallest genuine
gradient here is ~6e-6·G) is a structural zero; for those Formwork's gradient must satisfy
max|got| <= ZERO_TOL·G (float32 rounding of an exact cancellation), and the set of structural
zeros must be exactly the expected one (`expected_zero`), so that a weight setting that starves a
parameter of gradient fails instead of being waved through. The expected structural zeros are
the PoolFormer v1 (poolformer_s12/s24/s36/m36/m48) blocks' `norm1.bias`, and nothing else: norm1
is GroupNorm1 with a per-channel bias b feeding the pooling mixer pool(x) - x; average pooling
with count_include_pad=False of a per-channel constant is that constant at every pixel (borders
included), so b cancels exactly from the block's output. (norm2.bias feeds the MLP and is live;
v2-family norms have no bias; an attention key bias would cancel in the softmax but is part of
ViT's qkv.bias together with the live query and value biases; no other constant-removing path
exists in these models.) There are 12 / 24 / 36 / 36 / 48 such tensors in s12 / s24 / s36 / m36
/ m48, one per block.

One-element parameters (StarReLU's scale and bias, in every v2-family MLP and SepConv) are the
one place where float32 cannot reach 1e-3 of max|want|: such a gradient is a single sum over the
whole activation (up to 2·256·16·16 = 131k terms, Σ g·relu(x)² or Σ g) whose terms have random
signs, and with these seeds a few of them cancel to 1/10⁴ of Σ|terms| (convformer_s18's
stages.0.blocks.0.mlp.act.scale: Σ|terms| / |Σ terms| = 3.4e4). PyTorch in float32 is off by as
much (6e-3 there; 1.2e-2 on another): the error of each term's float32 upstream gradient, about
1e-6 relative, stays, while the sum shrinks. So for these, and only these, the allowed error is
GRAD_TOL·max|want| + SUM_TOL·Σ|terms|, SUM_TOL = 5e-6 (measured over all 220 of them: Formwork
<= 1.4e-6·Σ|terms|, PyTorch float32 <= 2.5e-6·Σ|terms|); Σ|terms| comes from the float64
reference (hooks on the StarReLU modules). The ones whose floor exceeds GRAD_TOL·max|want| are
listed per template (convformer_s18: 35 of 72). The price: for the worst of them the check is
coarse (stages.0.blocks.0.mlp.act.scale is allowed 17% and would not notice a gradient 10% off;
any with Σ|terms| / |Σ| below 1800 still fails at 1.01x); test_ops_vs_torch.py checks StarReLU's
gradients on their own, at full accuracy. Every other tensor is normalised by its own max|want|,
a maximum over many independent sums, so no such floor is needed. The PoolFormer v1 stage-3
blocks come closest to the tolerance (poolformer_m48 stages.3.blocks.7.norm1.weight 4.5e-4, its
gradient 6e-6·G): at 64x64 stage 3 is 2x2, where the 3x3 pool is the global mean, so that block's
mixer output vanishes under the head's global average pool and its gradient survives only through
norm2 and the MLP; PyTorch in float32 is off by as much (4.2e-4).

A self-check (cheap, on the actual gradients) runs the same comparison with 45 (or all, if
fewer) of Formwork's parameter gradients zeroed, and with one gradient scaled by 1.01, and
requires it to report exactly those tensors: the comparison can fail.

FWTEST_MODELS=a,b restricts the run to those templates.
Exit 0 pass, 1 fail, 77 skip (no torch, or formwork_graphcheck not built).
"""
import json
import os
import re
import subprocess
import sys
import time

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common  # noqa: E402
import fwref  # noqa: E402
from fwref.layers import Scale, StarReLU  # noqa: E402
from fwref.safetensors_io import load_safetensors, save_safetensors  # noqa: E402
from fwref.views import get_module  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("FORMWORK_GRAPHCHECK") or os.path.join(
    HERE, "..", "..", "build", "tests", "formwork_graphcheck")
if not os.path.exists(TOOL):
    fwtest.skip(f"formwork_graphcheck not found ({TOOL}); set FORMWORK_GRAPHCHECK")

FWD_TOL, GRAD_TOL = 1e-4, 1e-3  # normalised: max|got - want| / max|want|
ZERO_REL = 1e-10  # max|want| <= ZERO_REL * (largest |gradient| of the model): a structural zero
ZERO_TOL = 1e-5   # then Formwork's max|got| must be <= ZERO_TOL * (largest |gradient|)
SUM_TOL = 5e-6    # one-element gradients: also allowed SUM_TOL * Σ|terms| (see the docstring)
SCALE_LOW, SCALE_HIGH = 0.3, 0.7  # layer scales and res scales ~ U(SCALE_LOW, SCALE_HIGH)
BATCH = 2

# template -> (modules whose outputs and gradients are compared, attention modules)
CASES = {
    "poolformer_s12": (["stages.3", "stages.1.blocks.0"], []),
    "poolformer_s24": (["stages.2.blocks.11", "stages.0.blocks.3"], []),
    "poolformer_s36": (["stages.2.blocks.17", "stages.1"], []),
    "poolformer_m36": (["stages.3", "stages.2.blocks.9"], []),
    "poolformer_m48": (["stages.2.blocks.23", "stages.0.blocks.7"], []),
    "poolformerv2_s12": (["stages.2"], []),
    "identityformer_s12": (["stages.3"], []),
    "randformer_s12": (["stages.2.blocks.1"], []),
    "convformer_s18": (["stages.3", "stages.0.blocks.2.token_mixer"], []),
    "caformer_s18": (["stages.2.blocks.0", "stages.3"], ["stages.2.blocks.0.token_mixer"]),
    "vit_tiny_patch16_224": (["blocks.11"], ["blocks.3.attn"]),
    "formwork_fm32": (["stages.1", "stages.1.blocks.0", "stages.0.blocks.1.token_mixer"],
                      ["stages.1.blocks.1.token_mixer"]),
    "caformer_mini64": (["stages.2.blocks.0", "stages.1", "stages.0.blocks.0.token_mixer"],
                        ["stages.2.blocks.1.token_mixer"]),
}
# Input size (C, H, W) per template: 3x64x64, Formwork's own at their default size.
SIZES = {"formwork_fm32": (1, 32, 32), "caformer_mini64": (1, 64, 64)}
POOLFORMER_V1 = ("poolformer_s12", "poolformer_s24", "poolformer_s36", "poolformer_m36",
                 "poolformer_m48")
SCALE_RE = re.compile(r"(.*\.)?(layer_scale|res_scale)[12]\.scale")


def expected_zero(template, pname):
    """Whether parameter ``pname``'s gradient is 0 in exact arithmetic (see the docstring)."""
    return template in POOLFORMER_V1 and re.fullmatch(r"stages\.\d+\.blocks\.\d+\.norm1\.bias", pname) is not None


def case_weights(model, seed):
    """fwref's init, e2e_common.perturb(seed), layer/res scales ~ U(0.3, 0.7); float32 numpy.
    Returns (tensors, number of layer/res scale tensors set)."""
    tensors = e2e_common.perturb(fwref.state_dict_numpy(model), seed)
    rng = np.random.default_rng(seed + 1000)
    n_scales = 0
    for k in sorted(tensors):
        if SCALE_RE.fullmatch(k):
            tensors[k] = rng.uniform(SCALE_LOW, SCALE_HIGH, tensors[k].shape).astype(np.float32)
            n_scales += 1
    return tensors, n_scales


def norm_err(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf")
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-300))


def compare_param_grads(got, want, zero_names, top, gross):
    """Per-parameter verdicts {name: (ok, error, kind)}. kind 'zero': error = max|got| / top (the
    structural zeros); 'rel': error = max|got - want| / max|want|, allowed GRAD_TOL plus, for a
    one-element parameter, SUM_TOL·gross/|want| (the float32 floor of a cancelling sum)."""
    out = {}
    for pname, w in want.items():
        if pname not in got:
            continue
        g = np.asarray(got[pname], dtype=np.float64)
        if g.shape != w.shape:
            out[pname] = (False, float("inf"), "shape")
        elif pname in zero_names:
            e = float(np.abs(g).max()) / top
            out[pname] = (e <= ZERO_TOL, e, "zero")
        else:
            e = norm_err(g, w)
            out[pname] = (e <= GRAD_TOL + SUM_TOL * gross.get(pname, 0.0) / float(np.abs(w).max()), e, "rel")
    return out


def torch_reference(model, x, gy, layers):
    """Float64 logits, module outputs, gradients of Σ gy·logits (params, input, outputs), and for
    every one-element parameter (StarReLU's scale and bias) the gross sum Σ|term| of the terms
    its gradient adds up: Σ|g|·relu(x)² for the scale, Σ|g| for the bias (g: the gradient at the
    StarReLU's output)."""
    m = model.double()
    store, star = {}, {}
    hooks = [get_module(m, name).register_forward_hook(
        lambda mod, args, out, name=name: store.__setitem__(name, out)) for name in layers]
    for mname, mod in m.named_modules():
        if isinstance(mod, StarReLU):
            def keep(mod, args, out, mname=mname):
                star[mname] = [args[0].detach()]
                out.register_hook(lambda g: star[mname].append(g.detach()))
            hooks.append(mod.register_forward_hook(keep))
    xd = x.double().requires_grad_()
    try:
        logits = m(xd)
    finally:
        for h in hooks:
            h.remove()
    names = [n for n, p in m.named_parameters() if p.requires_grad]
    params = [p for n, p in m.named_parameters() if p.requires_grad]
    acts = [store[name] for name in layers]
    grads = torch.autograd.grad((logits * gy.double()).sum(), params + [xd] + acts)
    gross = {}
    for n, p in zip(names, params):
        if p.numel() != 1:
            continue
        mname, _, leaf = n.rpartition(".")
        if mname not in star or leaf not in ("scale", "bias"):
            raise RuntimeError(f"one-element parameter {n} outside a StarReLU: no gross sum rule")
        xin, g = star[mname]
        gross[n] = float((g.abs() * torch.relu(xin) ** 2).sum() if leaf == "scale" else g.abs().sum())
    return (logits.detach(), {n: a.detach() for n, a in zip(layers, acts)},
            dict(zip(names, [g.numpy() for g in grads[:len(params)]])), grads[len(params)],
            {n: g for n, g in zip(layers, grads[len(params) + 1:])}, gross)


def self_check(check, name, got, want, zero_names, top, gross):
    """The comparison flags exactly the tensors broken on purpose (on top of any it flags
    already): 45 (or all) live gradients zeroed; the largest live gradient scaled by 1.01."""
    def flagged(grads):
        return {p for p, (ok, _, _) in compare_param_grads(grads, want, zero_names, top, gross).items() if not ok}
    before = flagged(got)
    live = [p for p in want if p in got and p not in zero_names]
    pick = live[::max(1, len(live) // 45)][:45]
    broken = dict(got)
    for p in pick:
        broken[p] = np.zeros_like(got[p])
    f = flagged(broken)
    check.ok(f"{name}: self-check, {len(pick)} gradients zeroed -> exactly those flagged",
             f == before | set(pick), f"flagged {len(f - before)} of them")
    one = max(live, key=lambda p: float(np.abs(want[p]).max()))
    broken = dict(got)
    broken[one] = got[one] * np.float32(1.01)
    f = flagged(broken)
    check.ok(f"{name}: self-check, {one} scaled by 1.01 -> only it flagged", f == before | {one},
             f"flagged {sorted(f - before)[:3]}")


def main():
    check = fwtest.Checker("executor vs torch")
    only = [m for m in os.environ.get("FWTEST_MODELS", "").split(",") if m]
    listed = set(fwref.TEMPLATES)
    check.ok("every template is a case", set(CASES) == listed,
             f"not covered: {sorted(listed - set(CASES))}, unknown: {sorted(set(CASES) - listed)}")
    gen = torch.Generator().manual_seed(0)
    times = {}
    with fwtest.temp_dir() as work:
        for seed, (name, (layers, attn_layers)) in enumerate(CASES.items()):
            size = SIZES.get(name, (3, 64, 64))
            x = torch.randn(BATCH, *size, generator=gen)
            gy = torch.randn(BATCH, 10, generator=gen)
            if only and name not in only:
                continue
            print(name, flush=True)
            t0 = time.time()
            torch.manual_seed(1)
            model = fwref.build(name, num_classes=10, input_size=size)
            tensors, n_scales = case_weights(model, seed)
            fwref.load_into(model, tensors, strict=True)
            save_safetensors(os.path.join(work, "w.safetensors"), tensors)
            del tensors
            n_scale_modules = sum(isinstance(m, Scale) for m in model.modules())
            check.ok(f"{name}: every layer/res scale ~ U({SCALE_LOW}, {SCALE_HIGH})",
                     n_scales == n_scale_modules,
                     f"{n_scales} tensors set, {n_scale_modules} Scale modules")
            fwtest.save_npy(os.path.join(work, "x.npy"), x.numpy())
            fwtest.save_npy(os.path.join(work, "gy.npy"), gy.numpy())
            spec = {
                "template": name, "input_size": list(size), "num_classes": 10, "threads": 2,
                "weights": "w.safetensors", "input": "x.npy", "output": "y.npy",
                "grad_output": "gy.npy", "grad_params": "gp.safetensors", "grad_input": "gx.npy",
                "values": {l: {"value": f"a{i}.npy", "grad": f"ga{i}.npy"} for i, l in enumerate(layers)},
                "attention": {l: f"p{i}.npy" for i, l in enumerate(attn_layers)},
            }
            with open(os.path.join(work, "spec.json"), "w") as f:
                json.dump(spec, f)
            t1 = time.time()
            run = subprocess.run([TOOL, os.path.join(work, "spec.json")], capture_output=True, text=True)
            t_fw = time.time() - t1
            if not check.ok(f"{name}: formwork_graphcheck runs", run.returncode == 0, run.stderr.strip()):
                continue
            t1 = time.time()
            attn_want = [fwref.views.attention_probs(model, x, l, dtype=torch.float64) for l in attn_layers]
            logits, acts, pgrads, xgrad, agrads, gross = torch_reference(model, x, gy, layers)
            t_torch = time.time() - t1

            def err_ok(what, got, want, tol):
                e = norm_err(got, want)
                check.ok(f"{name}: {what}", e <= tol, f"normalised error {e:.2e}")

            y = np.load(os.path.join(work, "y.npy"))
            err_ok("logits", y, logits.numpy(), FWD_TOL)
            if y.shape == tuple(logits.shape):
                print(f"  note  {name}: logits max abs difference "
                      f"{float(np.abs(y - logits.numpy()).max()):.2e} "
                      f"(max |logit| {float(logits.abs().max()):.3g})")
            for i, l in enumerate(layers):
                err_ok(f"output of {l}", np.load(os.path.join(work, f"a{i}.npy")), acts[l].numpy(), FWD_TOL)
                err_ok(f"d/d output of {l}", np.load(os.path.join(work, f"ga{i}.npy")),
                       agrads[l].numpy(), GRAD_TOL)
            for i, l in enumerate(attn_layers):
                err_ok(f"attention {l}", np.load(os.path.join(work, f"p{i}.npy")), attn_want[i], FWD_TOL)
            err_ok("d/d input", np.load(os.path.join(work, "gx.npy")), xgrad.numpy(), GRAD_TOL)

            got = load_safetensors(os.path.join(work, "gp.safetensors"), as_float32=True)
            missing = sorted(set(pgrads) - set(got))
            extra = sorted(set(got) - set(pgrads))
            check.ok(f"{name}: one gradient per trainable parameter", not missing and not extra,
                     f"missing {missing[:5]}, unexpected {extra[:5]}" if missing or extra
                     else f"{len(got)} tensors")
            mags = {p: float(np.abs(w).max()) for p, w in pgrads.items()}
            top = max(mags.values())
            zeros = {p for p, v in mags.items() if v <= ZERO_REL * top}
            want_zeros = {p for p in pgrads if expected_zero(name, p)}
            shown = sorted(zeros)
            print(f"  note  {name}: {len(zeros)} structural zero gradients (max|want| <= "
                  f"{ZERO_REL:g}·{top:.3g}): " + (", ".join(shown[:6]) + (" ..." if len(shown) > 6 else "")
                                                  if shown else "none"))
            check.ok(f"{name}: structural zeros are the expected ones", zeros == want_zeros,
                     f"unexpected {sorted(zeros - want_zeros)[:5]}, not zero {sorted(want_zeros - zeros)[:5]}"
                     if zeros != want_zeros else f"{len(zeros)}")
            live = {p: v / top for p, v in mags.items() if p not in zeros}
            weakest = min(live, key=live.get)
            print(f"  note  {name}: smallest live gradient max|want| = {live[weakest]:.1e}·G ({weakest}); "
                  f"largest zero {max((mags[p] / top for p in zeros), default=0.0):.1e}·G")

            # One-element gradients whose float32 floor SUM_TOL·Σ|terms| exceeds GRAD_TOL·|want|.
            floored = sorted((gross[p] / mags[p], p) for p in gross
                             if p not in zeros and SUM_TOL * gross[p] > GRAD_TOL * mags[p])
            print(f"  note  {name}: {len(gross)} one-element gradients; {len(floored)} are sums cancelling "
                  f"by more than {GRAD_TOL / SUM_TOL:.0f}x (Σ|terms| / |Σ|, checked to SUM_TOL·Σ|terms|)"
                  + (": " + ", ".join(f"{p} {k:.3g}x" for k, p in list(reversed(floored))[:6])
                     + (" ..." if len(floored) > 6 else "") if floored else ""))
            verdicts = compare_param_grads(got, pgrads, zeros, top, gross)
            bad = sorted((p for p, (ok, _, _) in verdicts.items() if not ok), key=lambda p: -verdicts[p][1])
            rel = [(e, p) for p, (_, e, k) in verdicts.items() if k == "rel"]
            zer = [(e, p) for p, (_, e, k) in verdicts.items() if k == "zero"]
            worst_rel = max(rel, default=(0.0, ""))
            worst_zero = max(zer, default=(0.0, ""))
            floor_note = f" + {SUM_TOL:g}·Σ|terms| if one-element" if gross else ""
            check.ok(f"{name}: parameter gradients, each by its own error ({len(rel)} live <= {GRAD_TOL:g}"
                     f"{floor_note}, {len(zer)} zero <= {ZERO_TOL:g}·G)", not bad,
                     f"worst {worst_rel[0]:.2e} ({worst_rel[1]}); zeros: worst {worst_zero[0]:.1e}·G"
                     + (f"; {len(bad)} FAILED: " + ", ".join(f"{p} {verdicts[p][1]:.2e}" for p in bad[:12])
                        if bad else ""))
            self_check(check, name, got, pgrads, zeros, top, gross)
            times[name] = (time.time() - t0, t_fw, t_torch)
            print(f"  note  {name}: {times[name][0]:.1f} s (formwork_graphcheck {t_fw:.1f} s, "
                  f"torch float64 {t_torch:.1f} s)", flush=True)
            del model, got, pgrads
    print("times: " + ", ".join(f"{n} {t[0]:.0f}s" for n, t in times.items())
          + f"; total {sum(t[0] for t in times.values()):.0f} s")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
