#!/usr/bin/python3
"""End-to-end `formwork infer` against the PyTorch reference models (fwref), for poolformer_s12,
poolformerv2_s12, convformer_s18, caformer_s18, identityformer_s12, randformer_s12 and
vit_tiny_patch16_224 at --input-size 3,64,64, and Formwork's own formwork_fm32 / caformer_mini64 at
their default 1,32,32 / 1,64,64; --num-classes 10, batch 2.

Per template:
  1. `formwork weights init ARCH --seed S` → the file loads *strictly* into the fwref model (same
     names and shapes, nothing missing or extra);
  2. `formwork infer` with those init weights == torch float32 logits (max abs ≤ 1e-4);
  3. the same with the seeded O(1) perturbation of the weights (e2e_common.perturb: init logits are
     small and PoolFormer's 1e-5 layer scale hides its blocks), logits checked to be O(1) and
     input-dependent first: max abs ≤ 1e-4;
  4. `--threads 1` gives the same logits as the default (max abs ≤ 2e-5: float reassociation only; bit-identity reported).
The torch reference runs in float32 (its own error against float64 is ≤ 6e-6 here, far below the
tolerance; float64 depthwise convolutions are too slow on the CPU for this suite).
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch); a missing command FAILS.
"""
import os
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402

ATOL = 1e-4
THREADS_ATOL = 2e-5
SEED = 3


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("e2e infer")
    with fwtest.temp_dir("fwtest-infer-") as d:
        for arch in E.MODELS:
            print(arch, flush=True)
            x = E.random_input(11, batch=2, size=E.input_size(arch))
            xpath = fwtest.save_npy(os.path.join(d, f"{arch}-x.npy"), x)
            init_path = os.path.join(d, f"{arch}-init.safetensors")
            try:
                base = E.init_weights(arch, SEED, init_path)
            except fwtest.FormworkError as e:
                check.ok(f"{arch}: weights init", False, str(e))
                continue
            try:
                m0 = E.ref_model(arch, base)
                check.ok(f"{arch}: init weights load strictly into the reference ({len(base)} tensors)", True)
            except ValueError as e:
                check.ok(f"{arch}: init weights load strictly into the reference", False, str(e)[:600])
                continue
            shape = (x.shape[0], E.NUM_CLASSES)
            # -- init weights --
            out0 = os.path.join(d, f"{arch}-init-y.npy")
            if E.run(check, f"{arch}: infer (init weights)",
                     ["infer", arch, "--weights", init_path, "--input", xpath, "--out", out0, *E.size_opts(arch)]):
                y = E.load_output(check, f"{arch}: infer (init)", out0, shape)
                if y is not None:
                    check.close(f"{arch}: logits, init weights", y, E.ref_logits(m0, x), ATOL, 0)
            del m0
            # -- perturbed weights (O(1) everywhere) --
            pert = E.perturb(base, SEED)
            del base
            wpath = os.path.join(d, f"{arch}-pert.safetensors")
            import fwref
            fwref.save_safetensors(wpath, pert)
            want = E.ref_logits(E.ref_model(arch, pert), x)
            del pert
            big, spread = float(np.abs(want).max()), float(np.abs(want[0] - want[1]).max())
            check.ok(f"{arch}: reference logits are O(1) and input-dependent", 0.3 <= big <= 100 and spread > 0.05,
                     f"max|logit| {big:.3g}, max sample difference {spread:.3g}")
            outs = {}
            for label, extra in (("default threads", []), ("--threads 1", ["--threads", "1"])):
                out = os.path.join(d, f"{arch}-y-{len(extra)}.npy")
                if E.run(check, f"{arch}: infer ({label})",
                         ["infer", arch, "--weights", wpath, "--input", xpath, "--out", out, *extra, *E.size_opts(arch)]):
                    outs[label] = E.load_output(check, f"{arch}: infer ({label})", out, shape)
            y = outs.get("default threads")
            if y is not None:
                check.close(f"{arch}: logits, perturbed weights", y, want, ATOL, 0)
            y1 = outs.get("--threads 1")
            if y is not None and y1 is not None:
                same = bool(np.array_equal(y, y1))
                check.close(f"{arch}: --threads 1 == default{' (bit-identical)' if same else ' (NOT bit-identical)'}",
                            y1, y, THREADS_ATOL, 0)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
