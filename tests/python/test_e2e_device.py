#!/usr/bin/python3
"""`--device cuda` and `--tf32` on every command that computes: infer, bench, gradcam, attention,
mixing, score, train, eval and nas; `formwork --version`'s CUDA state.

* `formwork --version` prints one line "formwork VERSION (MPI: on|off, CUDA: STATE)", STATE being
  "off" (a build without the CUDA backend), "unavailable: WHY" (built, no usable GPU) or the GPU.
* Where there is no usable GPU (STATE "off" or "unavailable: ..."), each command with
  `--device cuda` (with and without --tf32) exits 1 printing nothing on stdout and exactly one line
  on stderr, "formwork: error: --device cuda: WHY", WHY being --version's reason ("this build has
  no CUDA backend (...)" in a build without CUDA); and it does so before any work: the directory it
  would write to is unchanged (no --out, no project, no lock file), a project given is byte for
  byte the same, and an input or weights file that does not exist is not what it complains about.
* Where a GPU is usable, each command with `--device cuda` either succeeds or fails with one line
  (an op the CUDA backend has no program for yet, named).
* `--tf32` is accepted by every one of those commands: with `--device cpu` each runs to success.
* `--device tpu` is wrong usage (exit 2, one line).
Models: formwork_fm32 (1x32x32) and, for attention, caformer_mini64 (1x64x64), 10 classes, with
`weights init` weights; train and eval use a small image-folder dataset written here (PNG, no
other package needed); nas a project with a two-subnet space, objective params. Exit 0 pass, 1
fail, 77 skip (FORMWORK_BIN unset).
"""
import hashlib
import json
import os
import re
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402

import fwtest  # noqa: E402
from e2e_common import error_lines  # noqa: E402


def write_gray_png(path, pixels):
    """A 8-bit grayscale PNG of the 2-D uint8 array ``pixels``."""
    h, w = pixels.shape
    raw = b"".join(b"\x00" + bytes(pixels[y].tolist()) for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def folder_dataset(root):
    """ROOT/{train,test}/{dark,bright}/N.png: 28x28 squares, 8 train and 4 test items a class."""
    rng = np.random.default_rng(3)
    for split, n in (("train", 8), ("test", 4)):
        for k, cls in enumerate(("dark", "bright")):
            d = os.path.join(root, split, cls)
            os.makedirs(d)
            for i in range(n):
                img = rng.integers(0, 30, (28, 28)).astype(np.uint8)
                img[8:20, 8:20] = 200 if k else 70
                write_gray_png(os.path.join(d, f"{i}.png"), img)
    return root


def tree(d):
    """name -> sha256 of every file under ``d`` (hidden ones included: lock files)."""
    out = {}
    for base, _, files in os.walk(d):
        for f in files:
            p = os.path.join(base, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def cuda_state(check):
    """--version's CUDA state: "off", "unavailable: WHY" or the GPU."""
    r = fwtest.run_formwork(["--version"])
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    m = re.fullmatch(r"formwork \S+ \(MPI: (on|off), CUDA: (.+)\)", lines[0]) if len(lines) == 1 else None
    check.ok("--version: one line 'formwork V (MPI: on|off, CUDA: ...)'", m is not None, repr(r.stdout))
    return m.group(2) if m else "?"


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("e2e --device / --tf32")
    state = cuda_state(check)
    no_gpu = state == "off" or state.startswith("unavailable: ")
    print(f"CUDA: {state}", flush=True)
    with fwtest.temp_dir("fwtest-device-") as d:
        def p(name):
            return os.path.join(d, name)

        fm = ["formwork_fm32", "--num-classes", "10"]
        caf = ["caformer_mini64", "--num-classes", "10"]
        fwtest.run_formwork(["weights", "init", *fm, "--seed", "1", "--out", p("fm.safetensors")])
        fwtest.run_formwork(["weights", "init", *caf, "--seed", "1", "--out", p("caf.safetensors")])
        rng = np.random.default_rng(0)
        fwtest.save_npy(p("x.npy"), rng.standard_normal((2, 1, 32, 32)))
        fwtest.save_npy(p("x64.npy"), rng.standard_normal((1, 1, 64, 64)))
        fwtest.save_npy(p("labels.npy"), np.array([3, 7]), dtype=np.int64)
        data = folder_dataset(p("data"))
        # A project with a search space of two subnets, for nas.
        fwtest.run_formwork(["new", p("nas.formwork"), "--template", "formwork_fm32"])
        info = json.loads(fwtest.run_formwork(["info", p("nas.formwork"), "--json"]).stdout)
        stage = next(n["name"] for n in info["nodes"] if n["name"].startswith("stages."))
        stage = ".".join(stage.split(".")[:2])
        with open(p("space.json"), "w") as f:
            json.dump({"choices": [{"node": stage, "attr": "depth", "values": [1, 2]}]}, f)
        fwtest.run_formwork(["space", p("nas.formwork"), "--set", p("space.json")])

        w = ["--weights", p("fm.safetensors")]
        out = os.path.join("out", "")  # every output goes under d/out/, checked below
        commands = {
            "infer": ["infer", *fm, *w, "--input", p("x.npy"), "--out", p(out + "y.npy")],
            "bench": ["bench", *fm, "--batch", "2", "--repeats", "1", "--warmup", "0", "--threads", "1"],
            "gradcam": ["gradcam", *fm, *w, "--input", p("x.npy"), "--layer", stage, "--class", "1",
                        "--out", p(out + "cam.npy")],
            "attention": ["attention", *caf, "--weights", p("caf.safetensors"), "--input", p("x64.npy"),
                          "--layer", "stages.2.blocks.0.token_mixer", "--out", p(out + "att.npy")],
            "mixing": ["mixing", *fm, *w, "--input", p("x.npy"), "--layer", stage + ".blocks.0.token_mixer",
                       "--query", "0", "--out", p(out + "mix.npy")],
            "score": ["score", *fm, *w, "--input", p("x.npy"), "--labels", p("labels.npy"),
                      "--proxies", "grad_norm,naswot", "--json"],
            "train": ["train", *fm, "--dataset", data, "--epochs", "1", "--batch", "8", "--threads", "1",
                      "--out", p(out + "trained.formwork")],
            "eval": ["eval", *fm, *w, "--dataset", data, "--json"],
            "nas": ["nas", p("nas.formwork"), "--strategy", "random", "--budget", "2",
                    "--objectives", "params:min", "--threads", "1", "--quiet"],
        }

        # --tf32 is accepted everywhere; on the CPU it changes nothing and the work is done.
        for name, args in commands.items():
            os.makedirs(p("out"), exist_ok=True)
            r = fwtest.run_formwork([*args, "--device", "cpu", "--tf32"], expect_rc=None)
            check.ok(f"{name} --device cpu --tf32: exit 0", r.returncode == 0,
                     f"rc {r.returncode}: {' | '.join(error_lines(r.stderr))[:300]}")
        check.ok("infer --tf32 wrote its logits", os.path.exists(p("out/y.npy")))
        check.ok("train --tf32 wrote its project", os.path.exists(p("out/trained.formwork")))

        # --device cuda.
        for name, args in commands.items():
            for extra in ([], ["--tf32"]):
                label = f"{name} --device cuda{' --tf32' if extra else ''}"
                for f in list(os.listdir(p("out"))):
                    os.remove(os.path.join(p("out"), f))
                before = tree(d)
                r = fwtest.run_formwork([*args, "--device", "cuda", *extra], expect_rc=None)
                lines = error_lines(r.stderr)
                shown = " | ".join(lines)[:400] or "(stderr empty)"
                if no_gpu:
                    check.ok(f"{label}: exit 1", r.returncode == 1, f"rc {r.returncode}: {shown}")
                    check.ok(f"{label}: nothing on stdout", r.stdout.strip() == "", repr(r.stdout[:200]))
                    check.ok(f"{label}: one stderr line", len(lines) == 1, shown)
                    why = state[len("unavailable: "):] if state != "off" else "this build has no CUDA backend"
                    check.ok(f"{label}: the line says why", len(lines) == 1 and
                             lines[0].startswith(f"formwork: error: --device cuda: {why}"), shown)
                    check.ok(f"{label}: nothing written or changed", tree(d) == before)
                elif r.returncode != 0:  # a GPU: an op without a device program yet, named
                    check.ok(f"{label}: exit 1 with one line", r.returncode == 1 and len(lines) == 1, shown)
                else:
                    check.ok(f"{label}: ran on the GPU", True)

        # The device is checked before anything is read: files that do not exist are not the
        # complaint.
        if no_gpu:
            r = fwtest.run_formwork(["infer", *fm, "--weights", p("absent.safetensors"), "--input",
                                     p("absent.npy"), "--out", p("y.npy"), "--device", "cuda"], expect_rc=None)
            lines = error_lines(r.stderr)
            check.ok("infer --device cuda with missing files: the device is the complaint",
                     r.returncode == 1 and len(lines) == 1 and "--device cuda: " in lines[0]
                     and "absent" not in lines[0], " | ".join(lines)[:300])
            r = fwtest.run_formwork(["nas", p("absent.formwork"), "--budget", "2", "--objectives",
                                     "params:min", "--device", "cuda"], expect_rc=None)
            lines = error_lines(r.stderr)
            check.ok("nas --device cuda on a missing project: the device is the complaint",
                     r.returncode == 1 and len(lines) == 1 and "--device cuda: " in lines[0], " | ".join(lines)[:300])
        r = fwtest.run_formwork(["infer", *fm, *w, "--input", p("x.npy"), "--out", p("y.npy"),
                                 "--device", "tpu"], expect_rc=None)
        lines = error_lines(r.stderr)
        check.ok("infer --device tpu: wrong usage, one line", r.returncode == 2 and len(lines) == 1,
                 f"rc {r.returncode}: {' | '.join(lines)[:300]}")
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
