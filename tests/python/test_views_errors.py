#!/usr/bin/python3
"""Bad input to the view commands `gradcam --method/--metrics/--dataset`, `attention --rollout` and
`mixing` (CONTRACT.md "Views"): each fails with exactly one stderr line "formwork: error: ..."
naming the problem, exit status 1 when the work failed and 2 for wrong usage, and leaves no --out
file behind.

  exit 1: a layer without a spatial grid (--metrics on head.fc); a box outside the image; a
          batch of two for --metrics; an image file that does not decode and an input with the
          wrong channel count (gradcam --metrics, mixing); mixing on a layer that is not a token
          mixer (a stage, a block) or does not exist; --query out of range (256 tokens: 256, -1);
          rollout of a network without attention (poolformer_s12), of a part without attention
          (caformer_mini64 stages.0) or of no such part;
  exit 2: --method nonsense; --box that is not four integers; --dataset with --box, with --input,
          without --metrics; --tolerance without --box; gradcam without --class and --metrics;
          attention --rollout with --layer; --layers without --rollout.
Models: caformer_mini64 (1x64x64) and poolformer_s12 (3x64x64), `weights init` weights. No
PyTorch needed. Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset).
"""
import os
import sys

import fwtest
import numpy as np

import e2e_common as E

CAF, POOL = "caformer_mini64", "poolformer_s12"


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("views errors")
    with fwtest.temp_dir("fwtest-views-errors-") as d:
        def p(name):
            return os.path.join(d, name)

        w = {}
        for arch in (CAF, POOL):
            w[arch] = p(f"{arch}.safetensors")
            fwtest.run_formwork(["weights", "init", arch, "--seed", "1", "--out", w[arch], *E.size_opts(arch)])
        fwtest.save_npy(p("x.npy"), E.random_input(3, 1, (1, 64, 64)))
        fwtest.save_npy(p("x2.npy"), E.random_input(3, 2, (1, 64, 64)))
        fwtest.save_npy(p("x3ch.npy"), E.random_input(3, 1, (3, 64, 64)))
        fwtest.save_npy(p("xp.npy"), E.random_input(3, 1, (3, 64, 64)))
        with open(p("garbage.png"), "wb") as f:
            f.write(b"this is not an image\n" * 20)
        out = p("out.npy")
        C = [CAF, "--weights", w[CAF], *E.size_opts(CAF)]
        G = ["gradcam", *C, "--input", p("x.npy")]
        M = ["mixing", *C, "--input", p("x.npy")]
        A = ["attention", *C, "--input", p("x.npy")]

        def fails(label, args, rc, needles):
            if os.path.exists(out):
                os.remove(out)
            if E.expect_error(check, label, args, rc, needles) is not None:
                check.ok(f"{label}: no out.npy left behind", not os.path.exists(out))

        # exit 1: the work failed
        fails("gradcam --metrics: layer without a spatial grid", [*G, "--layer", "head.fc", "--metrics", "--out", out], 1, ["head.fc"])
        fails("gradcam --metrics: box outside the image", [*G, "--layer", "stages.2", "--metrics", "--box", "0,0,80,80", "--out", out], 1, ["box", "64x64"])
        fails("gradcam --metrics: empty box", [*G, "--layer", "stages.2", "--metrics", "--box", "5,5,5,9", "--out", out], 1, ["box"])
        fails("gradcam --metrics: batch of two", ["gradcam", *C, "--input", p("x2.npy"), "--layer", "stages.2", "--metrics", "--out", out], 1, ["one image", "x2.npy"])
        fails("gradcam --metrics: image that does not decode", ["gradcam", *C, "--input", p("garbage.png"), "--layer", "stages.2", "--metrics", "--out", out], 1, ["garbage.png"])
        fails("gradcam --metrics: wrong channel count", ["gradcam", *C, "--input", p("x3ch.npy"), "--layer", "stages.2", "--metrics", "--out", out], 1, ["x3ch.npy", "channels"])
        fails("gradcam --metrics: class out of range", [*G, "--layer", "stages.2", "--metrics", "--class", "10", "--out", out], 1, ["10"])
        fails("mixing: a stage is not a token mixer", [*M, "--layer", "stages.0", "--out", out], 1, ["stages.0", "not a token mixer", "stages.0.blocks.0.token_mixer"])
        fails("mixing: a block is not a token mixer", [*M, "--layer", "stages.2.blocks.1", "--out", out], 1, ["stages.2.blocks.1", "not a token mixer"])
        fails("mixing: no such layer", [*M, "--layer", "stages.9.blocks.0.token_mixer", "--out", out], 1, ["stages.9.blocks.0.token_mixer"])
        fails("mixing: --query 256 of 256 tokens", [*M, "--layer", "stages.0.blocks.0.token_mixer", "--query", "256", "--out", out], 1, ["--query 256", "256 tokens", "0..255"])
        fails("mixing: --query -1", [*M, "--layer", "stages.0.blocks.0.token_mixer", "--query", "-1", "--out", out], 1, ["--query -1", "out of range"])
        fails("mixing: image that does not decode", ["mixing", *C, "--input", p("garbage.png"), "--layer", "stages.0.blocks.0.token_mixer", "--out", out], 1, ["garbage.png"])
        fails("mixing: wrong channel count", ["mixing", *C, "--input", p("x3ch.npy"), "--layer", "stages.0.blocks.0.token_mixer", "--out", out], 1, ["x3ch.npy", "channels"])
        fails("rollout: a network without attention", ["attention", POOL, "--weights", w[POOL], *E.size_opts(POOL), "--input", p("xp.npy"), "--rollout", "--out", out], 1, ["no attention"])
        fails("rollout: a part without attention", [*A, "--rollout", "--layers", "stages.0", "--out", out], 1, ["stages.0", "no attention"])
        fails("rollout: no such part", [*A, "--rollout", "--layers", "stages.7", "--out", out], 1, ["stages.7"])
        # exit 2: wrong usage
        fails("gradcam --method nonsense", [*G, "--layer", "stages.2", "--class", "1", "--method", "gradcam+++", "--out", out], 2, ["--method", "gradcam++"])
        fails("gradcam --box not four integers", [*G, "--layer", "stages.2", "--metrics", "--box", "1,2,3", "--out", out], 2, ["--box"])
        fails("gradcam --box with letters", [*G, "--layer", "stages.2", "--metrics", "--box", "a,b,c,d", "--out", out], 2, ["--box"])
        fails("gradcam --dataset with --box", ["gradcam", *C, "--dataset", "fashion-mnist-placed", "--layer", "stages.2", "--metrics", "--box", "0,0,8,8"], 2, ["--box"])
        fails("gradcam --dataset with --input", [*G, "--dataset", "fashion-mnist-placed", "--layer", "stages.2", "--metrics"], 2, ["--input", "--dataset"])
        fails("gradcam --dataset without --metrics", ["gradcam", *C, "--dataset", "fashion-mnist-placed", "--layer", "stages.2"], 2, ["--metrics"])
        fails("gradcam --tolerance without --box", [*G, "--layer", "stages.2", "--metrics", "--tolerance", "2"], 2, ["--tolerance"])
        fails("gradcam without --class or --metrics", [*G, "--layer", "stages.2", "--out", out], 2, ["--class"])
        fails("attention --rollout with --layer", [*A, "--rollout", "--layer", "stages.2.blocks.0.token_mixer", "--out", out], 2, ["--layers"])
        fails("attention --layers without --rollout", [*A, "--layers", "stages.2", "--out", out], 2, ["--rollout"])
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
