#!/usr/bin/python3
"""`formwork train` / `eval` end to end on real Fashion-MNIST (a small subset, so it is quick):

* the command trains, saves weights, curves, settings, the dataset and the input normalisation
  into the project, and `eval` reads them back;
* Ctrl+C (SIGINT) during training leaves a valid project holding the last completed epoch
  (exit 1, one line saying so), and `--resume` continues from it;
* an existing --out is refused without --resume/--force; an unknown dataset and a missing
  Fashion-MNIST package give one clear line;
* nonsense settings (negative weight decay or clipping, a final rate above the peak, a warm-up
  longer than the run, ...) are usage errors; `--resume` with settings (or an ARCH) other than the
  run's is refused naming each, and leaves the project as it was, unless --new-settings, which
  says what changed.

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



def meta(path):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("select key, value from meta"))


def main():
    fw = fwtest.formwork_bin()
    fwtest.skip_unless_fashion_mnist()
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

        # 4. Settings that make no sense are usage errors (exit 2, one line naming the setting),
        #    before anything is loaded or written.
        q = os.path.join(tmp, "never.formwork")
        for args, needle in [(["--weight-decay", "-0.1"], "weight decay"),
                             (["--min-lr", "0.1", "--lr", "0.01"], "above the peak"),
                             (["--clip-grad", "-1"], "gradient clipping"),
                             (["--warmup-epochs", "-1"], "warm-up"),
                             (["--warmup-epochs", "5"], "longer than the run"),
                             (["--limit", "-5"], "--limit: must be 0 or more"),
                             (["--lr", "nan"], "learning rate")]:
            r = subprocess.run([fw, "train", "formwork_fm32", "--dataset", "fashion-mnist", "--epochs", "2",
                                *args, "--out", q], capture_output=True, text=True)
            errs = [l for l in r.stderr.splitlines() if l.strip()]
            check(r.returncode == 2 and len(errs) == 1 and needle in errs[0] and not os.path.exists(q),
                  f"{' '.join(args)} is refused ({r.returncode}: {errs})")
        # --resume with other settings than the run's: refused, naming each; the project unchanged.
        with open(p, "rb") as f:
            before = f.read()
        done = int(meta(p)["train_epochs_done"])
        base = ["--dataset", "fashion-mnist", "--limit", "256", "--eval-limit", "128", "--threads", "1"]
        r = subprocess.run([fw, "train", p, *base, "--batch", "32", "--lr", "0.01", "--epochs", str(done + 1),
                            "--out", p, "--resume"], capture_output=True, text=True)
        errs = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == 2 and len(errs) == 1 and "--batch 32 (stored 64)" in errs[0] and
              "--lr 0.01 (stored 0.002)" in errs[0] and "--new-settings" in errs[0],
              f"--resume with another --batch and --lr is refused naming both: {errs}")
        r = subprocess.run([fw, "train", p, "--dataset", "fashion-mnist-placed", "--epochs", str(done + 1),
                            "--out", p, "--resume"], capture_output=True, text=True)
        check(r.returncode == 2 and "--dataset fashion-mnist-placed (stored fashion-mnist)" in r.stderr,
              f"--resume with another --dataset is refused: {r.stderr.strip()[-200:]}")
        r = subprocess.run([fw, "train", "poolformer_s12", "--epochs", str(done + 1), "--out", p, "--resume"],
                           capture_output=True, text=True)
        check(r.returncode == 2 and "another network" in r.stderr,
              f"--resume with another ARCH is refused: {r.stderr.strip()[-200:]}")
        with open(p, "rb") as f:
            check(f.read() == before, "the refused resumes left the project as it was")
        # ... unless --new-settings, which says what changed and stores the new settings.
        r = subprocess.run([fw, "train", p, "--lr", "0.001", "--epochs", str(done + 1), "--out", p,
                            "--resume", "--new-settings", "--threads", "1"], capture_output=True, text=True)
        check(r.returncode == 0 and "continuing with changed settings: --lr 0.001 (stored 0.002)" in r.stderr,
              f"--new-settings applies and says so ({r.returncode}: {r.stderr.strip()[-200:]})")
        with sqlite3.connect(p) as db:
            settings = json.loads(db.execute("select settings_json from training_runs order by id desc limit 1").fetchone()[0])
        check(settings["lr"] == 0.001 and settings["batch"] == 64, f"the run's settings now say lr 0.001: {settings}")

    print(f"train CLI: {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
