#!/usr/bin/python3
"""Inference speed of Formwork against PyTorch and ONNX Runtime, measured in the same run (a
benchmark, not a test).

For each model and batch size it runs `formwork bench ARCH --batch B --threads T --json` and the
same model built by tests/python/fwref in PyTorch with torch.set_num_threads(T) (Debian's
PyTorch; install libopenblas0-pthread for its fast BLAS), both warmed up and timed as the median
of repeats, and prints the ratio Formwork/PyTorch of the median latencies (< 1: Formwork is
faster). The second peer is ONNX Runtime (npm onnxruntime-node in tests/node, run by node through
tests/node/ort_run.js): the same model exported by `formwork export --onnx`, the same batch,
intra-op threads = T, graph optimisations all, sequential execution; ratio Formwork/ORT likewise.
It also reports the peak resident memory of `formwork infer` on poolformer_s12, batch 1, 3x224x224.

Usage: /usr/bin/python3 tests/bench/bench_vs_torch.py [--formwork build/app/formwork]
       [--threads 2] [--models poolformer_s12,caformer_s18] [--batches 1,8] [--size 224] [--no-ort]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))


def torch_median_ms(model, x, repeats, warmup):
    import torch
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


ORT_DIR = os.path.normpath(os.path.join(HERE, "..", "node"))


def ort_median_ms(onnx_path, x_path, threads, repeats):
    out = subprocess.run(["node", os.path.join(ORT_DIR, "ort_run.js"), onnx_path, x_path, "--bench", str(repeats),
                          "--threads", str(threads)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"ONNX Runtime failed: {out.stderr.strip()}")
    return json.loads(out.stdout)["median_ms"]


def peak_rss_mb(formwork, threads):
    """Peak resident memory of `formwork infer poolformer_s12` (batch 1, 3x224x224). Measured before
    this script imports NumPy or PyTorch: a child's ru_maxrss also counts the pages of the forked
    Python process before its exec, so the parent must still be small (~10 MB)."""
    import array
    with tempfile.TemporaryDirectory() as tmp:
        w = os.path.join(tmp, "w.safetensors")
        x = os.path.join(tmp, "x.npy")
        y = os.path.join(tmp, "y.npy")
        subprocess.run([formwork, "weights", "init", "poolformer_s12", "--seed", "0", "--out", w],
                       check=True, capture_output=True)
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }"
        header += " " * (63 - (10 + len(header)) % 64) + "\n"
        values = array.array("f", [((i * 7919) % 1000) / 500.0 - 1.0 for i in range(3 * 224 * 224)])
        with open(x, "wb") as f:
            f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
            f.write(values.tobytes())
        proc = subprocess.Popen([formwork, "infer", "poolformer_s12", "--weights", w, "--input", x,
                                 "--out", y, "--threads", str(threads)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            raise RuntimeError(f"formwork infer failed: {proc.stderr.read().decode().strip()}")
        return usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--formwork", default=os.environ.get("FORMWORK_BIN", os.path.join(HERE, "..", "..", "build", "app", "formwork")))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="poolformer_s12,caformer_s18")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--no-ort", action="store_true", help="leave ONNX Runtime out")
    args = ap.parse_args()
    use_ort = not args.no_ort and os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node"))
    if not args.no_ort and not use_ort:
        print("(ONNX Runtime is not installed in tests/node: scripts/setup.sh installs it; running without it)")
    rss = peak_rss_mb(args.formwork, args.threads)

    import numpy as np
    import torch
    import fwref

    torch.set_num_threads(args.threads)
    size = f"3,{args.size},{args.size}"
    rows = []
    print(f"threads {args.threads}, input 3x{args.size}x{args.size}, median of {args.repeats} after warm-up")
    print(f"{'model':<16} {'batch':>5} {'formwork ms':>12} {'pytorch ms':>11} {'ratio':>7}"
          + (f" {'ORT ms':>9} {'ratio':>7}" if use_ort else ""))
    tmp = tempfile.TemporaryDirectory()
    for name in args.models.split(","):
        model = fwref.build(name, num_classes=1000, input_size=(3, args.size, args.size)).eval()
        onnx_path = os.path.join(tmp.name, f"{name}.onnx")
        if use_ort:
            subprocess.run([args.formwork, "export", name, "--input-size", size, "--init-seed", "0", "--onnx", onnx_path],
                           check=True, capture_output=True)
        for b in [int(v) for v in args.batches.split(",")]:
            out = subprocess.run([args.formwork, "bench", name, "--batch", str(b), "--threads", str(args.threads),
                                  "--input-size", size, "--repeats", str(args.repeats), "--json"],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                print(f"formwork bench failed: {out.stderr.strip()}", file=sys.stderr)
                return 1
            fw_ms = json.loads(out.stdout)["median_ms"]
            x = torch.randn(b, 3, args.size, args.size)
            pt_ms = torch_median_ms(model, x, args.repeats, warmup=3)
            line = f"{name:<16} {b:>5} {fw_ms:>12.2f} {pt_ms:>11.2f} {fw_ms / pt_ms:>7.2f}"
            if use_ort:
                x_path = os.path.join(tmp.name, f"x{b}.npy")
                np.save(x_path, x.numpy())
                ort_ms = ort_median_ms(onnx_path, x_path, args.threads, args.repeats)
                line += f" {ort_ms:>9.2f} {fw_ms / ort_ms:>7.2f}"
            rows.append((name, b, fw_ms, pt_ms))
            print(line, flush=True)

    print(f"peak RSS, formwork infer poolformer_s12 batch 1, 3x224x224: {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
