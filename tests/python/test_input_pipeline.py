#!/usr/bin/python3
"""A trained project treats an image file exactly as its training data: `formwork eval` on a
dataset and `formwork infer` on the same items exported as PNG (`formwork data export`) give the
same predictions, and logits equal to float rounding (max abs difference <= 1e-5), for

* formwork_fm32 trained on Fashion-MNIST (1x32x32: the 28x28 items are padded; a resize, as
  `infer` did before the input pipeline was stored, costs accuracy and fails this),
* the bundled sample project (caformer_mini64 on fashion-mnist-placed at 64x64; an older file
  that stores only its normalisation, so the pipeline is derived from it),
* formwork_fm32 at 3x32x32 trained on an RGB image folder of 40x40 images (resized).

Also: `data export` writes index.json with file, label, class_name (and box for the placed
items, which must hold the item's bright pixels), refuses a non-empty directory, and an exported
item read back is the dataset's bytes.

Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, numpy/PIL missing, or dataset-fashion-mnist
not installed).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as E  # noqa: E402
import fwtest  # noqa: E402

try:
    import numpy as np
    from PIL import Image
except ImportError:
    fwtest.skip("numpy or PIL missing")

N = 40


def main():
    fwtest.formwork_bin()
    fwtest.skip_unless_fashion_mnist()
    sample = os.path.join(E.assets_dir(), "sample.formwork")
    check = fwtest.Checker("input pipeline")
    with fwtest.temp_dir() as tmp:
        def same_predictions(label, project, dataset, image_dir, extra_eval=()):
            """eval --out on the first N items vs infer on each exported PNG."""
            logits = os.path.join(tmp, "eval.npy")
            fwtest.run_formwork(["eval", project, "--dataset", dataset, "--limit", str(N), "--threads", "1",
                                 "--out", logits, *extra_eval])
            want = np.load(logits)
            with open(os.path.join(image_dir, "index.json")) as f:
                index = json.load(f)
            got = []
            for item in index[:N]:
                y = os.path.join(tmp, "y.npy")
                fwtest.run_formwork(["infer", project, "--threads", "1", "--input",
                                     os.path.join(image_dir, item["file"]), "--out", y])
                got.append(np.load(y)[0])
            got = np.stack(got)
            check.equal(f"{label}: eval --out shape", want.shape[0], N)
            agree = int((got.argmax(1) == want.argmax(1)).sum())
            check.equal(f"{label}: infer on the PNGs predicts what eval predicts", agree, N)
            check.close(f"{label}: logits", got, want, atol=1e-5, rtol=0)

        # 1. Fashion-MNIST, padded 28 -> 32.
        fm = os.path.join(tmp, "fm.formwork")
        fwtest.run_formwork(["train", "formwork_fm32", "--dataset", "fashion-mnist", "--limit", "512",
                             "--eval-limit", "64", "--epochs", "1", "--batch", "64", "--threads", "2",
                             "--out", fm])
        fm_png = os.path.join(tmp, "fm_png")
        fwtest.run_formwork(["data", "export", "fashion-mnist", "--limit", str(N), "--out", fm_png])
        with open(os.path.join(fm_png, "index.json")) as f:
            index = json.load(f)
        check.equal("data export: items", len(index), N)
        check.equal("data export: keys", sorted(index[0]), ["class_name", "file", "label"])
        check.equal("data export: item 0", (index[0]["file"], index[0]["label"], index[0]["class_name"]),
                    ("00000.png", 9, "Ankle boot"))  # the first Fashion-MNIST test item
        check.equal("data export: 28x28 gray", Image.open(os.path.join(fm_png, "00000.png")).size, (28, 28))
        same_predictions("fashion-mnist (pad)", fm, "fashion-mnist", fm_png)
        r = fwtest.run_formwork(["data", "export", "fashion-mnist", "--limit", "3", "--out", fm_png], expect_rc=1)
        check.ok("data export: a non-empty directory is refused", "not empty" in r.stderr, r.stderr.strip())
        check.equal("data export: ... and left as it was", len(os.listdir(fm_png)), N + 1)

        # 2. The bundled sample (fashion-mnist-placed, 64x64, only input_norm stored).
        if os.path.exists(sample):
            placed = os.path.join(tmp, "placed_png")
            fwtest.run_formwork(["data", "export", "fashion-mnist-placed", "--limit", str(N), "--out", placed])
            with open(os.path.join(placed, "index.json")) as f:
                index = json.load(f)
            x0, y0, x1, y1 = index[0]["box"]
            img = np.asarray(Image.open(os.path.join(placed, index[0]["file"])))
            inside = img[y0:y1, x0:x1].max()
            check.ok("data export: the placed item's box holds its brightest pixels", inside == img.max(),
                     f"box {index[0]['box']}, max inside {inside}, overall {img.max()}")
            same_predictions("the sample (placed, derived pipeline)", sample, "fashion-mnist-placed", placed)
        else:
            check.ok(f"{sample} exists", False)

        # 3. An RGB image folder, resized 40 -> 32.
        folder = os.path.join(tmp, "folder")
        rng = np.random.default_rng(0)
        for split, n in (("train", 12), ("test", N // 2)):
            for k, cls in enumerate(["dark", "light"]):
                os.makedirs(os.path.join(folder, split, cls))
                for i in range(n):
                    a = rng.integers(0, 128, (40, 40, 3)) + 127 * k
                    Image.fromarray(a.astype(np.uint8)).save(os.path.join(folder, split, cls, f"{i:03d}.png"))
        fp = os.path.join(tmp, "folder.formwork")
        fwtest.run_formwork(["train", "formwork_fm32", "--input-size", "3,32,32", "--num-classes", "2",
                             "--dataset", folder, "--epochs", "1", "--batch", "8", "--threads", "2", "--out", fp])
        # The exported items are already 32x32 (fitted as eval fits them) and taken as they are.
        folder_png = os.path.join(tmp, "folder_png")
        fwtest.run_formwork(["data", "export", folder, "--image-size", "32", "--out", folder_png])
        same_predictions("image folder (resize, RGB)", fp, folder, folder_png)
        # The original 40x40 files go through the same resize as the dataset's items.
        logits = os.path.join(tmp, "eval.npy")
        fwtest.run_formwork(["eval", fp, "--dataset", folder, "--limit", "4", "--out", logits])
        want = np.load(logits)
        for i in range(4):  # the first items of the test split: class "dark", files in name order
            y = os.path.join(tmp, "y.npy")
            fwtest.run_formwork(["infer", fp, "--input", os.path.join(folder, "test", "dark", f"{i:03d}.png"), "--out", y])
            check.close(f"image folder: the 40x40 file {i} itself", np.load(y)[0], want[i], atol=1e-5, rtol=0)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
