#!/usr/bin/python3
"""End-to-end search engine: `space`, `nas`, `results`, `export --result` (CONTRACT.md, "Search").

On a copy of the bundled sample (caformer_mini64 on fashion-mnist-placed):
space
  * --set stores the contract's file in the project, `space --json` gives it back with "size" =
    the product of the value counts; a project without one says so; every bad file (unknown node,
    unknown attribute, a value outside the limits or of the wrong type, an empty list, no choices)
    is exit 1 with one error line and leaves the project's bytes unchanged.
nas / results / export --result
  * random search, budget 12: exactly 12 results counted (ok + failed), each with the objectives'
    metrics; every result's subnet, exported with `export --result ID --json`, carries its choices
    (the node attributes equal the choice values) and `info` of it gives the params and MACs the
    search stored; its proxies equal `score` of the exported subnet with `weights init --seed S`
    on the same batch (--proxy-input / --proxy-labels);
  * Pareto: the rows `results` marks are exactly the non-dominated ok rows (computed here);
  * evolution: a child's parent is a recorded id of an earlier generation, and the child differs
    from it in exactly one choice; the population's first generation has no parent;
  * determinism: NSGA-II with the same seed gives the same results (ids, choices, metrics,
    parents, generations) with --threads 1 and --threads 2; killed with SIGKILL mid-search and
    run again with the same command, it ends with the results of the uninterrupted run;
  * a second search on the same project while one runs: exit 1, "formwork nas (pid N, search,
    since ...) is writing this project";
  * constraints: a params_max below the base's filters subnets (status "filtered", reason), which
    do not count toward the budget;
  * accuracy (--train-steps) and latency_ms objectives give numbers in range;
  * a subnet whose metric is not finite is recorded as failed with the reason and counted;
  * bad input: no space, an unknown objective or strategy, --budget 0, accuracy on a project
    without a dataset, other settings under the same --name: one error line, exit 1 or 2.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN or Fashion-MNIST missing).
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np

import fwtest
import e2e_common as E

fwtest.skip_unless_fashion_mnist("the sample project trains on fashion-mnist-placed")

SPACE = {"choices": [
    {"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "sepconv", "attention"]},
    {"node": "stages.1", "attr": "depth", "values": [1, 2, 3]},
    {"node": "stages.2", "attr": "token_mixer", "values": ["attention", "pooling"]},
    {"node": "stages.2", "attr": "depth", "values": [1, 2]},
    {"node": "stages.1", "attr": "dim", "values": [48, 64, 96]}]}
SPACE_SIZE = 3 * 3 * 2 * 2 * 3


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def fresh_project(d, name="p.formwork", space=SPACE):
    p = E.sample_without_searches(os.path.join(d, name))
    if space is not None:
        fwtest.run_formwork(["space", p, "--set", write_json(os.path.join(d, name + ".space.json"), space)])
    else:
        fwtest.run_formwork(["space", p, "--clear"])
    return p


def results(p, *extra):
    r = fwtest.run_formwork(["results", p, "--json", *extra], quiet=True)
    return json.loads(r.stdout)


def comparable(rows):
    return [{k: r[k] for k in ("id", "choices", "metrics", "parent", "generation", "status", "reason", "pareto")}
            for r in rows]


def oriented(row, objectives):
    out = []
    for name, direction in objectives:
        v = row["metrics"].get(name)
        if v is None:
            return None
        out.append(-v if direction == "max" else v)
    return out


def test_space(check, d):
    print("space", flush=True)
    p = fresh_project(d, "space.formwork", space=None)
    r = fwtest.run_formwork(["space", p])
    check.ok("a project without a space says so", "no search space" in r.stdout, r.stdout.strip())
    fwtest.run_formwork(["space", p, "--set", write_json(os.path.join(d, "s.json"), SPACE)])
    got = json.loads(fwtest.run_formwork(["space", p, "--json"]).stdout)
    check.equal("space --json: size", got.get("size"), SPACE_SIZE)
    check.equal("space --json: the choices as set", got.get("choices"), SPACE["choices"])
    before = open(p, "rb").read()
    bad = [
        ({"choices": []}, "no choices"),
        ({"choices": [{"node": "stages.9", "attr": "depth", "values": [1]}]}, "no node 'stages.9'"),
        ({"choices": [{"node": "stages.1", "attr": "width", "values": [1]}]}, "has no attribute 'width'"),
        ({"choices": [{"node": "stages.1", "attr": "depth", "values": [0, 1]}]}, "outside"),
        ({"choices": [{"node": "stages.1", "attr": "depth", "values": ["deep"]}]}, "is not an int"),
        ({"choices": [{"node": "stages.1", "attr": "token_mixer", "values": ["conv"]}]}, "'conv' is not one of"),
        ({"choices": [{"node": "stages.1", "attr": "depth", "values": []}]}, "non-empty"),
        ({"choices": [{"node": "stages.1", "attr": "depth", "values": [1]}], "constraints": {"params_max": -5}},
         "positive"),
    ]
    for i, (space, needle) in enumerate(bad):
        f = write_json(os.path.join(d, f"bad{i}.json"), space)
        E.expect_error(check, f"space --set bad file {i} ({needle})", ["space", p, "--set", f], 1, [needle])
    check.ok("failed --set left the project's bytes unchanged", open(p, "rb").read() == before)
    E.expect_error(check, "nas without a space", ["nas", fresh_project(d, "none.formwork", space=None), "--budget",
                                                  "2", "--objectives", "params:min"], 1, ["no search space"])


def test_random_and_export(check, d):
    print("random search, export --result", flush=True)
    p = fresh_project(d, "rand.formwork")
    # The proxies' batch, given explicitly so that `score` can be run on the same one.
    rng = np.random.default_rng(5)
    x = fwtest.save_npy(os.path.join(d, "x.npy"), rng.standard_normal((8, 1, 64, 64)).astype(np.float32))
    lab = fwtest.save_npy(os.path.join(d, "l.npy"), (np.arange(8) % 10).astype(np.int64), dtype=np.int64)
    fwtest.run_formwork(["nas", p, "--strategy", "random", "--budget", "12", "--seed", "4", "--objectives",
                         "naswot:max,params:min,synflow_log:max", "--proxy-input", x, "--proxy-labels", lab,
                         "--threads", "2"])
    rows = results(p)
    counted = [r for r in rows if r["status"] in ("ok", "failed")]
    check.equal("random: 12 scored results", len(counted), 12)
    keys = {json.dumps(r["choices"], sort_keys=True) for r in rows}
    check.equal("random: no subnet recorded twice", len(keys), len(rows))
    for r in rows[:4]:
        if r["status"] != "ok":
            continue
        j = os.path.join(d, f"sub{r['id']}.json")
        fwtest.run_formwork(["export", p, "--result", str(r["id"]), "--json", j])
        info = json.loads(fwtest.run_formwork(["info", j, "--json"], quiet=True).stdout)
        check.equal(f"result {r['id']}: info params == stored params", info["params"], r["metrics"]["params"])
        check.equal(f"result {r['id']}: info macs == stored macs", info["macs"], r["metrics"]["macs"])
        # The choices are in the exported graph (info --json lists every node with its op).
        by_name = {n["name"]: n for n in info["nodes"]}
        want_blocks = r["choices"]["stages.1.depth"]
        have_blocks = sum(1 for n in by_name if n.startswith("stages.1.blocks.") and n.count(".") == 3)
        check.equal(f"result {r['id']}: stages.1 has depth blocks", have_blocks, want_blocks)
        mixer = r["choices"]["stages.1.token_mixer"]
        op = by_name.get("stages.1.blocks.0.token_mixer", {}).get("op")
        want_op = {"pooling": "pool_mixer", "sepconv": "sepconv", "attention": "attention"}[mixer]
        check.equal(f"result {r['id']}: stages.1's mixer", op, want_op)
        check.equal(f"result {r['id']}: stages.1 output width", by_name["stages.1"]["output"][0],
                    r["choices"]["stages.1.dim"])
        # The proxies: `score` of the exported subnet at its initialisation, same batch.
        w = os.path.join(d, f"w{r['id']}.safetensors")
        fwtest.run_formwork(["weights", "init", j, "--seed", "4", "--out", w], quiet=True)
        sc = json.loads(fwtest.run_formwork(["score", j, "--weights", w, "--input", x, "--labels", lab,
                                             "--proxies", "naswot,synflow", "--json"], quiet=True).stdout)
        check.close(f"result {r['id']}: naswot == score's", np.float64(r["metrics"]["naswot"]),
                    np.float64(sc["naswot"]), 1e-9, 1e-9)
        check.close(f"result {r['id']}: synflow_log == score's", np.float64(r["metrics"]["synflow_log"]),
                    np.float64(sc["synflow_log"]), 1e-9, 1e-9)
    # Pareto, computed here.
    objs = [("naswot", "max"), ("params", "min"), ("synflow_log", "max")]
    ok = [(r, oriented(r, objs)) for r in rows if r["status"] == "ok"]
    ok = [(r, v) for r, v in ok if v is not None]

    def dominated(v):
        return any(all(a <= b for a, b in zip(u, v)) and any(a < b for a, b in zip(u, v)) for _, u in ok)
    want = sorted(r["id"] for r, v in ok if not dominated(v))
    got = sorted(r["id"] for r in rows if r["pareto"])
    check.equal("results: pareto marks the non-dominated ok rows", got, want)
    check.equal("results --pareto lists them", sorted(r["id"] for r in results(p, "--pareto")), want)
    E.expect_error(check, "export --result of an unknown id", ["export", p, "--result", "999", "--json",
                                                               os.path.join(d, "no.json")], 1, ["no search result 999"])


def test_evolution(check, d):
    print("evolution", flush=True)
    p = fresh_project(d, "evo.formwork")
    fwtest.run_formwork(["nas", p, "--strategy", "evolution", "--budget", "20", "--population", "6", "--tournament",
                         "3", "--seed", "2", "--objectives", "naswot:max", "--proxy-batch", "8", "--quiet"])
    rows = results(p)
    by_id = {r["id"]: r for r in rows}
    first = [r for r in rows if r["generation"] == 0]
    check.ok("evolution: the first generation has no parents", all(r["parent"] is None for r in first))
    children = [r for r in rows if r["generation"] > 0]
    check.ok("evolution: children exist", len(children) > 0, f"{len(children)}")
    bad = []
    for c in children:
        par = by_id.get(c["parent"])
        if par is None or par["generation"] >= c["generation"]:
            bad.append(f"#{c['id']}: parent {c['parent']}")
            continue
        diff = [k for k in c["choices"] if c["choices"][k] != par["choices"][k]]
        if len(diff) != 1:
            bad.append(f"#{c['id']} differs from #{par['id']} in {diff}")
    check.ok("evolution: each child is its parent mutated in one choice", not bad, "; ".join(bad[:5]))


def nsga_args(p, threads, budget=24, seed=11):
    return ["nas", p, "--strategy", "nsga2", "--budget", str(budget), "--population", "8", "--seed", str(seed),
            "--objectives", "naswot:max,params:min", "--proxy-batch", "8", "--threads", str(threads)]


def slow_args(p, threads, seed=3):
    """A search slow enough to be killed in the middle: accuracy after a short training."""
    return ["nas", p, "--strategy", "nsga2", "--budget", "30", "--population", "8", "--seed", str(seed),
            "--objectives", "accuracy:max,params:min", "--train-steps", "8", "--train-batch", "16",
            "--eval-limit", "64", "--threads", str(threads), "--name", "slow"]


def count_rows(p):
    try:
        con = sqlite3.connect(f"file:{p}?mode=ro", uri=True, timeout=1)
        n = con.execute("SELECT count(*) FROM search_results").fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


def test_determinism_and_resume(check, d):
    print("NSGA-II: threads, kill -9 and resume", flush=True)
    a = fresh_project(d, "a.formwork")
    fwtest.run_formwork(nsga_args(a, 1) + ["--quiet"])
    ra = comparable(results(a))
    check.equal("nsga2: 24 scored", len([r for r in ra if r["status"] in ("ok", "failed")]), 24)
    b = fresh_project(d, "b.formwork")
    fwtest.run_formwork(nsga_args(b, 2) + ["--quiet"])
    check.ok("nsga2: --threads 2 gives the results of --threads 1", comparable(results(b)) == ra)

    # Accuracy after a short training, uninterrupted on 2 threads ...
    s = fresh_project(d, "s.formwork")
    fwtest.run_formwork(slow_args(s, 2) + ["--quiet"])
    rs = comparable(results(s))
    check.equal("slow search: 30 scored", len([r for r in rs if r["status"] in ("ok", "failed")]), 30)
    # ... and on 1 thread, killed with SIGKILL in the middle and run again.
    c = fresh_project(d, "c.formwork")
    proc = subprocess.Popen([fwtest.formwork_bin(), *slow_args(c, 1)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    t0 = time.time()
    while count_rows(c) < 8 and proc.poll() is None and time.time() - t0 < 300:
        time.sleep(0.01)
    # Meanwhile a second search on the same project is refused.
    if proc.poll() is None:
        E.expect_error(check, "a second search on a project being searched", nsga_args(c, 1) + ["--name", "other"],
                       1, ["formwork nas (pid %d, search, since" % proc.pid, "is writing this project"])
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    n = count_rows(c)
    check.ok("killed mid-search (some results stored, not all)", killed and 0 < n < len(rs), f"{n} rows stored")
    fwtest.run_formwork(slow_args(c, 1) + ["--quiet"])
    check.ok("the same command after kill -9 ends with the uninterrupted run's results",
             comparable(results(c)) == rs)
    E.expect_error(check, "other settings under the same name", slow_args(c, 1, seed=12), 2,
                   ["--seed 12 (stored 3)"])


def test_constraints_and_objectives(check, d):
    print("constraints, accuracy, latency", flush=True)
    space = dict(SPACE, constraints={"params_max": 400000})
    p = fresh_project(d, "con.formwork", space=space)
    fwtest.run_formwork(["nas", p, "--budget", "6", "--seed", "1", "--objectives", "params:min", "--quiet"])
    rows = results(p)
    filt = [r for r in rows if r["status"] == "filtered"]
    check.ok("params_max filters subnets", len(filt) > 0 and all("params_max" in r["reason"] for r in filt),
             f"{len(filt)} filtered")
    check.ok("filtered subnets are over the limit", all(r["metrics"]["params"] > 400000 for r in filt))
    check.equal("filtered ones do not count: 6 scored", len([r for r in rows if r["status"] in ("ok", "failed")]), 6)
    check.ok("scored ones are within the limit",
             all(r["metrics"]["params"] <= 400000 for r in rows if r["status"] == "ok"))
    q = fresh_project(d, "acc.formwork")
    fwtest.run_formwork(["nas", q, "--budget", "2", "--seed", "1", "--objectives", "accuracy:max,latency_ms:min",
                         "--train-steps", "3", "--train-batch", "16", "--eval-limit", "50", "--quiet"])
    rows = [r for r in results(q) if r["status"] == "ok"]
    check.ok("accuracy in [0, 1]", len(rows) == 2 and all(0 <= r["metrics"]["accuracy"] <= 1 for r in rows),
             str([r["metrics"].get("accuracy") for r in rows]))
    check.ok("latency_ms > 0", all(r["metrics"]["latency_ms"] > 0 for r in rows))


def test_failures_are_recorded(check, d):
    print("a subnet that fails while scored", flush=True)
    p = fresh_project(d, "fail.formwork")
    # Identical (all-zero) images have identical activation codes: NASWOT's kernel is singular and
    # ln|det K| = -inf.
    x = fwtest.save_npy(os.path.join(d, "zeros.npy"), np.zeros((4, 1, 64, 64), np.float32))
    lab = fwtest.save_npy(os.path.join(d, "zl.npy"), np.arange(4).astype(np.int64), dtype=np.int64)
    r = fwtest.run_formwork(["nas", p, "--budget", "3", "--objectives", "naswot:max", "--proxy-input", x,
                             "--proxy-labels", lab])
    rows = results(p)
    check.ok("failed subnets recorded with their reason",
             len(rows) == 3 and all(r["status"] == "failed" and "naswot is not finite" in r["reason"] for r in rows),
             str([(r["status"], r["reason"]) for r in rows]))
    check.ok("the search went on to its budget", "3 of 3 scored" in r.stdout, r.stdout.strip().splitlines()[-1])


def test_errors(check, d):
    print("bad input", flush=True)
    p = fresh_project(d, "err.formwork")
    base = ["nas", p, "--budget", "3"]
    E.expect_error(check, "unknown objective", base + ["--objectives", "acc:max"], 2, ["unknown objective 'acc'"])
    E.expect_error(check, "direction", base + ["--objectives", "params:up"], 2, ["min or max"])
    E.expect_error(check, "unknown strategy", base + ["--objectives", "params:min", "--strategy", "grid"], 2,
                   ["unknown strategy 'grid'"])
    E.expect_error(check, "budget 0", ["nas", p, "--budget", "0", "--objectives", "params:min"], 2,
                   ["--budget must be at least 1"])
    E.expect_error(check, "nsga2 with one objective", base + ["--objectives", "params:min", "--strategy", "nsga2"], 2,
                   ["two or three objectives"])
    E.expect_error(check, "accuracy without --train-steps", base + ["--objectives", "accuracy:max"], 2,
                   ["--train-steps"])
    n = os.path.join(d, "nodata.formwork")
    fwtest.run_formwork(["new", n, "--template", "caformer_mini64"])
    fwtest.run_formwork(["space", n, "--set", write_json(os.path.join(d, "n.json"), SPACE)])
    E.expect_error(check, "accuracy on a project without a dataset",
                   ["nas", n, "--budget", "2", "--objectives", "accuracy:max", "--train-steps", "2"], 1, ["dataset"])
    E.expect_error(check, "results of an unknown search", ["results", p, "--name", "nope"], 1, ["no search named"])


def main():
    check = fwtest.Checker("search engine")
    with fwtest.temp_dir("fw-nas-") as d:
        test_space(check, d)
        test_random_and_export(check, d)
        test_evolution(check, d)
        test_determinism_and_resume(check, d)
        test_constraints_and_objectives(check, d)
        test_failures_are_recorded(check, d)
        test_errors(check, d)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
