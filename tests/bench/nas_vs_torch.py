#!/usr/bin/python3
"""Search speed against PyTorch, measured in the same run (a benchmark, not a test): subnets scored
per second with the five zero-cost proxies plus params and MACs, at the sample's input size.

Formwork: `formwork nas P --strategy random --budget N --objectives synflow_log:max,grad_norm:max,
snip:max,naswot:max,jacob_cov:max,params:min,macs:min --threads T --proxy-input X --proxy-labels L`
on a copy of the bundled sample with the search space below (the same one as README's example),
timed as the wall time of the command (start-up and the project writes included).
PyTorch: the same N subnets (read back with `formwork results`), each built by tests/python/fwref
(the tests' PyTorch MetaFormer, timm's structure) with timm's init, the same five proxies computed
by fwref.proxies in float32 on the same batch (synflow_log by the same formula in float32 here:
fwref's oracle runs it in float64) (torch.set_num_threads(T); Debian's PyTorch, install
libopenblas0-pthread for its fast BLAS), params counted and MACs by fwref.macs, model construction
included. Prints subnets/s for both and the ratio Formwork/PyTorch (> 1: Formwork faster).

Usage: /usr/bin/python3 tests/bench/nas_vs_torch.py [--formwork build/app/formwork] [--budget 40]
       [--threads 2] [--batch 16]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "python"))

SPACE = {"choices": [
    {"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "sepconv", "attention"]},
    {"node": "stages.1", "attr": "depth", "values": [1, 2, 3]},
    {"node": "stages.2", "attr": "token_mixer", "values": ["attention", "pooling"]},
    {"node": "stages.2", "attr": "depth", "values": [1, 2]},
    {"node": "stages.1", "attr": "dim", "values": [48, 64, 96]}]}
PROXIES = ["synflow_log", "grad_norm", "snip", "naswot", "jacob_cov"]
MIXER = {"pooling": "pool", "sepconv": "sepconv", "attention": "attention", "identity": "identity",
         "random_mixing": "random"}


def torch_spec(fwref, choices):
    """fwref's spec of caformer_mini64 with the subnet's choices applied."""
    spec = dict(fwref.models.TEMPLATE_SPECS["caformer_mini64"])
    mixers, depths, dims = list(spec["mixers"]), list(spec["depths"]), list(spec["dims"])
    for label, v in choices.items():
        node, attr = label.rsplit(".", 1)
        i = int(node.split(".")[1])
        if attr == "token_mixer":
            mixers[i] = MIXER[v]
        elif attr == "depth":
            depths[i] = int(v)
        elif attr == "dim":
            dims[i] = int(v)
        else:
            raise ValueError(f"the benchmark does not map {label}")
    spec.update(mixers=tuple(mixers), depths=tuple(depths), dims=tuple(dims),
                norm=tuple("lnnb" if m == "attention" else "ln2dnb" for m in mixers))
    return spec


def synflow_log32(torch, fwref, model, input_size):
    """fwref's synflow_log computed in float32 (fwref's oracle runs in float64; Formwork computes in
    float32 and sums in double), so that both sides do the same work."""
    import copy
    import math
    m = copy.deepcopy(model)
    with torch.no_grad():
        for t in m.state_dict().values():
            t.abs_()
    x = torch.ones((1, *input_size))
    ws = [mod.weight for _, mod in fwref.proxies.weight_layers(m)]
    gs = torch.autograd.grad(m(x).sum(), ws, allow_unused=True)
    logs = [torch.logsumexp((w.abs().log() + g.abs().log()).reshape(-1).double(), 0)
            for w, g in zip(ws, gs) if g is not None]
    return float(torch.logsumexp(torch.stack(logs), 0)) if logs else -math.inf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--formwork", default=os.path.join(ROOT, "build", "app", "formwork"))
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()

    import numpy as np
    import torch
    import fwref
    import fwref.models
    import fwref.proxies

    torch.set_num_threads(args.threads)
    d = tempfile.mkdtemp(prefix="fw-nasbench-")
    try:
        p = os.path.join(d, "p.formwork")
        shutil.copy(os.path.join(ROOT, "assets", "sample.formwork"), p)
        with open(os.path.join(d, "space.json"), "w") as f:
            json.dump(SPACE, f)
        subprocess.run([args.formwork, "space", p, "--set", os.path.join(d, "space.json")], check=True,
                       capture_output=True)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((args.batch, 1, 64, 64)).astype(np.float32)
        y = (np.arange(args.batch) % 10).astype(np.int64)
        np.save(os.path.join(d, "x.npy"), x)
        np.save(os.path.join(d, "y.npy"), y)
        objectives = ",".join(f"{m}:max" for m in PROXIES) + ",params:min,macs:min"
        t0 = time.perf_counter()
        subprocess.run([args.formwork, "nas", p, "--strategy", "random", "--budget", str(args.budget), "--objectives",
                        objectives, "--threads", str(args.threads), "--proxy-input", os.path.join(d, "x.npy"),
                        "--proxy-labels", os.path.join(d, "y.npy"), "--quiet"], check=True, capture_output=True)
        fw_s = time.perf_counter() - t0
        rows = json.loads(subprocess.run([args.formwork, "results", p, "--json"], check=True, capture_output=True,
                                         text=True).stdout)
        rows = [r for r in rows if r["status"] in ("ok", "failed")]
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        t0 = time.perf_counter()
        for r in rows:
            model = fwref.models.MetaFormer(torch_spec(fwref, r["choices"]), 10, 1, (64, 64), device="meta")
            model = model.to_empty(device="cpu")
            fwref.models.init_weights(model)
            model.eval()
            synflow_log32(torch, fwref, model, (1, 64, 64))
            fwref.proxies.compute_proxies(model, xt, yt, [m for m in PROXIES if m != "synflow_log"],
                                          dtype=torch.float32)
            fwref.count_params(model)
            fwref.macs(model, (1, 64, 64))
        torch_s = time.perf_counter() - t0
        n = len(rows)
        print(f"subnets scored (5 proxies + params + MACs, caformer_mini64 space at 1x64x64, batch {args.batch}, "
              f"{args.threads} threads): {n}")
        print(f"  Formwork  {n / fw_s:8.2f} subnets/s  ({fw_s:.2f} s, whole command)")
        print(f"  PyTorch   {n / torch_s:8.2f} subnets/s  ({torch_s:.2f} s)")
        print(f"  ratio Formwork/PyTorch: {torch_s / fw_s:.2f}  (> 1: Formwork faster)")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
