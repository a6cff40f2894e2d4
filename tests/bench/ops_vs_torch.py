#!/usr/bin/python3
"""Formwork's CPU fast paths vs PyTorch on the same layer shapes, at 1 and 2 threads.

    /usr/bin/python3 tests/bench/ops_vs_torch.py [--bench build/tests/formwork_bench_ops]
                                                 [--batch 1] [--threads 1,2] [--filter S]

Runs formwork_bench_ops --json and times the same ops with PyTorch (forward under no_grad;
backward = autograd.grad of all inputs and parameters from a retained graph), best of repeats
(the minimum: the least disturbed by other processes on a shared machine).
Prints per case: formwork and torch milliseconds and the ratio torch/formwork (> 1: Formwork is
faster). Not a test: timings depend on the machine and its load.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def attention(qkv, h, d):
    B, N, _ = qkv.shape
    q, k, v = qkv.reshape(B, N, 3, h, d).permute(2, 0, 3, 1, 4)
    attn = torch.softmax(q @ k.transpose(-2, -1) * d ** -0.5, -1)
    return (attn @ v).transpose(1, 2).reshape(B, N, h * d)


def random_mixing(x, R):
    B, C, H, W = x.shape
    return torch.einsum("mn,bcn->bcm", R, x.reshape(B, C, H * W)).reshape(B, C, H, W)


# name -> (per-sample input shape, parameter shapes, fn(x, *params))
CASES = {
    "conv7x7s4_3to64_224": ((3, 224, 224), [(64, 3, 7, 7), (64,)],
                            lambda x, w, b: F.conv2d(x, w, b, 4, 2)),
    "conv1x1_64to256_56": ((64, 56, 56), [(256, 64, 1, 1), (256,)], lambda x, w, b: F.conv2d(x, w, b)),
    "conv1x1_256to64_56": ((256, 56, 56), [(64, 256, 1, 1), (64,)], lambda x, w, b: F.conv2d(x, w, b)),
    "conv3x3s2_64to128_56": ((64, 56, 56), [(128, 64, 3, 3), (128,)],
                             lambda x, w, b: F.conv2d(x, w, b, 2, 1)),
    "dwconv7x7_128_56": ((128, 56, 56), [(128, 1, 7, 7), (128,)],
                         lambda x, w, b: F.conv2d(x, w, b, 1, 3, 1, 128)),
    "linear_3136x64to256": ((3136, 64), [(256, 64), (256,)], F.linear),
    "linear_196x320to1280": ((196, 320), [(1280, 320), (1280,)], F.linear),
    "pool_mixer_64_56": ((64, 56, 56), [],
                         lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False) - x),
    "group_norm_64_56": ((64, 56, 56), [(64,), (64,)], lambda x, w, b: F.group_norm(x, 1, w, b)),
    "layer_norm2d_64_56": ((64, 56, 56), [(64,), (64,)],
                           lambda x, w, b: F.layer_norm(x.permute(0, 2, 3, 1), (64,), w, b, 1e-6)
                           .permute(0, 3, 1, 2)),
    "layer_norm_196x320": ((196, 320), [(320,), (320,)],
                           lambda x, w, b: F.layer_norm(x, (320,), w, b, 1e-6)),
    "gelu_256_56": ((256, 56, 56), [], F.gelu),
    "attention_196_h10_d32": ((196, 960), [], lambda x: attention(x, 10, 32)),
    "attention_49_h16_d32": ((49, 1536), [], lambda x: attention(x, 16, 32)),
    "random_mixing_320_14": ((320, 14, 14), [(196, 196)], random_mixing),
}


def time_ms(fn):
    fn()
    fn()
    ts = []
    start = time.perf_counter()
    while len(ts) < 5 or (len(ts) < 40 and time.perf_counter() - start < 0.25):
        a = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - a) * 1e3)
    return min(ts)


def torch_times(name, batch):
    shape, pshapes, fn = CASES[name]
    x = torch.randn((batch,) + shape)
    ps = [torch.randn(s) for s in pshapes]
    with torch.no_grad():
        fwd = time_ms(lambda: fn(x, *ps))
    xg = x.clone().requires_grad_()
    pg = [p.clone().requires_grad_() for p in ps]
    out = fn(xg, *pg)
    gy = torch.randn_like(out)
    bwd = time_ms(lambda: torch.autograd.grad(out, [xg] + pg, gy, retain_graph=True))
    return fwd, bwd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.environ.get(
        "FORMWORK_BENCH_OPS", os.path.join(HERE, "..", "..", "build", "tests", "formwork_bench_ops")))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--filter", default="")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, batch {args.batch}; ratio = torch ms / formwork ms (> 1: faster)")
    print(f"{'case':24s} {'thr':>3s} | {'fw fwd':>8s} {'torch':>8s} {'ratio':>6s} | "
          f"{'fw bwd':>8s} {'torch':>8s} {'ratio':>6s}")
    ratios = []
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        cmd = [args.bench, "--json", "--threads", str(threads), "--batch", str(args.batch)]
        if args.filter:
            cmd += ["--filter", args.filter]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        for line in res.stdout.splitlines():
            r = json.loads(line)
            tf, tb = torch_times(r["name"], args.batch)
            rf, rb = tf / r["fwd_ms"], tb / r["bwd_ms"]
            ratios += [rf, rb]
            print(f"{r['name']:24s} {threads:3d} | {r['fwd_ms']:8.3f} {tf:8.3f} {rf:6.2f} | "
                  f"{r['bwd_ms']:8.3f} {tb:8.3f} {rb:6.2f}", flush=True)
    if ratios:
        geo = 1.0
        for r in ratios:
            geo *= r
        print(f"geometric mean ratio: {geo ** (1 / len(ratios)):.2f}; "
              f"min {min(ratios):.2f}, max {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
