#!/usr/bin/python3
"""`--input IMAGE`: what the network is given for an image file, compared byte for byte with PIL.

`formwork infer --save-input X.npy` writes the tensor the network saw. On a sharp picture (text,
one-pixel lines, a checkerboard, hard colour edges) whose size makes the centre crop land on a
half pixel, that tensor must equal the PIL/torchvision reference *exactly* (in 8-bit levels:
|difference| * std * 255 must round to 0), where:

* a template without training data uses timm's eval transform: PIL BICUBIC resize of the shorter
  side to floor(size / crop_pct) (the longer side truncated, as torchvision's Resize), then
  torchvision's CenterCrop (offsets int(round(d / 2)), half to even), ImageNet mean/std; a
  1-channel network gets PIL's convert("L") first;
* a trained project uses its stored input pipeline: an image folder's (PIL BILINEAR stretch to
  the input, the project's normalisation, RGB), Fashion-MNIST's (a 28x28 image centred on the
  32x32 black canvas; another size resized bilinearly to 28x28 first; an image already 32x32
  taken as it is).

The tolerance is there to be failed: the same reference computed with the wrong filter
(bilinear or nearest instead of bicubic, bicubic instead of bilinear) or the old floor rounding
of the crop must differ from Formwork's by many levels, which the test checks too. A broken image
file gives one clear line and exit 1.

Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, numpy/PIL missing, or dataset-fashion-mnist
not installed).
"""
import json
import math
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402

try:
    import numpy as np
    from PIL import Image, ImageDraw
except ImportError:
    fwtest.skip("numpy or PIL missing")

IMAGENET = (np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32))
GRAY = (np.array([0.449], np.float32), np.array([0.226], np.float32))


def sharp_image(w, h, seed):
    """Edges everywhere: text, 1-pixel lines, a checkerboard, saturated blocks."""
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w, 3), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    a[((yy // 3 + xx // 3) % 2 == 0)] = (255, 255, 255)
    im = Image.fromarray(a)
    d = ImageDraw.Draw(im)
    for i in range(12):
        x0, y0 = int(rng.integers(0, w - 20)), int(rng.integers(0, h - 20))
        d.rectangle([x0, y0, x0 + int(rng.integers(5, 60)), y0 + int(rng.integers(5, 40))],
                    fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    for i in range(10):
        d.line([tuple(int(v) for v in rng.integers(0, min(w, h), 2)),
                tuple(int(v) for v in rng.integers(0, min(w, h), 2))], fill=(255, 0, 0), width=1)
    for i, y in enumerate(range(5, h - 12, 14)):
        d.text((4 + 3 * i, y), "Formwork 0123 MetaFormer", fill=(0, 0, 0) if i % 2 else (255, 255, 0))
    return im


def write_png16(path, a):
    """A 16-bit RGB PNG (PIL cannot write one) from an (h, w, 3) big-endian uint16 array."""
    import struct
    import zlib
    h, w, _ = a.shape
    raw = b"".join(b"\0" + a[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def torchvision_round_half(d):
    return int(round(d / 2.0))  # Python's round: half to even


def timm_eval(im, size, crop_pct, resample=Image.BICUBIC, crop_offset=torchvision_round_half):
    scale = math.floor(size / crop_pct)
    w, h = im.size
    if w <= h:
        nw, nh = scale, int(scale * h / w)
    else:
        nw, nh = int(scale * w / h), scale
    big = im.resize((nw, nh), resample)
    x0, y0 = crop_offset(nw - size), crop_offset(nh - size)
    return big.crop((x0, y0, x0 + size, y0 + size))


def to_tensor(im, mean, std):
    a = np.asarray(im).astype(np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    x = (a / np.float32(255.0) - mean) / std
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def levels(got, want, std):
    """Largest difference in 8-bit levels (0 when the bytes were the same)."""
    if got.shape != want.shape:
        return float("inf")
    return float((np.abs(got - want) * std.reshape(1, -1, 1, 1) * 255.0).max())


def main():
    fwtest.formwork_bin()
    fwtest.skip_unless_fashion_mnist("the Fashion-MNIST project's padded pipeline is checked too")
    check = fwtest.Checker("image input")
    with fwtest.temp_dir() as tmp:
        def infer_input(arch, image, extra=()):
            x = os.path.join(tmp, "x.npy")
            fwtest.run_formwork(["infer", arch, *extra, "--input", image, "--out",
                                 os.path.join(tmp, "y.npy"), "--save-input", x])
            return np.load(x)

        def weights(arch, extra=()):
            w = os.path.join(tmp, f"{arch}.safetensors")
            if not os.path.exists(w):
                fwtest.run_formwork(["weights", "init", arch, *extra, "--seed", "0", "--out", w])
            return ["--weights", w]

        # 1. Templates: timm's eval transform. 301x203: the crop of the 367-wide resize starts at
        #    71.5 -> 72 (half to even); 203x301 the same vertically.
        for (w, h) in [(301, 203), (203, 301)]:
            im = sharp_image(w, h, seed=w)
            png = os.path.join(tmp, f"sharp_{w}x{h}.png")
            im.save(png)
            for name, crop in [("poolformer_s12", 0.9), ("convformer_s18", 1.0)]:
                extra = ["--num-classes", "10"]
                got = infer_input(name, png, [*extra, *weights(name, extra)])
                want = to_tensor(timm_eval(im, 224, crop), *IMAGENET)
                err = levels(got, want, IMAGENET[1])
                check.ok(f"{name} {w}x{h}: PIL bicubic + centre crop, byte for byte", err < 0.5,
                         f"max difference {err:.2f} levels")
                # The wrong filters and the old crop rounding are far outside that tolerance.
                for what, wrong in [
                        ("bilinear", timm_eval(im, 224, crop, Image.BILINEAR)),
                        ("nearest", timm_eval(im, 224, crop, Image.NEAREST)),
                        ("floor crop offsets", timm_eval(im, 224, crop, crop_offset=lambda d: d // 2))]:
                    if what == "floor crop offsets" and timm_eval(im, 224, crop).tobytes() == wrong.tobytes():
                        assert name != "poolformer_s12", "the 71.5 crop offset must be tested"
                        continue  # the offsets are whole numbers here
                    e = levels(got, to_tensor(wrong, *IMAGENET), IMAGENET[1])
                    check.ok(f"{name} {w}x{h}: {what} would be seen", e >= 8, f"{e:.0f} levels")
        # A gray network (formwork_fm32, 1x32x32, crop_pct 1): PIL's convert("L") first.
        im = sharp_image(120, 90, seed=7)
        png = os.path.join(tmp, "sharp_gray.png")
        im.save(png)
        got = infer_input("formwork_fm32", png, weights("formwork_fm32"))
        want = to_tensor(timm_eval(im.convert("L"), 32, 1.0), *GRAY)
        err = levels(got, want, GRAY[1])
        check.ok("formwork_fm32 (gray): PIL convert('L') + bicubic + crop", err < 0.5, f"{err:.2f} levels")
        e = levels(got, to_tensor(timm_eval(im.convert("L"), 32, 1.0, Image.BILINEAR), *GRAY), GRAY[1])
        check.ok("formwork_fm32 (gray): bilinear would be seen", e >= 8, f"{e:.0f} levels")

        # 2. A project trained on an image folder (RGB 40x40 -> 3x32x32): PIL BILINEAR stretch
        #    and the project's own normalisation.
        folder = os.path.join(tmp, "folder")
        for split in ("train", "test"):
            for k, cls in enumerate(["a", "b"]):
                os.makedirs(os.path.join(folder, split, cls))
                for i in range(4 if split == "train" else 2):
                    sharp_image(40, 40, seed=100 + 10 * k + i + (50 if split == "test" else 0)).save(
                        os.path.join(folder, split, cls, f"{i}.png"))
        proj = os.path.join(tmp, "folder.formwork")
        fwtest.run_formwork(["train", "formwork_fm32", "--input-size", "3,32,32", "--num-classes", "2",
                             "--dataset", folder, "--epochs", "1", "--batch", "4", "--threads", "1",
                             "--out", proj])
        with sqlite3.connect(proj) as db:
            m = dict(db.execute("select key, value from meta"))
        pipe = json.loads(m["input_pipeline"])
        check.equal("folder project: pipeline", (pipe["fit"], pipe["size"], pipe["channels"]),
                    ("resize", [32, 32], 3))
        mean, std = np.array(pipe["mean"], np.float32), np.array(pipe["std"], np.float32)
        im = sharp_image(57, 45, seed=3)
        png = os.path.join(tmp, "folder_input.png")
        im.save(png)
        got = infer_input(proj, png)
        err = levels(got, to_tensor(im.resize((32, 32), Image.BILINEAR), mean, std), std)
        check.ok("folder project: PIL bilinear stretch + the project's normalisation", err < 0.5,
                 f"{err:.2f} levels")
        e = levels(got, to_tensor(im.resize((32, 32), Image.BICUBIC), mean, std), std)
        check.ok("folder project: bicubic would be seen", e >= 8, f"{e:.0f} levels")

        # 3. A project trained on Fashion-MNIST (1x32x32): padded from 28x28, like its data.
        proj = os.path.join(tmp, "fm.formwork")
        fwtest.run_formwork(["train", "formwork_fm32", "--dataset", "fashion-mnist", "--limit", "64",
                             "--eval-limit", "16", "--epochs", "1", "--batch", "32", "--threads", "1",
                             "--out", proj])
        with sqlite3.connect(proj) as db:
            pipe = json.loads(dict(db.execute("select key, value from meta"))["input_pipeline"])
        check.equal("fashion-mnist project: pipeline", (pipe["fit"], pipe["item_size"], pipe["size"]),
                    ("pad", [28, 28], [32, 32]))
        mean, std = np.array(pipe["mean"], np.float32), np.array(pipe["std"], np.float32)
        item = sharp_image(28, 28, seed=5).convert("L")
        canvas = Image.new("L", (32, 32))
        canvas.paste(item, (2, 2))
        for what, image, want in [
                ("a 28x28 image is padded", item, canvas),
                ("a 32x32 image is taken as it is", canvas, canvas),
                ("a 50x40 image is resized to 28x28, then padded", sharp_image(50, 40, seed=6).convert("L"),
                 None)]:
            if want is None:
                want = Image.new("L", (32, 32))
                want.paste(image.resize((28, 28), Image.BILINEAR), (2, 2))
            png = os.path.join(tmp, "fm_input.png")
            image.save(png)
            err = levels(infer_input(proj, png), to_tensor(want, mean, std), std)
            check.ok(f"fashion-mnist project: {what}", err < 0.5, f"{err:.2f} levels")
        stretched = levels(infer_input(proj, os.path.join(tmp, "fm_input.png")),
                           to_tensor(sharp_image(50, 40, seed=6).convert("L").resize((32, 32), Image.BILINEAR),
                                     mean, std), std)
        check.ok("fashion-mnist project: a plain resize to 32x32 would be seen", stretched >= 8,
                 f"{stretched:.0f} levels")

        # 4. Each format and layout Formwork decodes gives PIL's pixels exactly (libjpeg-turbo is
        #    PIL's JPEG decoder too). A 224x224 image into convformer_s18 (crop_pct 1) is not
        #    resized, so the tensor is the decoded pixels, normalised.
        def exact(what, path, mode="RGB"):
            want = Image.open(path).convert(mode)
            if mode == "RGB":
                got = infer_input("convformer_s18", path, [*cf, *weights("convformer_s18", cf)])
                err = levels(got, to_tensor(want, *IMAGENET), IMAGENET[1])
            else:
                got = infer_input("formwork_fm32", path, weights("formwork_fm32"))
                err = levels(got, to_tensor(want, *GRAY), GRAY[1])
            check.ok(f"decoded as PIL does: {what}", err < 0.5, f"max difference {err:.2f} levels")

        cf = ["--num-classes", "10"]
        im = sharp_image(224, 224, seed=11)
        cases = [
            ("JPEG baseline 4:2:0 q90", "jpg", im, dict(quality=90)),
            ("JPEG progressive", "jpg", im, dict(quality=80, progressive=True)),
            ("JPEG 4:4:4", "jpg", im, dict(quality=95, subsampling=0)),
            ("JPEG 4:2:2 q50", "jpg", im, dict(quality=50, subsampling=1)),
            ("JPEG gray", "jpg", im.convert("L"), dict(quality=85)),
            ("JPEG CMYK (Adobe)", "jpg", im.convert("CMYK"), dict(quality=90)),
            ("PNG RGBA (alpha dropped)", "png", im.convert("RGBA"), {}),
            ("PNG palette", "png", im.convert("P", palette=Image.ADAPTIVE, colors=37), {}),
            ("PNG palette with transparency", "png",
             im.convert("P", palette=Image.ADAPTIVE, colors=37), dict(transparency=3)),
            ("PNG gray+alpha", "png", im.convert("LA"), {}),
            ("PNG 1-bit", "png", im.convert("1"), {}),
            ("BMP 24-bit", "bmp", im, {}),
        ]
        for i, (what, ext, image, opts) in enumerate(cases):
            path = os.path.join(tmp, f"fmt{i}.{ext}")
            image.save(path, **opts)
            exact(what, path)
        gray = os.path.join(tmp, "gray32.jpg")
        sharp_image(32, 32, seed=12).save(gray, quality=90)
        exact("JPEG colour into a gray network (convert('L'))", gray, "L")
        # 16-bit samples keep their high byte (PIL reads 16-bit RGB PNGs the same way).
        a16 = (np.random.default_rng(3).integers(0, 65536, (224, 224, 3))).astype(">u2")
        png16 = os.path.join(tmp, "rgb16.png")
        write_png16(png16, a16)
        got = infer_input("convformer_s18", png16, [*cf, *weights("convformer_s18", cf)])
        err = levels(got, to_tensor((a16 >> 8).astype(np.uint8), *IMAGENET), IMAGENET[1])
        check.ok("PNG 16-bit RGB: each sample's high byte", err < 0.5, f"{err:.2f} levels")

        # 5. Hostile images: one line naming the file and why, exit 1, before anything is decoded.
        full = os.path.join(tmp, "full.jpg")
        im.save(full, quality=90)
        blob = open(full, "rb").read()
        big = bytearray(open(os.path.join(tmp, "fmt11.bmp"), "rb").read())
        big[22:26] = (1000000).to_bytes(4, "little")  # 224x1M pixels claimed (672 MB), 150 KB held
        png_huge = bytearray(open(os.path.join(tmp, "fmt6.png"), "rb").read()[:33])
        png_huge[16:24] = (30000).to_bytes(4, "big") + (30000).to_bytes(4, "big")
        import zlib
        png_huge[29:33] = zlib.crc32(bytes(png_huge[12:29])).to_bytes(4, "big")
        hostile = [
            ("a truncated JPEG", "cut.jpg", blob[:len(blob) // 2], "Premature end of JPEG file"),
            ("a BMP whose header claims more rows than it holds", "tall.bmp", bytes(big),
             "cannot hold them"),
            ("a 30000x30000 PNG header", "huge.png", bytes(png_huge) + b"\0" * 64,
             "would need 3.60 GB to decode"),  # RGBA
            ("a PNM named .png (stb would decode it)", "pnm.png", b"P6\n2 2\n65535\n" + b"\1" * 24,
             "not a PNG, JPEG or BMP file"),
        ]
        for what, name, data, needle in hostile:
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            r = fwtest.run_formwork(["infer", "convformer_s18", *cf, *weights("convformer_s18", cf),
                                     "--input", path, "--out", os.path.join(tmp, "z.npy")], expect_rc=1)
            lines = r.stderr.strip().splitlines()
            check.ok(f"{what}: one line naming it", len(lines) == 1 and name in lines[0] and
                     needle in lines[0], str(lines))

        # 6. A broken image file: one line naming it, exit 1.
        bad = os.path.join(tmp, "bad.png")
        with open(bad, "wb") as f:
            f.write(b"\x89PNG not really")
        r = fwtest.run_formwork(["infer", "poolformer_s12", "--num-classes", "10",
                                 *weights("poolformer_s12", ["--num-classes", "10"]), "--input", bad,
                                 "--out", os.path.join(tmp, "z.npy")], expect_rc=1)
        lines = r.stderr.strip().splitlines()
        check.ok("a broken image: one line naming it", len(lines) == 1 and "bad.png" in lines[0], str(lines))
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
