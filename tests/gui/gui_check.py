#!/usr/bin/python3
"""The GUI's outside behaviour (CONTRACT.md), checked from the outside.

  gui_check.py screenshot FORMWORK OUT.png WIDTHxHEIGHT [--expect-problem | --modal] [ARGS...]
      Runs `FORMWORK --screenshot OUT.png ARGS...` under `xvfb-run -a` (Mesa's llvmpipe) and checks
      exit status 0, silence on stderr, and a decodable PNG of the expected size that shows a real
      frame: many colours (anti-aliased text), no colour covering almost everything, something in
      every quarter, the theme's background and accent colours, and the status colour: the "valid
      graph" green, or with --expect-problem the error red of a problem. With --modal (a dialog in
      front dims the window behind it) the theme and status colours are not checked. Exits 77
      (ctest SKIP) when xvfb-run is missing.
  gui_check.py no-display FORMWORK
      Without a display, `--screenshot` exits 1 with one line on stderr that names the display.
  gui_check.py usage FORMWORK
      An unknown --view, a view this build does not have, --frames 0 or a module that is not in
      the graph exits 2 with one line on stderr.
"""
import os
import shutil
import subprocess
import sys

BACKGROUND = (0x11, 0x13, 0x18)  # palette::kBackground (app/gui/style.h)
ACCENT = (0x5A, 0xA9, 0xF0)      # palette::kAccent: the "Formwork" title
OK = (0x6C, 0xC3, 0x8B)          # palette::kOk: "valid graph"
ERROR = (0xE7, 0x62, 0x5A)       # palette::kError: a problem's node and message


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, env=None, timeout=120):
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                       timeout=timeout)
    if p.stdout:
        print(p.stdout, end="")
    if p.stderr:
        print(p.stderr, end="", file=sys.stderr)
    return p


def one_line(stderr, what):
    lines = [line for line in stderr.splitlines() if line.strip()]
    if len(lines) != 1:
        fail(f"{what}: expected one line on stderr, got {len(lines)}: {lines!r}")
    if not lines[0].startswith("formwork: "):
        fail(f"{what}: stderr line does not start with 'formwork: ': {lines[0]!r}")
    return lines[0]


def screenshot(formwork, out, size, args):
    expect_problem = bool(args) and args[0] == "--expect-problem"
    if expect_problem:
        args = args[1:]
    modal = bool(args) and args[0] == "--modal"
    if modal:
        args = args[1:]
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        print("SKIP: xvfb-run not found (apt-get install xvfb xauth)")
        sys.exit(77)
    from PIL import Image

    width, height = (int(v) for v in size.split("x"))
    if os.path.exists(out):
        os.remove(out)
    p = run([xvfb, "-a", "-s", "-screen 0 1600x1000x24", formwork, "--screenshot", out] + args)
    if p.returncode != 0:
        fail(f"formwork exited {p.returncode}")
    if p.stderr.strip():
        fail("formwork wrote to stderr")
    if not os.path.isfile(out):
        fail(f"{out} was not written")
    try:
        img = Image.open(out)
        img.load()
    except Exception as e:  # noqa: BLE001 - any decoding failure is the finding
        fail(f"{out} is not a decodable PNG: {e}")
    if img.format != "PNG":
        fail(f"{out} is {img.format}, not PNG")
    if img.size != (width, height):
        fail(f"{out} is {img.size[0]}x{img.size[1]}, expected {width}x{height}")

    rgb = img.convert("RGB")
    colours = rgb.getcolors(maxcolors=width * height)
    colours.sort(reverse=True)
    total = width * height
    top_count, top_colour = colours[0]
    print(f"{out}: {width}x{height}, {len(colours)} colours, most common {top_colour} "
          f"covers {100.0 * top_count / total:.1f}%")
    if len(colours) < 200:
        fail(f"only {len(colours)} distinct colours: no text or widgets drawn?")
    if top_count > 0.9 * total:
        fail(f"one colour {top_colour} covers {100.0 * top_count / total:.1f}% of the frame")
    present = {c for _, c in colours}
    quarters(rgb, width, height, total)
    if modal:
        return
    if BACKGROUND not in present:
        fail(f"the theme background {BACKGROUND} is missing: style not applied?")
    if ACCENT not in present:
        fail(f"the accent colour {ACCENT} (the title) is missing: header not drawn?")
    if expect_problem and ERROR not in present:
        fail(f"the error colour {ERROR} is missing: the problem is not shown")
    if not expect_problem and OK not in present:
        fail(f"the 'valid graph' colour {OK} is missing")
    if not expect_problem and ERROR in present:
        fail(f"the error colour {ERROR} shows on a valid graph")


def quarters(rgb, width, height, total):
    # Every quarter of the frame shows something besides the background.
    for qx in range(2):
        for qy in range(2):
            box = (qx * width // 2, qy * height // 2, (qx + 1) * width // 2, (qy + 1) * height // 2)
            quarter = rgb.crop(box).getcolors(maxcolors=total)
            if len(quarter) < 5:
                fail(f"quarter {box} is nearly empty ({len(quarter)} colours)")


def no_display(formwork):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = os.path.join(os.getcwd(), "no-display.png")
    p = run([formwork, "--screenshot", out, "poolformer_s12"], env=env)
    if p.returncode != 1:
        fail(f"expected exit status 1 without a display, got {p.returncode}")
    line = one_line(p.stderr, "no display")
    if "display" not in line.lower():
        fail(f"the message does not mention the display: {line!r}")
    if os.path.exists(out):
        fail(f"{out} written without a display")


def usage(formwork):
    cases = (["--view", "no-such-view"], ["--view", "gradcam"], ["--frames", "0"],
             ["--enter", "no.such.module"])
    for args in cases:
        p = run([formwork, "--screenshot", "unused.png"] + args + ["poolformer_s12"])
        if p.returncode != 2:
            fail(f"{args}: expected exit status 2, got {p.returncode}")
        line = one_line(p.stderr, " ".join(args))
        if args[1] == "gradcam" and "view 'gradcam' is not available in this build" not in line:
            fail(f"the message does not say the view is not available: {line!r}")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, formwork = argv[1], argv[2]
    if mode == "screenshot" and len(argv) >= 5:
        screenshot(formwork, argv[3], argv[4], argv[5:])
    elif mode == "no-display":
        no_display(formwork)
    elif mode == "usage":
        usage(formwork)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
