#!/usr/bin/python3
"""`--input IMAGE`: an image file is preprocessed as timm's eval transform for the template
(bicubic resize of the shorter side to size/crop_pct, centre crop, ImageNet mean/std). The logits
must match those of the same image preprocessed with PIL + NumPy and given as .npy, up to PIL's
8-bit rounding and clipping between its two resampling passes (Formwork keeps floats): within 2%
of the logit scale, at the templates' own 224x224. A broken image file gives one clear line and exit 1."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402


def main():
    fw = fwtest.formwork_bin()
    try:
        import numpy as np
        from PIL import Image, ImageFilter
    except ImportError:
        fwtest.skip("numpy or PIL missing")
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        im = Image.fromarray((rng.random((200, 300, 3)) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3))
        png = os.path.join(tmp, "img.png")
        im.save(png)
        for name, size, crop in [("poolformer_s12", 224, 0.9), ("convformer_s18", 224, 1.0)]:
            scale = int(np.floor(size / crop))
            w, h = im.size
            r = scale / min(w, h)
            big = im.resize((max(size, round(w * r)), max(size, round(h * r))), Image.BICUBIC)
            W, H = big.size
            x0, y0 = (W - size) // 2, (H - size) // 2
            x = np.asarray(big.crop((x0, y0, x0 + size, y0 + size))).astype(np.float32) / 255.0
            x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
            npy = os.path.join(tmp, "x.npy")
            np.save(npy, x.transpose(2, 0, 1)[None].astype(np.float32))
            w_path = os.path.join(tmp, f"{name}.safetensors")
            args = ["--num-classes", "10"]
            subprocess.run([fw, "weights", "init", name, *args, "--seed", "0", "--out", w_path], check=True,
                           capture_output=True)
            outs = []
            for inp in (png, npy):
                y = os.path.join(tmp, "y.npy")
                subprocess.run([fw, "infer", name, *args, "--weights", w_path, "--input", inp, "--out", y],
                               check=True, capture_output=True)
                outs.append(np.load(y))
            err, scale_ = float(np.abs(outs[0] - outs[1]).max()), float(np.abs(outs[1]).max())
            ok = outs[0].shape == (1, 10) and err <= 0.02 * scale_
            print(("ok    " if ok else "FAIL  ") + f"{name}: image vs PIL-preprocessed .npy: max abs {err:.2e} (scale {scale_:.2f})")
            fails += not ok
        bad = os.path.join(tmp, "bad.png")
        with open(bad, "wb") as f:
            f.write(b"\x89PNG not really")
        r = subprocess.run([fw, "infer", "poolformer_s12", "--num-classes", "10",
                            "--weights", os.path.join(tmp, "poolformer_s12.safetensors"), "--input", bad,
                            "--out", os.path.join(tmp, "z.npy")], capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        ok = r.returncode == 1 and len(lines) == 1 and "bad.png" in lines[0]
        print(("ok    " if ok else "FAIL  ") + f"a broken image: {r.returncode} {lines}")
        fails += not ok
    print(f"image input: {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
