#!/usr/bin/python3
"""One writer per project, across real processes (core/project_lock.h):

* while `formwork train --out P` runs, a search on P, a weights import into P, a change of P's
  search space and a second training run are refused (exit 1, one line naming the training:
  "formwork train (pid N, training, since ...) is writing this project"), and leave P as it was;
  reading P (`info`, `space`, `results`) still works;
* while `formwork nas P` runs, a training run on P (new or resumed) and a second search are
  refused naming the search;
* after both, P holds everything each wrote: the training run with its last completed epoch and
  weights, and every search result;
* the lock file is the protocol: a writer waits (up to 3 s) for a holder that finishes, and is
  refused naming a holder that does not; the file is gone once nobody holds it.

Skips (77) when FORMWORK_BIN is unset or Debian's dataset-fashion-mnist is not installed.
"""
import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common as E  # noqa: E402
import fwtest  # noqa: E402

SPACE = {"choices": [
    {"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "sepconv", "attention"]},
    {"node": "stages.1", "attr": "depth", "values": [1, 2]}]}


def query(path, sql):
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute(sql).fetchall()
    except sqlite3.Error:
        return None


def lock_file(p):
    return os.path.join(os.path.dirname(p), "." + os.path.basename(p) + ".fwlock")


def holder(p):
    try:
        with open(lock_file(p)) as f:
            return f.read()
    except OSError:
        return ""


def file_bytes(p):
    with open(p, "rb") as f:
        return f.read()


def main():
    fw = fwtest.formwork_bin()
    fwtest.skip_unless_fashion_mnist()
    failures = []

    def check(cond, what):
        print(("ok    " if cond else "FAIL  ") + what)
        if not cond:
            failures.append(what)

    def refused(what, args, names, rc=1):
        t0 = time.time()
        r = subprocess.run([fw, *args], capture_output=True, text=True, timeout=120)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        ok = (r.returncode == rc and len(lines) == 1 and lines[0].startswith("formwork: error: ")
              and all(n in lines[0] for n in names))
        check(ok, f"{what}: exit {r.returncode}, {lines} ({time.time() - t0:.1f} s)")
        return r

    with tempfile.TemporaryDirectory() as d:
        p = E.sample_without_searches(os.path.join(d, "p.formwork"))
        space = os.path.join(d, "space.json")
        with open(space, "w") as f:
            json.dump(SPACE, f)
        fwtest.run_formwork(["space", p, "--set", space])
        w = os.path.join(d, "w.safetensors")
        fwtest.run_formwork(["weights", "export", p, "--out", w])

        # 1. A training run holds the project.
        train = ["train", p, "--out", p, "--force", "--dataset", "fashion-mnist-placed", "--limit", "128",
                 "--eval-limit", "64", "--batch", "32", "--threads", "1", "--epochs", "200"]
        proc = subprocess.Popen([fw, *train], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 300
        # The sample holds one finished run; the new one is saved before its first step.
        while time.time() < deadline and proc.poll() is None:
            if holder(p).startswith("formwork train") and query(p, "SELECT count(*) FROM training_runs") == [(2,)]:
                break
            time.sleep(0.02)
        # Frozen while the others try (SIGSTOP): it holds the lock however fast the machine is.
        proc.send_signal(signal.SIGSTOP)
        check(proc.poll() is None, "the training run is under way (its run saved)")
        h = holder(p)
        check(h.startswith(f"formwork train (pid {proc.pid}, training, since "), f"the lock file names it: {h!r}")
        by_train = [f"formwork train (pid {proc.pid}, training, since ", "is writing this project; try again"]
        refused("a search while it trains", ["nas", p, "--budget", "2", "--objectives", "params:min",
                                             "--name", "s0", "--quiet"], by_train)
        refused("a weights import while it trains", ["weights", "import", p, w], by_train)
        refused("a new search space while it trains", ["space", p, "--clear"], by_train)
        refused("a second training run on it", train[:-2] + ["--epochs", "2"], by_train)
        refused("resuming it meanwhile", ["train", p, "--out", p, "--resume", "--epochs", "300"], by_train)
        # The run saves an epoch now and then; none of the refused writers wrote anything.
        check(query(p, "SELECT count(*) FROM search_results") == [(0,)], "no search row was written")
        check(query(p, "SELECT count(*) FROM training_runs") == [(2,)], "no third run was written")
        for args in (["info", p], ["space", p], ["results", p]):
            r = subprocess.run([fw, *args], capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, f"`{' '.join(args[:1])}` reads it meanwhile (exit {r.returncode})")
        proc.send_signal(signal.SIGCONT)
        while time.time() < deadline and proc.poll() is None:  # at least one epoch, then stop it
            rows = query(p, "SELECT value FROM meta WHERE key = 'train_epochs_done'")
            if rows and int(rows[0][0]) >= 1 and int(rows[0][0]) < 16:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        check(proc.returncode == 1 and "keeps the last completed epoch" in err,
              f"the run stops on SIGINT keeping its last epoch (exit {proc.returncode})")
        check(not os.path.exists(lock_file(p)), "its lock file is gone once it stopped")
        trained = query(p, "SELECT value FROM meta WHERE key = 'train_epochs_done'")
        runs = query(p, "SELECT status FROM training_runs")
        check(runs == [("done",), ("cancelled",)] and trained and int(trained[0][0]) >= 1,
              f"the project holds the run: {runs}, {trained} epochs")
        fwtest.run_formwork(["weights", "export", p, "--out", os.path.join(d, "t.safetensors")])
        check(query(p, "SELECT count(*) FROM search_results") == [(0,)] and "stages.1" in
              subprocess.run([fw, "space", p, "--json"], capture_output=True, text=True).stdout,
              "the refused space change and search left the space and results as they were")

        # 2. A search holds the project.
        nas = ["nas", p, "--strategy", "random", "--budget", "6", "--seed", "4",
               "--objectives", "accuracy:max,params:min", "--train-steps", "6", "--train-batch", "16",
               "--eval-limit", "32", "--threads", "1", "--name", "s1", "--quiet"]
        search = subprocess.Popen([fw, *nas], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 300
        while time.time() < deadline and search.poll() is None and not holder(p).startswith("formwork nas"):
            time.sleep(0.002)
        search.send_signal(signal.SIGSTOP)
        check(search.poll() is None and holder(p).startswith(f"formwork nas (pid {search.pid}, search"),
              "the search is under way")
        by_search = [f"formwork nas (pid {search.pid}, search, since ", "is writing this project"]
        refused("a training run while it searches", train[:-2] + ["--epochs", "2"], by_search)
        refused("resuming the training while it searches", ["train", p, "--out", p, "--resume", "--epochs", "300"],
                by_search)
        refused("a second search", nas[:-3] + ["--name", "s2", "--quiet"], by_search)
        search.send_signal(signal.SIGCONT)
        _, err = search.communicate(timeout=600)
        check(search.returncode == 0, f"the search finishes (exit {search.returncode}) {err.strip()[-200:]}")
        rows = query(p, "SELECT search, status FROM search_results")
        check(rows is not None and len(rows) == 6 and all(r[0] == "s1" for r in rows),
              f"all 6 results of s1 are in the project, none of s2: {rows}")
        check(query(p, "SELECT status FROM training_runs") == [("done",), ("cancelled",)]
              and query(p, "SELECT value FROM meta WHERE key = 'train_epochs_done'") == trained,
              "the training run is still there beside them")
        fwtest.run_formwork(["weights", "export", p, "--out", os.path.join(d, "t2.safetensors")])
        check(file_bytes(os.path.join(d, "t.safetensors")) == file_bytes(os.path.join(d, "t2.safetensors")),
              "and the weights of its last epoch")

        # 3. The lock file itself: held here, then released after 1 s: the writer waited.
        def hold():
            fd = os.open(lock_file(p), os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.write(fd, f"the test (pid {os.getpid()}, holding, since now)\n".encode())
            return fd

        fd = hold()
        t0 = time.time()
        writer = subprocess.Popen([fw, "space", p, "--set", space], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        os.unlink(lock_file(p))
        os.close(fd)
        _, err = writer.communicate(timeout=60)
        check(writer.returncode == 0 and time.time() - t0 >= 1.0,
              f"a writer waits for a holder that finishes ({time.time() - t0:.1f} s, exit {writer.returncode}) {err}")
        fd = hold()
        t0 = time.time()
        refused("a holder that does not finish in 3 s", ["space", p, "--clear"],
                [f"the test (pid {os.getpid()}, holding, since now) is writing this project"])
        waited = time.time() - t0
        check(3.0 <= waited < 20, f"... after waiting about 3 s ({waited:.1f} s)")
        os.unlink(lock_file(p))
        os.close(fd)
        check(query(p, "SELECT count(*) FROM search_results") == [(6,)], "nothing was lost")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
