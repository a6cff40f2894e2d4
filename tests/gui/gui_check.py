#!/usr/bin/python3
"""The GUI's outside behaviour (CONTRACT.md), checked from the outside.

  gui_check.py screenshot FORMWORK OUT.png WIDTHxHEIGHT [OPTIONS] [ARGS...]
      Runs `FORMWORK --screenshot OUT.png --state OUT.state.json ARGS...` under `xvfb-run -a`
      (Mesa's llvmpipe) and checks exit status 0, silence on stderr, and a decodable PNG of the
      expected size that shows a real frame: many colours (anti-aliased text), no colour covering
      almost everything, something in every quarter, the theme's background and accent colours.

      Then the state report (what the last frame drew, app/gui/ui_probe.h): every --expect holds,
      and the PICTURE shows what the report says was drawn where it says: each node's fill colour
      over its box (or header), the selection's accent border, a problem's red, the inspector's
      rows, the breadcrumb, the status verdict in its colour, each plotted series' colour inside
      its chart, the dialog's rows, and everything behind a dialog dimmed (the items drawn before
      it are not looked at). Exits 77 (ctest SKIP) when xvfb-run is missing.

      OPTIONS (before ARGS):
        --expect-problem  the graph has a problem: the status says so in red (default: "valid
                          graph" in green, and no red anywhere)
        --cwd DIR         run FORMWORK in DIR (what the file browser lists)
        --expect E        one expectation about the report (repeatable):
          NAME=VALUE            a fact: view, level, inspector, inspector.mode, dialog, training,
                                title; the attention and Grad-CAM views: input, layer, query,
                                class, method, top1, state, deletion_auc, insertion_auc,
                                pointing_hit... (a missing fact is ""); `dialog=` something means
                                a dialog in front (the theme colours are then not looked for)
          NAME~=REGEX           a fact matching a regular expression (e.g. deletion_auc~=^0\.)
          LIST:ID               an item of LIST with that id was drawn (lists: node, crumb, attr,
                                problem, template, file, shortcut, plot, series, epoch, run, tab,
                                outline, status, dialog, canvas; the views on the model: map,
                                scale, sample, prediction, activity, input_error)
          LIST:ID@F,G,-H        ... with the flags F and G and without H (selected, open,
                                problem, current...)
          LIST:ID#>=N           ... whose count (points of a series) is at least N (also #=, #<=)
          !LIST:ID              no item of LIST with that id was drawn
          #LIST>=N, #LIST=N     the number of LIST items drawn (#LIST@F,-G=N: those with the
                                flag F and without G)
  gui_check.py check OUT.png WIDTHxHEIGHT [OPTIONS]
      The same checks of a screenshot and its OUT.state.json taken before (nothing is run).
  gui_check.py no-display FORMWORK
      Without a display, `--screenshot` exits 1 with one line on stderr that names the display.
  gui_check.py usage FORMWORK
      An unknown --view (e.g. "search": the view is "nas"), --frames 0, a module that is not in
      the graph or --state without --screenshot, and the views' options wrong (--layer not in
      the graph, an unknown --method, --class/--query not an index, --input sample:x) exit 2 with
      one line on stderr.
"""
import json
import os
import re
import shutil
import subprocess
import sys

BACKGROUND = (0x11, 0x13, 0x18)  # palette::kBackground (app/gui/style.h)
ACCENT = (0x5A, 0xA9, 0xF0)      # palette::kAccent: the "Formwork" title, the selection
OK = (0x6C, 0xC3, 0x8B)          # palette::kOk: "valid graph"
ERROR = (0xE7, 0x62, 0x5A)       # palette::kError: a problem's node and message
WARNING = (0xE5, 0xA1, 0x4A)     # palette::kWarning: a group with a problem inside
TEXT = (0xD9, 0xDE, 0xE8)        # palette::kText
CANVAS = (0x13, 0x16, 0x1C)      # palette::kCanvas: behind the nodes
PANEL = (0x17, 0x1A, 0x21)       # palette::kPanel: behind the template cards

# Lists whose items are lines of text: the picture must show text in their rectangles.
TEXT_LISTS = {"study_row", "crumb", "attr", "problem", "file", "shortcut", "epoch", "run", "outline", "status",
              "tab", "prediction", "activity", "result", "space"}
# Lists whose items are pictures (heat maps, the input image): they must show an image there, not
# a flat placeholder: several colours, none covering nearly all of it (a raw 4x4 map drawn with
# nearest filtering has only a few).
IMAGE_LISTS = {"map", "scale"}
# The share of an item's fill rectangle its fill colour must cover (the rest: text, stripes).
FILL_SHARE = {"node": 0.25, "template": 0.4, "plot": 0.3, "canvas": 0.1}


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, env=None, timeout=120, cwd=None):
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                       timeout=timeout, cwd=cwd)
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


def hex_colour(s):
    return tuple(int(s[i:i + 2], 16) for i in (1, 3, 5))


# ---- The picture ---------------------------------------------------------------------------------

class Picture:
    def __init__(self, rgb):
        self.rgb = rgb
        self.width, self.height = rgb.size

    def box(self, r, inset=0):
        """Integer pixel box inside rectangle r ([x0, y0, x1, y1], floats), clipped to the image;
        None when nothing is left."""
        x0 = max(0, int(r[0] + 0.999) + inset)
        y0 = max(0, int(r[1] + 0.999) + inset)
        x1 = min(self.width, int(r[2]) - inset)
        y1 = min(self.height, int(r[3]) - inset)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def colours(self, box):
        return self.rgb.crop(box).getcolors(maxcolors=(box[2] - box[0]) * (box[3] - box[1]) + 1)

    def count(self, box, colour, tol):
        return sum(n for n, c in self.colours(box)
                   if all(abs(a - b) <= tol for a, b in zip(c, colour)))

    def inked(self, box, ink, tol=8, strength=0.5, bg=None):
        """Pixels of `ink` drawn over `bg` (default: the box's most common colour): anti-aliased
        text and lines blend the two, so a pixel counts when it lies on the way from `bg` to
        `ink`, at least `strength` of the way."""
        cs = self.colours(box)
        if bg is None:
            _, bg = max(cs)
        d = [a - b for a, b in zip(ink, bg)]
        dd = sum(x * x for x in d)
        if dd == 0:
            return 0
        n = 0
        for k, c in cs:
            v = [a - b for a, b in zip(c, bg)]
            t = sum(x * y for x, y in zip(v, d)) / dd
            if t < strength or t > 1.1:
                continue
            if max(abs(v[i] - t * d[i]) for i in range(3)) <= tol:
                n += k
        return n

    def ink_pixels(self, box):
        """Pixels clearly unlike the box's most common colour (text, lines)."""
        cs = self.colours(box)
        _, top = max(cs)
        return sum(n for n, c in cs if sum(abs(a - b) for a, b in zip(c, top)) > 60)


def where(item):
    r = item["rect"]
    return f"{item['list']} '{item['id']}' at ({r[0]:.0f},{r[1]:.0f})-({r[2]:.0f},{r[3]:.0f})"


def check_item(pic, item):
    """The picture shows `item` where the report says it was drawn."""
    lst, flags = item["list"], set(item["flags"])
    full = pic.box(item["rect"])
    if full is None:
        fail(f"{where(item)}: the rectangle is outside the {pic.width}x{pic.height} picture")
    if "fill" in item:
        fill = hex_colour(item["fill"])
        box = pic.box(item["fill_rect"], inset=2)
        if box is not None and (box[2] - box[0]) * (box[3] - box[1]) >= 4:
            area = (box[2] - box[0]) * (box[3] - box[1])
            share = pic.count(box, fill, 3) / area
            need = FILL_SHARE.get(lst, 0.25)
            if share < need:
                fail(f"{where(item)}: its fill {item['fill']} covers {100 * share:.0f}% of "
                     f"{box}, expected at least {100 * need:.0f}%: not drawn there")
    if "ink" in item:
        ink = hex_colour(item["ink"])
        n = pic.inked(full, ink)
        if n < 3:
            fail(f"{where(item)}: its colour {item['ink']} shows on {n} pixels, expected a few")
    if lst in TEXT_LISTS and pic.ink_pixels(full) < 6:
        fail(f"{where(item)}: no text in the picture there")
    if lst in IMAGE_LISTS:
        cs = pic.colours(full)
        area = (full[2] - full[0]) * (full[3] - full[1])
        if len(cs) < 3 or max(cs)[0] > 0.97 * area:
            fail(f"{where(item)}: no image there ({len(cs)} colours, the most common covering "
                 f"{100 * max(cs)[0] / area:.0f}%)")
    if lst == "plot" and "empty" in flags:  # its "no data" line, in the middle
        r = item["rect"]
        middle = pic.box([r[0], (r[1] + r[3]) / 2 - 12, r[2], (r[1] + r[3]) / 2 + 12])
        if middle is None or pic.ink_pixels(middle) < 6:
            fail(f"{where(item)} is reported empty, but its 'no data' text does not show")
    if lst in ("node", "template") and "selected" in flags:
        # The selection's border, along the top edge (links and text in the accent colour touch
        # the sides and the inside, never the top edge); clipped boxes are not looked at.
        r = item["rect"]
        band = pic.box([r[0] + 8, r[1] - 1.5, r[2] - 8, r[1] + 2.5])
        if band is not None and r[1] > 0 and band[2] - band[0] >= 10:
            n = pic.inked(band, ACCENT, strength=0.6, bg=CANVAS if lst == "node" else PANEL)
            if n < 0.5 * (band[2] - band[0]):
                fail(f"{where(item)} is reported selected, but the selection accent {ACCENT} "
                     f"shows on {n} pixels of its top edge {band}")
    if lst == "node" and "problem" in flags:
        n = pic.count(full, ERROR, 3)
        if n < 4:
            fail(f"{where(item)} is reported as a problem, but only {n} pixels of the error red "
                 f"show on it")
    if lst == "node" and "problem_inside" in flags and "selected" not in flags:
        n = pic.inked(full, WARNING)
        if n < 4:
            fail(f"{where(item)} is reported with a problem inside, but only {n} pixels of the "
                 f"warning border {WARNING} show on it")
    if lst == "tab" and "active" in flags:
        r = item["rect"]
        strip = pic.box([r[0], r[3] - 3, r[2], r[3] + 2])
        if strip is None or pic.count(strip, ACCENT, 3) < 4:
            fail(f"{where(item)} is reported as the view in front, but its accent underline "
                 f"does not show")
    if lst == "crumb":
        colour = TEXT if "current" in flags else ACCENT  # the level shown, or a link up
        if pic.inked(full, colour) < 3:
            what = "current level" if "current" in flags else "link"
            fail(f"{where(item)}: the breadcrumb's {what} colour {colour} does not show there")


def check_dialog(pic, dialog):
    """A dialog in front: it shows, and everything behind it is dimmed."""
    box = pic.box(dialog["rect"])
    if box is None or pic.ink_pixels(box) < 50:
        fail(f"{where(dialog)}: nothing drawn there")
    total = pic.width * pic.height
    inside = pic.count(box, BACKGROUND, 0)
    outside = pic.count((0, 0, pic.width, pic.height), BACKGROUND, 0) - inside
    area = total - (box[2] - box[0]) * (box[3] - box[1])
    if outside > 0.005 * area:
        fail(f"{where(dialog)}: the window behind it is not dimmed ({outside} pixels of the plain "
             f"background {BACKGROUND} outside it)")


# ---- The report ----------------------------------------------------------------------------------

ITEM = re.compile(r"^(!?)([a-z_]+):(.*?)(?:@([a-z_,-]+))?(?:#(>=|<=|=)(\d+))?$")
COUNT = re.compile(r"^#([a-z_]+)(?:@([a-z_,-]+))?(>=|<=|=)(\d+)$")


def has_flags(item, flags):
    """`flags`: "a,b,-c": the item has a and b, and not c."""
    for f in flags.split(",") if flags else []:
        if (f[1:] in item["flags"]) if f.startswith("-") else (f not in item["flags"]):
            return False
    return True
FACT = re.compile(r"^([a-z0-9_.]+)(~?)=(.*)$")


def compare(value, op, n):
    return value >= n if op == ">=" else value <= n if op == "<=" else value == n


def drawn_ids(report, lst, limit=12):
    ids = [i["id"] for i in report["items"] if i["list"] == lst]
    shown = ", ".join(repr(i) for i in ids[:limit])
    if len(ids) > limit:
        shown += f", ... ({len(ids)} in all)"
    return f"drawn {lst} items: {shown or 'none'}"


def check_expectation(report, e):
    facts = report["facts"]
    m = COUNT.match(e)
    if m:
        lst, flags, op, n = m.group(1), m.group(2), m.group(3), int(m.group(4))
        got = sum(1 for i in report["items"] if i["list"] == lst and has_flags(i, flags))
        if not compare(got, op, n):
            fail(f"expected {e}: the frame drew {got} {lst} item(s)"
                 f"{' with ' + flags if flags else ''} ({drawn_ids(report, lst)})")
        return []
    m = ITEM.match(e)
    if m:
        neg, lst, ident, flags, op, n = m.groups()
        found = [i for i in report["items"] if i["list"] == lst and i["id"] == ident]
        if neg:
            if found:
                fail(f"expected {e}: {where(found[0])} was drawn")
            return []
        if not found:
            fail(f"expected {e}: no {lst} '{ident}' was drawn ({drawn_ids(report, lst)})")
        item = found[0]
        if not has_flags(item, flags):
            fail(f"expected {e}: {where(item)} was drawn with the flags {item['flags']}")
        if op is not None:
            count = item.get("count", -1)
            if not compare(count, op, int(n)):
                fail(f"expected {e}: {where(item)} has count {count}")
        return [item]
    m = FACT.match(e)
    if m:
        name, regex, value = m.groups()
        got = facts.get(name)
        if regex:
            if not re.search(value, got or ""):
                fail(f"expected {name} to match {value!r}: the frame drew {name} {got!r}")
            return []
        if (got or "") != value:
            shown = "none" if got is None else repr(got)
            fail(f"expected {name}={value!r}: the frame drew {name} {shown}")
        return []
    fail(f"cannot read the expectation {e!r} (see gui_check.py's usage)")


def screenshot(formwork, out, size, args, run_it=True):
    expect_problem, cwd, expects = False, None, []
    while args and args[0] in ("--expect-problem", "--cwd", "--expect"):
        if args[0] == "--expect-problem":
            expect_problem, args = True, args[1:]
        elif len(args) < 2:
            fail(f"{args[0]} needs a value")
        elif args[0] == "--cwd":
            cwd, args = args[1], args[2:]
        else:
            expects.append(args[1])
            args = args[2:]
    modal = any(re.match(r"^dialog=.+", e) for e in expects)
    xvfb = shutil.which("xvfb-run")
    if xvfb is None and run_it:
        print("SKIP: xvfb-run not found (apt-get install xvfb xauth)")
        sys.exit(77)
    from PIL import Image

    width, height = (int(v) for v in size.split("x"))
    out = os.path.abspath(out)
    state = (out[:-4] if out.endswith(".png") else out) + ".state.json"
    if run_it:
        for f in (out, state):
            if os.path.exists(f):
                os.remove(f)
        p = run([xvfb, "-a", "-s", "-screen 0 1600x1000x24", formwork, "--screenshot", out,
                 "--state", state] + args, cwd=cwd)
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
    try:
        with open(state, encoding="utf-8") as f:
            maps = [i["rect"] for i in json.load(f)["items"] if i["list"] in IMAGE_LISTS]
    except (OSError, ValueError, KeyError):
        maps = []
    if maps and ERROR in present:  # the error red counts only outside the heat maps
        masked = rgb.copy()
        for r in maps:
            masked.paste(BACKGROUND, (int(r[0]), int(r[1]), int(r[2] + 1), int(r[3] + 1)))
        present = {c for _, c in masked.getcolors(maxcolors=width * height)}
    quarters(rgb, width, height, total)
    if not modal:
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

    # The state report: what the frame drew.
    try:
        with open(state, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"the state report {state} is missing or not JSON: {e}")
    if (report.get("width"), report.get("height")) != (width, height):
        fail(f"the state report is for a {report.get('width')}x{report.get('height')} frame")
    items = report["items"]
    lists = {}
    for i in items:
        lists[i["list"]] = lists.get(i["list"], 0) + 1
    print(f"{state}: facts {report['facts']}, drawn {lists}")
    if not modal:
        expects = [f"status:{'problems' if expect_problem else 'valid'}"] + expects
    for e in expects:
        check_expectation(report, e)

    # The picture shows what the report says, where it says.
    pic = Picture(rgb)
    dialogs = [i for i in items if i["list"] == "dialog"]
    if modal and not dialogs:
        fail("a dialog is expected but none was drawn")
    for d in dialogs:
        check_dialog(pic, d)
    # Items come in drawing order: what was drawn before the (last) dialog is dimmed behind it.
    front = max((k for k, i in enumerate(items) if i["list"] == "dialog"), default=-1)
    looked = 0
    for i in items[front + 1:]:
        check_item(pic, i)
        looked += 1
    # A chart's background is the panel's: it shows through its series, which must lie inside it.
    for plot in (i for i in items if i["list"] == "plot"):
        series = [s for s in items
                  if s["list"] == "series" and s["id"].startswith(plot["id"] + "/")]
        r = plot["rect"]
        for s in series:
            q = s["rect"]
            if not (q[0] >= r[0] and q[1] >= r[1] and q[2] <= r[2] and q[3] <= r[3]):
                fail(f"{where(s)} is not inside its chart, {where(plot)}")
        if len(series) != plot.get("count", 0):
            fail(f"{where(plot)} says it drew {plot.get('count')} series, the report has "
                 f"{len(series)}")
    print(f"the picture shows the {looked} items the report places in it; "
          f"{len(expects)} expectations hold")


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
    cases = (["--view", "no-such-view"], ["--view", "search"], ["--frames", "0"],
             ["--enter", "no.such.module"], ["--state", "unused.json"],
             ["--view", "gradcam", "--layer", "no.such.module"],
             ["--view", "gradcam", "--method", "scorecam"], ["--view", "gradcam", "--class", "-1"],
             ["--view", "attention", "--query", "x"], ["--view", "attention", "--input", "sample:x"])
    for args in cases:
        shot = [] if args[0] == "--state" else ["--screenshot", "unused.png"]
        p = run([formwork] + shot + args + ["poolformer_s12"])
        if p.returncode != 2:
            fail(f"{args}: expected exit status 2, got {p.returncode}")
        line = one_line(p.stderr, " ".join(args))
        if args[1] == "search" and "unknown view 'search'" not in line:
            fail(f"the message does not say the view is unknown: {line!r}")
        if args[0] == "--state" and "--screenshot" not in line:
            fail(f"the message does not say --state needs --screenshot: {line!r}")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, formwork = argv[1], argv[2]
    if mode == "screenshot" and len(argv) >= 5:
        screenshot(formwork, argv[3], argv[4], argv[5:])
    elif mode == "check" and len(argv) >= 4:
        screenshot(None, argv[2], argv[3], argv[4:], run_it=False)
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
