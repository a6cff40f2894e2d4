#!/usr/bin/env python3
"""Formwork on the GPU against timm itself (issue #14, item 5), and the views on the GPU against
the CPU (item 4). Runs on a GPU machine with PyTorch, timm and safetensors; not part of ctest.

  timm_check.py --formwork BIN --work DIR [--models poolformer_s12,caformer_s18,convformer_s18]

For each model: timm builds it (torch.manual_seed(0), pretrained=False), every parameter gets
seeded noise (std 0.02, so that layer scales of 1e-5 do not hide the blocks), the state_dict is
saved as safetensors, and a seeded batch of 2 images 3x224x224 goes through timm (CPU and GPU,
TF32 off) and through `formwork infer --device cuda` and `--device cpu`. The logits must agree
within 1e-3 of their largest magnitude. For caformer_s18 also Grad-CAM, attention maps and the
zero-cost proxies with --device cuda equal --device cpu. Prints one line per check and exits 1
when any fails.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
import timm
from safetensors.torch import save_file


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--formwork", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", default="poolformer_s12,caformer_s18,convformer_s18")
    ap.add_argument("--tol", type=float, default=1e-3)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    fw = args.formwork
    failed = 0
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    xpath = os.path.join(args.work, "x.npy")
    np.save(xpath, x.numpy())
    for name in args.models.split(","):
        torch.manual_seed(0)
        m = timm.create_model(name, pretrained=False).eval()
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
        w = os.path.join(args.work, f"{name}.safetensors")
        save_file({k: v.detach().contiguous() for k, v in m.state_dict().items()}, w)
        with torch.no_grad():
            ref_cpu = m(x).numpy()
            ref_gpu = m.cuda()(x.cuda()).cpu().numpy()
        print(f"{name}: timm GPU vs timm CPU {rel(ref_gpu, ref_cpu):.2e}")
        for dev in ("cuda", "cpu"):
            y = os.path.join(args.work, f"{name}_{dev}.npy")
            try:
                run([fw, "infer", name, "--weights", w, "--input", xpath, "--out", y,
                     "--device", dev])
                e = rel(np.load(y), ref_cpu)
                ok = e <= args.tol
            except RuntimeError as err:
                e, ok = float("nan"), False
                print(f"  {err}")
            failed += not ok
            print(f"{name}: formwork --device {dev} vs timm: {e:.2e} {'ok' if ok else 'FAIL'}")
        if name != "caformer_s18":
            continue
        # The views on the GPU equal the CPU's.
        views = {
            "gradcam": ["gradcam", name, "--weights", w, "--input", xpath, "--layer", "stages.3",
                        "--class", "3"],
            "attention": ["attention", name, "--weights", w, "--input", xpath, "--layer",
                          "stages.2.blocks.0.token_mixer"],
        }
        for view, cmd in views.items():
            outs = {}
            try:
                for dev in ("cuda", "cpu"):
                    outs[dev] = os.path.join(args.work, f"{view}_{dev}.npy")
                    run([fw] + cmd + ["--out", outs[dev], "--device", dev])
                e = rel(np.load(outs["cuda"]), np.load(outs["cpu"]))
                ok = e <= args.tol
            except RuntimeError as err:
                e, ok = float("nan"), False
                print(f"  {err}")
            failed += not ok
            print(f"{name}: {view} --device cuda vs cpu: {e:.2e} {'ok' if ok else 'FAIL'}")
        labels = os.path.join(args.work, "labels.npy")
        np.save(labels, np.array([3, 7], dtype=np.int64))
        try:
            got = {}
            for dev in ("cuda", "cpu"):
                got[dev] = json.loads(run([fw, "score", name, "--weights", w, "--input", xpath,
                                           "--labels", labels, "--proxies",
                                           "synflow,grad_norm,snip,naswot,jacob_cov", "--json",
                                           "--device", dev]))
            for k in ("synflow", "grad_norm", "snip", "naswot", "jacob_cov"):
                a, b = got["cuda"].get(k), got["cpu"].get(k)
                e = abs(a - b) / max(abs(b), 1e-12) if a is not None and b is not None else float("inf")
                ok = e <= 1e-2
                failed += not ok
                print(f"{name}: proxy {k} cuda {a} cpu {b}: {e:.2e} {'ok' if ok else 'FAIL'}")
        except (RuntimeError, ValueError, TypeError) as err:
            failed += 1
            print(f"{name}: score FAIL: {err}")
    print("timm_check:", "all passed" if not failed else f"{failed} FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
