#!/usr/bin/python3
"""How a search scales over MPI ranks on this machine (a benchmark, not a test).

The same search (random, the sample's space, objectives accuracy:max and params:min with
--train-steps S: each subnet trained briefly, so that scoring dominates) runs as one process with
--threads 1 and under `mpirun --oversubscribe -np R` for each R given (R - 1 workers, one kernel
thread each, rank 0 driving). Prints subnets per second and the speed-up over one process.

Usage: /usr/bin/python3 tests/bench/nas_mpi_scaling.py [--formwork build/app/formwork]
       [--ranks 2,3,5] [--budget 16] [--train-steps 20]
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
SPACE = {"choices": [
    {"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "sepconv", "attention"]},
    {"node": "stages.1", "attr": "depth", "values": [1, 2, 3]},
    {"node": "stages.2", "attr": "token_mixer", "values": ["attention", "pooling"]},
    {"node": "stages.2", "attr": "depth", "values": [1, 2]},
    {"node": "stages.1", "attr": "dim", "values": [48, 64, 96]}]}
ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def fresh(formwork, d, name):
    p = os.path.join(d, name)
    shutil.copy(os.path.join(ROOT, "assets", "sample.formwork"), p)
    con = sqlite3.connect(p)
    for t in ("search_results", "searches"):
        try:
            con.execute(f"DELETE FROM {t}")
        except sqlite3.Error:
            pass
    con.commit()
    con.close()
    with open(p + ".json", "w") as f:
        json.dump(SPACE, f)
    subprocess.run([formwork, "space", p, "--set", p + ".json"], check=True, capture_output=True)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--formwork", default=os.path.join(ROOT, "build", "app", "formwork"))
    ap.add_argument("--ranks", default="2,3,5")
    ap.add_argument("--budget", type=int, default=16)
    ap.add_argument("--train-steps", type=int, default=20)
    args = ap.parse_args()
    search = ["--strategy", "random", "--budget", str(args.budget), "--objectives", "accuracy:max,params:min",
              "--train-steps", str(args.train_steps), "--train-batch", "32", "--eval-limit", "200", "--quiet"]
    d = tempfile.mkdtemp(prefix="fw-mpibench-")
    try:
        p = fresh(args.formwork, d, "one.formwork")
        t0 = time.perf_counter()
        subprocess.run([args.formwork, "nas", p, "--threads", "1", *search], check=True, capture_output=True)
        one = args.budget / (time.perf_counter() - t0)
        print(f"search of {args.budget} subnets (accuracy after {args.train_steps} steps, params), "
              f"{os.cpu_count()} cores")
        print(f"  1 process, 1 thread       {one:7.3f} subnets/s  1.00x")
        for r in [int(x) for x in args.ranks.split(",") if x]:
            p = fresh(args.formwork, d, f"r{r}.formwork")
            t0 = time.perf_counter()
            subprocess.run(["mpirun", "--oversubscribe", "-np", str(r), args.formwork, "nas", p, *search], check=True,
                           capture_output=True, env=dict(os.environ, **ENV))
            s = args.budget / (time.perf_counter() - t0)
            print(f"  mpirun -np {r} ({r - 1} workers) {s:7.3f} subnets/s  {s / one:.2f}x")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
