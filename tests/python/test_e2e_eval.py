#!/usr/bin/python3
"""End-to-end `formwork eval` (CONTRACT.md: "accuracy and loss on a dataset split; --json keys
top1, top5 (fractions), loss, n").

The bundled sample, as a regression test: `eval assets/sample.formwork --dataset
fashion-mnist-placed --split test --json` gives top1 0.8825 and top5 0.9981 on the n = 10000 test
items (README.md, assets/README.md; evaluation is deterministic, so asserted to 4 decimals), the
same with --threads 1 and --batch 100 (first 1000 items), the text mode says the same, and the
sample file is not written.

Against an oracle: a folder dataset of seeded 64x64 gray PNGs (3 classes; train 4 per class,
test 6 per class; the train classes have different brightness) with caformer_mini64 and
perturbed weights: top1, top5 and the mean cross-entropy equal the PyTorch reference's, with the
normalisation the dataset recommends when the weights carry none (mean / population std of v/255
over the train split), also with --batch 4 (a partial last batch); --limit 5 evaluates the first 5
test images exactly as the full run does (the normalisation does not depend on --limit).

Error paths, each with its exit status (1 the work failed, 2 wrong usage) and exactly one stderr
line starting "formwork: error:" that names the problem:
  usage (2): an unknown dataset name; a directory that does not exist; --split val; no
    --dataset; --batch 0; --limit -3; no ARCH;
  work failed (1): a template without weights; a project without weights; weights of another
    class count (the sample with --num-classes 5; 5-class weights on the 10-class template);
    a 5-class network on the 10-class Fashion-MNIST; the network's 16x16 input smaller than
    fashion-mnist-placed's 28x28 items (and Fashion-MNIST's, which padding cannot shrink);
    a non-square input; an RGB folder dataset for a 1-channel network; a class folder without
    images; Fashion-MNIST not installed (FORMWORK_FASHION_MNIST_DIR pointing nowhere); a missing
    weights file. No error run writes anything on stdout.
Skips (77) when FORMWORK_BIN is unset, torch is missing, or Debian's dataset-fashion-mnist is not
installed (the sample's dataset is made from it).
"""
import os
import re
import sys
import time

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402
import fwref  # noqa: E402

MINI = "caformer_mini64"
SAMPLE_TOP1, SAMPLE_TOP5, SAMPLE_N = 0.8825, 0.9981, 10000


def eval_json(check, label, args):
    j = E.run_json(check, label, ["eval", *args, "--json"])
    if j is None:
        return None
    check.ok(f"{label}: keys top1, top5, loss, n", {"top1", "top5", "loss", "n"} <= set(j), str(sorted(j)))
    return j


def test_sample(check, sample):
    print("the bundled sample's accuracy", flush=True)
    before = E.file_digest(sample)
    # Under scripts/sanitize.sh (FORMWORK_SANITIZED=1) the binary runs several times slower: the
    # full split's exact accuracy and its time are the Release run's checks; the --limit runs
    # below take the same code paths.
    if os.environ.get("FORMWORK_SANITIZED") == "1":
        print("  (sanitizer build: the full test split is checked by the Release run)", flush=True)
    else:
        t0 = time.time()
        j = eval_json(check, "eval sample (full test split)",
                      [sample, "--dataset", "fashion-mnist-placed", "--split", "test"])
        seconds = time.time() - t0
        print(f"  (full test split: {seconds:.1f} s)", flush=True)
        if j is not None:
            check.equal("sample: n", j.get("n"), SAMPLE_N)
            check.ok(f"sample: top1 == {SAMPLE_TOP1} (to 4 decimals)", abs(j["top1"] - SAMPLE_TOP1) < 5e-5, f"got {j['top1']!r}")
            check.ok(f"sample: top5 == {SAMPLE_TOP5} (to 4 decimals)", abs(j["top5"] - SAMPLE_TOP5) < 5e-5, f"got {j['top5']!r}")
            check.ok("sample: top1 * n is a whole number of images", abs(j["top1"] * j["n"] - round(j["top1"] * j["n"])) < 1e-6)
            check.ok("sample: a plausible loss (0 < loss < ln 10)", 0 < j["loss"] < np.log(10), f"{j['loss']}")
            check.equal("sample: dataset and split echoed", (j.get("dataset"), j.get("split")), ("fashion-mnist-placed", "test"))
            check.ok("sample: the full test split takes seconds", seconds < 120, f"{seconds:.1f} s")
    # Deterministic whatever the threads and the batch size (first 1000 items).
    sub = ["--dataset", "fashion-mnist-placed", "--limit", "1000"]
    a = eval_json(check, "eval sample --limit 1000", [sample, *sub])
    b = eval_json(check, "eval sample --limit 1000 --threads 1 --batch 100", [sample, *sub, "--threads", "1", "--batch", "100"])
    if a is not None and b is not None:
        check.equal("sample --limit 1000: n", a["n"], 1000)
        check.ok("sample: same top1/top5 with --threads 1 --batch 100", (a["top1"], a["top5"]) == (b["top1"], b["top5"]),
                 f"{a} vs {b}")
        check.ok("sample: same loss with --threads 1 --batch 100 (1e-6)", abs(a["loss"] - b["loss"]) <= 1e-6,
                 f"{a['loss']} vs {b['loss']}")
    r = E.run(check, "eval sample (text)", ["eval", sample, *sub])
    if r is not None and a is not None:
        m = re.search(r"top-1 ([\d.]+)%, top-5 ([\d.]+)%, loss ([\d.]+) \((\d+) images\)", r.stdout)
        if check.ok("eval text: one line with top-1, top-5, loss and the image count", m is not None, r.stdout.strip()):
            check.ok("eval text: the same numbers as --json",
                     (m.group(1), m.group(2), m.group(3), int(m.group(4))) ==
                     (f"{100 * a['top1']:.2f}", f"{100 * a['top5']:.2f}", f"{a['loss']:.4f}", a["n"]), r.stdout.strip())
    t = eval_json(check, "eval sample --split train --limit 200", [sample, "--dataset", "fashion-mnist-placed",
                                                                    "--split", "train", "--limit", "200"])
    if t is not None:
        check.equal("eval --split train: n and split", (t["n"], t.get("split")), (200, "train"))
        check.ok("eval --split train: top1 <= top5, fractions", 0 <= t["top1"] <= t["top5"] <= 1)
    check.ok("eval never writes the sample project", E.file_digest(sample) == before)


def make_folder(root, rng):
    """DIR/{train,test}/{cat,dog,emu}/NN.png, 64x64 gray; returns {split: [(pixels, label)]}
    in the order the loader reads them (class folders, then file names, in byte order)."""
    from PIL import Image
    classes = ("cat", "dog", "emu")
    ranges = {"cat": (0, 90), "dog": (90, 256), "emu": (0, 256)}   # brightness differs per class
    out = {}
    for split, n in (("train", 4), ("test", 6)):
        for k, c in enumerate(classes):
            os.makedirs(os.path.join(root, split, c))
            for i in range(n):
                lo, hi = ranges[c] if split == "train" else (0, 256)
                a = rng.integers(lo, hi, (64, 64), dtype=np.uint8)
                Image.fromarray(a, "L").save(os.path.join(root, split, c, f"{i:02d}.png"))
                out.setdefault(split, []).append((a, k))
    return out


def oracle(model, items, train):
    """top1, top5, mean cross-entropy of ``model`` on ``items``, normalised with the train split's
    mean and population std of v/255."""
    v = np.stack([a for a, _ in train]).astype(np.float64) / 255.0
    mean, std = np.float32(v.mean()), np.float32(v.std())
    x = (np.stack([a for a, _ in items]).astype(np.float32)[:, None] / np.float32(255.0) - mean) / std
    y = torch.from_numpy(E.ref_logits(model, x.astype(np.float32)))
    lab = torch.tensor([k for _, k in items])
    top1 = (y.argmax(1) == lab).double().mean().item()
    top5 = (y.topk(5, 1).indices == lab[:, None]).any(1).double().mean().item()
    return top1, top5, torch.nn.functional.cross_entropy(y, lab).item()


def test_oracle(check, p):
    print("eval against the PyTorch reference (image folder)", flush=True)
    data = make_folder(p("gray"), np.random.default_rng(21))
    try:
        w = E.perturb(E.init_weights(MINI, 3, p("mini.safetensors")), 3)
    except fwtest.FormworkError as e:
        check.ok("weights init", False, str(e))
        return
    fwref.save_safetensors(p("mini_p.safetensors"), w)
    model = E.ref_model(MINI, w)
    common = [MINI, "--weights", p("mini_p.safetensors"), "--dataset", p("gray")]
    for label, extra, items in (("full", [], data["test"]), ("--batch 4", ["--batch", "4"], data["test"]),
                                ("--limit 5", ["--limit", "5"], data["test"][:5])):
        j = eval_json(check, f"eval folder {label}", [*common, *extra])
        if j is None:
            continue
        t1, t5, loss = oracle(model, items, data["train"])
        check.equal(f"eval folder {label}: n", j["n"], len(items))
        check.ok(f"eval folder {label}: top1, top5 == reference", (j["top1"], j["top5"]) == (t1, t5),
                 f"got {j['top1']}, {j['top5']}; reference {t1}, {t5}")
        check.ok(f"eval folder {label}: loss == reference (1e-5)", abs(j["loss"] - loss) <= 1e-5,
                 f"got {j['loss']:.7f}, reference {loss:.7f}"
                 + ("" if label != "--limit 5" else f" (normalised with the first 5 train images instead: "
                    f"{oracle(model, items, data['train'][:5])[2]:.7f})"))
    j = eval_json(check, "eval folder --split train", [*common, "--split", "train"])
    if j is not None:
        t1, t5, loss = oracle(model, data["train"], data["train"])
        check.ok("eval folder --split train == reference", j["n"] == 12 and (j["top1"], j["top5"]) == (t1, t5)
                 and abs(j["loss"] - loss) <= 1e-5, f"got {j}, reference {(t1, t5, loss)}")


def expect_eval_error(check, label, args, rc, needles, env=None):
    res = fwtest.run_formwork(["eval", *args], expect_rc=None, env=env)
    lines = E.error_lines(res.stderr)
    shown = " | ".join(lines)[:400] or "(stderr empty)"
    if not check.ok(f"{label}: exit status {rc}", res.returncode == rc, f"got {res.returncode}; stderr: {shown}"):
        return
    check.ok(f"{label}: one stderr line 'formwork: error: ...'",
             len(lines) == 1 and lines[0].startswith("formwork: error: "), f"{len(lines)} lines: {shown}")
    text = shown.lower()
    missing = [n for n in needles if n.lower() not in text]
    check.ok(f"{label}: stderr names {', '.join(map(repr, needles))}", not missing,
             f"missing {missing}; stderr: {shown}" if missing else shown)
    check.ok(f"{label}: nothing on stdout", not res.stdout.strip(), res.stdout[:200])


def test_errors(check, p, sample):
    print("eval errors", flush=True)
    from PIL import Image
    rng = np.random.default_rng(5)
    for split in ("train", "test"):
        for c in ("a", "b"):
            os.makedirs(p(f"rgb/{split}/{c}"))
            for i in range(2):
                Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB").save(p(f"rgb/{split}/{c}/{i}.png"))
    os.makedirs(p("hollow/a"))
    os.makedirs(p("hollow/b"))
    Image.fromarray(np.zeros((8, 8), np.uint8), "L").save(p("hollow/a/0.png"))
    try:
        fwtest.run_formwork(["new", p("bare.formwork"), "--template", MINI])
        for name, opts in (("w5", ["--num-classes", "5"]), ("w16", ["--input-size", "1,16,16"]),
                           ("wns", ["--input-size", "1,64,32"]), ("w10", [])):
            fwtest.run_formwork(["weights", "init", MINI, "--seed", "0", *opts, "--out", p(f"{name}.safetensors")])
    except fwtest.FormworkError as e:
        check.ok("eval errors set-up", False, str(e))
        return
    placed = ["--dataset", "fashion-mnist-placed", "--limit", "10"]
    S = [sample, *placed]
    # wrong usage: 2
    expect_eval_error(check, "unknown dataset", [sample, "--dataset", "cifar-1000"], 2, ["cifar-1000"])
    expect_eval_error(check, "dataset directory missing", [sample, "--dataset", p("nothere")], 2, ["nothere"])
    expect_eval_error(check, "--split val", [*S, "--split", "val"], 2, ["--split", "val"])
    expect_eval_error(check, "no --dataset", [sample], 2, ["--dataset"])
    expect_eval_error(check, "--batch 0", [*S, "--batch", "0"], 2, ["--batch"])
    expect_eval_error(check, "--limit -3", [sample, "--dataset", "fashion-mnist-placed", "--limit", "-3"], 2, ["limit"])
    expect_eval_error(check, "no ARCH", ["--dataset", "fashion-mnist-placed"], 2, ["ARCH"])
    # the work failed: 1
    expect_eval_error(check, "template without weights", [MINI, *placed], 1, [MINI, "no weights"])
    expect_eval_error(check, "project without weights", [p("bare.formwork"), *placed], 1, ["bare.formwork", "no weights"])
    expect_eval_error(check, "missing weights file", [MINI, "--weights", p("gone.safetensors"), *placed], 1, ["gone.safetensors"])
    expect_eval_error(check, "sample with --num-classes 5 (its weights have 10)", [*S, "--num-classes", "5"], 1, ["head.fc.weight"])
    expect_eval_error(check, "5-class weights on the 10-class template", [MINI, "--weights", p("w5.safetensors"), *placed], 1,
                      ["w5.safetensors", "head.fc"])
    expect_eval_error(check, "5-class network on 10-class Fashion-MNIST",
                      [MINI, "--num-classes", "5", "--weights", p("w5.safetensors"), "--dataset", "fashion-mnist", "--limit", "10"],
                      1, ["10 classes", "5"])
    expect_eval_error(check, "16x16 input, fashion-mnist-placed's 28x28 items",
                      [MINI, "--input-size", "1,16,16", "--weights", p("w16.safetensors"), *placed], 1, ["16"])
    expect_eval_error(check, "16x16 input, Fashion-MNIST's 28x28 images",
                      [MINI, "--input-size", "1,16,16", "--weights", p("w16.safetensors"), "--dataset", "fashion-mnist",
                       "--limit", "10"], 1, ["16"])
    expect_eval_error(check, "non-square input", [MINI, "--input-size", "1,64,32", "--weights", p("wns.safetensors"),
                                                  "--dataset", "fashion-mnist", "--limit", "10"], 1, ["square", "64x32"])
    expect_eval_error(check, "RGB dataset, 1-channel network", [MINI, "--weights", p("w10.safetensors"), "--dataset", p("rgb")],
                      1, ["rgb", "3 channels"])
    expect_eval_error(check, "a class folder without images", [MINI, "--weights", p("w10.safetensors"), "--dataset", p("hollow")],
                      1, ["hollow/b", "no images"])
    expect_eval_error(check, "Fashion-MNIST not installed", [MINI, "--weights", p("w10.safetensors"), "--dataset", "fashion-mnist"],
                      1, ["apt-get install dataset-fashion-mnist"], env={"FORMWORK_FASHION_MNIST_DIR": p("nothere")})


def main():
    fwtest.formwork_bin()
    fwtest.skip_unless_fashion_mnist("the sample's fashion-mnist-placed test split is made from it")
    check = fwtest.Checker("e2e eval")
    sample = os.path.join(E.assets_dir(), "sample.formwork")
    if not check.ok("assets/sample.formwork exists", os.path.isfile(sample), sample):
        return check.finish()
    with fwtest.temp_dir("fwtest-eval-") as d:
        def p(name):
            return os.path.join(d, name)
        test_sample(check, sample)
        test_oracle(check, p)
        test_errors(check, p, sample)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
