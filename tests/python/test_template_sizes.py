#!/usr/bin/python3
"""Template sizes are derived, not typed: Formwork's parameter counts and MACs against the PyTorch
reference models (fwref) and, for Formwork's own caformer_mini64, against a count written out
layer by layer.

For every template `formwork templates --json` lists (which must be fwref.TEMPLATES, 13 of
them, each once):
  * `templates --json` params and macs at the default size (3x224x224 / 1000 classes; Formwork's
    own 1x32x32 / 1x64x64 / 10) == Σ numel over the fwref model's parameters (every one,
    RandFormer's fixed mixing matrices included) and fwref.macs (TEMPLATES.md's MAC rule);
  * `info ARCH --json`, at the default size and at --input-size 3,64,64 --num-classes 10: params,
    trainable_params (== Σ numel over parameters with requires_grad) and macs likewise;
  * the fwref models have no buffers (so "parameters" is every tensor of the state dict).
caformer_mini64 (core/templates.cpp, not timm's): params also == mini64_params(C, classes), a
sum written out per stem / downsampling / block / head from core/templates.cpp's structure, at
1x64x64 / 10 and 3x64x64 / 10 (its count does not depend on H and W), which must also give
README's 441,114 at the default size.

Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset or missing, or no torch); a failing formwork
command FAILS.
"""
import json
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import fwref  # noqa: E402

SMALL = ((3, 64, 64), 10)


def mini64_params(in_chans, classes):
    """caformer_mini64's parameter count, layer by layer (core/templates.cpp: dims 32, 64, 128;
    depths 1, 2, 2; sep-conv, sep-conv, attention; 5x5 depthwise; MLP ratio 2, no MLP bias;
    LayerNorm(2d) without bias in the stem, downsamplings and blocks; res scales on stages 1 and
    2; head_dim 32; linear head after a LayerNorm with bias)."""
    star_relu = 2                                            # scale, bias
    stem = 32 * in_chans * 7 * 7 + 32 + 32                   # conv 7x7/4/2 + bias, norm weight

    def sepconv_block(d, res_scale):                         # NCHW block, SepConv mixer
        norm1 = d
        mixer = d * 2 * d + star_relu + 2 * d * 5 * 5 + 2 * d * d  # pwconv1, act1, dwconv, pwconv2
        norm2 = d
        mlp = d * 2 * d + star_relu + 2 * d * d              # fc1, act, fc2 (1x1 convs)
        return norm1 + mixer + norm2 + mlp + (2 * d if res_scale else 0)

    def attention_block(d):                                  # token block, heads = d / 32
        norm1 = d
        mixer = d * 3 * d + d * d                            # qkv, proj (no bias)
        norm2 = d
        mlp = d * 2 * d + star_relu + 2 * d * d
        return norm1 + mixer + norm2 + mlp + 2 * d           # res_scale1, res_scale2

    def downsample(cin, cout):                               # norm (weight) then conv 3x3/2/1 + bias
        return cin + cout * cin * 3 * 3 + cout

    stage0 = 1 * sepconv_block(32, res_scale=False)
    stage1 = downsample(32, 64) + 2 * sepconv_block(64, res_scale=True)
    stage2 = downsample(64, 128) + 2 * attention_block(128)
    head = 2 * 128 + 128 * classes + classes                 # norm weight + bias, fc
    return stem + stage0 + stage1 + stage2 + head


def main():
    fwtest.formwork_bin()  # skip (77) when unset/missing
    check = fwtest.Checker("template sizes")

    def formwork_json(args, label):
        try:
            res = fwtest.run_formwork(args, quiet=True)
            return json.loads(res.stdout)
        except (fwtest.FormworkError, json.JSONDecodeError) as e:
            check.ok(f"{label}: `formwork {' '.join(args)}` gives JSON", False, str(e)[:300])
            return None

    listed = formwork_json(["templates", "--json"], "templates") or []
    names = [t.get("name") for t in listed]
    check.equal("templates --json lists fwref's templates, each once", sorted(names), sorted(fwref.TEMPLATES))
    check.equal("number of templates", len(names), 13)

    for t in listed:
        name = t.get("name")
        if name not in fwref.TEMPLATES:
            continue
        print(name, flush=True)
        default_size, default_classes = fwref.defaults(name)
        for size, classes, tag in ((default_size, default_classes, "default"), (*SMALL, "small")):
            ref = fwref.build(name, num_classes=classes, input_size=size, device="meta")
            total, fixed = fwref.count_params(ref)
            n_buffers = sum(b.numel() for b in ref.buffers())
            macs = fwref.macs(ref, size)
            label = f"{name} @{'x'.join(map(str, size))}/{classes}" + (" (default)" if tag == "default" else "")
            check.equal(f"{label}: fwref has no buffers", n_buffers, 0)
            if tag == "default":
                check.equal(f"{label}: templates --json params", t.get("params"), total)
                check.equal(f"{label}: templates --json macs", t.get("macs"), macs)
            args = ["info", name, "--json"]
            if tag != "default":
                args += ["--input-size", ",".join(map(str, size)), "--num-classes", str(classes)]
            info = formwork_json(args, label)
            if info is None:
                continue
            check.equal(f"{label}: info input", list(info.get("input", [])), list(size))
            check.equal(f"{label}: info num_classes", info.get("num_classes"), classes)
            check.equal(f"{label}: info params", info.get("params"), total)
            check.equal(f"{label}: info trainable_params", info.get("trainable_params"), total - fixed)
            check.equal(f"{label}: info macs", info.get("macs"), macs)
            if name == "caformer_mini64":
                want = mini64_params(size[0], classes)
                check.equal(f"{label}: layer-by-layer count == fwref", want, total)
                check.equal(f"{label}: layer-by-layer count == formwork", info.get("params"), want)
    check.equal("caformer_mini64 layer-by-layer count at 1x64x64 / 10 == README's (fwref.REFERENCE_SIZES)",
                mini64_params(1, 10), fwref.REFERENCE_SIZES["caformer_mini64"][0])
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
