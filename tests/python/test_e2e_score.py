#!/usr/bin/python3
"""End-to-end `formwork score ... --proxies synflow,grad_norm,snip,naswot,jacob_cov --json` against
fwref.proxies (definitions: its module docstring) for poolformer_s12 (GELU MLPs), caformer_s18
(StarReLU, SepConv + attention, SquaredReLU head) and vit_tiny_patch16_224 (GELU, attention), at
--input-size 3,64,64 --num-classes 10, batch 3 (so jacob_cov has 3 eigenvalues and NASWOT's K is
3x3), seeded labels, and the seeded O(1) perturbation of the `weights init` weights
(e2e_common.perturb; with timm's init PoolFormer's 1e-5 layer scale would make the block weights
invisible in every proxy).

What is achievable. Formwork computes in float32 (synflow in double, as its definition needs: the
absolute-valued network is evaluated once and summed in log space). The reference runs grad_norm,
snip, naswot and jacob_cov in float32 too (measured here against float64: ≤ 2e-5 relative; NASWOT's
binary codes identical) and synflow/synflow_log in float64. Tolerances: relative 1e-3 for synflow,
grad_norm, snip, naswot, jacob_cov; absolute 1e-3 on synflow_log (= 1e-3 relative on synflow).
Also: the JSON object has every requested proxy plus synflow_log, params, macs, latency_ms; no
value is null/NaN/inf; params and macs are integers equal to `formwork info --json`'s (and
fwref's counts); latency_ms > 0.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch); a missing command FAILS.
"""
import json
import math
import os
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402
import fwref  # noqa: E402
from fwref import proxies  # noqa: E402

ARCHS = [a for a in ("poolformer_s12", "caformer_s18", E.VIT) if a in E.MODELS]
PROXIES = ["synflow", "grad_norm", "snip", "naswot", "jacob_cov"]
RTOL = 1e-3
LOG_ATOL = 1e-3
BATCH = 3
SEED = 9


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("e2e score")
    with fwtest.temp_dir("fwtest-score-") as d:
        x = E.random_input(31, batch=BATCH)
        labels = np.random.default_rng(32).integers(0, E.NUM_CLASSES, BATCH).astype(np.int64)
        xpath = fwtest.save_npy(os.path.join(d, "x.npy"), x)
        lpath = fwtest.save_npy(os.path.join(d, "labels.npy"), labels, dtype=np.int64)
        for arch in ARCHS:
            print(arch, flush=True)
            try:
                wpath, tensors = E.perturbed_weights(arch, SEED, d)
                model = E.ref_model(arch, tensors)
            except (fwtest.FormworkError, ValueError) as e:
                check.ok(f"{arch}: weights", False, str(e)[:600])
                continue
            del tensors
            res = E.run(check, f"{arch}: score runs",
                        ["score", arch, "--weights", wpath, "--input", xpath, "--labels", lpath,
                         "--proxies", ",".join(PROXIES), "--json", *E.SIZE_OPTS])
            got = None
            if res is not None:
                try:
                    got = json.loads(res.stdout)
                    if not isinstance(got, dict):
                        raise ValueError(f"a JSON {type(got).__name__}, not an object")
                except ValueError as e:
                    check.ok(f"{arch}: stdout is one JSON object", False, f"{e}; stdout {res.stdout[:200]!r}")
                    got = None
            info_res = E.run(check, f"{arch}: info --json runs", ["info", arch, "--json", *E.SIZE_OPTS])
            info = json.loads(info_res.stdout) if info_res is not None else {}
            # -- reference --
            want = proxies.compute_proxies(model, x, labels, ["grad_norm", "snip", "naswot", "jacob_cov"],
                                           dtype=torch.float32)
            want["synflow"], want["synflow_log"] = proxies.synflow_and_log(model, E.INPUT_SIZE)
            total, _ = fwref.count_params(model)
            ref_macs = fwref.macs(fwref.build(arch, E.NUM_CLASSES, E.INPUT_SIZE, device="meta"), E.INPUT_SIZE)
            del model
            print("  reference: " + ", ".join(f"{k} {v:.6g}" for k, v in want.items()), flush=True)
            if got is None:
                continue
            keys = PROXIES + ["synflow_log", "params", "macs", "latency_ms"]
            missing = [k for k in keys if k not in got]
            check.ok(f"{arch}: JSON has {', '.join(keys)}", not missing, f"missing {missing}" if missing else "")
            bad = [f"{k}={got[k]!r}" for k in keys if k in got and not is_number(got[k])]
            check.ok(f"{arch}: every value is a finite number (no null/NaN/inf)", not bad, ", ".join(bad))
            for k in PROXIES:
                if k in got and is_number(got[k]):
                    check.close(f"{arch}: {k}", np.float64(got[k]), np.float64(want[k]), 0, RTOL)
            if is_number(got.get("synflow_log")):
                check.close(f"{arch}: synflow_log", np.float64(got["synflow_log"]), np.float64(want["synflow_log"]),
                            LOG_ATOL, 0)
            ints = [f"{k}={got.get(k)!r}" for k in ("params", "macs") if not isinstance(got.get(k), int)]
            check.ok(f"{arch}: params and macs are JSON integers (as in info --json)", not ints, ", ".join(ints))
            check.equal(f"{arch}: params == info --json params", got.get("params"), info.get("params"))
            check.equal(f"{arch}: macs == info --json macs", got.get("macs"), info.get("macs"))
            check.equal(f"{arch}: params == fwref count", got.get("params"), total)
            check.equal(f"{arch}: macs == fwref MACs", got.get("macs"), ref_macs)
            lat = got.get("latency_ms")
            check.ok(f"{arch}: latency_ms > 0", is_number(lat) and lat > 0, f"{lat!r}")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
