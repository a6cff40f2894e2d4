#!/usr/bin/python3
"""End-to-end error behaviour of `formwork infer | gradcam | attention | score` (CONTRACT.md:
"exit 1 the work failed, 2 wrong usage; every failure prints one clear line on stderr saying what
and where (file, node, tensor name)").

Bad input → exit status 1, exactly one non-empty line on stderr, and that line names the problem
(case-insensitive substrings listed per case: the input/labels/weights file, the layer, the tensor,
the class index, "nan"), and no --out file is left behind:
  * input: rank 2 and rank 5 (a rank-3 [C,H,W] array is read as one image, so it is not an error);
    1 channel for a 3-channel model; 96x96 for a ViT built (and weighted) for 64x64;
    NaN in the input (infer, gradcam); unreadable / missing .npy; wrong channels for attention and
    score; labels of the wrong length, and a label out of range, for score;
  * layer: does not exist (gradcam, attention); has no spatial grid (`head.fc` of caformer, `head`
    of ViT); not an attention node for `attention` (caformer's SepConv `stages.0.blocks.0.token_mixer`);
  * class index out of range (10 and 1000 with 10 classes);
  * weights that do not match the architecture: a missing tensor, an extra tensor, a mis-shaped
    (transposed) tensor, 1000-class weights for a 10-class model, a missing weights file, a
    truncated weights file.
Outputs are written all or none: a --png (gradcam, attention) or --save-input (infer) that cannot
be written leaves no --out behind and an existing one unchanged; --png naming the --out file is
refused. A project whose stored data settings (meta input_norm, input_pipeline, class_names,
samples, train_epochs_done) are malformed fails as it is opened, with one line naming the file and
the key, for any command; a stored pipeline for another input size than the network's is refused.
Hostile sizes, under a 4 GiB address space (a regression fails to allocate instead of swapping):
the largest --batch at --input-size 3,1024,1024 (bench, bench --train) and a batch of 64 there
are refused from the memory plan with what they would need; --input-size 3,100000,100000 by the
input's attribute range; --batch 1000000 as wrong usage; safetensors headers claiming 2^40
elements, a shape beyond int64 and a header length of 2^60; an .npy header claiming 2^21 images;
architectures whose MAC count exceeds int64 (one conv, and two whose sum does) refused by the
analysis naming the node.
Wrong usage → exit status 2 and a non-empty stderr: no ARCH, missing --out, unknown option,
non-numeric --class, gradcam without --layer, --threads 0, an unknown command.
Models: vit_tiny_patch16_224 and caformer_s18 at --input-size 3,64,64 --num-classes 10 with
`weights init` weights. Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch).
"""
import json
import os
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402

import e2e_common as E  # noqa: E402
import fwref  # noqa: E402

VIT, CAF = E.VIT, "caformer_s18"


def expect_failure(check, label, args, needles, out=None):
    """Runs formwork expecting exit 1 and one "formwork: error:" line on stderr containing every
    needle (case-insensitive), and ``out`` not created."""
    if out and os.path.exists(out):
        os.remove(out)
    if E.expect_error(check, label, args, 1, needles) is not None and out:
        check.ok(f"{label}: no {os.path.basename(out)} left behind", not os.path.exists(out))


def expect_usage(check, label, args):
    E.expect_error(check, label, args, 2)


# Hostile sizes run under a 4 GiB address space: a regression fails to allocate. Not under
# scripts/sanitize.sh (FORMWORK_SANITIZED=1): ASan reserves terabytes of address space for its
# shadow memory, so there the refusals name the machine's memory instead.
SANITIZED = os.environ.get("FORMWORK_SANITIZED") == "1"
AS_LIMIT = None if SANITIZED else 4 << 30
LIMIT_NAMED = "this machine has" if SANITIZED else "ulimit -v"


def hostile_sizes(check, p, out):
    """A file or option that implies a huge tensor is refused with the size it would need before
    anything is allocated (issue #16: limits before allocating), under AS_LIMIT."""
    import struct
    need = ["would need", LIMIT_NAMED]
    big = ["bench", "poolformer_s12", "--input-size", "3,1024,1024", "--batch", "4096", "--repeats", "1",
           "--warmup", "0"]
    E.expect_error(check, "bench: the largest batch at 1024x1024", big, 1,
                   ["poolformer_s12 at batch 4096 and input 3x1024x1024 would need", " GB: ", "of activations",
                    "of weights", "use a smaller --batch or --input-size", LIMIT_NAMED], address_space=AS_LIMIT)
    E.expect_error(check, "bench --train: the largest batch at 1024x1024", [*big, "--train"], 1,
                   ["at batch 4096 and input 3x1024x1024 would need", "of activations and gradients",
                    "of gradients and optimiser state", "use a smaller --batch"], address_space=AS_LIMIT)
    if not SANITIZED:  # 10 GB fits the machine: refused only under AS_LIMIT
        E.expect_error(check, "bench: a batch of 64 at 1024x1024 (10 GB)",
                       ["bench", "poolformer_s12", "--input-size", "3,1024,1024", "--batch", "64"], 1,
                       ["at batch 64 and input 3x1024x1024 would need", " GB"], address_space=AS_LIMIT)
    E.expect_error(check, "bench: --input-size 3,100000,100000", ["bench", "poolformer_s12", "--input-size",
                   "3,100000,100000", "--batch", "1"], 1, ["input: attribute 'height' = 100000 is outside [1, 8192]"],
                   address_space=AS_LIMIT)
    E.expect_error(check, "bench: a batch of a million", ["bench", "poolformer_s12", "--batch", "1000000"], 2,
                   ["--batch", "1000000"], address_space=AS_LIMIT)
    # Files whose headers claim huge tensors: a few bytes each.
    def safetensors(path, header: bytes, data=b"\0" * 4):
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + data)
    safetensors(p("huge.safetensors"),
                b'{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4]}}')
    safetensors(p("wraps.safetensors"),
                b'{"w":{"dtype":"F32","shape":[1099511627776,1099511627776,1048576],"data_offsets":[0,4]}}')
    with open(p("hdrlen.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 1 << 60) + b"{}")
    fm_x = p("fm_x.npy")
    run = ["infer", "formwork_fm32", "--input", fm_x, "--out", out, "--weights"]
    E.expect_error(check, "infer: a safetensors tensor of 2^40 elements", [*run, p("huge.safetensors")], 1,
                   ["huge.safetensors: tensor 'w' has shape [1099511627776] (1.10 T elements), which would need 4.40 TB ("],
                   address_space=AS_LIMIT)
    E.expect_error(check, "infer: a safetensors shape beyond int64", [*run, p("wraps.safetensors")], 1,
                   ["tensor 'w' has shape [1099511627776, 1099511627776, 1048576] (1.27e+30 elements, more than int64 "
                    "counts), which would need 5.07e+30 B ("], address_space=AS_LIMIT)
    E.expect_error(check, "infer: a safetensors header length of 2^60", [*run, p("hdrlen.safetensors")], 1,
                   ["hdrlen.safetensors: header length 1152921504606846976 goes beyond the end of the file (10 bytes)"],
                   address_space=AS_LIMIT)
    dict_ = "{'descr': '<f4', 'fortran_order': False, 'shape': (2097152, 1, 32, 32), }"
    dict_ = dict_.ljust(117) + "\n"
    with open(p("huge.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(dict_)) + dict_.encode() + b"\0" * 16)
    if not SANITIZED:  # 8.59 GB fits the machine: refused only under AS_LIMIT
        E.expect_error(check, "infer: an .npy batch of 2^21 images",
                       ["infer", "formwork_fm32", "--weights", p("fm.safetensors"), "--input", p("huge.npy"),
                        "--out", out], 1,
                       ["huge.npy has shape [2097152, 1, 32, 32] (2.15 G elements), which would need 8.59 GB (",
                        *need], address_space=AS_LIMIT)
    # An architecture whose MAC count exceeds int64: one conv (7.4e22 MACs), and two convs of 4.6e18
    # each whose sum does not fit; the analysis refuses it instead of printing a wrapped number.
    def conv_graph(path, convs):
        nodes = [{"id": 1, "parent": 0, "name": "input", "kind": "input",
                  "attrs": {"channels": 4096, "height": 8192, "width": 8192}, "inputs": []},
                 {"id": 2, "parent": 0, "name": "stage", "kind": "group", "inputs": [{"node": 1, "port": 0}],
                  "outputs": [{"node": 2 + len(convs), "port": 0}]}]
        for i, (cin, cout) in enumerate(convs):
            src = {"node": 2, "port": 0, "group_input": True} if i == 0 else {"node": 2 + i, "port": 0}
            nodes.append({"id": 3 + i, "parent": 2, "name": f"conv{i}", "kind": "conv2d",
                          "attrs": {"in_channels": cin, "out_channels": cout, "kernel": 64, "padding": 32 - i},
                          "inputs": [src]})
        n = 3 + len(convs)
        nodes += [{"id": n, "parent": 0, "name": "pool", "kind": "global_avg_pool", "inputs": [{"node": 2, "port": 0}]},
                  {"id": n + 1, "parent": 0, "name": "fc", "kind": "linear",
                   "attrs": {"in_features": convs[-1][1], "out_features": 10}, "inputs": [{"node": n, "port": 0}]},
                  {"id": n + 2, "parent": 0, "name": "output", "kind": "output", "inputs": [{"node": n + 1, "port": 0}]}]
        with open(path, "w") as f:
            json.dump({"format": "formwork-graph", "version": 1, "meta": {}, "nodes": nodes}, f)
    conv_graph(p("macs_op.json"), [(4096, 65536)])
    conv_graph(p("macs_sum.json"), [(4096, 4096), (4096, 4096)])
    E.expect_error(check, "info: a conv whose MAC count exceeds int64", ["info", p("macs_op.json")], 1,
                   ["stage.conv0: MAC count exceeds 9.2e18 (int64)"], address_space=AS_LIMIT)
    E.expect_error(check, "info: two convs whose MAC sum exceeds int64", ["info", p("macs_sum.json")], 1,
                   ["stage: MAC count exceeds 9.2e18 (int64)"], address_space=AS_LIMIT)
    E.expect_error(check, "bench: the same architecture", ["bench", p("macs_sum.json"), "--batch", "1"], 1,
                   ["stage: MAC count exceeds 9.2e18 (int64)"], address_space=AS_LIMIT)


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("e2e errors")
    with fwtest.temp_dir("fwtest-errors-") as d:
        def p(name):
            return os.path.join(d, name)

        try:
            vit_w = E.init_weights(VIT, 1, p("vit.safetensors"))
            E.init_weights(CAF, 1, p("caf.safetensors"))
        except fwtest.FormworkError as e:
            check.ok("weights init", False, str(e))
            return check.finish()
        x = E.random_input(41, batch=2)
        fwtest.save_npy(p("x.npy"), x)
        fwtest.save_npy(p("labels.npy"), np.array([1, 2], dtype=np.int64), dtype=np.int64)
        # -- bad inputs --
        fwtest.save_npy(p("x_rank2.npy"), x[0, 0])
        fwtest.save_npy(p("x_rank5.npy"), x[None])
        fwtest.save_npy(p("x_1ch.npy"), x[:, :1])
        fwtest.save_npy(p("x_96.npy"), E.random_input(42, batch=2, size=(3, 96, 96)))
        xn = x.copy()
        xn[1, 2, 30, 7] = np.nan
        fwtest.save_npy(p("x_nan.npy"), xn)
        with open(p("x_garbage.npy"), "wb") as f:
            f.write(b"this is not a numpy file\n" * 10)
        fwtest.save_npy(p("labels3.npy"), np.array([1, 2, 3], dtype=np.int64), dtype=np.int64)
        fwtest.save_npy(p("labels_10.npy"), np.array([1, 10], dtype=np.int64), dtype=np.int64)
        # -- bad weights (vit) --
        def save_w(name, tensors):
            fwref.save_safetensors(p(name), tensors)
            return p(name)

        w_missing = save_w("w_missing.safetensors", {k: v for k, v in vit_w.items() if k != "blocks.3.mlp.fc1.weight"})
        w_extra = save_w("w_extra.safetensors", dict(vit_w, **{"blocks.3.mlp.fc3.weight": np.zeros((4, 4), np.float32)}))
        w_shape = save_w("w_shape.safetensors", dict(vit_w, **{"blocks.3.attn.qkv.weight":
                                                               np.ascontiguousarray(vit_w["blocks.3.attn.qkv.weight"].T)}))
        w_1000 = save_w("w_1000.safetensors", dict(vit_w, **{"head.weight": np.zeros((1000, 192), np.float32),
                                                             "head.bias": np.zeros((1000,), np.float32)}))
        with open(p("vit.safetensors"), "rb") as f:
            blob = f.read()
        with open(p("w_trunc.safetensors"), "wb") as f:
            f.write(blob[:len(blob) // 2])
        del vit_w

        V = ["--weights", p("vit.safetensors"), *E.SIZE_OPTS]
        C = ["--weights", p("caf.safetensors"), *E.SIZE_OPTS]
        out = p("out.npy")
        print("bad input", flush=True)
        # (A rank-3 [C,H,W] array is not tested: formwork reads it as a batch of one image.)
        expect_failure(check, "infer: rank-2 input", ["infer", VIT, *V, "--input", p("x_rank2.npy"), "--out", out], ["x_rank2.npy"], out)
        expect_failure(check, "infer: rank-5 input", ["infer", CAF, *C, "--input", p("x_rank5.npy"), "--out", out], ["x_rank5.npy"], out)
        expect_failure(check, "infer: 1-channel input", ["infer", CAF, *C, "--input", p("x_1ch.npy"), "--out", out], ["x_1ch.npy"], out)
        expect_failure(check, "infer: 96x96 input to a 64x64 ViT", ["infer", VIT, *V, "--input", p("x_96.npy"), "--out", out], ["x_96.npy"], out)
        expect_failure(check, "infer: NaN in input", ["infer", VIT, *V, "--input", p("x_nan.npy"), "--out", out], ["x_nan.npy", "nan"], out)
        expect_failure(check, "infer: input is not a .npy", ["infer", VIT, *V, "--input", p("x_garbage.npy"), "--out", out], ["x_garbage.npy"], out)
        expect_failure(check, "infer: input file missing", ["infer", VIT, *V, "--input", p("nothere.npy"), "--out", out], ["nothere.npy"], out)
        expect_failure(check, "gradcam: NaN in input", ["gradcam", CAF, *C, "--input", p("x_nan.npy"), "--layer", "stages.3", "--class", "1", "--out", out], ["x_nan.npy", "nan"], out)
        expect_failure(check, "attention: 1-channel input", ["attention", VIT, *V, "--input", p("x_1ch.npy"), "--layer", "blocks.0.attn", "--out", out], ["x_1ch.npy"], out)
        expect_failure(check, "score: 1-channel input", ["score", VIT, *V, "--input", p("x_1ch.npy"), "--labels", p("labels.npy"), "--proxies", "grad_norm,naswot", "--json"], ["x_1ch.npy"])
        expect_failure(check, "score: 3 labels for a batch of 2", ["score", VIT, *V, "--input", p("x.npy"), "--labels", p("labels3.npy"), "--proxies", "grad_norm,snip", "--json"], ["labels3.npy"])
        expect_failure(check, "score: label 10 with 10 classes", ["score", VIT, *V, "--input", p("x.npy"), "--labels", p("labels_10.npy"), "--proxies", "grad_norm,snip", "--json"], ["labels_10.npy"])
        print("bad layer / class", flush=True)
        G = ["gradcam", CAF, *C, "--input", p("x.npy")]
        expect_failure(check, "gradcam: no such layer", [*G, "--layer", "stages.9", "--class", "1", "--out", out], ["stages.9"], out)
        expect_failure(check, "gradcam: layer without a spatial grid (caformer head.fc)", [*G, "--layer", "head.fc", "--class", "1", "--out", out], ["head.fc"], out)
        expect_failure(check, "gradcam: layer without a spatial grid (ViT head)", ["gradcam", VIT, *V, "--input", p("x.npy"), "--layer", "head", "--class", "1", "--out", out], ["head"], out)
        expect_failure(check, "gradcam: class 10 of 10", [*G, "--layer", "stages.3", "--class", "10", "--out", out], ["10"], out)
        expect_failure(check, "gradcam: class 1000 of 10", [*G, "--layer", "stages.3", "--class", "1000", "--out", out], ["1000"], out)
        expect_failure(check, "attention: no such layer", ["attention", VIT, *V, "--input", p("x.npy"), "--layer", "blocks.12.attn", "--out", out], ["blocks.12.attn"], out)
        expect_failure(check, "attention: not an attention node", ["attention", CAF, *C, "--input", p("x.npy"), "--layer", "stages.0.blocks.0.token_mixer", "--out", out], ["stages.0.blocks.0.token_mixer"], out)
        print("bad weights", flush=True)
        I = ["--input", p("x.npy"), "--out", out, *E.SIZE_OPTS]
        expect_failure(check, "infer: weights miss a tensor", ["infer", VIT, "--weights", w_missing, *I], ["blocks.3.mlp.fc1.weight"], out)
        expect_failure(check, "infer: weights have an extra tensor", ["infer", VIT, "--weights", w_extra, *I], ["blocks.3.mlp.fc3.weight"], out)
        expect_failure(check, "infer: mis-shaped tensor", ["infer", VIT, "--weights", w_shape, *I], ["blocks.3.attn.qkv.weight"], out)
        expect_failure(check, "infer: 1000-class weights, 10 classes", ["infer", VIT, "--weights", w_1000, *I], ["head."], out)
        expect_failure(check, "infer: weights file missing", ["infer", VIT, "--weights", p("nothere.safetensors"), *I], ["nothere.safetensors"], out)
        expect_failure(check, "infer: truncated weights file", ["infer", VIT, "--weights", p("w_trunc.safetensors"), *I], ["w_trunc.safetensors"], out)
        expect_failure(check, "gradcam: weights miss a tensor", ["gradcam", VIT, "--weights", w_missing, "--layer", "blocks.5", "--class", "1", *I], ["blocks.3.mlp.fc1.weight"], out)
        expect_failure(check, "score: mis-shaped tensor", ["score", VIT, "--weights", w_shape, "--input", p("x.npy"), "--labels", p("labels.npy"), "--proxies", "synflow", "--json", *E.SIZE_OPTS], ["blocks.3.attn.qkv.weight"])
        print("outputs: all or none", flush=True)
        # A --png (or --save-input) that cannot be written leaves no --out, and keeps an old one.
        nodir = p("no-such-dir")
        for label, args in [
                ("gradcam", [*G, "--layer", "stages.3", "--class", "1", "--out", out, "--png", os.path.join(nodir, "cam.png")]),
                ("attention", ["attention", VIT, *V, "--input", p("x.npy"), "--layer", "blocks.0.attn", "--out", out,
                               "--png", os.path.join(nodir, "att.png")]),
                ("infer", ["infer", VIT, *V, "--input", p("x.npy"), "--out", out, "--save-input", os.path.join(nodir, "x.npy")])]:
            expect_failure(check, f"{label}: the second output cannot be written", args, ["no-such-dir"], out)
            with open(out, "wb") as f:
                f.write(b"old contents")
            fwtest.run_formwork(args, expect_rc=1)
            with open(out, "rb") as f:
                check.ok(f"{label}: an existing --out is kept as it was", f.read() == b"old contents")
            os.remove(out)
        expect_failure(check, "gradcam: --png is the --out file", [*G, "--layer", "stages.3", "--class", "1", "--out", out, "--png", out],
                       ["out.npy", "same file"], out)
        print("bad project metadata", flush=True)
        # A project whose stored data settings are broken fails when it is opened, with one line
        # naming the file and the key, whatever the command (it used to abort with exit 134).
        import sqlite3  # noqa: E402
        from PIL import Image  # noqa: E402
        Image.fromarray(np.zeros((70, 70, 3), np.uint8)).save(p("img.png"))
        fwtest.run_formwork(["new", p("good.formwork"), "--template", CAF, *E.SIZE_OPTS, "--init-weights", "--force"])
        for key, value, needles in [
                ("input_norm", '{"mean": [], "std": []}', ["mean is empty"]),
                ("input_norm", '{"mean": [0.5], "std": [0]}', ["std of channel 0"]),
                ("input_norm", "not json", ["not valid json"]),
                ("input_pipeline", '{"fit": "stretch", "size": [64, 64], "channels": 3, "net_channels": 3, "mean": [0.5], "std": [0.2]}',
                 ["'fit'"]),
                ("input_pipeline", '{"fit": "resize", "size": [64, 64], "channels": 3, "net_channels": 3, "mean": [0.5, 0.5], "std": [0.2, 0.2]}',
                 ["2 means"]),
                ("class_names", '["a", 3]', ["class_names"]),
                ("samples", '[{"blob": "samples/9.png", "label": 1}]', ["samples/9.png"]),
                ("train_epochs_done", "two", ["train_epochs_done"])]:
            bad = p("bad.formwork")
            with open(p("good.formwork"), "rb") as f, open(bad, "wb") as g:
                g.write(f.read())
            with sqlite3.connect(bad) as db:
                db.execute("insert or replace into meta(key, value) values (?, ?)", (key, value))
            expect_failure(check, f"infer: a project with meta {key} = {value[:30]}",
                           ["infer", bad, "--input", p("img.png"), "--out", out], ["bad.formwork", key, *needles], out)
            expect_failure(check, f"info: a project with meta {key} = {value[:30]}", ["info", bad], ["bad.formwork", key])
        # The stored pipeline is for another input size than the (edited) network now takes.
        with open(p("good.formwork"), "rb") as f, open(p("bad.formwork"), "wb") as g:
            g.write(f.read())
        with sqlite3.connect(p("bad.formwork")) as db:
            db.execute("insert or replace into meta(key, value) values ('input_pipeline', ?)",
                       ('{"fit": "resize", "size": [32, 32], "channels": 3, "net_channels": 3, "mean": [0.5], "std": [0.2]}',))
        expect_failure(check, "infer: the stored pipeline is for 32x32, the network takes 64x64",
                       ["infer", p("bad.formwork"), "--input", p("img.png"), "--out", out], ["img.png", "3x32x32", "3x64x64"], out)
        print("non-finite weights and scores", flush=True)
        # A checkpoint holding a NaN is refused naming the tensor (running it, importing it); a
        # score that is not finite is reported as failed, never as a number.
        fm_w = p("fm.safetensors")
        fwtest.run_formwork(["weights", "init", "formwork_fm32", "--seed", "0", "--out", fm_w])
        from fwref.safetensors_io import load_safetensors, save_safetensors
        tensors = {k: np.array(v) for k, v in load_safetensors(fm_w).items()}
        tensors["head.norm.weight"].flat[5] = np.nan
        save_safetensors(p("fm_nan.safetensors"), tensors)
        fm_x = p("fm_x.npy")
        fwtest.save_npy(fm_x, E.random_input(43, batch=2, size=(1, 32, 32)))
        nan_says = ["fm_nan.safetensors", "tensor 'head.norm.weight' holds NaN at element 5 of 96",
                    "weights must be finite"]
        expect_failure(check, "infer: weights holding a NaN", ["infer", "formwork_fm32", "--weights", p("fm_nan.safetensors"),
                                                               "--input", fm_x, "--out", out], nan_says, out)
        fm_p = p("fm.formwork")
        fwtest.run_formwork(["new", fm_p, "--template", "formwork_fm32"])
        before = E.file_digest(fm_p)
        expect_failure(check, "weights import: a checkpoint holding a NaN", ["weights", "import", fm_p, p("fm_nan.safetensors")],
                       nan_says)
        check.ok("weights import: the project is unchanged", E.file_digest(fm_p) == before)
        tensors["head.norm.weight"].flat[5] = np.inf
        save_safetensors(p("fm_inf.safetensors"), tensors)
        expect_failure(check, "score: weights holding +Inf", ["score", "formwork_fm32", "--weights", p("fm_inf.safetensors"),
                                                             "--input", fm_x, "--proxies", "naswot"],
                       ["tensor 'head.norm.weight' holds +Inf at element 5 of 96"])
        huge = p("fm_huge.npy")  # finite, but every activation saturates: naswot's kernel is singular
        fwtest.save_npy(huge, np.full((2, 1, 32, 32), 3e38, dtype=np.float32))
        r = fwtest.run_formwork(["score", "formwork_fm32", "--weights", fm_w, "--input", huge, "--proxies",
                                 "naswot,synflow", "--json"])
        j = json.loads(r.stdout)
        check.ok("score --json: a non-finite naswot is null and listed as failed",
                 j.get("naswot") is None and j.get("failed", {}).get("naswot", "").startswith("not finite")
                 and isinstance(j.get("synflow"), float), r.stdout)
        check.ok("score: ... with a warning on stderr", "warning: naswot failed: not finite" in r.stderr, r.stderr)
        r = fwtest.run_formwork(["score", "formwork_fm32", "--weights", fm_w, "--input", huge, "--proxies", "naswot"])
        check.ok("score: the text form says failed, not a number",
                 any(ln.split()[:2] == ["naswot", "failed:"] for ln in r.stdout.splitlines())
                 and all(ln.split()[1] == "failed:" or np.isfinite(float(ln.split()[1]))
                         for ln in r.stdout.splitlines() if ln.strip()), r.stdout)
        print("hostile sizes", flush=True)
        hostile_sizes(check, p, out)
        print("wrong usage", flush=True)
        expect_usage(check, "infer without ARCH", ["infer"])
        expect_usage(check, "infer without --out", ["infer", VIT, *V, "--input", p("x.npy")])
        expect_usage(check, "infer with an unknown option", ["infer", VIT, *V, "--input", p("x.npy"), "--out", out, "--frobnicate"])
        expect_usage(check, "gradcam --class three", [*G, "--layer", "stages.3", "--class", "three", "--out", out])
        expect_usage(check, "gradcam without --layer", [*G, "--class", "1", "--out", out])
        expect_usage(check, "infer --threads 0", ["infer", VIT, *V, "--input", p("x.npy"), "--out", out, "--threads", "0"])
        # Two words, so that a GUI build refuses too (it takes one PROJECT) instead of opening a window.
        expect_usage(check, "unknown command", ["frobnicate", VIT])
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
