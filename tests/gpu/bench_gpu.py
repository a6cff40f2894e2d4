#!/usr/bin/env python3
"""Formwork's CUDA backend against PyTorch eager (timm's models) on the same GPU in the same run
(issue #14, item 6). Runs on a GPU machine with PyTorch and timm; not part of ctest.

  bench_gpu.py --formwork BIN [--models poolformer_s12,caformer_s18] [--batches 1,64]
               [--repeats 20] [--json OUT.json]

Per model and batch at 3x224x224: inference (eval, no grad) and a training step (training mode,
cross-entropy, backward to every parameter, AdamW), FP32 with TF32 off on both sides. PyTorch:
median over `repeats` timed steps after 5 warm-ups, torch.cuda.synchronize() around each.
Formwork: `formwork bench --device cuda --json` (its median over the same repeats). Prints a
table with images/s and the ratio Formwork / PyTorch (> 1: Formwork faster).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
import timm


def torch_ms(model, batch, train, repeats):
    x = torch.randn(batch, 3, 224, 224, device="cuda")
    y = torch.arange(batch, device="cuda") % 1000
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4) if train else None
    model.train(train)

    def step():
        if train:
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                model(x)

    for _ in range(5):
        step()
    torch.cuda.synchronize()
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        torch.cuda.synchronize()
        t.append((time.perf_counter() - t0) * 1000)
    return statistics.median(t)


def formwork_ms(fw, name, batch, train, repeats):
    cmd = [fw, "bench", name, "--batch", str(batch), "--device", "cuda", "--json", "--repeats",
           str(repeats), "--warmup", "3"] + (["--train"] if train else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return json.loads(r.stdout)["median_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--formwork", required=True)
    ap.add_argument("--models", default="poolformer_s12,caformer_s18")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    rows = []
    print(f"GPU: {torch.cuda.get_device_name(0)}, PyTorch {torch.__version__}, timm {timm.__version__}")
    print(f"{'model':16} {'batch':>5} {'mode':9} {'Formwork ms':>12} {'PyTorch ms':>11} "
          f"{'Formwork img/s':>15} {'PyTorch img/s':>14} {'ratio':>6}")
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = timm.create_model(name, pretrained=False).cuda()
        for b in (int(v) for v in args.batches.split(",")):
            for train in (False, True):
                mode = "train" if train else "inference"
                pt = torch_ms(model, b, train, args.repeats)
                try:
                    fm = formwork_ms(args.formwork, name, b, train, args.repeats)
                except RuntimeError as e:
                    print(f"{name:16} {b:5} {mode:9} FAILED: {e}")
                    rows.append({"model": name, "batch": b, "mode": mode, "error": str(e)})
                    continue
                ratio = pt / fm
                print(f"{name:16} {b:5} {mode:9} {fm:12.2f} {pt:11.2f} {b * 1000 / fm:15.1f} "
                      f"{b * 1000 / pt:14.1f} {ratio:6.2f}")
                rows.append({"model": name, "batch": b, "mode": mode, "formwork_ms": fm,
                             "pytorch_ms": pt, "ratio": ratio})
        del model
        torch.cuda.empty_cache()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
