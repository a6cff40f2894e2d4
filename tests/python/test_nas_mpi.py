#!/usr/bin/python3
"""Searches over MPI on one machine (nas/mpi.h, README "Search over MPI").

  * `mpirun --oversubscribe -np 3 formwork nas ...` (NSGA-II, naswot and params) records exactly
    the results (ids, choices, metrics, parents, generations) of the single-process run;
  * a job whose worker is killed (SIGKILL: MPI ends the job) keeps every committed result, and the
    same command without MPI finishes it with the results of an uninterrupted run;
  * a subnet that fails on a worker (NASWOT of identical images is -inf) is recorded as failed
    with the reason and the search goes on;
  * -np 1 runs as a single process;
  * a rank of another build is refused at start, naming both builds, nothing written; so is a rank
    that cannot read its project (MPMD: rank 1 given a missing file), naming the rank.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, no mpirun, or a build without MPI).
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np

import fwtest
import e2e_common as E

SPACE = {"choices": [
    {"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "sepconv", "attention"]},
    {"node": "stages.1", "attr": "depth", "values": [1, 2, 3]},
    {"node": "stages.2", "attr": "token_mixer", "values": ["attention", "pooling"]},
    {"node": "stages.2", "attr": "depth", "values": [1, 2]},
    {"node": "stages.1", "attr": "dim", "values": [48, 64, 96]}]}
ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def mpirun():
    exe = shutil.which("mpirun")
    if not exe:
        fwtest.skip("mpirun is not installed (openmpi-bin)")
    v = fwtest.run_formwork(["--version"], quiet=True).stdout
    if "MPI: on" not in v:
        fwtest.skip(f"this formwork was built without MPI ({v.strip()})")
    return exe


def project(d, name):
    p = E.sample_without_searches(os.path.join(d, name))
    with open(p + ".json", "w") as f:
        json.dump(SPACE, f)
    fwtest.run_formwork(["space", p, "--set", p + ".json"], quiet=True)
    return p


def results(p):
    rows = json.loads(fwtest.run_formwork(["results", p, "--json"], quiet=True).stdout)
    return [{k: r[k] for k in ("id", "choices", "metrics", "parent", "generation", "status", "reason")} for r in rows]


def run_mpi(args, np_, timeout=600):
    cmd = [mpirun(), "--oversubscribe", "-np", str(np_), fwtest.formwork_bin(), *args]
    env = dict(os.environ, **ENV)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    print(f"$ {' '.join(cmd)}  -> rc {r.returncode}", flush=True)
    return r


def nsga(p, extra=()):
    return ["nas", p, "--strategy", "nsga2", "--budget", "24", "--population", "8", "--seed", "6",
            "--objectives", "naswot:max,params:min", "--proxy-batch", "8", "--quiet", *extra]


def slow(p):
    return ["nas", p, "--strategy", "nsga2", "--budget", "24", "--population", "8", "--seed", "4",
            "--objectives", "accuracy:max,params:min", "--train-steps", "8", "--train-batch", "16",
            "--eval-limit", "64", "--quiet", "--name", "slow"]


def count_rows(p):
    try:
        con = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=1)
        n = con.execute("SELECT count(*) FROM search_results").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


def rank_of(pid):
    try:
        env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    except OSError:
        return None
    for kv in env:
        if kv.startswith(b"OMPI_COMM_WORLD_RANK="):
            return int(kv.split(b"=", 1)[1])
    return None


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(d))
            except OSError:
                pass
    return out


def main():
    check = fwtest.Checker("search over MPI")
    mpirun()
    fwtest.skip_unless_fashion_mnist("the sample project trains on fashion-mnist-placed")
    with fwtest.temp_dir("fw-mpi-") as d:
        print("same results as one process", flush=True)
        one = project(d, "one.formwork")
        fwtest.run_formwork(nsga(one))
        want = results(one)
        three = project(d, "three.formwork")
        r = run_mpi(nsga(three), 3)
        check.equal("mpirun -np 3: exit status", r.returncode, 0)
        check.ok("mpirun -np 3 records the single-process results", results(three) == want,
                 f"{len(results(three))} vs {len(want)} rows")
        single = project(d, "single.formwork")
        r = run_mpi(nsga(single), 1)
        check.ok("-np 1 runs as one process, same results", r.returncode == 0 and results(single) == want)

        print("a killed worker, then the same command without MPI", flush=True)
        ref = project(d, "ref.formwork")
        fwtest.run_formwork(slow(ref))
        want_slow = results(ref)
        k = project(d, "killed.formwork")
        env = dict(os.environ, **ENV)
        proc = subprocess.Popen([mpirun(), "--oversubscribe", "-np", "3", fwtest.formwork_bin(), *slow(k)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        t0 = time.time()
        while count_rows(k) < 6 and proc.poll() is None and time.time() - t0 < 300:
            time.sleep(0.01)
        victim = next((c for c in children(proc.pid) if rank_of(c) == 2), None)
        killed = proc.poll() is None and victim is not None
        if killed:
            os.kill(victim, signal.SIGKILL)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        n = count_rows(k)
        check.ok("a worker killed mid-search: the job ends, committed results stay",
                 killed and proc.returncode != 0 and 0 < n < len(want_slow), f"{n} rows, rc {proc.returncode}")
        fwtest.run_formwork(slow(k))
        check.ok("the same command without MPI ends with the uninterrupted run's results", results(k) == want_slow)

        print("a subnet failing on a worker", flush=True)
        f = project(d, "fail.formwork")
        x = fwtest.save_npy(os.path.join(d, "zeros.npy"), np.zeros((4, 1, 64, 64), np.float32))
        lab = fwtest.save_npy(os.path.join(d, "zl.npy"), np.arange(4).astype(np.int64), dtype=np.int64)
        r = run_mpi(["nas", f, "--budget", "4", "--objectives", "naswot:max", "--proxy-input", x, "--proxy-labels",
                     lab], 3)
        rows = results(f)
        check.ok("failed on a worker: recorded with the reason, the search went on",
                 r.returncode == 0 and len(rows) == 4 and all(
                     x["status"] == "failed" and "naswot is not finite" in x["reason"] for x in rows),
                 str([(x["status"], x["reason"]) for x in rows])[:300])

        print("refusals at start", flush=True)
        v = project(d, "version.formwork")
        before = open(v, "rb").read()
        cmd = [mpirun(), "--oversubscribe", "-np", "1", fwtest.formwork_bin(), *nsga(v), ":", "-np", "1",
               "-x", "FORMWORK_TEST_MPI_BUILD=9.9.9+other", fwtest.formwork_bin(), *nsga(v)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        lines = E.error_lines(r.stderr)
        check.ok("a rank of another build is refused naming both builds",
                 r.returncode != 0 and any("9.9.9+other" in l and "rank 1" in l for l in lines),
                 " | ".join(lines)[:300])
        check.ok("... nothing written", open(v, "rb").read() == before)
        missing = os.path.join(d, "missing.formwork")
        cmd = [mpirun(), "--oversubscribe", "-np", "1", fwtest.formwork_bin(), *nsga(v), ":", "-np", "1",
               fwtest.formwork_bin(), *nsga(missing)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        lines = E.error_lines(r.stderr)
        check.ok("a rank that cannot read the project is named",
                 r.returncode != 0 and any("rank 1" in l and "missing.formwork" in l for l in lines),
                 " | ".join(lines)[:300])
        check.ok("... nothing written", open(v, "rb").read() == before)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
