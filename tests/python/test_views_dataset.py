#!/usr/bin/python3
"""`formwork gradcam PROJECT --dataset NAME --metrics --json` (CONTRACT.md "Views") on the bundled
sample project (assets/sample.formwork: CAFormer mini on 64x64 fashion-mnist-placed), against the
single-image form on the same items:

  * `data export fashion-mnist-placed --limit N` writes the items as PNGs with their labels and
    boxes; `gradcam PROJECT --input ITEM.png --class LABEL --box BOX --metrics --json` on each
    (the project's input pipeline turns the PNG into exactly the tensor the dataset form feeds,
    see test_input_pipeline.py); the dataset form's n, deletion_auc and insertion_auc must be the
    means of those (abs 1e-6) and pointing_game the share of hits (exact). Grad-CAM at stages.2
    (N = 8) and Grad-CAM++ at stages.1 (N = 5); the per-item values must vary (so a constant
    answer fails).
  * keys: n, pointing_game, deletion_auc, insertion_auc; values in [0, 1]; the text form prints
    the same numbers.
  * errors: the pointing game asked (--tolerance) of a dataset without boxes (fashion-mnist) →
    exit 1, one line naming the dataset and "boxes"; a layer without a grid → exit 1.
Needs Debian's dataset-fashion-mnist (skips otherwise, which scripts/test.sh refuses). No PyTorch.
Exit 0 pass, 1 fail, 77 skip.
"""
import json
import os
import sys

import fwtest

import e2e_common as E


def main():
    fwtest.formwork_bin()
    fwtest.skip_unless_fashion_mnist("the dataset form of gradcam --metrics")
    check = fwtest.Checker("views dataset")
    project = os.path.join(E.assets_dir(), "sample.formwork")
    with fwtest.temp_dir("fwtest-views-dataset-") as d:
        items = os.path.join(d, "items")
        fwtest.run_formwork(["data", "export", "fashion-mnist-placed", "--split", "test", "--limit", "8", "--out", items])
        with open(os.path.join(items, "index.json")) as f:
            index = json.load(f)
        for layer, method, n in [("stages.2", "gradcam", 8), ("stages.1", "gradcam++", 5)]:
            label = f"{method} {layer} --limit {n}"
            j = E.run_json(check, f"{label}: runs", ["gradcam", project, "--dataset", "fashion-mnist-placed", "--limit", str(n),
                                                     "--layer", layer, "--method", method, "--metrics", "--json"])
            if j is None:
                continue
            check.ok(f"{label}: keys", all(k in j for k in ("n", "pointing_game", "deletion_auc", "insertion_auc")), str(list(j)))
            check.equal(f"{label}: n", j.get("n"), n)
            dels, inss, hits = [], [], []
            for it in index[:n]:
                r = E.run_json(check, f"{label}: {it['file']} runs",
                               ["gradcam", project, "--input", os.path.join(items, it["file"]), "--layer", layer,
                                "--method", method, "--class", str(it["label"]), "--box", ",".join(map(str, it["box"])),
                                "--metrics", "--json"])
                if r is None:
                    break
                dels.append(r["deletion_auc"])
                inss.append(r["insertion_auc"])
                hits.append(bool(r["pointing_hit"]))
            if len(dels) != n:
                continue
            check.ok(f"{label}: per-item AUCs vary", max(dels) - min(dels) > 1e-3 and max(inss) - min(inss) > 1e-3,
                     f"deletion {min(dels):.4f}..{max(dels):.4f}")
            check.close(f"{label}: deletion_auc == mean of the items", j["deletion_auc"], sum(dels) / n, atol=1e-6, rtol=0)
            check.close(f"{label}: insertion_auc == mean of the items", j["insertion_auc"], sum(inss) / n, atol=1e-6, rtol=0)
            check.close(f"{label}: pointing_game == share of hits", j["pointing_game"], sum(hits) / n, atol=1e-12, rtol=0)
            check.ok(f"{label}: values in [0, 1]", all(0 <= j[k] <= 1 for k in ("pointing_game", "deletion_auc", "insertion_auc")))
            if method == "gradcam":
                t = E.run(check, f"{label}: text form runs", ["gradcam", project, "--dataset", "fashion-mnist-placed", "--limit", str(n),
                                                               "--layer", layer, "--metrics"])
                if t is not None:
                    check.ok(f"{label}: text form shows the AUC", f"{j['deletion_auc']:.6f}" in t.stdout, t.stdout[:300])
        E.expect_error(check, "pointing game of a dataset without boxes",
                       ["gradcam", project, "--dataset", "fashion-mnist", "--limit", "2", "--layer", "stages.2", "--metrics",
                        "--tolerance", "0", "--json"], 1, ["fashion-mnist", "boxes"])
        E.expect_error(check, "dataset form: a layer without a grid",
                       ["gradcam", project, "--dataset", "fashion-mnist-placed", "--limit", "2", "--layer", "head.fc",
                        "--metrics", "--json"], 1, ["head.fc"])
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
