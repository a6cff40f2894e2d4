#!/usr/bin/python3
"""End-to-end `formwork weights import | export` and `formwork new` (CONTRACT.md, README.md), on
Formwork's own formwork_fm32 (1x32x32, 10 classes, 52 tensors: quick).

weights import PROJECT W.safetensors
  * a file with a missing, an unexpected and a mis-shaped tensor is refused: exit 1, one stderr
    line "formwork: error: W does not match PROJECT: 1 missing, 1 unexpected, 1 mis-shaped ...",
    the three names listed on stdout, and the project file byte-for-byte unchanged (a project
    without weights and one with weights);
  * --partial imports the tensors whose name and shape match, keeps the project's own tensor for
    the missing and mis-shaped ones, initialises (= `weights init --seed 0`, core/init.h's
    init_param(p, 0)) what the project does not have either; the unexpected one is dropped;
  * --reset-head: a checkpoint of another class count (1000) imports with the classifier's
    mis-shaped tensors (head.fc.weight, head.fc.bias) initialised afresh (= `weights init --seed
    0` of the project's architecture), the rest (head.norm.* included) from the file; a headless
    checkpoint (no head.fc.*) works the same way; a head of the right shape is imported, not
    reset; without --reset-head the 1000-class file is refused; --reset-head with another mismatch
    in the body is still refused and changes nothing;
  * F16 and BF16 files: the stored float32 values are exactly the F16/BF16 values widened
    (numpy float16 → float32; torch.bfloat16 → float32), bit for bit, including subnormals, ±0,
    the largest finite values and round-to-nearest-even ties of the BF16 encoding; an F64 file is
    accepted too (rounded to float32 as numpy does);
  * `infer PROJECT` then uses the imported weights: the same logits as `infer ARCH --weights W`
    (bit-identical) and as the PyTorch reference with those weights (max abs ≤ 1e-4), also after a
    --partial import (the merged set);
  * bad usage / files: missing WEIGHTS argument (2), missing project / weights file, not a project
    (1), an I64 tensor (1, names it).
weights export PROJECT --out W.safetensors
  * round trip: import then export gives the imported tensors bit for bit, the same names, every
    dtype F32 (also after an F16 import), the file re-imports; a project without weights: exit 1
    and no file; missing --out: 2.
new PROJECT (--template NAME | --from ARCH) [--init-weights [--seed N]] [--force]
  * from a template, `--from` a template, a *.json architecture (the graph stored in a project)
    and a project: `info --json` of the new project equals that of the source (params, macs,
    nodes, parameters); from a project its weights, metadata, runs and sample images come along;
    a template / *.json source gives no weights (export and infer say so: exit 1);
  * --init-weights [--seed N] stores exactly `weights init ARCH --seed N` (default seed 0; with
    --num-classes too); two seeds differ;
  * an existing file is refused without --force (exit 1, names it, says --force, file unchanged)
    and replaced with it;
  * bad inputs: no *.formwork suffix, neither/both of --template and --from (2); an unknown
    template, a missing or broken --from file, an input size the template cannot take, a missing
    directory (1, and no file created);
  * `new --from PROJECT --num-classes K` with K unlike the stored weights' classifier must not
    create a project whose stored weights do not fit its own graph: either refused (exit 1, one
    line naming the classifier tensor, nothing written) or a project that `infer` accepts.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch).
"""
import json
import os
import sqlite3
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402
import fwref  # noqa: E402

ARCH = "formwork_fm32"
SIZE = E.size_opts(ARCH)          # --num-classes 10 --input-size 1,32,32
HEAD = ("head.fc.weight", "head.fc.bias")


def export(check, label, project, out):
    """`weights export PROJECT --out OUT` → tensors (float32), or None on failure."""
    if E.run(check, f"{label}: weights export", ["weights", "export", project, "--out", out]) is None:
        return None
    return fwref.load_safetensors(out)


def listed(stdout: str, title: str):
    """Names listed by `weights import` under "TITLE (n):" (one indented line each, first word)."""
    names, inside = [], False
    for ln in stdout.splitlines():
        if ln.startswith(title + " ("):
            inside = True
        elif inside and ln.startswith("  "):
            names.append(ln.split()[0])
        else:
            inside = False
    return names


def infer_logits(check, label, args, out):
    if E.run(check, label, ["infer", *args, "--out", out]) is None:
        return None
    return E.load_output(check, label, out)


def test_import_refused(check, p, base):
    print("import: mismatch refused", flush=True)
    bad = dict(base)
    del bad["stages.0.blocks.0.mlp.fc1.weight"]
    bad["stages.9.extra.weight"] = np.ones((2, 2), np.float32)
    bad["stages.1.blocks.0.token_mixer.qkv.weight"] = np.ascontiguousarray(bad["stages.1.blocks.0.token_mixer.qkv.weight"].T)
    fwref.save_safetensors(p("bad.safetensors"), bad)
    for proj, what in ((p("empty.formwork"), "no weights"), (p("seeded.formwork"), "weights")):
        before = E.file_digest(proj)
        res = E.expect_error(check, f"import mismatch into a project with {what}",
                             ["weights", "import", proj, p("bad.safetensors")], 1,
                             ["bad.safetensors", os.path.basename(proj), "1 missing", "1 unexpected", "1 mis-shaped"])
        if res is not None:
            check.equal(f"import mismatch ({what}): missing listed", listed(res.stdout, "missing in the file"),
                        ["stages.0.blocks.0.mlp.fc1.weight"])
            check.equal(f"import mismatch ({what}): unexpected listed", listed(res.stdout, "unexpected in the file"),
                        ["stages.9.extra.weight"])
            check.equal(f"import mismatch ({what}): mis-shaped listed", listed(res.stdout, "mis-shaped"),
                        ["stages.1.blocks.0.token_mixer.qkv.weight"])
        check.ok(f"import mismatch ({what}): project byte-for-byte unchanged", E.file_digest(proj) == before)
    leftovers = [f for f in os.listdir(os.path.dirname(p("x"))) if "tmp" in f.lower() or f.endswith("-journal")]
    check.ok("import mismatch: no temporary files left", not leftovers, str(leftovers))


def test_partial(check, p, base, old, init0):
    print("import --partial", flush=True)
    # The file: seed-2 weights, one tensor missing, one mis-shaped, one unexpected.
    new = E.perturb(E.init_weights(ARCH, 2, p("w2.safetensors")), 2)
    f = dict(new)
    miss, shaped = "stages.1.blocks.1.mlp.fc2.weight", "stages.0.blocks.1.token_mixer.dwconv.weight"
    del f[miss]
    f[shaped] = np.zeros((96, 1, 5, 5), np.float32)
    f["extra.bias"] = np.ones((3,), np.float32)
    fwref.save_safetensors(p("partial.safetensors"), f)
    # (a) into a project with weights (old): missing and mis-shaped ones are kept from it.
    E.run(check, "copy project", ["new", p("part1.formwork"), "--from", p("seeded.formwork")])
    res = E.run(check, "import --partial into a project with weights",
                ["weights", "import", p("part1.formwork"), p("partial.safetensors"), "--partial"])
    if res is not None:
        check.ok("--partial: says 50 imported, 2 kept", "imported 50 tensors" in res.stdout and "2 kept" in res.stdout,
                 res.stdout.strip().splitlines()[-1])
        check.equal("--partial: lists the missing one", listed(res.stdout, "missing in the file"), [miss])
        check.equal("--partial: lists the mis-shaped one", listed(res.stdout, "mis-shaped"), [shaped])
        want = {k: (old[k] if k in (miss, shaped) else new[k]) for k in base}
        got = export(check, "--partial (weights)", p("part1.formwork"), p("part1.safetensors"))
        if got is not None:
            E.same_tensors(check, "--partial into weights: file's where they fit, the project's otherwise", got, want)
            # infer uses the merged weights.
            x = E.random_input(5, 3, E.input_size(ARCH))
            fwtest.save_npy(p("x.npy"), x)
            y = infer_logits(check, "infer after --partial", [p("part1.formwork"), "--input", p("x.npy")], p("y_part.npy"))
            if y is not None:
                check.close("infer after --partial == reference with the merged weights", y,
                            E.ref_logits(E.ref_model(ARCH, want), x), atol=1e-4, rtol=0)
    # (b) into a project without weights: the missing/mis-shaped ones are initialised (seed 0).
    E.run(check, "new empty project", ["new", p("part2.formwork"), "--template", ARCH])
    res = E.run(check, "import --partial into a project without weights",
                ["weights", "import", p("part2.formwork"), p("partial.safetensors"), "--partial"])
    if res is not None:
        check.ok("--partial (no weights): says 2 initialised", "2 initialised" in res.stdout, res.stdout.strip().splitlines()[-1])
        got = export(check, "--partial (no weights)", p("part2.formwork"), p("part2.safetensors"))
        if got is not None:
            want = {k: (init0[k] if k in (miss, shaped) else new[k]) for k in base}
            E.same_tensors(check, "--partial into no weights: the rest = `weights init --seed 0`", got, want)
    # (c) --partial with an exact file is a plain import.
    E.run(check, "new empty project", ["new", p("part3.formwork"), "--template", ARCH])
    if E.run(check, "import --partial, exact file", ["weights", "import", p("part3.formwork"), p("w2.safetensors"), "--partial"]):
        got = export(check, "--partial exact", p("part3.formwork"), p("part3.safetensors"))
        if got is not None:
            E.same_tensors(check, "--partial with an exact file = the file", got, fwref.load_safetensors(p("w2.safetensors")))


def test_reset_head(check, p, base, old, init0):
    print("import --reset-head", flush=True)
    # A 1000-class checkpoint of the same network (seed 5).
    ck = E.perturb(fwref.load_safetensors(p("w1000.safetensors")), 5)
    fwref.save_safetensors(p("ck1000.safetensors"), ck)
    body = {k: v for k, v in ck.items() if k not in HEAD}
    proj = p("seeded.formwork")
    before = E.file_digest(proj)
    res = E.expect_error(check, "1000-class checkpoint without --reset-head",
                         ["weights", "import", proj, p("ck1000.safetensors")], 1, ["ck1000.safetensors", "2 mis-shaped"])
    if res is not None:
        check.equal("1000-class: both head tensors listed mis-shaped", sorted(listed(res.stdout, "mis-shaped")), sorted(HEAD))
    check.ok("1000-class refused: project unchanged", E.file_digest(proj) == before)

    E.run(check, "copy project", ["new", p("ft.formwork"), "--from", proj])
    res = E.run(check, "import --reset-head (1000 → 10 classes)",
                ["weights", "import", p("ft.formwork"), p("ck1000.safetensors"), "--reset-head"])
    if res is not None:
        said = sorted(ln.split(":", 1)[1].strip() for ln in res.stdout.splitlines() if ln.startswith("re-initialised"))
        check.equal("--reset-head: names the re-initialised tensors", said, sorted(HEAD))
        got = export(check, "--reset-head", p("ft.formwork"), p("ft.safetensors"))
        if got is not None:
            want = dict(body, **{k: init0[k] for k in HEAD})
            E.same_tensors(check, "--reset-head: body (head.norm too) from the file, head.fc = `weights init --seed 0`", got, want)
            x = E.random_input(6, 2, E.input_size(ARCH))
            fwtest.save_npy(p("x6.npy"), x)
            y = infer_logits(check, "infer after --reset-head", [p("ft.formwork"), "--input", p("x6.npy")], p("y_ft.npy"))
            if y is not None:
                check.close("infer after --reset-head == reference", y, E.ref_logits(E.ref_model(ARCH, want), x),
                            atol=1e-4, rtol=0)
    # A headless checkpoint (timm's num_classes=0 export): head.fc re-initialised as well.
    fwref.save_safetensors(p("headless.safetensors"), body)
    E.run(check, "new empty project", ["new", p("hl.formwork"), "--template", ARCH])
    if E.run(check, "import --reset-head, headless checkpoint",
             ["weights", "import", p("hl.formwork"), p("headless.safetensors"), "--reset-head"]):
        got = export(check, "headless", p("hl.formwork"), p("hl.safetensors"))
        if got is not None:
            E.same_tensors(check, "--reset-head headless: head.fc = `weights init --seed 0`", got,
                           dict(body, **{k: init0[k] for k in HEAD}))
    # A head of the right shape is imported, not reset.
    E.run(check, "copy project", ["new", p("keep.formwork"), "--from", proj])
    fwref.save_safetensors(p("w2p.safetensors"), E.perturb(fwref.load_safetensors(p("w2.safetensors")), 7))
    res = E.run(check, "import --reset-head, matching head",
                ["weights", "import", p("keep.formwork"), p("w2p.safetensors"), "--reset-head"])
    if res is not None:
        check.ok("--reset-head, matching head: nothing re-initialised", "re-initialised" not in res.stdout, res.stdout.strip())
        got = export(check, "matching head", p("keep.formwork"), p("keep.safetensors"))
        if got is not None:
            E.same_tensors(check, "--reset-head, matching head: all from the file", got, fwref.load_safetensors(p("w2p.safetensors")))
    # --reset-head does not excuse a mismatch elsewhere.
    bad = dict(ck)
    del bad["stages.1.blocks.0.mlp.fc1.weight"]
    fwref.save_safetensors(p("ck_bad.safetensors"), bad)
    before = E.file_digest(proj)
    res = E.expect_error(check, "--reset-head with a body tensor missing",
                         ["weights", "import", proj, p("ck_bad.safetensors"), "--reset-head"], 1,
                         ["ck_bad.safetensors", "1 missing"])
    if res is not None:
        check.equal("--reset-head + missing: the missing one listed", listed(res.stdout, "missing in the file"),
                    ["stages.1.blocks.0.mlp.fc1.weight"])
    check.ok("--reset-head + missing: project unchanged", E.file_digest(proj) == before)
    got = export(check, "after refusals", proj, p("seeded_after.safetensors"))
    if got is not None:
        E.same_tensors(check, "refused imports left the project's weights as they were", got, old)


def special_values(shape, rng, kind):
    """Values that stress a half-precision conversion: wide magnitudes, subnormals, ±0, extremes."""
    n = int(np.prod(shape))
    mag = 10.0 ** rng.uniform(-9, 4.5, n) if kind == "F16" else 10.0 ** rng.uniform(-40, 38, n)
    v = (mag * rng.choice([-1.0, 1.0], n)).astype(np.float32)
    if kind == "F16":
        extras = [0.0, -0.0, 65504.0, -65504.0, 6.1e-5, 5.96e-8, -5.96e-8, 1e-7, 3.0e-6, 1.0, 0.1]
    else:
        # bf16 extremes, a float32 subnormal, and values halfway between two bf16 numbers (ties to even)
        extras = [0.0, -0.0, 3.3895314e38, -3.3895314e38, 1.1754944e-38, 1e-40, 1.0 + 2 ** -8,
                  1.0 + 3 * 2 ** -8, -(1.0 + 2 ** -8), 0.1, 1.0]
    v[:len(extras)] = np.array(extras, np.float32)[:n]
    return v.reshape(shape)


def test_half(check, p, base):
    print("import F16 / BF16 / F64", flush=True)
    rng = np.random.default_rng(11)
    # F16: numpy float16 arrays stored as F16; expected float32 = float16 widened (exact).
    f16 = {k: special_values(v.shape, rng, "F16").astype(np.float16) for k, v in base.items()}
    fwref.save_safetensors(p("w_f16.safetensors"), f16)
    check.ok("fixture is F16", set(E.safetensors_dtypes(p("w_f16.safetensors")).values()) == {"F16"})
    want16 = {k: v.astype(np.float32) for k, v in f16.items()}
    n_sub = sum(int(np.sum((np.abs(v) < 6.1e-5) & (v != 0))) for v in f16.values())
    check.ok("F16 fixture holds subnormals", n_sub > 100, f"{n_sub}")
    # BF16: fwref rounds float32 to nearest even; the oracle widening is torch's bfloat16.
    src = {k: special_values(v.shape, rng, "BF16") for k, v in base.items()}
    fwref.save_safetensors(p("w_bf16.safetensors"), src, dtype="BF16")
    check.ok("fixture is BF16", set(E.safetensors_dtypes(p("w_bf16.safetensors")).values()) == {"BF16"})
    want_bf = {k: torch.from_numpy(v.copy()).to(torch.bfloat16).to(torch.float32).numpy() for k, v in src.items()}
    fix = fwref.load_safetensors(p("w_bf16.safetensors"))
    E.same_tensors(check, "BF16 fixture: fwref's encoding == torch.bfloat16's", fix, want_bf)
    changed = sum(int(np.sum(want_bf[k] != src[k])) for k in src)
    check.ok("BF16 fixture: rounding changed most values (so a raw-float32 reading would fail)", changed > 1000, f"{changed}")
    f64 = {k: (v.astype(np.float64) * (1 + 1e-12)) for k, v in E.perturb(base, 3).items()}
    fwref.save_safetensors(p("w_f64.safetensors"), f64)
    want64 = {k: v.astype(np.float32) for k, v in f64.items()}
    for tag, path, want in (("F16", "w_f16.safetensors", want16), ("BF16", "w_bf16.safetensors", want_bf),
                            ("F64", "w_f64.safetensors", want64)):
        proj = p(f"half_{tag}.formwork")
        E.run(check, "new empty project", ["new", proj, "--template", ARCH])
        if E.run(check, f"import {tag}", ["weights", "import", proj, p(path)]) is None:
            continue
        out = p(f"half_{tag}_out.safetensors")
        got = export(check, f"{tag} export", proj, out)
        if got is None:
            continue
        E.same_tensors(check, f"{tag} import: exact values (widened bit for bit)", got, want)
        check.ok(f"{tag} import: exported as F32", set(E.safetensors_dtypes(out).values()) == {"F32"})


def test_infer_uses_import(check, p, pert):
    print("infer uses imported weights; export round trip", flush=True)
    E.run(check, "new empty project", ["new", p("inf.formwork"), "--template", ARCH])
    if E.run(check, "import perturbed weights", ["weights", "import", p("inf.formwork"), p("pert.safetensors")]) is None:
        return
    x = E.random_input(9, 4, E.input_size(ARCH))
    fwtest.save_npy(p("x9.npy"), x)
    y_proj = infer_logits(check, "infer PROJECT", [p("inf.formwork"), "--input", p("x9.npy")], p("y_proj.npy"))
    y_file = infer_logits(check, "infer ARCH --weights", [ARCH, "--weights", p("pert.safetensors"), *SIZE,
                                                         "--input", p("x9.npy")], p("y_file.npy"))
    want = E.ref_logits(E.ref_model(ARCH, pert), x)
    if y_proj is not None:
        check.ok("imported weights give O(1), varied logits", 0.3 <= np.max(np.abs(y_proj)) <= 100
                 and np.ptp(y_proj[:, 0]) > 1e-3, f"max |y| {np.max(np.abs(y_proj)):.3g}")
        check.close("infer PROJECT == PyTorch reference with the imported weights", y_proj, want, atol=1e-4, rtol=0)
        if y_file is not None:
            check.ok("infer PROJECT == infer ARCH --weights W (bit-identical)", np.array_equal(y_proj, y_file))
        # The seed-1 project gives other logits (so the check above sees which weights are used).
        y_old = infer_logits(check, "infer seeded PROJECT", [p("seeded.formwork"), "--input", p("x9.npy")], p("y_old.npy"))
        if y_old is not None:
            check.ok("another project's weights give other logits", not np.allclose(y_old, y_proj, atol=1e-3))
    # Round trip: export gives back the imported tensors, F32, same names; re-import is exact.
    got = export(check, "round trip", p("inf.formwork"), p("rt.safetensors"))
    if got is not None:
        E.same_tensors(check, "import → export round trip", got, pert)
        dt = E.safetensors_dtypes(p("rt.safetensors"))
        check.ok("export: every dtype F32", set(dt.values()) == {"F32"}, str(set(dt.values())))
        check.equal("export: names = the architecture's parameters", sorted(dt), sorted(pert))
        E.run(check, "new empty project", ["new", p("rt2.formwork"), "--template", ARCH])
        if E.run(check, "re-import the export", ["weights", "import", p("rt2.formwork"), p("rt.safetensors")]):
            got2 = export(check, "second round trip", p("rt2.formwork"), p("rt2.safetensors"))
            if got2 is not None:
                E.same_tensors(check, "export → import → export", got2, pert)


def test_export_errors(check, p):
    print("export / import errors", flush=True)
    out = p("none.safetensors")
    E.expect_error(check, "export a project without weights", ["weights", "export", p("empty.formwork"), "--out", out],
                   1, ["empty.formwork", "no weights"])
    check.ok("export without weights: no file written", not os.path.exists(out))
    E.expect_error(check, "export without --out", ["weights", "export", p("seeded.formwork")], 2)
    E.expect_error(check, "export a missing project", ["weights", "export", p("nothere.formwork"), "--out", out], 1,
                   ["nothere.formwork"])
    E.expect_error(check, "import without WEIGHTS", ["weights", "import", p("empty.formwork")], 2)
    E.expect_error(check, "import into a missing project", ["weights", "import", p("nothere.formwork"), p("w1.safetensors")],
                   1, ["nothere.formwork"])
    check.ok("import into a missing project: not created", not os.path.exists(p("nothere.formwork")))
    before = E.file_digest(p("empty.formwork"))
    E.expect_error(check, "import a missing weights file", ["weights", "import", p("empty.formwork"), p("nothere.safetensors")],
                   1, ["nothere.safetensors"])
    E.expect_error(check, "import into a file that is not a project", ["weights", "import", p("w1.safetensors"), p("w1.safetensors")],
                   1, ["w1.safetensors", "not a formwork project"])
    w = fwref.load_safetensors(p("w1.safetensors"))
    w["head.fc.bias"] = np.arange(10, dtype=np.int64)
    fwref.save_safetensors(p("w_i64.safetensors"), w)
    E.expect_error(check, "import an I64 tensor", ["weights", "import", p("empty.formwork"), p("w_i64.safetensors")],
                   1, ["w_i64.safetensors", "head.fc.bias", "I64"])
    check.ok("failed imports: project unchanged", E.file_digest(p("empty.formwork")) == before)


def info_json(check, label, arch, *opts):
    res = E.run(check, f"{label}: info --json", ["info", arch, "--json", *opts])
    if res is None:
        return None
    j = json.loads(res.stdout)
    j.pop("arch", None)
    return j


def test_new(check, p):
    print("new", flush=True)
    ref = info_json(check, "template", ARCH)
    sources = [("--template", ARCH), ("--from", ARCH)]
    # A *.json architecture: the graph a project stores.
    with sqlite3.connect(p("empty.formwork")) as db:
        graph = db.execute("select json from graph").fetchone()[0]
    with open(p("arch.json"), "w") as f:
        f.write(graph)
    sources.append(("--from", p("arch.json")))
    for i, (opt, src) in enumerate(sources):
        proj = p(f"new{i}.formwork")
        label = f"new {opt} {os.path.basename(src)}"
        res = E.run(check, label, ["new", proj, opt, src])
        if res is None:
            continue
        got = info_json(check, label, proj)
        if got is not None and ref is not None:
            check.ok(f"{label}: info --json equals the template's", got == ref,
                     f"params {got.get('params')} vs {ref.get('params')}")
        E.expect_error(check, f"{label}: no weights, export says so", ["weights", "export", proj, "--out", p("n.safetensors")],
                       1, ["no weights"])
        E.expect_error(check, f"{label}: no weights, infer says so", ["infer", proj, "--input", p("x.npy"), "--out", p("n.npy")],
                       1, ["no weights"])
    # From a project: graph, weights, metadata, runs and sample images come along.
    sample = os.path.join(E.assets_dir(), "sample.formwork")
    if os.path.isfile(sample):
        sample_digest = E.file_digest(sample)
        if E.run(check, "new --from the sample project", ["new", p("fromsample.formwork"), "--from", sample]):
            a, b = info_json(check, "sample", sample), info_json(check, "copy", p("fromsample.formwork"))
            check.ok("new --from PROJECT: same info --json", a is not None and a == b)
            wa = export(check, "sample", sample, p("sample_w.safetensors"))
            wb = export(check, "copy", p("fromsample.formwork"), p("copy_w.safetensors"))
            if wa is not None and wb is not None:
                E.same_tensors(check, "new --from PROJECT: same weights", wb, wa)

            def contents(path):
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                    meta = dict(db.execute("select key, value from meta"))
                    counts = {t: db.execute(f"select count(*) from {t}").fetchone()[0]
                              for t in ("training_runs", "training_curves", "blobs")}
                return meta, counts
            (ma, ca), (mb, cb) = contents(sample), contents(p("fromsample.formwork"))
            keep = ("input_norm", "samples", "class_names", "dataset", "template")
            check.ok("new --from PROJECT: input_norm, samples, class_names, dataset, template kept",
                     all(ma.get(k) == mb.get(k) and k in mb for k in keep), str([k for k in keep if ma.get(k) != mb.get(k)]))
            check.equal("new --from PROJECT: runs, curves and sample images kept", cb, ca)
        check.ok("new --from the sample: the sample file is not written", E.file_digest(sample) == sample_digest)
    else:
        check.ok("assets/sample.formwork exists", False, sample)
    # --init-weights == weights init with the same seed (default 0).
    for seed, opts in ((None, []), (7, []), (7, ["--num-classes", "5"])):
        proj = p(f"init{seed}{len(opts)}.formwork")
        args = ["new", proj, "--template", ARCH, "--init-weights", *opts] + ([] if seed is None else ["--seed", str(seed)])
        if E.run(check, f"new --init-weights seed {seed} {' '.join(opts)}", args) is None:
            continue
        got = export(check, f"init seed {seed}", proj, p(f"init{seed}{len(opts)}.safetensors"))
        want_path = p(f"winit{seed}{len(opts)}.safetensors")
        if got is not None and E.run(check, "weights init", ["weights", "init", ARCH, "--seed", str(seed or 0),
                                                             "--out", want_path, *opts]):
            E.same_tensors(check, f"new --init-weights (seed {seed or 0}{', ' + ' '.join(opts) if opts else ''}) == weights init",
                           got, fwref.load_safetensors(want_path))
    a, b = p("initNone0.safetensors"), p("init70.safetensors")
    if os.path.exists(a) and os.path.exists(b):
        wa, wb = fwref.load_safetensors(a), fwref.load_safetensors(b)
        check.ok("--seed 0 and --seed 7 differ", not np.array_equal(wa["head.fc.weight"], wb["head.fc.weight"]))
    # Existing files: refused without --force, replaced with it.
    for target, what in ((p("new0.formwork"), "a project"), (p("note.formwork"), "another file")):
        if not os.path.exists(target):
            with open(target, "w") as f:
                f.write("not a project\n")
        before = E.file_digest(target)
        E.expect_error(check, f"new over {what}", ["new", target, "--template", "caformer_mini64"], 1,
                       [os.path.basename(target), "--force"])
        check.ok(f"new over {what}: unchanged", E.file_digest(target) == before)
        if E.run(check, f"new --force over {what}", ["new", target, "--template", "caformer_mini64", "--force"]):
            got = info_json(check, "forced", target)
            check.ok(f"new --force over {what}: now caformer_mini64", got is not None and got["params"] == 441114,
                     str(got and got["params"]))
    # Bad inputs.
    E.expect_error(check, "new: no .formwork suffix", ["new", p("x.sqlite"), "--template", ARCH], 2, [".formwork"])
    E.expect_error(check, "new: neither --template nor --from", ["new", p("y.formwork")], 2, ["--template", "--from"])
    E.expect_error(check, "new: both --template and --from", ["new", p("y.formwork"), "--template", ARCH, "--from", ARCH], 2)
    E.expect_error(check, "new: unknown template", ["new", p("y.formwork"), "--template", "poolformer_xxl"], 1, ["poolformer_xxl"])
    E.expect_error(check, "new: --from a missing file", ["new", p("y.formwork"), "--from", p("gone.json")], 1, ["gone.json"])
    with open(p("broken.json"), "w") as f:
        f.write('{"format": "formwork-graph", "nodes": [')
    E.expect_error(check, "new: --from a broken *.json", ["new", p("y.formwork"), "--from", p("broken.json")], 1, ["broken.json"])
    E.expect_error(check, "new: input size the template cannot take",
                   ["new", p("y.formwork"), "--template", "poolformer_s12", "--input-size", "3,50,50"], 1, ["50"])
    E.expect_error(check, "new: --input-size 3,64", ["new", p("y.formwork"), "--template", ARCH, "--input-size", "3,64"], 2,
                   ["--input-size"])
    E.expect_error(check, "new: missing directory", ["new", p("no/such/dir/y.formwork"), "--template", ARCH], 1, ["no/such/dir"])
    check.ok("bad `new` commands created no project", not os.path.exists(p("y.formwork")))
    # --from PROJECT with another class count must not store weights that do not fit the graph.
    proj = p("k5.formwork")
    res = fwtest.run_formwork(["new", proj, "--from", p("seeded.formwork"), "--num-classes", "5"], expect_rc=None)
    lines = E.error_lines(res.stderr)
    if res.returncode == 0:
        r = fwtest.run_formwork(["infer", proj, "--input", p("x.npy"), "--out", p("k5.npy")], expect_rc=None)
        check.ok("new --from PROJECT --num-classes 5: the new project's weights fit its graph (infer runs)",
                 r.returncode == 0, f"infer exit {r.returncode}: {' | '.join(E.error_lines(r.stderr))[:300]}")
    else:
        check.ok("new --from PROJECT --num-classes 5: refused with exit 1, one line naming head.fc",
                 res.returncode == 1 and len(lines) == 1 and lines[0].startswith("formwork: error: ")
                 and "head.fc" in lines[0], f"exit {res.returncode}: {' | '.join(lines)[:300]}")
        check.ok("new --from PROJECT --num-classes 5 refused: no file", not os.path.exists(proj))
    # With --init-weights the same command is fine (fresh 5-class weights).
    if E.run(check, "new --from PROJECT --num-classes 5 --init-weights",
             ["new", p("k5i.formwork"), "--from", p("seeded.formwork"), "--num-classes", "5", "--init-weights", "--seed", "4"]):
        E.run(check, "infer on it", ["infer", p("k5i.formwork"), "--input", p("x.npy"), "--out", p("k5i.npy")])
        y = E.load_output(check, "k5i", p("k5i.npy"), shape=(3, 5))
        check.ok("5-class project gives [B,5] logits", y is not None)


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("e2e weights/new")
    with fwtest.temp_dir("fwtest-weights-") as d:
        def p(name):
            return os.path.join(d, name)

        try:
            base = E.init_weights(ARCH, 1, p("w1.safetensors"))
            init0 = E.init_weights(ARCH, 0, p("w0.safetensors"))
            fwtest.run_formwork(["weights", "init", ARCH, "--seed", "5", "--num-classes", "1000",
                                 "--input-size", "1,32,32", "--out", p("w1000.safetensors")])
            fwtest.run_formwork(["new", p("empty.formwork"), "--template", ARCH])
            fwtest.run_formwork(["new", p("seeded.formwork"), "--template", ARCH])
            pert = E.perturb(base, 1)
            fwref.save_safetensors(p("pert.safetensors"), pert)
            old = E.perturb(init0, 8)                       # the seeded project's own weights
            fwref.save_safetensors(p("old.safetensors"), old)
            fwtest.run_formwork(["weights", "import", p("seeded.formwork"), p("old.safetensors")])
        except fwtest.FormworkError as e:
            check.ok("set-up (weights init, new, import)", False, str(e))
            return check.finish()
        fwtest.save_npy(p("x.npy"), E.random_input(3, 3, E.input_size(ARCH)))
        test_import_refused(check, p, base)
        test_partial(check, p, base, old, init0)
        test_reset_head(check, p, base, old, init0)
        test_half(check, p, base)
        test_infer_uses_import(check, p, pert)
        test_export_errors(check, p)
        test_new(check, p)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
