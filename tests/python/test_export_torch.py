#!/usr/bin/python3
"""`formwork export ARCH --torch F.py` (CONTRACT.md "Export"): one self-contained PyTorch file.

For every template `formwork templates --json` lists (timm's at 3x64x64, Formwork's own at their
1x32x32 / 1x64x64; 10 classes), two subnets of the bundled sample's search (`export P --result ID`)
and two graphs that the block classes cannot write (a user-made graph with an anonymous group, an
anonymous leaf whose parameters live on the model and a residual; caformer_mini64 with one block's
norm edited, so that block and its stage are written child by child):
  1. `weights init` (seed S) and the seeded O(1) perturbation of those weights (e2e_common.perturb:
     init weights hide PoolFormer's blocks behind a 1e-5 layer scale);
  2. `python3 F.py W_pert X Y` == `formwork infer ARCH --weights W_pert --input X` (batch 2, max
     abs <= 1e-4), the logits O(1) and input-dependent first;
  3. in one separate process that imports each F.py as a module: its model class loads W_init
     with strict=True; the named parameters and buffers == the state_dict keys == the safetensors
     names, with the same shapes; exactly the non-trainable tensors (random_matrix) have
     requires_grad False; the parameter count == the one `export` printed; the init logits ==
     `formwork infer` with W_init (<= 1e-4); a freshly built model (its own init) gives finite
     logits, and one training step's backward reaches every trainable parameter.
Self-checks (the comparisons can fail): pool_mixer with count_include_pad=True, or the erf GELU
replaced by its tanh form, gives logits outside the tolerance; a renamed module fails the strict
load.
Bad input, each one "formwork: error:" line and no file (or temp file) left: a graph with problems,
a --torch path in a missing directory, --torch with a --json that cannot be written (all or none),
an existing F.py left untouched; `python3 F.py` with a missing weights file, a missing input, an
input of the wrong shape, another model's weights: exit 1 with one error line and no Y; no output
asked: exit 2 naming --torch.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch).
"""
import copy
import json
import os
import re
import subprocess
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402

ATOL = 1e-4
SEED = 5
PY = sys.executable

# A graph no block class writes: an anonymous group inside a group, an anonymous leaf whose
# parameters are the model's own ("weight", "bias"), an anonymous parameterless leaf, a residual.
CUSTOM = {
    "format": "formwork-graph", "version": 1, "meta": {},
    "nodes": [
        {"id": 1, "parent": 0, "name": "input", "kind": "input",
         "attrs": {"channels": 3, "height": 16, "width": 16}, "inputs": []},
        {"id": 2, "parent": 0, "name": "conv", "kind": "conv2d",
         "attrs": {"in_channels": 3, "out_channels": 8, "kernel": 3, "padding": 1},
         "inputs": [{"node": 1, "port": 0}]},
        {"id": 3, "parent": 0, "name": "body", "kind": "group", "attrs": {},
         "inputs": [{"node": 2, "port": 0}], "outputs": [{"node": 7, "port": 0}]},
        {"id": 4, "parent": 3, "name": "norm", "kind": "layer_norm2d", "attrs": {"channels": 8},
         "inputs": [{"node": 3, "port": 0, "group_input": True}]},
        {"id": 5, "parent": 3, "name": "", "kind": "group", "attrs": {},
         "inputs": [{"node": 4, "port": 0}], "outputs": [{"node": 9, "port": 0}]},
        {"id": 8, "parent": 5, "name": "dw", "kind": "conv2d",
         "attrs": {"in_channels": 8, "out_channels": 8, "kernel": 3, "padding": 1, "groups": 8},
         "inputs": [{"node": 5, "port": 0, "group_input": True}]},
        {"id": 9, "parent": 5, "name": "act", "kind": "star_relu", "attrs": {},
         "inputs": [{"node": 8, "port": 0}]},
        {"id": 6, "parent": 3, "name": "", "kind": "gelu", "attrs": {},
         "inputs": [{"node": 5, "port": 0}]},
        {"id": 7, "parent": 3, "name": "residual", "kind": "add", "attrs": {},
         "inputs": [{"node": 3, "port": 0, "group_input": True}, {"node": 6, "port": 0}]},
        {"id": 10, "parent": 0, "name": "pool", "kind": "global_avg_pool", "attrs": {},
         "inputs": [{"node": 3, "port": 0}]},
        {"id": 11, "parent": 0, "name": "", "kind": "linear",
         "attrs": {"in_features": 8, "out_features": 5}, "inputs": [{"node": 10, "port": 0}]},
        {"id": 12, "parent": 0, "name": "output", "kind": "output", "attrs": {},
         "inputs": [{"node": 11, "port": 0}]},
    ],
}
CUSTOM_NAMES = {"conv.weight", "conv.bias", "body.norm.weight", "body.norm.bias", "body.dw.weight",
                "body.dw.bias", "body.act.scale", "body.act.bias", "weight", "bias"}

# The separate process: imports every F.py and checks its model against the weights (JSON out).
CHECKER = r'''
import importlib.util, json, sys
import torch
import torch.nn as nn
sys.path.insert(0, sys.argv[2])
import fwtest
torch.set_num_threads(2)
out = []
for case in json.load(open(sys.argv[1])):
    r = {"label": case["label"]}
    try:
        spec = importlib.util.spec_from_file_location("exported_" + str(len(out)), case["py"])
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        classes = [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, nn.Module)
                   and v.__module__ == mod.__name__ and "input_size" in vars(v)]
        r["classes"] = [c.__name__ for c in classes]
        if case.get("mutant"):
            try:
                classes[0]().load_state_dict(mod.load_safetensors(case["weights"]), strict=True)
                r["strict"] = "ok"
            except RuntimeError as e:
                r["strict"] = " ".join(str(e).split())[:400]
            out.append(r)
            continue
        model = classes[0]()
        fresh = model
        w = mod.load_safetensors(case["weights"])
        names = dict(model.named_parameters())
        names.update(dict(model.named_buffers()))
        sd = model.state_dict()
        r["named"] = sorted(names)
        r["state_dict"] = sorted(sd)
        r["weights"] = sorted(w)
        r["shapes_differ"] = sorted(k for k in w if k in sd and list(sd[k].shape) != list(w[k].shape))
        r["frozen"] = sorted(n for n, p in model.named_parameters() if not p.requires_grad)
        r["params"] = sum(p.numel() for p in model.parameters())
        x = torch.from_numpy(fwtest.load_npy(case["x"]))
        fresh.eval()
        with torch.no_grad():
            r["fresh_finite"] = bool(torch.isfinite(fresh(x)).all())
        if case.get("train"):
            fresh.train()
            fresh(x).square().mean().backward()
            r["no_grad"] = sorted(n for n, p in fresh.named_parameters()
                                  if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0)))
        model = classes[0]()
        try:
            model.load_state_dict(w, strict=True)
            r["strict"] = "ok"
        except RuntimeError as e:
            r["strict"] = " ".join(str(e).split())[:400]
            out.append(r)
            continue
        model.eval()
        with torch.no_grad():
            y = model(x).double().numpy()
        want = fwtest.load_npy(case["y"]).astype("float64")
        r["init_max_abs"] = float(abs(y - want).max()) if y.shape == want.shape else None
    except Exception as e:  # noqa: BLE001 - reported as a failure by the test
        r["error"] = f"{type(e).__name__}: {' '.join(str(e).split())[:400]}"
    out.append(r)
print(json.dumps(out))
'''


def wrote_params(stdout, path):
    m = re.search(r"^wrote " + re.escape(path) + r" \(PyTorch module, ([\d,]+) parameters\)$", stdout, re.M)
    return int(m.group(1).replace(",", "")) if m else None


def py(args, timeout=300):
    return subprocess.run([PY, *args], capture_output=True, text=True, timeout=timeout)


def edited_mini64(d):
    """caformer_mini64 with stages.1.blocks.0.norm1's eps changed: the block and its stage no longer
    are what their attributes build."""
    path = os.path.join(d, "mini64_edited.json")
    fwtest.run_formwork(["export", "caformer_mini64", "--json", path], quiet=True)
    g = json.load(open(path))
    by_id = {n["id"]: n for n in g["nodes"]}

    def full(n):
        parts = []
        while n:
            if n["name"]:
                parts.append(n["name"])
            n = by_id.get(n.get("parent", 0))
        return ".".join(reversed(parts))
    hit = [n for n in g["nodes"] if full(n) == "stages.1.blocks.0.norm1"]
    assert len(hit) == 1, hit
    hit[0]["attrs"]["eps"] = 1e-3
    json.dump(g, open(path, "w"))
    return path


def sample_results():
    """Two ok subnets of the bundled sample's search: one with a pooling and one with an attention
    mixer in stages.1, both with another stages.1 width than the base's."""
    sample = os.path.join(E.assets_dir(), "sample.formwork")
    rows = json.loads(fwtest.run_formwork(["results", sample, "--json"], quiet=True).stdout)
    picked = []
    for mixer in ("pooling", "attention"):
        for r in rows:
            c = r.get("choices") or {}
            if (r["status"] == "ok" and c.get("stages.1.token_mixer") == mixer
                    and c.get("stages.1.dim", 64) != 64):
                picked.append((sample, r["id"]))
                break
    return picked


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("export --torch")
    with fwtest.temp_dir("fwtest-torch-") as d:
        listed = json.loads(fwtest.run_formwork(["templates", "--json"], quiet=True).stdout)
        names = [t["name"] for t in (listed if isinstance(listed, list) else listed["templates"])]
        check.ok("templates listed", len(names) >= 13, f"{len(names)}: {', '.join(names)}")
        cases = []  # label, export ARCH args, infer/weights ARCH args, input size
        for name in names:
            cases.append((name, [name, *E.size_opts(name)], [name, *E.size_opts(name)], E.input_size(name)))
        for sample, rid in sample_results():
            j = os.path.join(d, f"result{rid}.json")
            fwtest.run_formwork(["export", sample, "--result", str(rid), "--json", j], quiet=True)
            cases.append((f"sample result {rid}", [sample, "--result", str(rid)], [j], (1, 64, 64)))
        check.equal("two subnets of the sample's search", len(cases) - len(names), 2)
        custom = os.path.join(d, "custom.json")
        json.dump(CUSTOM, open(custom, "w"))
        cases.append(("user-made graph", [custom], [custom], (3, 16, 16)))
        edited = edited_mini64(d)
        cases.append(("caformer_mini64, one block edited", [edited], [edited], (1, 64, 64)))

        checker_cases = []
        texts = {}
        for label, export_args, arch_args, size in cases:
            print(label, flush=True)
            tag = re.sub(r"\W+", "_", label)
            fpy = os.path.join(d, f"{tag}.py")
            r = E.run(check, f"{label}: export --torch", ["export", *export_args, "--torch", fpy])
            if r is None:
                continue
            printed = wrote_params(r.stdout, fpy)
            check.ok(f"{label}: prints 'wrote F.py (PyTorch module, N parameters)'", printed is not None, r.stdout.strip())
            texts[label] = open(fpy).read()
            x = E.random_input(SEED, batch=2, size=size)
            xpath = fwtest.save_npy(os.path.join(d, f"{tag}-x.npy"), x)
            w_init = os.path.join(d, f"{tag}-init.safetensors")
            if not E.run(check, f"{label}: weights init", ["weights", "init", *arch_args, "--seed", str(SEED), "--out", w_init]):
                continue
            import fwref
            base = fwref.load_safetensors(w_init, as_float32=True)
            check.equal(f"{label}: printed parameters == the weights' numel", printed,
                        int(sum(int(np.prod(a.shape)) for a in base.values())))
            y_init = os.path.join(d, f"{tag}-init-y.npy")
            E.run(check, f"{label}: infer (init)", ["infer", *arch_args, "--weights", w_init, "--input", xpath, "--out", y_init])
            w_pert = os.path.join(d, f"{tag}-pert.safetensors")
            fwref.save_safetensors(w_pert, E.perturb(base, SEED))
            del base
            z = os.path.join(d, f"{tag}-pert-z.npy")
            if E.run(check, f"{label}: infer (perturbed)", ["infer", *arch_args, "--weights", w_pert, "--input", xpath, "--out", z]):
                want = fwtest.load_npy(z)
                big, spread = float(np.abs(want).max()), float(np.abs(want[0] - want[1]).max())
                check.ok(f"{label}: infer's logits are O(1) and input-dependent", 0.3 <= big <= 100 and spread > 0.05,
                         f"max|logit| {big:.3g}, max sample difference {spread:.3g}")
                y = os.path.join(d, f"{tag}-pert-y.npy")
                res = py([fpy, w_pert, xpath, y])
                if check.ok(f"{label}: python3 F.py W X Y exits 0", res.returncode == 0,
                            (res.stderr.strip() or res.stdout.strip())[-600:]):
                    got = E.load_output(check, f"{label}: F.py", y, want.shape)
                    if got is not None:
                        check.close(f"{label}: F.py's logits == formwork infer's (perturbed weights)", got, want, ATOL, 0)
            os.remove(w_pert)
            checker_cases.append({"label": label, "py": fpy, "weights": w_init, "x": xpath, "y": y_init,
                                  "printed": printed, "train": label in ("caformer_mini64", "vit_tiny_patch16_224",
                                                                         "randformer_s12", "user-made graph",
                                                                         "caformer_mini64, one block edited")})

        # Self-checks: a wrong op semantics or a wrong module name must be caught.
        mutants = []
        for label, old, new in (("poolformerv2_s12", "count_include_pad=False", "count_include_pad=True"),
                                ("vit_tiny_patch16_224", "nn.GELU", "lambda: nn.GELU(approximate=\"tanh\")"),
                                ("caformer_mini64", "self.fc1 = nn.Conv2d", "self.fc_1 = nn.Conv2d")):
            if label not in texts or old not in texts[label]:
                check.ok(f"self-check {label}: {old!r} in the file", False)
                continue
            tag = re.sub(r"\W+", "_", label)
            m = os.path.join(d, f"{tag}-mutant.py")
            open(m, "w").write(texts[label].replace(old, new))
            mutants.append((label, m, tag))
        for label, m, tag in mutants[:2]:
            w_pert = os.path.join(d, f"{tag}-pert2.safetensors")
            import fwref
            fwref.save_safetensors(w_pert, E.perturb(fwref.load_safetensors(os.path.join(d, f"{tag}-init.safetensors"),
                                                                            as_float32=True), SEED))
            y = os.path.join(d, f"{tag}-mutant-y.npy")
            res = py([m, w_pert, os.path.join(d, f"{tag}-x.npy"), y])
            err = float(np.abs(fwtest.load_npy(y) - fwtest.load_npy(os.path.join(d, f"{tag}-pert-z.npy"))).max()) \
                if res.returncode == 0 else None
            check.ok(f"self-check {label}: a wrong op in F.py is caught", err is not None and err > ATOL,
                     f"max abs {err}" if err is not None else res.stderr[-300:])
        if len(mutants) == 3:
            label, m, tag = mutants[2]
            checker_cases.append({"label": "self-check: renamed module", "py": m,
                                  "weights": os.path.join(d, f"{tag}-init.safetensors"), "x": os.path.join(d, f"{tag}-x.npy"),
                                  "y": os.path.join(d, f"{tag}-init-y.npy"), "mutant": True})

        # The separate process that imports every file.
        listing = os.path.join(d, "cases.json")
        json.dump(checker_cases, open(listing, "w"))
        res = py(["-c", CHECKER, listing, fwtest.HERE], timeout=900)
        if not check.ok("the import checker ran", res.returncode == 0, res.stderr[-1500:]):
            return check.finish()
        results = {r["label"]: r for r in json.loads(res.stdout)}
        for case in checker_cases:
            label, r = case["label"], results.get(case["label"], {"error": "no result"})
            if case.get("mutant"):
                check.ok(f"{label}: strict load_state_dict refuses it", r.get("strict", "ok") != "ok",
                         r.get("strict", r.get("error", ""))[:200])
                continue
            if not check.ok(f"{label}: imports as a module, one model class", "error" not in r and len(r.get("classes", [])) == 1,
                            r.get("error", str(r.get("classes")))):
                continue
            check.equal(f"{label}: load_state_dict(strict=True)", r["strict"], "ok")
            check.ok(f"{label}: named parameters and buffers == safetensors names ({len(r['weights'])})",
                     r["named"] == r["weights"], f"missing {sorted(set(r['weights']) - set(r['named']))[:4]}, "
                                                 f"extra {sorted(set(r['named']) - set(r['weights']))[:4]}")
            check.ok(f"{label}: state_dict keys == safetensors names", r["state_dict"] == r["weights"])
            check.equal(f"{label}: same shapes", r["shapes_differ"], [])
            check.equal(f"{label}: not trainable: the random matrices", r["frozen"],
                        sorted(n for n in r["weights"] if n.endswith(".random_matrix")))
            check.equal(f"{label}: parameters == export's count", r["params"], case["printed"])
            if r.get("init_max_abs") is not None or r["strict"] == "ok":
                check.ok(f"{label}: init weights: logits == formwork infer's", r.get("init_max_abs") is not None
                         and r["init_max_abs"] <= ATOL, f"max abs {r.get('init_max_abs')}")
            check.ok(f"{label}: its own initialisation gives finite logits", r["fresh_finite"])
            if case["train"]:
                check.equal(f"{label}: a backward reaches every trainable parameter", r["no_grad"], [])
            if label == "user-made graph":
                check.equal(f"{label}: the state_dict names", set(r["weights"]), CUSTOM_NAMES)
        if "user-made graph" in texts:
            t = texts["user-made graph"]
            check.ok("user-made graph: a class for its group 'body'", "class Body(nn.Module)" in t)
            check.ok("user-made graph: the model owns the anonymous linear's parameters",
                     "self.weight = nn.Parameter(" in t and "F.linear(" in t)
        t = texts.get("caformer_mini64, one block edited", "")
        check.ok("edited block: written child by child, its siblings with their classes",
                 "class Stages1Blocks0(nn.Module)" in t and "MetaFormerBlock(" in t and "eps=0.001" in t, "")
        t = texts.get("caformer_s18", "")
        check.ok("caformer_s18: one MetaFormerStage class, its stages calls with arguments",
                 t.count("class MetaFormerStage(") == 1 and t.count("MetaFormerStage(") == 5
                 and t.count("MetaFormerBlock(") == 2 and "depth=9" in t)

        errors(check, d)
    return check.finish()


def leftovers(d):
    return sorted(f for f in os.listdir(d) if "fwtmp" in f or ".tmp-" in f)


def errors(check, d):
    bad_dir = os.path.join(d, "errors")
    os.makedirs(bad_dir)
    f = lambda name: os.path.join(bad_dir, name)  # noqa: E731
    # A graph with problems: an unconnected input.
    g = copy.deepcopy(CUSTOM)
    g["nodes"][1]["inputs"] = [None]
    json.dump(g, open(f("problem.json"), "w"))
    E.expect_error(check, "a graph with problems", ["export", f("problem.json"), "--torch", f("p.py")], 1,
                   ["has problems", "not connected"])
    check.ok("a graph with problems: no file", not os.path.exists(f("p.py")))
    E.expect_error(check, "--torch in a missing directory",
                   ["export", "caformer_mini64", "--torch", os.path.join(bad_dir, "no_such_dir", "m.py")], 1, ["no_such_dir"])
    E.expect_error(check, "--torch with an unwritable --json",
                   ["export", "caformer_mini64", "--torch", f("m.py"), "--json", os.path.join(bad_dir, "no_such_dir", "m.json")],
                   1, ["no_such_dir"])
    check.ok("--torch with an unwritable --json: F.py not written (all or none)", not os.path.exists(f("m.py")))
    open(f("old.py"), "w").write("# old\n")
    before = E.file_digest(f("old.py"))
    E.expect_error(check, "an existing F.py, the export failing",
                   ["export", f("problem.json"), "--torch", f("old.py")], 1, ["has problems"])
    check.equal("an existing F.py is left untouched", E.file_digest(f("old.py")), before)
    check.equal("no temp files left", leftovers(bad_dir), [])
    E.expect_error(check, "no output asked", ["export", "caformer_mini64"], 2, ["--torch"])

    # The file's own command line.
    fpy = f("fm32.py")
    fwtest.run_formwork(["export", "formwork_fm32", "--torch", fpy], quiet=True)
    w = f("fm32.safetensors")
    fwtest.run_formwork(["weights", "init", "formwork_fm32", "--seed", "1", "--out", w], quiet=True)
    other = f("mini64.safetensors")
    fwtest.run_formwork(["weights", "init", "caformer_mini64", "--seed", "1", "--out", other], quiet=True)
    x = fwtest.save_npy(f("x.npy"), E.random_input(1, batch=2, size=(1, 32, 32)))
    wrong = fwtest.save_npy(f("wrong.npy"), E.random_input(1, batch=2, size=(3, 32, 32)))
    for label, args, needle in (("a missing weights file", [f("none.safetensors"), x], "none.safetensors"),
                                ("a missing input", [w, f("none.npy")], "none.npy"),
                                ("an input of the wrong shape", [w, wrong], "wrong.npy"),
                                ("another model's weights", [other, x], "state_dict"),
                                ("an output in a missing directory", [w, x], "no_such_dir")):
        y = f("no_such_dir/y.npy") if "output" in label else f("y.npy")
        res = py([fpy, *args, y])
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        check.ok(f"F.py with {label}: exit 1, one error line naming {needle!r}",
                 res.returncode == 1 and len(lines) == 1 and needle in lines[0] and "error" in lines[0],
                 f"rc {res.returncode}: {' | '.join(lines)[:300]}")
        check.ok(f"F.py with {label}: no output", not os.path.exists(y))
    check.equal("F.py: no temp files left", leftovers(bad_dir), [])
    res = py([fpy])
    check.ok("F.py without arguments: usage, exit 2", res.returncode == 2 and "usage" in res.stderr, res.stderr[:200])


if __name__ == "__main__":
    sys.exit(main())
