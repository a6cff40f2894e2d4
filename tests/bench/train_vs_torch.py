#!/usr/bin/python3
"""Training throughput of Formwork against PyTorch in the same run (a benchmark, not a test).

One training step = forward in training mode, cross-entropy, backward to every parameter, AdamW
update. Formwork: `formwork bench ARCH --train --batch B --threads T --json`; PyTorch: the same
model from tests/python/fwref with torch.optim.AdamW and torch.set_num_threads(T). Prints
images/s of each and the ratio Formwork/PyTorch (goal >= 1: at least as fast).

Usage: /usr/bin/python3 tests/bench/train_vs_torch.py [--formwork build/app/formwork] [--threads 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

CASES = [  # template, input size, classes, batch
    ("formwork_fm32", (1, 32, 32), 10, 128),
    ("poolformer_s12", (3, 64, 64), 10, 64),
    ("caformer_s18", (3, 64, 64), 10, 64),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--formwork", default=os.environ.get("FORMWORK_BIN", os.path.join(HERE, "..", "..", "build", "app", "formwork")))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    import torch
    import torch.nn.functional as F
    import fwref
    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, median of {args.repeats} training steps after warm-up")
    print(f"{'model':<16} {'input':>9} {'batch':>5} {'formwork img/s':>15} {'pytorch img/s':>14} {'ratio':>6}")
    for name, size, classes, batch in CASES:
        shape = ",".join(map(str, size))
        r = subprocess.run([args.formwork, "bench", name, "--train", "--batch", str(batch), "--threads", str(args.threads),
                            "--input-size", shape, "--num-classes", str(classes), "--repeats", str(args.repeats), "--json"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"formwork bench failed: {r.stderr.strip()}", file=sys.stderr)
            return 1
        fw_ips = json.loads(r.stdout)["images_per_s"]
        model = fwref.build(name, num_classes=classes, input_size=size).train()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        x = torch.randn(batch, *size)
        y = torch.arange(batch) % classes
        times = []
        for i in range(3 + args.repeats):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
            if i >= 3:
                times.append(time.perf_counter() - t0)
        pt_ips = batch / statistics.median(times)
        print(f"{name:<16} {'x'.join(map(str, size)):>9} {batch:>5} {fw_ips:>15.0f} {pt_ips:>14.0f} {fw_ips / pt_ips:>6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
