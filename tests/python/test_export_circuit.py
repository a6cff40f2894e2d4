#!/usr/bin/python3
"""`formwork export ARCH --diagram circuit --level MODULE --svg F` (CONTRACT.md "Export"): the
circuit diagram of a level holds what the level is.

  - every child module of the level is a group <g id="node:PATH"> of the SVG (an op, a block or
    a closed box), and the level's own sizes are written: the size of every axis of every child's
    output, from `formwork info --json` (a feature map [C,H,W] as "C" and "H×W", tokens [N,C] as
    "N" and "C"), each as a <text> of its own;
  - the sizes follow --input-size: caformer_s18's stage-3 block at 3×64×64 has 16 tokens and no
    196 (its size at 224), at 224 the reverse;
  - (the fused qkv linear's 3·h·d output is drawn as q, k, v with d and h each: its size is
    checked in the weight shape written under it)
  - the attention mixer names the heads and head_dim sizes, a PoolFormer block draws its norm's
    GroupNorm circle (the text "GN") and a CAFormer block "LN".
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or a build without Qt 6: test_export_diagrams
checks that such a build says so).
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

import fwtest

SVG_NS = "{http://www.w3.org/2000/svg}"


def info(arch, extra):
    res = fwtest.run_formwork(["info", arch, "--json", *extra], quiet=True)
    return {n["name"]: n for n in json.loads(res.stdout)["nodes"]}


def axis_sizes(shape):
    if len(shape) == 3:
        return [str(shape[0]), f"{shape[1]}\u00d7{shape[2]}"]
    return [str(s) for s in shape]


def export(check, d, arch, level, extra):
    svg = os.path.join(d, f"{arch}_{level or 'top'}_{'_'.join(extra) or 'default'}.svg".replace(",", "x"))
    res = fwtest.run_formwork(["export", arch, *extra, "--diagram", "circuit", "--level", level,
                               "--svg", svg], expect_rc=None)
    if res.returncode != 0:
        if "no Qt 6" in res.stderr:
            fwtest.skip("this build has no Qt 6")
        check.ok(f"{arch} {level}: exit 0", False, res.stderr.strip()[-300:])
        return None, None
    root = ET.parse(svg).getroot()
    ids = {g.get("id") for g in root.iter(SVG_NS + "g") if g.get("id")}
    texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
    return ids, texts


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("export circuit")
    with fwtest.temp_dir("fwtest-circuit-") as d:
        cases = [("caformer_s18", "stages.2.blocks.0", ["--input-size", "3,64,64"]),
                 ("caformer_s18", "stages.2.blocks.0", []),
                 ("caformer_s18", "stages.2.blocks.0.token_mixer", []),
                 ("poolformer_s12", "stages.0.blocks.0", ["--input-size", "3,64,64"]),
                 ("poolformer_s12", "stages.0", []),
                 ("randformer_s12", "stages.2.blocks.0", [])]
        seen = {}
        for arch, level, extra in cases:
            label = f"{arch} {level} {' '.join(extra)}".strip()
            ids, texts = export(check, d, arch, level, extra)
            if ids is None:
                continue
            seen[label] = texts
            nodes = info(arch, extra)
            depth = level.count(".") + 1
            kids = [n for n in nodes.values()
                    if n["depth"] == depth and n["name"].startswith(level + ".")]
            check.ok(f"{label}: has children", len(kids) > 0)
            for k in kids:
                check.ok(f"{label}: <g id=node:{k['name']}>", "node:" + k["name"] in ids,
                         f"ids: {sorted(i for i in ids if i.startswith('node:'))[:8]}")
                for size in axis_sizes(k["output"]):
                    if k["name"].endswith(".qkv") and size == str(k["output"][-1]):
                        # the fused 3·h·d axis is drawn as q, k and v, each d and h; its size is
                        # in the weight's shape under L^V
                        check.ok(f"{label}: fused qkv size {size} written",
                                 any(f"[{size}," in t for t in texts))
                        continue
                    check.ok(f"{label}: size {size} of {k['name']} written", size in texts)
        block64 = seen.get("caformer_s18 stages.2.blocks.0 --input-size 3,64,64", [])
        block224 = seen.get("caformer_s18 stages.2.blocks.0", [])
        check.ok("64x64: 16 tokens", "16" in block64)
        check.ok("64x64: not 196 tokens", "196" not in block64)
        check.ok("224: 196 tokens", "196" in block224)
        check.ok("224: not 16 tokens", "16" not in block224)
        attn = seen.get("caformer_s18 stages.2.blocks.0.token_mixer", [])
        check.ok("attention: head_dim 32 and 10 heads written", "32" in attn and "10" in attn)
        check.ok("attention: the softmax scale", any("32^" in t for t in attn), str(attn[:20]))
        check.ok("PoolFormer block: a GroupNorm", "GN" in seen.get("poolformer_s12 stages.0.blocks.0 --input-size 3,64,64", []))
        check.ok("CAFormer block: a LayerNorm", "LN" in block224)
        check.ok("a stage: its blocks drawn once with their count",
                 "\u00d72" in seen.get("poolformer_s12 stages.0", []))
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
