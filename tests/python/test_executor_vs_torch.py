#!/usr/bin/python3
"""The CPU executor against PyTorch on whole templates (fwref models with timm's names).

For each template at 3x64x64 (Formwork's own formwork_fm32 / caformer_mini64 at their default
1x32x32 / 1x64x64) / 10 classes, batch 2: the fwref model's weights go to a
safetensors file; formwork_graphcheck (env FORMWORK_GRAPHCHECK) runs the graph forward and
backward with an upstream gradient gy; PyTorch runs the same model in float64. Compared:
logits, the outputs of chosen modules (Grad-CAM layers) and the gradients of Σ gy·logits with
respect to every trainable parameter, the input and those module outputs; attention
probabilities of CAFormer and ViT attention modules.

Exit 0 pass, 1 fail, 77 skip (no torch, or formwork_graphcheck not built).
"""
import json
import os
import subprocess
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import fwref  # noqa: E402
from fwref.safetensors_io import load_safetensors, save_safetensors  # noqa: E402
from fwref.views import get_module  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("FORMWORK_GRAPHCHECK") or os.path.join(
    HERE, "..", "..", "build", "tests", "formwork_graphcheck")
if not os.path.exists(TOOL):
    fwtest.skip(f"formwork_graphcheck not found ({TOOL}); set FORMWORK_GRAPHCHECK")

FWD_TOL, GRAD_TOL = 1e-4, 1e-3  # normalised: max|got - want| / max|want|

# template -> (modules whose outputs and gradients are compared, attention modules)
CASES = {
    "poolformer_s12": (["stages.3", "stages.1.blocks.0"], []),
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


def norm_err(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf")
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-12))


def torch_reference(model, x, gy, layers):
    """Float64 logits, module outputs, and gradients of Σ gy·logits (params, input, outputs)."""
    m = model.double()
    store = {}
    hooks = [get_module(m, name).register_forward_hook(
        lambda mod, args, out, name=name: store.__setitem__(name, out)) for name in layers]
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
    return (logits.detach(), {n: a.detach() for n, a in zip(layers, acts)},
            dict(zip(names, grads[:len(params)])), grads[len(params)],
            {n: g for n, g in zip(layers, grads[len(params) + 1:])})


def main():
    check = fwtest.Checker("executor vs torch")
    gen = torch.Generator().manual_seed(0)
    with fwtest.temp_dir() as work:
        for name, (layers, attn_layers) in CASES.items():
            print(name, flush=True)
            size = SIZES.get(name, (3, 64, 64))
            torch.manual_seed(1)
            model = fwref.build(name, num_classes=10, input_size=size)
            save_safetensors(os.path.join(work, "w.safetensors"),
                             {k: v.detach().float().numpy() for k, v in model.state_dict().items()})
            x = torch.randn(2, *size, generator=gen)
            gy = torch.randn(2, 10, generator=gen)
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
            run = subprocess.run([TOOL, os.path.join(work, "spec.json")], capture_output=True, text=True)
            if not check.ok(f"{name}: formwork_graphcheck runs", run.returncode == 0, run.stderr.strip()):
                continue
            attn_want = [fwref.views.attention_probs(model, x, l, dtype=torch.float64) for l in attn_layers]
            logits, acts, pgrads, xgrad, agrads = torch_reference(model, x, gy, layers)

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
            # Per tensor, relative to its own magnitude, but not below 1e-3 of the largest
            # gradient: some are exactly 0 in exact arithmetic (a norm bias feeding pool(x) - x).
            floor = 1e-3 * max(float(g.abs().max()) for g in pgrads.values())
            worst, worst_name = 0.0, ""
            for pname, want in pgrads.items():
                if pname in got:
                    w = want.numpy()
                    e = float(np.abs(got[pname] - w).max() / max(np.abs(w).max(), floor))
                    if e > worst:
                        worst, worst_name = e, pname
            check.ok(f"{name}: parameter gradients ({len(pgrads)})", worst <= GRAD_TOL,
                     f"worst normalised error {worst:.2e} ({worst_name})")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
