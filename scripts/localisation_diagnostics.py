#!/usr/bin/python3
"""Why the pointing game of the README's localisation study misses: the diagnostics behind its
bullet points, on the same held-out fashion-mnist-placed images.

    scripts/localisation_diagnostics.py [--project assets/sample.formwork] [--limit 500]
                                        [--layers stages.0,stages.1,stages.2] [--method M]
                                        [--occlusion N]

For each layer (Grad-CAM, class = the true label): the hit rate as CONTRACT.md defines it; the
same with the peak taken at the centre of the maximum cell of the raw map instead of the first
maximum of the upsampled one (the clamped border plateau); the share of peaks within 3 px of the
image edge and their hit rate; peaks on clutter (a non-zero pixel outside the box); the hit rate
among correctly classified images; the map's mass per pixel inside the box over its mean; the mean
distance from the peak to the box centre. Baselines: a random pixel, the image centre.
`--occlusion N`: also, for the first N images, the model's own answer without any CAM: each 8x8
patch (stride 4) set to the background value in turn, the pixel where the class probability
drops most on average — does the model depend on the object? Uses
`formwork data export`, `infer` and `gradcam` (FORMWORK_BIN, default build/app/formwork) and Debian's
python3-torch for the bilinear upsampling (F.interpolate, align_corners=False).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("localisation_diagnostics: %s: %s" % (" ".join(cmd), p.stderr.strip()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", default=os.path.join(ROOT, "assets", "sample.formwork"))
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--layers", default="stages.0,stages.1,stages.2")
    ap.add_argument("--method", default="gradcam")
    ap.add_argument("--occlusion", type=int, default=0)
    args = ap.parse_args()
    fw = os.environ.get("FORMWORK_BIN", os.path.join(ROOT, "build", "app", "formwork"))
    tmp = tempfile.mkdtemp()
    data = os.path.join(tmp, "data")
    run(fw, "data", "export", "fashion-mnist-placed", "--split", "test", "--limit", str(args.limit),
        "--out", data)
    index = json.load(open(os.path.join(data, "index.json")))
    raw = np.stack([np.asarray(Image.open(os.path.join(data, e["file"]))) for e in index])
    labels = np.array([e["label"] for e in index])
    boxes = np.array([e["box"] for e in index])
    n, H, W = raw.shape
    # The network's inputs exactly as the commands prepare them (the project's pipeline).
    xs = []
    for e in index:
        out = os.path.join(tmp, "x1.npy")
        run(fw, "infer", args.project, "--input", os.path.join(data, e["file"]), "--out",
            os.path.join(tmp, "y1.npy"), "--save-input", out)
        xs.append(np.load(out)[0])
    x = np.stack(xs).astype(np.float32)
    np.save(os.path.join(tmp, "x.npy"), x)
    run(fw, "infer", args.project, "--input", os.path.join(tmp, "x.npy"), "--out", os.path.join(tmp, "y.npy"))
    correct = np.load(os.path.join(tmp, "y.npy")).argmax(1) == labels

    def inbox(px, py):
        return (boxes[:, 0] <= px) & (px < boxes[:, 2]) & (boxes[:, 1] <= py) & (py < boxes[:, 3])

    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).mean() / (H * W)
    print("%d images; baselines: a random pixel %.1f%%, the image centre %.1f%%" % (
        n, 100 * area, 100 * inbox(np.full(n, W // 2), np.full(n, H // 2)).mean()))
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    for layer in args.layers.split(","):
        cams = None
        for k in range(labels.max() + 1):
            sel = np.where(labels == k)[0]
            if not len(sel):
                continue
            np.save(os.path.join(tmp, "xk.npy"), x[sel])
            run(fw, "gradcam", args.project, "--input", os.path.join(tmp, "xk.npy"), "--layer", layer,
                "--class", str(k), "--method", args.method, "--out", os.path.join(tmp, "c.npy"))
            c = np.load(os.path.join(tmp, "c.npy")).astype(np.float64)
            if cams is None:
                cams = np.zeros((n,) + c.shape[1:])
            cams[sel] = c
        h, w = cams.shape[1:]
        S = F.interpolate(torch.from_numpy(cams)[:, None], size=(H, W), mode="bilinear",
                          align_corners=False)[:, 0].numpy()
        f = S.reshape(n, -1).argmax(1)
        py, px = f // W, f % W
        hit = inbox(px, py)
        fc = cams.reshape(n, -1).argmax(1)
        ccx = np.floor((fc % w + 0.5) * W / w).astype(int)
        ccy = np.floor((fc // w + 0.5) * H / h).astype(int)
        edge = np.minimum(np.minimum(px, W - 1 - px), np.minimum(py, H - 1 - py)) <= 3
        clutter = (~hit) & (raw[np.arange(n), py, px] > 0)
        mass = []
        for i in range(n):
            m = np.zeros((H, W), bool)
            m[boxes[i, 1]:boxes[i, 3], boxes[i, 0]:boxes[i, 2]] = True
            mass.append(S[i][m].mean() / max(S[i].mean(), 1e-30))
        print("%s %-10s %dx%d: pointing %.1f%% | max-cell centre %.1f%% | peaks near the edge %.1f%% "
              "(hits among them %.1f%%) | on clutter %.1f%% | among correct %.1f%% | in-box mass %.2fx "
              "| peak to box centre %.1f px" % (
                  args.method, layer, h, w, 100 * hit.mean(), 100 * inbox(ccx, ccy).mean(), 100 * edge.mean(),
                  100 * hit[edge].mean() if edge.any() else 0, 100 * clutter.mean(),
                  100 * hit[correct].mean(), np.mean(mass), np.hypot(px - cx, py - cy).mean()),
              flush=True)

    if args.occlusion:
        m = min(args.occlusion, n)
        background = float(x[0, 0, 0, 0]) if raw[0, 0, 0] == 0 else float(x.min())
        patch, stride = 8, 4
        pos = [(y0, x0) for y0 in range(0, H - patch + 1, stride) for x0 in range(0, W - patch + 1, stride)]
        hits = 0
        for s0 in range(0, m, 10):
            xc = x[s0:min(m, s0 + 10)]
            batch = np.repeat(xc, len(pos), axis=0).reshape(len(xc), len(pos), *xc.shape[1:]).copy()
            for j, (y0, x0) in enumerate(pos):
                batch[:, j, :, y0:y0 + patch, x0:x0 + patch] = background
            np.save(os.path.join(tmp, "occ.npy"), batch.reshape(-1, *xc.shape[1:]))
            run(fw, "infer", args.project, "--input", os.path.join(tmp, "occ.npy"), "--out", os.path.join(tmp, "occy.npy"))
            y = np.load(os.path.join(tmp, "occy.npy")).reshape(len(xc), len(pos), -1)
            p = np.exp(y - y.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            for i in range(len(xc)):
                drop, cover = np.zeros((H, W)), np.zeros((H, W))
                for j, (y0, x0) in enumerate(pos):
                    drop[y0:y0 + patch, x0:x0 + patch] += 1 - p[i, j, labels[s0 + i]]
                    cover[y0:y0 + patch, x0:x0 + patch] += 1
                f = (drop / np.maximum(cover, 1)).reshape(-1).argmax()
                b = boxes[s0 + i]
                hits += b[0] <= f % W < b[2] and b[1] <= f // W < b[3]
        print("occlusion (8x8 patches, stride 4, first %d images): pointing %.1f%%" % (m, 100 * hits / m))


if __name__ == "__main__":
    main()
