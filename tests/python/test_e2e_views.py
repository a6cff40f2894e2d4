#!/usr/bin/python3
"""End-to-end `formwork gradcam` and `formwork attention` against fwref.views, at --input-size
3,64,64 (Formwork's own formwork_fm32 / caformer_mini64: 1,32,32 / 1,64,64) --num-classes 10,
batch 2, with the seeded O(1) perturbation of `weights init` weights (e2e_common.perturb: timm's
init makes attention nearly uniform and Grad-CAM almost flat).

Grad-CAM (raw: [B, h, w] at the layer's resolution, before upsampling/normalisation; the
definition is fwref.views' docstring = pytorch-grad-cam's GradCAM):
  * every MetaFormer: `stages.3` (NCHW, 2x2) and `stages.2.blocks.1` (4x4); for caformer_s18 the
    latter is an attention-stage block whose output is tokens [B, 16, 320], reshaped row-major to
    the 4x4 grid; plus `stages.3.blocks.2` (tokens, 2x2) and `stages.1` (8x8);
  * vit_tiny_patch16_224: token outputs [B, 17, 192] with the class token first; the grid is the
    4x4 patch grid and the class token is DROPPED from both activations and gradients (as
    pytorch-grad-cam's ViT reshape_transform does), so the channel weights α are the mean gradient
    over patch tokens only. Consequence, checked explicitly: at `blocks.11` the logits depend on
    the class token alone (final norm is per token, the head reads token 0), the patch-token
    gradient is exactly 0 and the raw CAM is all zeros (|cam| ≤ 1e-6). `blocks.10` and `blocks.5`
    give non-trivial maps (their patch tokens reach the class token through later attention).
  * formwork_fm32: `stages.1` (4x4), `stages.1.blocks.0` (attention block, tokens [B, 16, 96]),
    `stages.0` (8x8); caformer_mini64: `stages.2` (4x4), `stages.2.blocks.0` (tokens),
    `stages.1` (8x8), `stages.0.blocks.0` (16x16).
  * checks: shape, non-negative, normalised error max|got - want| / max|want| ≤ 1e-4 against the
    float32 reference (whose own error against float64 is ≤ 1e-5 here), reference non-trivial.
Attention probabilities [B, heads, N, N]: caformer_s18 `stages.2.blocks.0.token_mixer` (10 heads,
16 tokens), `stages.3.blocks.2.token_mixer` (16 heads, 4 tokens); ViT `blocks.0.attn`,
`blocks.11.attn` (3 heads, 17 tokens: class token at index 0); formwork_fm32
`stages.1.blocks.{0,1}.token_mixer` (3 heads, 16 tokens); caformer_mini64
`stages.2.blocks.1.token_mixer` (4 heads, 16 tokens); rows sum to 1, normalised error
≤ 1e-4, and the reference rows are far from uniform (max ≥ 2/N). `--png` of each command (once,
on caformer_s18) writes a PNG.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch); a missing command FAILS.
"""
import os
import struct
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402
from fwref import views  # noqa: E402

NORM_TOL = 1e-4
SEED = 5
# (layer, class, grid h = w)
MF_CAMS = [("stages.3", 3, 2), ("stages.2.blocks.1", 7, 4)]
EXTRA_CAMS = {"caformer_s18": [("stages.3.blocks.2", 1, 2), ("stages.1", 4, 8)]}
VIT_CAMS = [("blocks.11", 3, 4), ("blocks.10", 7, 4), ("blocks.5", 2, 4)]
# Formwork's own templates have 2 / 3 stages (no stages.3): their layers instead of MF_CAMS.
OWN_CAMS = {"formwork_fm32": [("stages.1", 3, 4), ("stages.1.blocks.0", 7, 4), ("stages.0", 1, 8)],
            "caformer_mini64": [("stages.2", 3, 4), ("stages.2.blocks.0", 7, 4), ("stages.1", 4, 8),
                                ("stages.0.blocks.0", 1, 16)]}
ATTN = {"caformer_s18": [("stages.2.blocks.0.token_mixer", 10, 16), ("stages.3.blocks.2.token_mixer", 16, 4)],
        E.VIT: [("blocks.0.attn", 3, 17), ("blocks.11.attn", 3, 17)],
        "formwork_fm32": [("stages.1.blocks.0.token_mixer", 3, 16), ("stages.1.blocks.1.token_mixer", 3, 16)],
        "caformer_mini64": [("stages.2.blocks.1.token_mixer", 4, 16)]}
PNG_FOR = "caformer_s18"


def check_png(check, label, path):
    """A PNG file: signature and an IHDR chunk with a positive size."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError as e:
        return check.ok(label, False, str(e))
    good = len(head) == 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    w, h = struct.unpack(">II", head[16:24]) if good else (0, 0)
    return check.ok(label, good and w > 0 and h > 0, f"{w}x{h}" if good else f"starts {head[:16]!r}")


def compare_cam(check, label, got, want, zero_expected=False):
    check.ok(f"{label}: non-negative", bool(np.all(got >= 0)), f"min {float(got.min()):.3g}")
    if zero_expected:
        check.ok(f"{label}: all zeros (patch-token gradient is 0; class token dropped)",
                 float(np.abs(got).max()) <= 1e-6, f"max|cam| {float(np.abs(got).max()):.3g}")
        return
    scale = float(np.abs(want).max())
    check.ok(f"{label}: reference is non-trivial", scale > 1e-6 and float(np.mean(want > 0)) > 0.05,
             f"max {scale:.3g}, {100 * float(np.mean(want > 0)):.0f}% positive")
    check.close(f"{label}: vs fwref.views.gradcam", got, want, atol=NORM_TOL * scale, rtol=0)


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("e2e views")
    with fwtest.temp_dir("fwtest-views-") as d:
        for arch in E.MODELS:
            print(arch, flush=True)
            x = E.random_input(21, batch=2, size=E.input_size(arch))
            xpath = fwtest.save_npy(os.path.join(d, f"{arch}-x.npy"), x)
            try:
                wpath, tensors = E.perturbed_weights(arch, SEED, d)
                model = E.ref_model(arch, tensors)
            except (fwtest.FormworkError, ValueError) as e:
                check.ok(f"{arch}: weights", False, str(e)[:600])
                continue
            del tensors
            common = ["--weights", wpath, "--input", xpath, *E.size_opts(arch)]
            cams = (VIT_CAMS if arch == E.VIT else OWN_CAMS[arch] if arch in OWN_CAMS
                    else MF_CAMS + EXTRA_CAMS.get(arch, []))
            for i, (layer, k, hw) in enumerate(cams):
                label = f"{arch} gradcam {layer} class {k}"
                out = os.path.join(d, f"{arch}-cam{i}.npy")
                png = ["--png", os.path.join(d, "cam.png")] if arch == PNG_FOR and i == 0 else []
                if not E.run(check, f"{label}: runs",
                             ["gradcam", arch, *common, "--layer", layer, "--class", k, "--out", out, *png]):
                    continue
                got = E.load_output(check, label, out, (x.shape[0], hw, hw))
                if png:
                    check_png(check, f"{label}: --png writes a PNG", png[1])
                if got is None:
                    continue
                want = views.gradcam(model, x, layer, k)
                compare_cam(check, label, got, want, zero_expected=(arch == E.VIT and layer == "blocks.11"))
            for i, (layer, heads, n) in enumerate(ATTN.get(arch, [])):
                label = f"{arch} attention {layer}"
                out = os.path.join(d, f"{arch}-attn{i}.npy")
                png = ["--png", os.path.join(d, "attn.png")] if arch == PNG_FOR and i == 0 else []
                if not E.run(check, f"{label}: runs", ["attention", arch, *common, "--layer", layer, "--out", out, *png]):
                    continue
                got = E.load_output(check, label, out, (x.shape[0], heads, n, n))
                if png:
                    check_png(check, f"{label}: --png writes a PNG", png[1])
                if got is None:
                    continue
                want = views.attention_probs(model, x, layer)
                rows = got.astype(np.float64).sum(-1)
                check.ok(f"{label}: rows sum to 1", float(np.abs(rows - 1).max()) <= 1e-5,
                         f"max |row sum - 1| {float(np.abs(rows - 1).max()):.2e}")
                check.ok(f"{label}: reference rows are far from uniform", float(want.max()) >= 2.0 / n,
                         f"max prob {float(want.max()):.3f} vs uniform {1.0 / n:.3f}")
                check.close(f"{label}: vs fwref.views.attention_probs", got, want,
                            atol=NORM_TOL * float(np.abs(want).max()), rtol=0)
            del model
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
