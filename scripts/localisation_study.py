#!/usr/bin/python3
"""The localisation study of the README: how well Grad-CAM and Grad-CAM++ of the bundled sample
project point at the object, stage by stage, on held-out fashion-mnist-placed images.

    scripts/localisation_study.py [--project assets/sample.formwork] [--limit 500]
                                  [--layers stem,stages.0,stages.1,stages.2]
                                  [--methods gradcam,gradcam++,hirescam,layercam] [--tolerances 0,8]

Runs `formwork gradcam PROJECT --dataset fashion-mnist-placed --split test --limit N --layer L
--method M --metrics --tolerance T --json` (CONTRACT.md, "Views") for every layer, method and
tolerance, and prints a Markdown table: the pointing-game hit rate (the first maximum of the
upsampled map inside the item's box, widened by T pixels), and the mean deletion and insertion
AUC (lower deletion / higher insertion = the map ranks the pixels the class depends on first).
The class is each image's true label. Needs the `formwork` binary (FORMWORK_BIN, default
build/app/formwork) and Debian's dataset-fashion-mnist.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", default=os.path.join(ROOT, "assets", "sample.formwork"))
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--layers", default="stem,stages.0,stages.1,stages.2")
    ap.add_argument("--methods", default="gradcam,gradcam++,hirescam,layercam")
    ap.add_argument("--tolerances", default="0,8")
    args = ap.parse_args()
    fw = os.environ.get("FORMWORK_BIN", os.path.join(ROOT, "build", "app", "formwork"))
    tols = [int(t) for t in args.tolerances.split(",")]
    info = json.loads(subprocess.run([fw, "info", args.project, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    shapes = {n["name"]: n["output"] for n in info["nodes"]}
    rows = []
    t0 = time.time()
    for layer in args.layers.split(","):
        for method in args.methods.split(","):
            res = {}
            for tol in tols:
                cmd = [fw, "gradcam", args.project, "--dataset", "fashion-mnist-placed", "--split",
                       "test", "--limit", str(args.limit), "--layer", layer, "--method", method,
                       "--metrics", "--tolerance", str(tol), "--json"]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit("localisation_study: %s failed: %s" % (" ".join(cmd), p.stderr.strip()))
                res[tol] = json.loads(p.stdout)
            rows.append((layer, method, res))
            print("  %s %s done (%.0f s)" % (layer, method, time.time() - t0), file=sys.stderr)
    n = rows[0][2][tols[0]]["n"]
    head = "| layer (output) | method | " + " | ".join(
        "pointing game" + ("" if t == 0 else " (±%d px)" % t) for t in tols) + \
        " | deletion AUC ↓ | insertion AUC ↑ |"
    print("%d held-out fashion-mnist-placed test images, class = the true label:\n" % n)
    print(head)
    print("|" + " --- |" * (4 + len(tols)))
    for layer, method, res in rows:
        r0 = res[tols[0]]
        print("| `%s` (%s) | %s | %s | %.3f | %.3f |" % (
            layer, shapes.get(layer, "?"), method,
            " | ".join("%.1f%%" % (100 * res[t]["pointing_game"]) for t in tols),
            r0["deletion_auc"], r0["insertion_auc"]))


if __name__ == "__main__":
    main()
