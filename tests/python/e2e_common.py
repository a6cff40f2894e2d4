"""Shared set-up of the end-to-end tests (test_e2e_*.py): every template at a small size (timm's at
3x64x64, Formwork's own formwork_fm32 / caformer_mini64 at their default 1x32x32 / 1x64x64; 10
classes), weights from `formwork weights init`, a *perturbed* copy of them with O(1) activations,
seeded inputs.

Why perturb. timm's init makes most of a MetaFormer invisible at the logits: PoolFormer v1's layer
scale is 1e-5, so every token mixer and MLP is scaled away; conv/linear weights of std .02 make
attention nearly uniform and block outputs tiny next to the residual stream. A test on those
weights alone would pass an engine that skipped whole blocks. So, besides checking the init
weights themselves, the tests run on a seeded perturbation of them (``perturb``), saved as our own
safetensors file with the very same names and shapes:

  * conv / linear weights (ndim >= 2): fresh N(0, 1/fan_in) (fan_in = prod(shape[1:])), so every
    layer roughly preserves the variance of its input;
  * 1-D ``*.weight`` (norm weights): 1 + 0.25·N(0, 1);   1-D ``*.bias`` (all biases, StarReLU's
    bias included): 0.1·N(0, 1);
  * ``*.scale`` (layer scale, res scale, StarReLU scale): U(0.5, 1.5);
  * ViT ``cls_token``: N(0, 1); ``pos_embed``: 0.5·N(0, 1);
  * RandFormer's ``random_matrix`` (a fixed row-stochastic matrix): unchanged.

With these, the logits are O(1) (checked: 0.3 <= max|logit| <= 100, and they differ between
samples), attention rows are far from uniform and every block contributes.
"""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

import fwtest

NUM_CLASSES = 10
INPUT_SIZE = (3, 64, 64)
SIZE_OPTS = ["--num-classes", str(NUM_CLASSES), "--input-size", ",".join(map(str, INPUT_SIZE))]

METAFORMERS = ("poolformer_s12", "poolformerv2_s12", "convformer_s18", "caformer_s18",
               "identityformer_s12", "randformer_s12")
VIT = "vit_tiny_patch16_224"
# Formwork's own templates run at their own default input size (1 channel), also 10 classes.
OWN_SIZES = {"formwork_fm32": (1, 32, 32), "caformer_mini64": (1, 64, 64)}
MODELS = METAFORMERS + (VIT,) + tuple(OWN_SIZES)
# FWTEST_MODELS=a,b restricts the e2e tests to those templates (debugging; default: all).
if os.environ.get("FWTEST_MODELS"):
    MODELS = tuple(m for m in MODELS if m in os.environ["FWTEST_MODELS"].split(","))


def input_size(arch: str) -> Tuple[int, int, int]:
    """The test input size (C, H, W) of ``arch``: INPUT_SIZE, or OWN_SIZES for Formwork's own."""
    return OWN_SIZES.get(arch, INPUT_SIZE)


def size_opts(arch: str):
    """``--num-classes 10 --input-size C,H,W`` for ``arch`` at its test size."""
    return ["--num-classes", str(NUM_CLASSES), "--input-size", ",".join(map(str, input_size(arch)))]


def init_weights(arch: str, seed: int, path: str) -> "OrderedDict[str, np.ndarray]":
    """Runs `formwork weights init ARCH --seed SEED --out PATH` at the test size and reads the file."""
    import fwref
    fwtest.run_formwork(["weights", "init", arch, "--seed", str(seed), "--out", path, *size_opts(arch)])
    return fwref.load_safetensors(path, as_float32=True)


def perturb(tensors: Dict[str, np.ndarray], seed: int) -> "OrderedDict[str, np.ndarray]":
    """The seeded O(1) perturbation described in the module docstring (names/shapes unchanged)."""
    rng = np.random.default_rng(seed)
    out = OrderedDict()
    for name in sorted(tensors):
        a = np.asarray(tensors[name], dtype=np.float32)
        leaf = name.rpartition(".")[2]
        if leaf == "random_matrix":
            b = a.copy()
        elif leaf == "cls_token":
            b = rng.standard_normal(a.shape)
        elif leaf == "pos_embed":
            b = 0.5 * rng.standard_normal(a.shape)
        elif a.ndim >= 2 and leaf == "weight":
            fan_in = int(np.prod(a.shape[1:]))
            b = rng.standard_normal(a.shape) / np.sqrt(fan_in)
        elif a.ndim == 1 and leaf == "weight":
            b = 1.0 + 0.25 * rng.standard_normal(a.shape)
        elif a.ndim == 1 and leaf == "bias":
            b = 0.1 * rng.standard_normal(a.shape)
        elif a.ndim == 1 and leaf == "scale":
            b = rng.uniform(0.5, 1.5, a.shape)
        else:
            raise ValueError(f"perturb: no rule for tensor {name!r} {list(a.shape)}")
        out[name] = np.ascontiguousarray(b, dtype=np.float32)
    return out


def perturbed_weights(arch: str, seed: int, d: str) -> Tuple[str, "OrderedDict[str, np.ndarray]"]:
    """`weights init` at ``seed``, perturbed with ``seed``, saved as ``d/ARCH-pert.safetensors``."""
    import fwref
    base = init_weights(arch, seed, os.path.join(d, f"{arch}-init.safetensors"))
    pert = perturb(base, seed)
    path = os.path.join(d, f"{arch}-pert.safetensors")
    fwref.save_safetensors(path, pert)
    return path, pert


def ref_model(arch: str, tensors: Dict[str, np.ndarray]):
    """fwref model at the test size with ``tensors`` loaded strictly (raises on any missing,
    unexpected or mis-shaped name); float32, eval mode."""
    import fwref
    # Shapes on the meta device, then uninitialised memory: load_into(strict) fills every entry.
    m = fwref.build(arch, NUM_CLASSES, input_size(arch), device="meta")
    name = m.template_name
    m = m.to_empty(device="cpu")
    fwref.load_into(m, tensors, strict=True)
    m.template_name, m.input_size = name, input_size(arch)
    return m.eval()


def random_input(seed: int, batch: int = 2, size: Sequence[int] = INPUT_SIZE) -> np.ndarray:
    """Seeded N(0, 1) input batch [B, C, H, W] float32."""
    return np.random.default_rng(seed).standard_normal((batch, *size)).astype(np.float32)


def ref_logits(model, x: np.ndarray, dtype=None) -> np.ndarray:
    """Logits of the fwref ``model`` for ``x``; ``dtype=torch.float64`` on a double copy."""
    import copy
    import torch
    m = model if dtype is None else copy.deepcopy(model).to(dtype)
    with torch.no_grad():
        t = torch.from_numpy(x)
        return m(t.to(dtype) if dtype is not None else t).double().numpy()


def normalised_error(got, want) -> float:
    return fwtest.errors(got, want)[1]


def run(check: "fwtest.Checker", label: str, args, expect_rc: int = 0):
    """Runs formwork; on a different exit status records a failure named ``label`` and returns
    None (a missing command is a failure, not a skip), else the CompletedProcess."""
    try:
        return fwtest.run_formwork(args, expect_rc=expect_rc)
    except fwtest.FormworkError as e:
        check.ok(label, False, str(e))
        return None


def run_json(check: "fwtest.Checker", label: str, args):
    """run() whose stdout must be JSON: the parsed value, or None (a failure named ``label``)."""
    r = run(check, label, args)
    if r is None:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        check.ok(f"{label}: stdout is JSON", False, f"{e}: {r.stdout[:200]}")
        return None


def load_output(check: "fwtest.Checker", label: str, path: str, shape=None):
    """Loads a .npy written by formwork; checks float32 (and ``shape``); None (failure) if absent."""
    if not os.path.isfile(path):
        check.ok(f"{label}: wrote {os.path.basename(path)}", False, "no such file")
        return None
    try:
        a = fwtest.load_npy(path)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a failure
        check.ok(f"{label}: {os.path.basename(path)} is a readable .npy", False, str(e))
        return None
    if a.dtype != np.float32:
        check.ok(f"{label}: output dtype float32", False, f"got {a.dtype}")
    if shape is not None and tuple(a.shape) != tuple(shape):
        check.ok(f"{label}: output shape {list(shape)}", False, f"got {list(a.shape)}")
        return None
    return a


# -- error lines and files (the command tests: test_e2e_weights.py, test_e2e_commands.py, test_e2e_eval.py) --

def error_lines(stderr: str):
    """The non-empty lines of ``stderr``."""
    return [ln for ln in stderr.splitlines() if ln.strip()]


def expect_error(check: "fwtest.Checker", label: str, args, rc: int, needles: Sequence[str] = (),
                 timeout: float = 600, address_space: Optional[int] = None):
    """Runs formwork expecting exit status ``rc`` (1: the work failed, 2: wrong usage), exactly one
    non-empty stderr line that starts with "formwork: error:" and contains every needle
    (case-insensitive). Returns the CompletedProcess (or None when the status was wrong)."""
    res = fwtest.run_formwork(args, expect_rc=None, timeout=timeout, address_space=address_space)
    lines = error_lines(res.stderr)
    shown = " | ".join(lines)[:400] or "(stderr empty)"
    if not check.ok(f"{label}: exit status {rc}", res.returncode == rc,
                    f"got {res.returncode}; stderr: {shown}"):
        return None
    check.ok(f"{label}: one stderr line 'formwork: error: ...'",
             len(lines) == 1 and lines[0].startswith("formwork: error: "), f"{len(lines)} lines: {shown}")
    text = " ".join(lines).lower()
    missing = [n for n in needles if n.lower() not in text]
    if needles:
        check.ok(f"{label}: stderr names {', '.join(repr(n) for n in needles)}", not missing,
                 f"missing {missing}; stderr: {shown}" if missing else shown)
    return res


def file_digest(path: str) -> str:
    """sha256 of a file's bytes ("absent" when there is no such file)."""
    import hashlib
    if not os.path.exists(path):
        return "absent"
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def safetensors_dtypes(path: str) -> Dict[str, str]:
    """name → dtype tag ("F32", "F16", ...) from a safetensors file's header."""
    import json
    import struct
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    header.pop("__metadata__", None)
    return {k: v["dtype"] for k, v in header.items()}


def same_tensors(check: "fwtest.Checker", label: str, got: Dict[str, np.ndarray],
                 want: Dict[str, np.ndarray]) -> bool:
    """Same names, shapes and float32 bit patterns (so -0.0 and 0.0 differ)."""
    if set(got) != set(want):
        return check.ok(f"{label}: same tensor names", False,
                        f"missing {sorted(set(want) - set(got))[:4]}, extra {sorted(set(got) - set(want))[:4]}")
    bad = []
    for k in sorted(want):
        g = np.ascontiguousarray(got[k], dtype=np.float32)
        w = np.ascontiguousarray(want[k], dtype=np.float32)
        if g.shape != w.shape or not np.array_equal(g.view(np.uint32), w.view(np.uint32)):
            bad.append(k)
    return check.ok(f"{label}: {len(want)} tensors bit-identical", not bad,
                    f"{len(bad)} differ: {bad[:4]}" if bad else "")


def assets_dir() -> str:
    """$FORMWORK_ASSETS (ctest sets it), else the repository's assets/."""
    return os.environ.get("FORMWORK_ASSETS") or os.path.normpath(os.path.join(fwtest.HERE, "..", "..", "assets"))


def sample_without_searches(path: str) -> str:
    """Copies the bundled sample project to ``path`` without its stored searches (the sample holds
    a finished search and a proxy study for the GUI to show): the search tests see only what they
    run. Returns ``path``."""
    import shutil
    import sqlite3
    shutil.copy(os.path.join(os.environ.get("FORMWORK_ASSETS", "assets"), "sample.formwork"), path)
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    for t in ("search_results", "searches"):
        if t in tables:
            con.execute(f"DELETE FROM {t}")
    con.commit()
    con.close()
    return path
