#!/usr/bin/python3
"""End-to-end `formwork templates`, `formwork info` and `formwork bench` (CONTRACT.md, README.md).

templates [--json]
  * every template CONTRACT.md names (poolformer_s12 … vit_tiny_patch16_224) and Formwork's own
    (formwork_fm32, caformer_mini64) is listed once, with keys name, family, params, macs,
    description; params and MACs equal `info NAME --json` (the template's default size: 3x224x224
    / 1000 classes, Formwork's own 1x32x32 / 1x64x64, 10) and the PyTorch reference counts
    (fwref.REFERENCE_SIZES: timm's parameter counts, TEMPLATES.md's MAC rule); the text listing
    shows the same names and counts ("11,915,176"); an extra argument is a usage error (2).
info ARCH [--json] [--depth N]
  * JSON keys params, macs, nodes (name, op, depth, leaf, output, params, macs), parameters (name,
    shape, trainable); params == Σ numel(parameters) == Σ top-level nodes' params; macs == Σ
    top-level MACs; a group's params and MACs are the sums over its direct children; the
    parameters are exactly the PyTorch reference model's state_dict (names and shapes);
  * depth: a node's depth is its module path's depth (the number of dots; the unnamed top-level
    node of ViT at 0) and one more than its parent's (the longest proper prefix that is a node);
    every module of the PyTorch model that owns a parameter is a node at its path's depth;
  * --depth N (N = 0 … max+1) lists exactly the nodes of depth ≤ N, in the order of the full
    listing, in JSON and in the text table (each row indented by two spaces per depth level,
    unnamed nodes as "(kind)"); --depth -1 lists all; a non-numeric --depth is exit 2;
    the totals line does not depend on --depth;
  * models: caformer_s18 and vit_tiny_patch16_224 at 3x64x64 / 10 classes, formwork_fm32.
bench ARCH --batch B [--threads N] [--repeats R] [--json]
  * JSON keys median_ms, images_per_s, batch, threads, device (and min_ms, max_ms, repeats,
    warmup): positive, finite, min ≤ median ≤ max, images_per_s == batch·1000/median_ms, batch and
    threads as given (default threads: os.cpu_count()), device "cpu"; one repeat: min == median ==
    max; two: median == (min + max) / 2; caformer_mini64 at batch 32 is slower than formwork_fm32
    at batch 1; a project (with or without weights) and --weights work; text mode states the same
    numbers; wrong usage (no --batch, --batch 0 / x, no ARCH, --threads 0, --device tpu) is exit 2,
    --device cuda without a CUDA build exit 1, mismatched --weights exit 1, each with one
    "formwork: error:" line.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch).
"""
import json
import math
import os
import re
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402
import fwref  # noqa: E402

CONTRACT_TEMPLATES = ("poolformer_s12", "poolformer_s24", "poolformer_s36", "poolformer_m36", "poolformer_m48",
                      "poolformerv2_s12", "convformer_s18", "caformer_s18", "identityformer_s12",
                      "randformer_s12", "vit_tiny_patch16_224")
OWN = ("formwork_fm32", "caformer_mini64")


def test_templates(check):
    print("templates", flush=True)
    res = E.run(check, "templates --json", ["templates", "--json"])
    if res is None:
        return
    arr = json.loads(res.stdout)
    names = [t.get("name") for t in arr]
    check.ok("templates --json: a JSON array", isinstance(arr, list))
    check.ok("templates --json: names unique", len(names) == len(set(names)), str(names))
    missing = [n for n in CONTRACT_TEMPLATES + OWN if n not in names]
    check.ok("templates --json: every CONTRACT.md template and Formwork's own listed", not missing, f"missing {missing}")
    keys = {"name", "family", "params", "macs", "description"}
    bad = [t.get("name") for t in arr if not keys <= set(t)
           or not (isinstance(t["params"], int) and t["params"] > 0 and isinstance(t["macs"], int) and t["macs"] > 0)
           or not (isinstance(t["description"], str) and t["description"]) or not isinstance(t["family"], str)]
    check.ok("templates --json: keys name/family/params/macs/description, positive integer counts", not bad, str(bad))
    by = {t["name"]: t for t in arr}
    for n in names:
        r = E.run(check, f"info {n} --json", ["info", n, "--json"])
        if r is None:
            continue
        j = json.loads(r.stdout)
        check.ok(f"templates {n}: params/macs == info --json", (by[n]["params"], by[n]["macs"]) == (j["params"], j["macs"]),
                 f"templates {by[n]['params']}/{by[n]['macs']}, info {j['params']}/{j['macs']}")
        want_size = (list(fwref.defaults(n)[0]), fwref.defaults(n)[1])
        check.ok(f"templates {n}: input and num_classes == info --json == fwref's defaults",
                 (by[n].get("input"), by[n].get("num_classes")) == (j["input"], j["num_classes"]) and
                 (by[n].get("input"), by[n].get("num_classes")) == want_size,
                 f"templates {by[n].get('input')}/{by[n].get('num_classes')}, info {j['input']}/{j['num_classes']}, "
                 f"fwref {want_size}")
        if n in fwref.REFERENCE_SIZES:
            total, _fixed, macs = fwref.REFERENCE_SIZES[n]
            check.ok(f"templates {n}: params/macs == PyTorch reference", (by[n]["params"], by[n]["macs"]) == (total, macs),
                     f"got {by[n]['params']}/{by[n]['macs']}, reference {total}/{macs}")
    res = E.run(check, "templates (text)", ["templates"])
    if res is not None:
        rows = {ln.split()[0]: ln for ln in res.stdout.splitlines()[1:] if ln.strip()}
        check.equal("templates text: the same names in the same order", list(rows), names)
        wrong = [n for n in names if n in rows and (f"{by[n]['params']:,}" not in rows[n] or f"{by[n]['macs']:,}" not in rows[n])]
        check.ok("templates text: params and MACs as in --json (with thousands separators)", not wrong, str(wrong))
    E.expect_error(check, "templates with an extra argument", ["templates", "poolformer_s12"], 2)


def text_rows(stdout: str):
    """(indent, name, op) of the node rows of `info`'s table (between the header and the totals)."""
    lines = stdout.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("name "))
    rows = []
    for ln in lines[start + 1:]:
        if not ln.strip():
            break
        indent = len(ln) - len(ln.lstrip(" "))
        parts = ln.split()
        rows.append((indent, parts[0], parts[1]))
    return rows, [ln for ln in lines if ln.startswith("total:")]


def test_info(check, arch, opts):
    label = f"info {arch}"
    print(label, flush=True)
    res = E.run(check, f"{label} --json", ["info", arch, *opts, "--json"])
    if res is None:
        return
    j = json.loads(res.stdout)
    check.ok(f"{label}: JSON keys params, macs, nodes, parameters", {"params", "macs", "nodes", "parameters"} <= set(j))
    nodes, params = j["nodes"], j["parameters"]
    nkeys = {"name", "op", "depth", "leaf", "output", "params", "macs"}
    check.ok(f"{label}: every node has name, op, depth, leaf, output, params, macs", all(nkeys <= set(n) for n in nodes))
    check.equal(f"{label}: params == Σ numel(parameters)", j["params"], int(sum(np.prod(p["shape"]) for p in params)))
    top = [n for n in nodes if n["depth"] == 0]
    check.equal(f"{label}: params == Σ top-level nodes", sum(n["params"] for n in top), j["params"])
    check.equal(f"{label}: macs == Σ top-level nodes", sum(n["macs"] for n in top), j["macs"])
    # The PyTorch reference: its state_dict is the parameter list; its parameter-owning modules are nodes.
    c, h, w = j["input"]
    model = fwref.build(arch, j["num_classes"], (c, h, w), device="meta")
    sd = {k: list(v.shape) for k, v in model.state_dict().items()}
    got = {p["name"]: p["shape"] for p in params}
    check.ok(f"{label}: parameters == the PyTorch model's state_dict (names, shapes)", got == sd,
             f"only formwork {sorted(set(got) - set(sd))[:3]}, only torch {sorted(set(sd) - set(got))[:3]}")
    by = {n["name"]: n for n in nodes}
    owners = sorted({k.rpartition(".")[0] for k in sd})
    absent = [o for o in owners if o not in by]
    check.ok(f"{label}: every parameter-owning module is a node", not absent, str(absent[:5]))
    wrong_depth = [o for o in owners if o in by and by[o]["depth"] != (o.count(".") if o else 0)]
    check.ok(f"{label}: parameter-owning modules at their path's depth", not wrong_depth, str(wrong_depth[:5]))
    # depth == number of dots; parent (longest proper prefix that is a node) one level up.
    bad_depth, bad_parent, bad_sum = [], [], []
    children = {}
    for n in nodes:
        name = n["name"]
        if name and n["depth"] != name.count("."):
            bad_depth.append(name)
        parts = name.split(".")
        parent = next((".".join(parts[:k]) for k in range(len(parts) - 1, 0, -1) if ".".join(parts[:k]) in by), None)
        if parent is None:
            if n["depth"] != 0:
                bad_parent.append(name)
        else:
            children.setdefault(parent, []).append(n)
            if n["depth"] != by[parent]["depth"] + 1:
                bad_parent.append(name)
    for n in nodes:
        kids = children.get(n["name"], [])
        if n["leaf"]:
            if kids:
                bad_sum.append(n["name"] + " (a leaf with children)")
        elif kids and (sum(k["params"] for k in kids), sum(k["macs"] for k in kids)) != (n["params"], n["macs"]):
            bad_sum.append(n["name"])
    check.ok(f"{label}: depth == module path depth", not bad_depth, str(bad_depth[:5]))
    check.ok(f"{label}: depth == parent's + 1", not bad_parent, str(bad_parent[:5]))
    check.ok(f"{label}: a group's params/MACs == Σ its children's", not bad_sum, str(bad_sum[:5]))
    max_depth = max(n["depth"] for n in nodes)
    check.ok(f"{label}: has several levels", max_depth >= 3, f"max depth {max_depth}")
    full_text = E.run(check, f"{label} (text)", ["info", arch, *opts])
    totals = text_rows(full_text.stdout)[1] if full_text else None
    for depth in list(range(0, max_depth + 2)) + [-1]:
        want = [n for n in nodes if depth < 0 or n["depth"] <= depth]
        r = E.run(check, f"{label} --depth {depth} --json", ["info", arch, *opts, "--json", "--depth", str(depth)])
        if r is not None:
            jd = json.loads(r.stdout)
            check.ok(f"{label} --depth {depth} --json: exactly the nodes of depth <= {depth}, in order",
                     jd["nodes"] == want, f"{len(jd['nodes'])} nodes, want {len(want)}")
            check.ok(f"{label} --depth {depth} --json: same totals and parameters",
                     (jd["params"], jd["macs"], jd["parameters"]) == (j["params"], j["macs"], j["parameters"]))
        r = E.run(check, f"{label} --depth {depth}", ["info", arch, *opts, "--depth", str(depth)])
        if r is None:
            continue
        rows, tot = text_rows(r.stdout)
        want_rows = [(2 * n["depth"], n["name"] if n["name"] else f"({n['op']})", n["op"]) for n in want]
        check.ok(f"{label} --depth {depth} (text): rows = the nodes of depth <= {depth}, indented 2 per level",
                 rows == want_rows, f"{len(rows)} rows, want {len(want_rows)}; first difference "
                 f"{next(((a, b) for a, b in zip(rows, want_rows) if a != b), None)}")
        if totals is not None:
            check.ok(f"{label} --depth {depth} (text): totals line as without --depth", tot == totals and len(tot) == 1, str(tot))
    E.expect_error(check, f"{label} --depth x", ["info", arch, *opts, "--depth", "x"], 2, ["--depth"])


def test_bench(check, d):
    print("bench", flush=True)
    arch = "formwork_fm32"
    keys = ("median_ms", "images_per_s", "batch", "threads", "device")

    def bench_json(label, args, batch, threads):
        j = E.run_json(check, label, ["bench", *args, "--json"])
        if j is None:
            return None
        if not check.ok(f"{label}: keys {', '.join(keys)}", all(k in j for k in keys), str(sorted(j))):
            return j
        med, ips = j["median_ms"], j["images_per_s"]
        lo, hi = j.get("min_ms", med), j.get("max_ms", med)
        finite = all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in (med, ips, lo, hi))
        check.ok(f"{label}: positive, finite times", finite, f"median {med}, min {lo}, max {hi}, images/s {ips}")
        check.ok(f"{label}: min <= median <= max", lo <= med <= hi, f"{lo} {med} {hi}")
        check.ok(f"{label}: images_per_s == batch*1000/median_ms", finite and abs(ips - batch * 1000.0 / med) <= 1e-9 * ips,
                 f"{ips} vs {batch * 1000.0 / med if finite else None}")
        check.equal(f"{label}: batch", j["batch"], batch)
        check.equal(f"{label}: threads", j["threads"], threads)
        check.equal(f"{label}: device", j["device"], "cpu")
        return j

    ncpu = os.cpu_count() or 1
    j = bench_json("bench --batch 3 --repeats 5", [arch, "--batch", "3", "--repeats", "5"], 3, ncpu)
    if j is not None:
        check.ok("bench: repeats reported", j.get("repeats") == 5, str(j.get("repeats")))
    bench_json("bench --threads 1", [arch, "--batch", "2", "--threads", "1", "--repeats", "3"], 2, 1)
    j = bench_json("bench --repeats 1 --warmup 0", [arch, "--batch", "1", "--repeats", "1", "--warmup", "0", "--threads", "1"], 1, 1)
    if j is not None and "min_ms" in j:
        check.ok("bench one repeat: min == median == max", j["min_ms"] == j["median_ms"] == j["max_ms"],
                 f"{j['min_ms']} {j['median_ms']} {j['max_ms']}")
    j = bench_json("bench --repeats 2", [arch, "--batch", "2", "--repeats", "2", "--threads", "1"], 2, 1)
    if j is not None and "min_ms" in j:
        check.ok("bench two repeats: median == (min + max) / 2", abs(j["median_ms"] - 0.5 * (j["min_ms"] + j["max_ms"]))
                 <= 1e-12 * j["median_ms"], f"{j['min_ms']} {j['median_ms']} {j['max_ms']}")
    # A bigger batch of a bigger network takes longer per forward (a do-nothing bench would not).
    small = bench_json("bench formwork_fm32 batch 1", [arch, "--batch", "1", "--repeats", "5", "--threads", "1"], 1, 1)
    big = bench_json("bench caformer_mini64 batch 32", ["caformer_mini64", "--batch", "32", "--repeats", "3", "--threads", "1"], 32, 1)
    if small is not None and big is not None:
        check.ok("bench: caformer_mini64 x32 (80x the MACs) is slower per forward than formwork_fm32 x1",
                 big["median_ms"] > 3 * small["median_ms"], f"{big['median_ms']:.3f} ms vs {small['median_ms']:.3f} ms")
    # Projects, with and without weights, and --weights.
    p = lambda n: os.path.join(d, n)  # noqa: E731
    try:
        fwtest.run_formwork(["new", p("bare.formwork"), "--template", arch])
        fwtest.run_formwork(["new", p("init.formwork"), "--template", arch, "--init-weights"])
        fwtest.run_formwork(["weights", "init", arch, "--seed", "1", "--out", p("w.safetensors")])
        fwtest.run_formwork(["weights", "init", arch, "--seed", "1", "--num-classes", "7", "--out", p("w7.safetensors")])
    except fwtest.FormworkError as e:
        check.ok("bench set-up", False, str(e))
        return
    bench_json("bench a project without weights", [p("bare.formwork"), "--batch", "2", "--repeats", "2", "--threads", "1"], 2, 1)
    bench_json("bench a project with weights", [p("init.formwork"), "--batch", "2", "--repeats", "2", "--threads", "1"], 2, 1)
    bench_json("bench --weights", [arch, "--weights", p("w.safetensors"), "--batch", "2", "--repeats", "2", "--threads", "1"], 2, 1)
    # Text mode.
    r = E.run(check, "bench (text)", ["bench", arch, "--batch", "4", "--repeats", "3", "--threads", "1"])
    if r is not None:
        m = re.search(r"batch (\d+).*?(\d+) threads? on (\w+): median ([\d.]+) ms \(min ([\d.]+), max ([\d.]+)\) "
                      r"over (\d+) runs, ([\d.]+) images/s", r.stdout)
        if check.ok("bench text: one line with batch, threads, device, median/min/max, runs, images/s", m is not None,
                    r.stdout.strip()):
            b, t, dev, med, lo, hi, runs, ips = m.groups()
            check.equal("bench text: batch/threads/device/runs", (int(b), int(t), dev, int(runs)), (4, 1, "cpu", 3))
            med, lo, hi, ips = map(float, (med, lo, hi, ips))
            check.ok("bench text: min <= median <= max, positive", 0 < lo <= med <= hi, f"{lo} {med} {hi}")
            # The median is printed to 0.01 ms, images/s to 0.1.
            lo_ips, hi_ips = 4000.0 / (med + 0.005) - 0.05, (4000.0 / (med - 0.005) + 0.05) if med > 0.005 else math.inf
            check.ok("bench text: images/s == batch*1000/median (to the printed precision)", lo_ips <= ips <= hi_ips,
                     f"{ips} not in [{lo_ips:.1f}, {hi_ips:.1f}]")
    # Errors.
    E.expect_error(check, "bench without --batch", ["bench", arch], 2, ["--batch"])
    E.expect_error(check, "bench --batch 0", ["bench", arch, "--batch", "0"], 2, ["--batch"])
    E.expect_error(check, "bench --batch x", ["bench", arch, "--batch", "x"], 2, ["--batch"])
    E.expect_error(check, "bench without ARCH", ["bench", "--batch", "2"], 2, ["ARCH"])
    E.expect_error(check, "bench --threads 0", ["bench", arch, "--batch", "2", "--threads", "0"], 2, ["--threads"])
    E.expect_error(check, "bench --device tpu", ["bench", arch, "--batch", "2", "--device", "tpu"], 2, ["--device"])
    E.expect_error(check, "bench --repeats 0", ["bench", arch, "--batch", "2", "--repeats", "0"], 2, ["--repeats"])
    E.expect_error(check, "bench an unknown architecture", ["bench", "poolformer_xxl", "--batch", "2"], 1, ["poolformer_xxl"])
    E.expect_error(check, "bench with mismatched --weights (7 classes)",
                   ["bench", arch, "--weights", p("w7.safetensors"), "--batch", "2"], 1, ["w7.safetensors", "head.fc"])
    r = fwtest.run_formwork(["bench", arch, "--batch", "2", "--repeats", "1", "--device", "cuda", "--json"], expect_rc=None)
    if r.returncode == 0:   # a CUDA build on a machine with a GPU
        check.equal("bench --device cuda: device", json.loads(r.stdout).get("device"), "cuda")
    else:
        E.expect_error(check, "bench --device cuda (no CUDA backend)",
                       ["bench", arch, "--batch", "2", "--repeats", "1", "--device", "cuda"], 1, ["cuda"])


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("e2e templates/info/bench")
    test_templates(check)
    test_info(check, "formwork_fm32", [])
    test_info(check, "caformer_s18", E.SIZE_OPTS)
    test_info(check, E.VIT, E.SIZE_OPTS)
    with fwtest.temp_dir("fwtest-bench-") as d:
        test_bench(check, d)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
