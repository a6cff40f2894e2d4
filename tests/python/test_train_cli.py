#!/usr/bin/python3
"""`formwork train` / `eval` end to end on real Fashion-MNIST (a small subset, so it is quick):

* the command trains, saves weights, curves, settings, the dataset and the input normalisation
  into the project, and `eval` reads them back;
* Ctrl+C (SIGINT) during training leaves a valid project holding the last completed epoch
  (exit 1, one line saying so), and `--resume` continues from it;
* an existing --out is refused without --resume/--force; an unknown dataset and a missing
  Fashion-MNIST package give one clear line.

Skips (77) when FORMWORK_BIN is unset or Debian's dataset-fashion-mnist is not installed.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402

FM_DIR = "/usr/share/datasets/fashion-mnist"


def meta(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("select key, value from meta"))


def main():
    fw = fwtest.formwork_bin()
    if not os.path.exists(os.path.join(FM_DIR, "train-images-idx3-ubyte.gz")) and \
            not os.environ.get("FORMWORK_FASHION_MNIST_DIR"):
        fwtest.skip("dataset-fashion-mnist is not installed")
    failures = []

    def check(cond, what):
        print(("ok    " if cond else "FAIL  ") + what)
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "fm.formwork")
        common = ["--dataset", "fashion-mnist", "--limit", "256", "--eval-limit", "128",
                  "--batch", "64", "--threads", "1"]
        # 1. Interrupt a long run after its first saved epoch.
        proc = subprocess.Popen([fw, "train", "formwork_fm32", *common, "--epochs", "200", "--out", p],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 300
        while time.time() < deadline:
            if os.path.exists(p):
                try:
                    if int(meta(p).get("train_epochs_done", "0")) >= 1:
                        break
                except sqlite3.Error:
                    pass  # the file is being replaced; try again
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
        lines = [l for l in err.splitlines() if l.startswith("formwork: error")]
        check(proc.returncode == 1, f"interrupted train exits 1 (got {proc.returncode})")
        check(len(lines) == 1 and "cancelled" in lines[0], f"one line says it was cancelled: {lines}")
        m = meta(p)
        done = int(m.get("train_epochs_done", "0"))
        check(done >= 1, f"the project keeps the completed epochs ({done})")
        check("input_norm" in m and m.get("dataset") == "fashion-mnist", "normalisation and dataset stored")
        r = subprocess.run([fw, "info", p], capture_output=True, text=True)
        check(r.returncode == 0, "the interrupted project is valid (`info` reads it)")
        with sqlite3.connect(p) as db:
            status = db.execute("select status from training_runs order by id desc limit 1").fetchone()[0]
            curve = db.execute("select count(*) from training_curves where key='test_top1'").fetchone()[0]
        check(status == "cancelled", f"the run is marked cancelled ({status})")
        check(curve == done, f"one test_top1 point per completed epoch ({curve})")

        # 2. Resume to done+1 epochs.
        r = subprocess.run([fw, "train", p, *common, "--epochs", str(done + 1), "--out", p, "--resume"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"--resume continues (rc {r.returncode}: {r.stderr.strip()[-200:]})")
        check(int(meta(p)["train_epochs_done"]) == done + 1, "one more epoch after --resume")
        ev = subprocess.run([fw, "eval", p, "--dataset", "fashion-mnist", "--limit", "128", "--json"],
                            capture_output=True, text=True)
        check(ev.returncode == 0, "eval reads the project")
        if ev.returncode == 0:
            j = json.loads(ev.stdout)
            check(set(j) >= {"top1", "top5", "loss", "n"} and j["n"] == 128, f"eval JSON keys and n: {j}")
            check(0.0 <= j["top1"] <= j["top5"] <= 1.0, "top1 <= top5, fractions")

        # 3. Errors.
        r = subprocess.run([fw, "train", "formwork_fm32", *common, "--epochs", "1", "--out", p],
                           capture_output=True, text=True)
        check(r.returncode == 1 and "--resume" in r.stderr, "an existing --out is refused")
        r = subprocess.run([fw, "train", "formwork_fm32", "--dataset", os.path.join(tmp, "nope"),
                            "--epochs", "1", "--out", os.path.join(tmp, "x.formwork")],
                           capture_output=True, text=True)
        errs = [l for l in r.stderr.splitlines() if l.startswith("formwork: error")]
        check(r.returncode == 2 and len(errs) == 1 and "nope" in errs[0],
              f"an unknown dataset is a usage error naming it: {r.stderr.strip()[-160:]}")
        r = subprocess.run([fw, "train", "formwork_fm32", *common, "--epochs", "1",
                            "--out", os.path.join(tmp, "y.formwork")],
                           capture_output=True, text=True,
                           env={**os.environ, "FORMWORK_FASHION_MNIST_DIR": os.path.join(tmp, "missing")})
        check(r.returncode == 1 and "apt-get install dataset-fashion-mnist" in r.stderr,
              f"a missing Fashion-MNIST says how to install it: {r.stderr.strip()[-200:]}")

    print(f"train CLI: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
