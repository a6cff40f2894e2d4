#!/usr/bin/python3
"""`formwork export ARCH --svg F --pdf F --png F [--width PX] [--diagram graph|circuit]
[--level MODULE]` (CONTRACT.md "Export"): the diagram of a level as SVG, PDF and PNG files.

  - graph and circuit diagrams of caformer_s18 and poolformer_s12 (3x64x64) at the top level, at
    nested levels and (circuit) at one op, all three formats in one call: the SVG parses as XML,
    has the size the command printed and keeps its text as <text> (graph: every child module of
    the level is named there, as the editor titles it); the PDF is one page of that size in pt
    that renders (pdftoppm -r 50) to a non-blank picture; the PNG is --width pixels wide, the
    height in proportion, not blank;
  - a graph with problems (tests/gui/data/channel_mismatch.json) is still drawn, with one warning
    line on stderr that counts the problems;
  - bad input, each one "formwork: error:" line on stderr, no file written, no temp file left and
    an existing output untouched: exit 1 for an unknown level (the line lists levels there), an op
    as a graph level, an unwritable output (missing directory, a parent that is a file: the other
    outputs of the call are not written either), the same file twice, an unknown ARCH; exit 2 for
    --width without --png, --width 0, an unknown --diagram, no output, --weights without --onnx;
    exit 1 for --onnx of a template with no weights (the ONNX file is py.test_export_onnx's, the
    architecture py.test_nas's, the PyTorch file py.test_export_torch's).
A build without Qt 6 must say so instead, for each format (and Qt 6 must then be missing: a build
that missed an installed Qt fails). Needs poppler-utils (pdftoppm) and python3-pil; no PyTorch.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import fwtest

import e2e_common as E

SVG_NS = "{http://www.w3.org/2000/svg}"
HERE = os.path.dirname(os.path.abspath(__file__))
PROBLEM_JSON = os.path.join(HERE, "..", "gui", "data", "channel_mismatch.json")
SIZE = ["--input-size", "3,64,64"]


def wrote_lines(stdout):
    """{path: (format, width, height)} from the "wrote F (fmt, W×H)" lines."""
    out = {}
    for ln in stdout.splitlines():
        m = re.fullmatch(r"wrote (.+) \((svg|pdf|png), (\d+)\u00d7(\d+)\)", ln.strip())
        if m:
            out[m.group(1)] = (m.group(2), int(m.group(3)), int(m.group(4)))
    return out


def children(arch, level, extra=()):
    """Module names of the level's direct children (info --json), anonymous ones left out."""
    info = fwtest.run_formwork(["info", arch, "--json", *extra], quiet=True)
    nodes = json.loads(info.stdout)["nodes"]
    depth = 0 if not level else level.count(".") + 1
    prefix = level + "." if level else ""
    return [n["name"].rsplit(".", 1)[-1] for n in nodes
            if n["depth"] == depth and n["name"].startswith(prefix) and n["name"] != level and n["name"]]


def svg_texts(root):
    return ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]


def named(texts, name):
    """The editor titles a node by its name, cut with "…" when the box is too narrow."""
    return any(t == name or (t.endswith("\u2026") and len(t) > 1 and name.startswith(t[:-1]))
               for t in texts)


def non_blank(img):
    """Share of pixels that differ from the corner pixel (the background)."""
    img = img.convert("RGBA")
    bg = img.getpixel((0, 0))
    px = img.getdata()
    return sum(1 for p in px if max(abs(a - b) for a, b in zip(p, bg)) > 24) / max(1, len(px))


def listing(d):
    return sorted(os.listdir(d))


def no_qt_build(check, d):
    """True for a build without Qt 6, after checking that it says so for every format (exit 1,
    one line, no file) and that Qt 6 is indeed not installed (else the build missed it)."""
    probe = os.path.join(d, "probe.svg")
    res = fwtest.run_formwork(["export", "caformer_s18", "--svg", probe], expect_rc=None)
    if "this build has no Qt 6" not in res.stderr:
        return False
    import glob
    found = glob.glob("/usr/lib/*/cmake/Qt6Gui/Qt6GuiConfig.cmake")
    check.ok("no Qt 6 in this build: Qt 6 is not installed either", not found,
             f"{found[0]} is there: reconfigure the build" if found else "")
    for fmt in ("svg", "pdf", "png"):
        out = os.path.join(d, f"a.{fmt}")
        E.expect_error(check, f"no Qt 6: --{fmt}", ["export", "caformer_s18", f"--{fmt}", out], 1,
                       ["this build has no Qt 6", f"cannot write {fmt} files"])
        check.ok(f"no Qt 6: --{fmt} wrote nothing", not os.path.exists(out))
    return True


def main():
    fwtest.formwork_bin()
    try:
        from PIL import Image
    except ImportError as e:
        fwtest.skip(f"python3-pil is missing ({e})")
    if not shutil.which("pdftoppm"):
        fwtest.skip("pdftoppm is missing (apt-get install poppler-utils)")
    check = fwtest.Checker("export diagrams")
    with fwtest.temp_dir("fwtest-export-") as d:
        if no_qt_build(check, d):
            return check.finish()

        def good(label, arch, diagram, level, width, extra=(), needed=()):
            sub = os.path.join(d, label.replace(" ", "_").replace("/", "_"))
            os.mkdir(sub)
            svg, pdf, png = (os.path.join(sub, f"diagram.{x}") for x in ("svg", "pdf", "png"))
            args = ["export", arch, *extra, "--diagram", diagram, "--svg", svg, "--pdf", pdf,
                    "--png", png, "--width", str(width)]
            if level:
                args += ["--level", level]
            res = fwtest.run_formwork(args, expect_rc=None)
            if not check.ok(f"{label}: exit 0", res.returncode == 0, res.stderr.strip()[-300:]):
                return
            w = wrote_lines(res.stdout)
            check.equal(f"{label}: one 'wrote' line per file", sorted(w), sorted([svg, pdf, png]))
            if sorted(w) != sorted([svg, pdf, png]):
                return
            check.equal(f"{label}: nothing left beside the files", listing(sub),
                        ["diagram.pdf", "diagram.png", "diagram.svg"])
            # SVG
            try:
                root = ET.parse(svg).getroot()
            except ET.ParseError as e:
                check.ok(f"{label}: SVG parses as XML", False, str(e))
                return
            check.equal(f"{label}: SVG root", root.tag, SVG_NS + "svg")
            _, sw, sh = w[svg]
            check.equal(f"{label}: SVG size = the printed size",
                        (root.get("width"), root.get("height")), (str(sw), str(sh)))
            texts = svg_texts(root)
            check.ok(f"{label}: SVG keeps its text as <text>", any(t.strip() for t in texts),
                     f"{len(texts)} <text>")
            for name in needed:
                check.ok(f"{label}: SVG names '{name}'", named(texts, name), f"texts: {texts[:12]}")
            # PDF: one page of the picture's size, not blank.
            check.equal(f"{label}: PDF size in pt", w[pdf][1:], (sw, sh))
            with open(pdf, "rb") as f:
                check.equal(f"{label}: PDF magic", f.read(5), b"%PDF-")
            page = os.path.join(sub, "page")
            r = subprocess.run(["pdftoppm", "-png", "-r", "50", pdf, page], capture_output=True, text=True)
            pages = sorted(p for p in os.listdir(sub) if p.startswith("page"))
            if check.ok(f"{label}: pdftoppm renders one page", r.returncode == 0 and len(pages) == 1,
                        r.stderr.strip() or str(pages)):
                im = Image.open(os.path.join(sub, pages[0]))
                want = (round(sw * 50 / 72), round(sh * 50 / 72))
                check.ok(f"{label}: PDF page {im.size} px at 50 dpi ~ {want}",
                         abs(im.size[0] - want[0]) <= 1 and abs(im.size[1] - want[1]) <= 1)
                share = non_blank(im)
                check.ok(f"{label}: PDF page is not blank", share > 0.005, f"{share:.3%} drawn")
            # PNG
            im = Image.open(png)
            check.equal(f"{label}: PNG width = --width", im.size[0], width)
            check.equal(f"{label}: PNG size = the printed size", im.size, w[png][1:])
            check.ok(f"{label}: PNG height in proportion", abs(im.size[1] - round(width * sh / sw)) <= 1,
                     f"{im.size} for {sw}x{sh}")
            share = non_blank(im)
            check.ok(f"{label}: PNG is not blank", share > 0.005, f"{share:.3%} drawn")
            return res

        for arch, nested in (("caformer_s18", "stages.2.blocks.0"), ("poolformer_s12", "stages")):
            for level in ("", nested):
                good(f"{arch} graph at '{level}'", arch, "graph", level, 900, SIZE,
                     children(arch, level, SIZE))
                good(f"{arch} circuit at '{level}'", arch, "circuit", level, 700, SIZE)
        good("caformer_s18 circuit of one op", "caformer_s18", "circuit",
             "stages.0.blocks.0.mlp.fc1", 400, SIZE)
        good("vit_tiny_patch16_224 graph at the top", "vit_tiny_patch16_224", "graph", "", 640, (),
             children("vit_tiny_patch16_224", ""))

        # A graph with problems is drawn, with a warning.
        res = good("a graph with problems", PROBLEM_JSON, "graph", "features", 500, (),
                   ["conv", "act", "proj"])
        if res is not None:
            lines = E.error_lines(res.stderr)
            check.ok("a graph with problems: one warning line counting them",
                     len(lines) == 1 and lines[0].startswith("formwork: warning: ")
                     and re.search(r"\b\d+ problems?\b", lines[0]) is not None, " | ".join(lines))

        # Bad input.
        bad = os.path.join(d, "bad")
        os.mkdir(bad)
        old = os.path.join(bad, "old.svg")
        with open(old, "w") as f:
            f.write("old contents\n")
        with open(os.path.join(bad, "a_file"), "w") as f:
            f.write("x\n")
        out_svg, out_png = os.path.join(bad, "new.svg"), os.path.join(bad, "new.png")
        C = ["export", "caformer_s18", *SIZE]

        def fails(label, args, rc, needles):
            before = listing(bad)
            E.expect_error(check, label, args, rc, needles)
            check.equal(f"{label}: no file written, no temp file left", listing(bad), before)
            with open(old) as f:
                check.equal(f"{label}: an existing output is untouched", f.read(), "old contents\n")

        fails("unknown level", [*C, "--svg", old, "--level", "stages.9"], 1,
              ["--level", "stages.9", "stages.0", "stages.3"])
        fails("unknown nested level", [*C, "--svg", old, "--level", "stages.1.blocks.7"], 1,
              ["stages.1.blocks.7", "stages.1.blocks"])
        fails("an op is no graph level", [*C, "--svg", old, "--level", "stages.0.blocks.0.mlp.fc1"], 1,
              ["stages.0.blocks.0.mlp.fc1", "not a group or block", "stages.0.blocks.0.mlp"])
        fails("a missing output directory",
              [*C, "--svg", os.path.join(bad, "no_such_dir", "a.svg"), "--png", out_png], 1,
              ["no_such_dir/a.svg"])
        fails("an output under a regular file",
              [*C, "--png", os.path.join(bad, "a_file", "a.png"), "--svg", out_svg], 1,
              ["a_file/a.png"])
        fails("an unwritable output over an existing one",
              [*C, "--svg", old, "--pdf", os.path.join(bad, "no_such_dir", "a.pdf")], 1,
              ["no_such_dir/a.pdf"])
        fails("the same file twice", [*C, "--svg", out_svg, "--png", out_svg], 1, ["same file"])
        fails("an unknown ARCH", ["export", "no_such_arch", "--svg", out_svg], 1, ["no_such_arch"])
        fails("--width without --png", [*C, "--svg", out_svg, "--width", "300"], 2, ["--width", "--png"])
        fails("--width 0", [*C, "--png", out_png, "--width", "0"], 2, ["--width"])
        fails("an unknown --diagram", [*C, "--svg", out_svg, "--diagram", "tree"], 2, ["--diagram", "tree"])
        fails("no output", [*C, "--level", "stages"], 2, ["--svg", "--pdf", "--png"])
        # The ONNX file's options (py.test_export_onnx checks the file): --weights needs --onnx;
        # --onnx of a template without weights is refused, and the picture beside it not written.
        fails("--weights without --onnx", [*C, "--svg", out_svg, "--weights", os.path.join(bad, "w.safetensors")],
              2, ["--weights", "--onnx"])
        fails("--onnx without weights", [*C, "--svg", out_svg, "--onnx", os.path.join(bad, "m.onnx")],
              1, ["--weights", "--init-seed"])
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
