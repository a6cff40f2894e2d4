#!/usr/bin/python3
"""`formwork export ... --onnx F.onnx` against two outside judges: ONNX's own checker
(python3-onnx, `onnx.checker.check_model(full_check=True)`) and ONNX Runtime (npm
onnxruntime-node, run by node through tests/node/ort_run.js), which must give the logits of
`formwork infer` within 1e-4 (CONTRACT.md, "Export").

Models: every built-in template — timm's MetaFormers at 3x64x64 / 10 classes, ViT-Tiny and
RandFormer at the 3x224x224 they are built for (10 classes), Formwork's own two at their own
sizes — on e2e_common's perturbed weights (O(1) activations: every block shows in the logits),
and three subnets of the bundled sample's stored search (`export P --result ID --onnx` with
`--init-seed`, against `infer` on the same subnet exported as JSON with `weights init` weights).

Per model: the checker passes; input `input` [batch,C,H,W] with a symbolic batch and output
`logits`; the initializers are exactly the safetensors tensors (names, shapes, values); node names
are module paths (every parameter's module names a node); producer and Formwork's version in the
metadata; batches of 1 and 3 through the same file (the batch is dynamic).

Bad input: a graph with problems, weights that do not match, no weights, an unwritable path
(no partial file, an existing file untouched), --weights without --onnx.

Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN, torch, python3-onnx, node or onnxruntime-node
missing: scripts/setup.sh installs them).
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

import fwtest

fwtest.skip_unless_torch()
exe = fwtest.formwork_bin()
try:
    import onnx
    import onnx.numpy_helper
except ImportError as e:
    fwtest.skip(f"python3-onnx is not importable ({e}): apt-get install python3-onnx")
import e2e_common as E  # noqa: E402
import fwref  # noqa: E402

NODE_DIR = os.path.normpath(os.path.join(fwtest.HERE, "..", "node"))
ORT_RUN = os.path.join(NODE_DIR, "ort_run.js")
if shutil.which("node") is None:
    fwtest.skip("node is not installed (scripts/setup.sh installs nodejs)")
if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "onnxruntime-node")):
    fwtest.skip(f"onnxruntime-node is not installed in {NODE_DIR} (scripts/setup.sh: npm ci --ignore-scripts)")

TOL = 1e-4
BUILT_SIZE = {"vit_tiny_patch16_224": (3, 224, 224), "randformer_s12": (3, 224, 224)}


def size_of(arch):
    return BUILT_SIZE.get(arch) or E.input_size(arch)


def opts_of(arch):
    return ["--num-classes", str(E.NUM_CLASSES), "--input-size", ",".join(map(str, size_of(arch)))]


def ort(check, label, model, x_path, y_path):
    """ONNX Runtime's output for x (None, a failure, when it cannot run the model)."""
    r = subprocess.run(["node", ORT_RUN, model, x_path, y_path, "--threads", "2"],
                       capture_output=True, text=True, timeout=600)
    if not check.ok(f"{label}: ONNX Runtime runs it", r.returncode == 0, r.stderr.strip()[:400]):
        return None
    return fwtest.load_npy(y_path)


def infer(check, label, args, x_path, y_path):
    if E.run(check, f"{label}: infer", ["infer", *args, "--input", x_path, "--out", y_path]) is None:
        return None
    return fwtest.load_npy(y_path)


def check_model_file(check, label, path, weights, chw, classes):
    """The file's structure: checker, names, shapes, initializers, metadata."""
    try:
        m = onnx.load(path)
        onnx.checker.check_model(m, full_check=True)
        check.ok(f"{label}: onnx.checker full_check", True)
    except Exception as e:  # noqa: BLE001 - any refusal is the failure
        check.ok(f"{label}: onnx.checker full_check", False, str(e)[:300])
        return
    check.equal(f"{label}: opset", [(o.domain, o.version) for o in m.opset_import], [("", 17)])
    check.equal(f"{label}: producer", m.producer_name, "Formwork")
    meta = {p.key: p.value for p in m.metadata_props}
    check.ok(f"{label}: Formwork's version in the metadata",
             meta.get("formwork_version", "") == m.producer_version and m.producer_version.startswith("0."),
             f"{meta} / {m.producer_version!r}")
    g = m.graph
    inputs = [i for i in g.input if i.name not in {t.name for t in g.initializer}]
    check.equal(f"{label}: inputs", [i.name for i in inputs], ["input"])
    check.equal(f"{label}: outputs", [o.name for o in g.output], ["logits"])
    if inputs:
        dims = inputs[0].type.tensor_type.shape.dim
        check.ok(f"{label}: input [batch,{','.join(map(str, chw))}]",
                 len(dims) == 4 and dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == list(chw),
                 " ".join(f"{x.dim_param or x.dim_value}" for x in dims))
    if g.output:
        dims = g.output[0].type.tensor_type.shape.dim
        check.ok(f"{label}: logits [batch,{classes}]",
                 len(dims) == 2 and dims[0].dim_param == "batch" and dims[1].dim_value == classes, " ".join(f"{x.dim_param or x.dim_value}" for x in dims))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    missing = [k for k in weights if k not in inits]
    check.ok(f"{label}: every weight is an initializer under its state_dict name", not missing, str(missing[:4]))
    bad = [k for k in weights if k in inits and (inits[k].shape != weights[k].shape
                                                  or not np.array_equal(inits[k], weights[k]))]
    check.ok(f"{label}: initializers equal the safetensors tensors", not bad, str(bad[:4]))
    names = {n.name for n in g.node}
    modules = {k.rpartition(".")[0] for k in weights if "." in k}
    unnamed = sorted(p for p in modules if p not in names)
    check.ok(f"{label}: node names are module paths ({len(modules)} modules with parameters)",
             not unnamed, str(unnamed[:4]))
    check.ok(f"{label}: node names are unique", len(names) == len(g.node), f"{len(g.node) - len(names)} repeated")


def compare(check, label, d, infer_args, onnx_path, chw, tag, o1=True):
    """Batches of 1 and 3 through ONNX Runtime and `formwork infer`."""
    for batch in (1, 3):
        x = E.random_input(7 + batch, batch=batch, size=chw)
        xp = fwtest.save_npy(os.path.join(d, f"{tag}-x{batch}.npy"), x)
        want = infer(check, f"{label} batch {batch}", infer_args, xp, os.path.join(d, f"{tag}-fw{batch}.npy"))
        got = ort(check, f"{label} batch {batch}", onnx_path, xp, os.path.join(d, f"{tag}-ort{batch}.npy"))
        if want is None or got is None:
            continue
        if not check.equal(f"{label} batch {batch}: logits shape", list(got.shape), list(want.shape)):
            continue
        diff = float(np.max(np.abs(got.astype(np.float64) - want)))
        check.ok(f"{label} batch {batch}: ONNX Runtime == formwork infer (max |diff| {diff:.2e} <= {TOL})",
                 diff <= TOL, f"max |diff| {diff:.3e}, max |logit| {np.max(np.abs(want)):.3g}")
        if batch == 3 and o1:
            check.ok(f"{label}: logits are O(1) and differ between samples",
                     0.3 <= np.max(np.abs(want)) <= 100 and np.ptp(want, axis=0).max() > 1e-3,
                     f"max |logit| {np.max(np.abs(want)):.3g}")


def templates(check, d):
    listed = json.loads(fwtest.run_formwork(["templates", "--json"]).stdout)
    names = [t["name"] for t in listed]
    check.equal("templates covered", sorted(names), sorted(E.METAFORMERS + (E.VIT,) + tuple(E.OWN_SIZES) +
                                                           tuple(n for n in names if n.startswith("poolformer_")
                                                                 and n not in E.METAFORMERS)))
    for arch in names:
        chw = size_of(arch)
        opts = opts_of(arch)
        fwtest.run_formwork(["weights", "init", arch, "--seed", "3", "--out", os.path.join(d, f"{arch}-init.safetensors"), *opts])
        pert = E.perturb(fwref.load_safetensors(os.path.join(d, f"{arch}-init.safetensors"), as_float32=True), 3)
        wpath = os.path.join(d, f"{arch}-pert.safetensors")
        fwref.save_safetensors(wpath, pert)
        onnx_path = os.path.join(d, f"{arch}.onnx")
        if E.run(check, f"{arch}: export --onnx", ["export", arch, *opts, "--weights", wpath, "--onnx", onnx_path]) is None:
            continue
        check_model_file(check, arch, onnx_path, pert, chw, E.NUM_CLASSES)
        compare(check, arch, d, [arch, *opts, "--weights", wpath], onnx_path, chw, arch)
        os.remove(onnx_path)  # the large ones (PoolFormer-M48: 290 MB) do not pile up


def search_subnets(check, d):
    sample = os.path.join(E.assets_dir(), "sample.formwork")
    rows = [r for r in json.loads(fwtest.run_formwork(["results", sample, "--json"]).stdout) if r["status"] == "ok"]
    if not check.ok("the sample holds search results", len(rows) >= 3, f"{len(rows)} rows"):
        return
    # One subnet per token mixer of the last searched stage (different ops in every file).
    picks, seen = [], set()
    for r in rows:
        mixers = tuple(sorted(v for k, v in r["choices"].items() if k.endswith("token_mixer")))
        if mixers not in seen and len(picks) < 4:
            seen.add(mixers)
            picks.append((r["id"], r["choices"]))
    check.ok("subnets with different mixers", len(picks) >= 3, str(seen))
    info = json.loads(fwtest.run_formwork(["info", sample, "--json"]).stdout)
    chw = tuple(info["input"])
    # The project itself: its stored (trained) weights go into the file.
    onnx_path = os.path.join(d, "sample.onnx")
    if E.run(check, "sample: export --onnx with the project's weights", ["export", sample, "--onnx", onnx_path]):
        compare(check, "sample (stored weights)", d, [sample], onnx_path, chw, "sample", o1=False)
    # A subnet of another shape cannot take the project's weights: refused, naming the fix.
    other = next((r for r in picks if r[1].get("stages.1.dim") not in (None, 64)), None)
    if check.ok("a subnet with another width", other is not None):
        E.expect_error(check, "subnet with the project's weights", ["export", sample, "--result", str(other[0]), "--onnx",
                                                                   os.path.join(d, "no.onnx")], 1,
                       ["do not match", "--init-seed"])
    for rid, choices in picks:
        label = f"sample result {rid}"
        onnx_path = os.path.join(d, f"result{rid}.onnx")
        arch = os.path.join(d, f"result{rid}.json")
        wpath = os.path.join(d, f"result{rid}.safetensors")
        if E.run(check, f"{label}: export --onnx --init-seed", ["export", sample, "--result", str(rid), "--init-seed", "5",
                                                               "--onnx", onnx_path, "--json", arch]) is None:
            continue
        fwtest.run_formwork(["weights", "init", arch, "--seed", "5", "--out", wpath])
        weights = fwref.load_safetensors(wpath, as_float32=True)
        classes = json.loads(fwtest.run_formwork(["info", arch, "--json"]).stdout)["num_classes"]
        # --init-seed S puts `weights init --seed S`'s tensors in the file.
        check_model_file(check, f"{label} ({choices})", onnx_path, weights, chw, classes)
        compare(check, f"{label} (init)", d, [arch, "--weights", wpath], onnx_path, chw, f"result{rid}", o1=False)
        # With perturbed weights every block shows in the logits.
        ppath = os.path.join(d, f"result{rid}-pert.safetensors")
        fwref.save_safetensors(ppath, E.perturb(weights, rid))
        if E.run(check, f"{label}: export --onnx --weights", ["export", sample, "--result", str(rid), "--weights", ppath,
                                                             "--onnx", onnx_path]) is None:
            continue
        compare(check, label, d, [arch, "--weights", ppath], onnx_path, chw, f"result{rid}p")


# ---- every leaf op of core/OPS.md, with the attribute variants the templates do not use ----------
C, H, W = 4, 6, 5


def graph_file(path, chw, ops):
    """An architecture file: input [chw] -> ops -> output. ``ops`` are (name, kind, attrs, inputs)
    with inputs as names of earlier ops ("input" for the graph input; default: the previous op)."""
    nodes = [{"id": 1, "parent": 0, "name": "input", "kind": "input",
              "attrs": {"channels": chw[0], "height": chw[1], "width": chw[2]}, "inputs": []}]
    ids, prev = {"input": 1}, "input"
    for name, kind, attrs, inputs in ops:
        ids[name] = len(nodes) + 1
        srcs = inputs or [prev]
        nodes.append({"id": ids[name], "parent": 0, "name": name, "kind": kind, "attrs": attrs,
                      "inputs": [{"node": ids[s_], "port": 0} for s_ in srcs]})
        prev = name
    nodes.append({"id": len(nodes) + 1, "parent": 0, "name": "output", "kind": "output", "attrs": {},
                  "inputs": [{"node": ids[prev], "port": 0}]})
    with open(path, "w") as f:
        json.dump({"format": "formwork-graph", "version": 1, "nodes": nodes}, f)
    return path


N = H * W
OP_GRAPHS = {
    "pooling": [("pool", "avg_pool2d", {"kernel": 3, "stride": 2, "padding": 1}, None),
                ("act", "relu", {}, None),
                ("pool2", "avg_pool2d", {"kernel": 2, "stride": 1, "padding": 0}, None)],
    "pool_mixer": [("mix", "pool_mixer", {"pool_size": 5}, None), ("sum", "add", {}, ["mix", "input"])],
    "norms": [("gn2", "group_norm", {"channels": C, "groups": 2, "eps": 1e-5}, None),
              ("gn_plain", "group_norm", {"channels": C, "groups": 1, "affine": False}, None),
              ("gn_nobias", "group_norm", {"channels": C, "groups": 1, "bias": False, "eps": 1e-6}, None),
              ("ln2d", "layer_norm2d", {"channels": C, "bias": False}, None),
              ("ln2d_b", "layer_norm2d", {"channels": C, "eps": 1e-5}, None)],
    "convs": [("conv", "conv2d", {"in_channels": C, "out_channels": 6, "kernel": 3, "stride": 2, "padding": 1,
                                  "groups": 2, "bias": False}, None),
              ("dw", "conv2d", {"in_channels": 6, "out_channels": 6, "kernel": 3, "padding": 1, "groups": 6}, None),
              ("pw", "conv2d", {"in_channels": 6, "out_channels": 8}, None)],
    "activations": [("gelu", "gelu", {}, None), ("sq", "squared_relu", {}, None),
                    ("star", "star_relu", {"scale_init": 0.8, "bias_init": -0.1}, None),
                    ("ls", "scale", {"dim": C, "init_value": 0.5}, None),
                    ("id", "identity", {}, None), ("drop", "dropout", {"p": 0.1}, None),
                    ("dp", "drop_path", {"p": 0.2}, None)],
    "tokens": [("tok", "to_tokens", {}, None), ("ls", "scale", {"dim": C, "layout": "last"}, None),
               ("ln", "layer_norm", {"channels": C, "bias": False}, None),
               ("fc1", "linear", {"in_features": C, "out_features": 7, "bias": False}, None),
               ("act", "gelu", {}, None), ("fc2", "linear", {"in_features": 7, "out_features": C}, None),
               ("back", "to_nchw", {}, ["fc2", "input"])],
    "attention": [("tok", "to_tokens", {}, None), ("ln", "layer_norm", {"channels": C}, None),
                  ("qkv", "linear", {"in_features": C, "out_features": 18}, None),
                  ("attn", "self_attention", {"heads": 2, "head_dim": 3}, None),
                  ("proj", "linear", {"in_features": 6, "out_features": C}, None),
                  ("back", "to_nchw", {}, ["proj", "input"])],
    "random_mixing": [("mix", "random_mixing", {"num_tokens": N}, None)],
    "class_token": [("tok", "to_tokens", {}, None), ("emb", "cls_pos_embed", {"dim": C, "num_patches": N}, None),
                    ("first", "select_token", {"index": 0}, None),
                    ("head", "linear", {"in_features": C, "out_features": 3, "bias": False}, None)],
    "select": [("tok", "to_tokens", {}, None), ("third", "select_token", {"index": 2}, None)],
    "pooled_head": [("gap", "global_avg_pool", {}, None), ("fc", "linear", {"in_features": C, "out_features": 5}, None)],
}


def ops_table():
    """The leaf op ids of core/OPS.md's table."""
    import re
    path = os.path.normpath(os.path.join(fwtest.HERE, "..", "..", "core", "OPS.md"))
    return {m.group(1) for m in re.finditer(r"^\| `([a-z0-9_]+)` \|", open(path).read(), re.M)}


def op_graphs(check, d):
    covered = {"input", "output"}
    for tag, ops in OP_GRAPHS.items():
        covered |= {kind for _, kind, _, _ in ops}
        arch = graph_file(os.path.join(d, f"ops-{tag}.json"), (C, H, W), ops)
        init = os.path.join(d, f"ops-{tag}-init.safetensors")
        if E.run(check, f"ops {tag}: weights init", ["weights", "init", arch, "--seed", "2", "--out", init]) is None:
            continue
        wpath = os.path.join(d, f"ops-{tag}.safetensors")
        fwref.save_safetensors(wpath, E.perturb(fwref.load_safetensors(init, as_float32=True), 2))
        onnx_path = os.path.join(d, f"ops-{tag}.onnx")
        if E.run(check, f"ops {tag}: export --onnx", ["export", arch, "--weights", wpath, "--onnx", onnx_path]) is None:
            continue
        try:
            onnx.checker.check_model(onnx.load(onnx_path), full_check=True)
            check.ok(f"ops {tag}: onnx.checker full_check", True)
        except Exception as e:  # noqa: BLE001
            check.ok(f"ops {tag}: onnx.checker full_check", False, str(e)[:300])
        compare(check, f"ops {tag}", d, [arch, "--weights", wpath], onnx_path, (C, H, W), f"ops-{tag}", o1=False)
    table = ops_table()
    check.ok(f"every leaf op of core/OPS.md is exported and run ({len(table)} ops)",
             len(table) > 20 and table <= covered, f"not covered: {sorted(table - covered)}")


def bad_input(check, d):
    arch = "caformer_mini64"
    w = os.path.join(d, "mini.safetensors")
    fwtest.run_formwork(["weights", "init", arch, "--seed", "1", "--out", w])
    broken = os.path.join(d, "broken.json")
    fwtest.run_formwork(["export", arch, "--json", broken])
    g = json.load(open(broken))
    # Leave the output unconnected.
    for n in g["nodes"]:
        if n.get("kind") == "output":
            n["inputs"] = []
    json.dump(g, open(broken, "w"))
    out = os.path.join(d, "bad.onnx")
    E.expect_error(check, "a graph with problems", ["export", broken, "--init-seed", "1", "--onnx", out], 1,
                   ["problems", "nothing exported"])
    check.ok("a graph with problems: no file", not os.path.exists(out))
    other = os.path.join(d, "other.safetensors")
    fwtest.run_formwork(["weights", "init", "formwork_fm32", "--seed", "1", "--out", other])
    E.expect_error(check, "weights of another network", ["export", arch, "--weights", other, "--onnx", out], 1,
                   ["does not match", "missing"])
    E.expect_error(check, "no weights", ["export", arch, "--onnx", out], 1, ["no weights", "--init-seed"])
    E.expect_error(check, "--weights without --onnx", ["export", arch, "--weights", w, "--json", out], 2, ["--onnx"])
    check.ok("refused exports wrote nothing", not os.path.exists(out))
    # An existing file stays as it was when the export fails; an unwritable directory leaves nothing.
    keep = os.path.join(d, "keep.onnx")
    with open(keep, "wb") as f:
        f.write(b"old")
    E.expect_error(check, "a failing export over an existing file", ["export", arch, "--weights", other, "--onnx", keep], 1)
    check.equal("the existing file is untouched", open(keep, "rb").read(), b"old")
    ro = os.path.join(d, "ro")
    os.mkdir(ro)
    os.chmod(ro, 0o500)
    if os.access(ro, os.W_OK):  # root writes anywhere: use a path under a file instead
        target = os.path.join(keep, "m.onnx")
    else:
        target = os.path.join(ro, "m.onnx")
    E.expect_error(check, "an unwritable path", ["export", arch, "--weights", w, "--onnx", target], 1)
    check.ok("an unwritable path: no partial file", not os.path.exists(target) and os.listdir(ro) == [])
    os.chmod(ro, 0o700)


def main():
    check = fwtest.Checker("export --onnx vs ONNX Runtime")
    with fwtest.temp_dir("fw-onnx-") as d:
        bad_input(check, d)
        op_graphs(check, d)
        search_subnets(check, d)
        templates(check, d)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
