"""Helpers shared by Formwork's Python test scripts.

Each test is a standalone script run by ctest with Debian's /usr/bin/python3: exit 0 = pass,
1 = fail, 77 = skip. Typical use::

    import fwtest
    fwtest.skip_unless_torch()
    exe = fwtest.formwork_bin()                      # exits 77 when FORMWORK_BIN is unset/missing
    res = fwtest.run_formwork(["info", "poolformer_s12", "--json"])
    check = fwtest.Checker("info")
    check.equal("params", got, want)
    check.close(name, got_array, want_array, atol=1e-4, rtol=1e-4)
    sys.exit(check.finish())
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Optional, Sequence

SKIP = 77
try:
    import numpy as np
except ImportError as _e:  # e.g. the pyenv python3 first on PATH: no numpy, no torch → skip
    print(f"SKIP: numpy is not importable with {sys.executable} ({_e}); run with /usr/bin/python3", flush=True)
    sys.exit(SKIP)

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def skip(reason: str) -> None:
    """Prints ``SKIP: reason`` and exits 77."""
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def skip_unless_fashion_mnist(why: str = "") -> str:
    """The folder with Debian's dataset-fashion-mnist IDX files ($FORMWORK_FASHION_MNIST_DIR, as
    Formwork reads it, else /usr/share/datasets/fashion-mnist); skips (exit 77) when its train and
    test images are not there."""
    d = os.environ.get("FORMWORK_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"
    for split in ("train", "t10k"):
        if not any(os.path.exists(os.path.join(d, f"{split}-images-idx3-ubyte{ext}")) for ext in (".gz", "")):
            skip(f"Fashion-MNIST is not in {d} (apt-get install dataset-fashion-mnist)" + (f": {why}" if why else ""))
    return d


def skip_unless_torch():
    """Imports and returns torch, or skips (exit 77) when it is not importable. Sets torch's
    intra-op threads to $FWTEST_THREADS (default: 2, or fewer cores)."""
    try:
        import torch  # noqa: F401
    except Exception as e:  # ImportError, or a broken install
        skip(f"torch is not importable with {sys.executable} ({e}); run with /usr/bin/python3")
    torch.set_num_threads(int(os.environ.get("FWTEST_THREADS", "0")) or max(1, min(2, os.cpu_count() or 1)))
    return torch


def formwork_bin() -> str:
    """Path of the formwork binary from $FORMWORK_BIN; skips (77) if unset or not executable."""
    exe = os.environ.get("FORMWORK_BIN", "")
    if not exe:
        skip("FORMWORK_BIN is not set (ctest sets it; or export FORMWORK_BIN=build/app/formwork)")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        skip(f"FORMWORK_BIN={exe} is not an executable file (build it first)")
    return exe


class FormworkError(AssertionError):
    pass


def run_formwork(args: Sequence[str], expect_rc: Optional[int] = 0, timeout: float = 600,
                 env: Optional[dict] = None, quiet: bool = False,
                 address_space: Optional[int] = None) -> subprocess.CompletedProcess:
    """Runs ``$FORMWORK_BIN args...`` capturing stdout/stderr as text.

    ``address_space``: an RLIMIT_AS for the child in bytes (hostile sizes: a regression shows as
    a failed allocation instead of a swapping machine).

    When ``expect_rc`` is not None and the exit status differs, prints the command, status, and
    both streams, then raises FormworkError. Returns the CompletedProcess.
    """
    cmd = [formwork_bin(), *[str(a) for a in args]]
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        def limit():
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                             preexec_fn=limit if address_space else None)
    except subprocess.TimeoutExpired as e:
        raise FormworkError(f"timed out after {timeout}s: {' '.join(cmd)}") from e
    if not quiet:
        print(f"$ {' '.join(cmd)}  -> rc {res.returncode}", flush=True)
    if expect_rc is not None and res.returncode != expect_rc:
        print(f"--- stdout ---\n{res.stdout[-4000:]}\n--- stderr ---\n{res.stderr[-4000:]}", flush=True)
        raise FormworkError(f"{' '.join(cmd)}: exit status {res.returncode}, expected {expect_rc}")
    return res


@contextlib.contextmanager
def temp_dir(prefix: str = "fwtest-"):
    """A temporary directory removed afterwards (kept if FWTEST_KEEP=1, and its path printed)."""
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        yield d
    finally:
        if os.environ.get("FWTEST_KEEP") == "1":
            print(f"(kept {d})")
        else:
            shutil.rmtree(d, ignore_errors=True)


def save_npy(path: str, a, dtype=np.float32) -> str:
    """Saves ``a`` as little-endian C-order .npy (float32 by default; labels: dtype=np.int64)."""
    a = np.ascontiguousarray(as_numpy(a).astype(np.dtype(dtype).newbyteorder("<")))
    np.save(path, a, allow_pickle=False)
    return path


def load_npy(path: str) -> np.ndarray:
    """Loads a .npy file (no pickles) and returns a native-endian array."""
    a = np.load(path, allow_pickle=False)
    return a.astype(a.dtype.newbyteorder("="), copy=False)


def as_numpy(a) -> np.ndarray:
    """numpy view of an array-like or torch tensor (detached, on the CPU)."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def errors(got, want):
    """(max abs error, normalised error = max|got-want| / max(max|want|, 1e-12))."""
    got = as_numpy(got).astype(np.float64)
    want = as_numpy(want).astype(np.float64)
    if got.shape != want.shape:
        raise ValueError(f"shape {got.shape} vs {want.shape}")
    if got.size == 0:
        return 0.0, 0.0
    d = float(np.max(np.abs(got - want)))
    return d, d / max(float(np.max(np.abs(want))), 1e-12)


class Checker:
    """Collects named checks; prints one line per check and a summary. ``finish()`` → exit code."""

    def __init__(self, title: str = ""):
        self.title = title
        self.failures = []
        self.passed = 0

    def ok(self, name: str, cond: bool, detail: str = "") -> bool:
        if cond:
            self.passed += 1
            print(f"  ok    {name}{('  ' + detail) if detail else ''}", flush=True)
        else:
            self.failures.append(name)
            print(f"  FAIL  {name}{('  ' + detail) if detail else ''}", flush=True)
        return bool(cond)

    def equal(self, name: str, got, want) -> bool:
        return self.ok(name, got == want, f"got {got!r}, want {want!r}" if got != want else f"= {got!r}")

    def close(self, name: str, got, want, atol: float = 1e-5, rtol: float = 1e-5) -> bool:
        """Passes when |got - want| <= atol + rtol·|want| everywhere (and shapes agree, no NaN
        mismatch). Prints max-abs and normalised errors either way."""
        got = as_numpy(got)
        want = as_numpy(want)
        if got.shape != want.shape:
            return self.ok(name, False, f"shape {list(got.shape)} vs expected {list(want.shape)}")
        if not np.array_equal(np.isnan(got), np.isnan(want)):
            return self.ok(name, False, "NaN pattern differs")
        g = np.nan_to_num(got.astype(np.float64))
        w = np.nan_to_num(want.astype(np.float64))
        d, nrm = errors(g, w)
        good = bool(np.all(np.abs(g - w) <= atol + rtol * np.abs(w)))
        return self.ok(name, good, f"max-abs {d:.3e}, normalised {nrm:.3e} (atol {atol:g}, rtol {rtol:g})")

    def finish(self) -> int:
        head = f"{self.title}: " if self.title else ""
        if self.failures:
            print(f"{head}{len(self.failures)} FAILED, {self.passed} passed: "
                  + ", ".join(self.failures[:20]) + (" ..." if len(self.failures) > 20 else ""),
                  flush=True)
            return 1
        print(f"{head}all {self.passed} checks passed", flush=True)
        return 0
