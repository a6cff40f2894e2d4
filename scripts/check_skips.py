#!/usr/bin/python3
"""Fails when a test skipped that must not skip on a machine the set-up prepared.

  check_skips.py BUILD_DIR JUNIT.xml

JUNIT.xml is what `ctest --output-junit` wrote for the run just made. Every test of the groups
unit, python, torch, gui and screenshot (ctest labels, tests/CMakeLists.txt) has its oracle there
once scripts/setup.sh has run: PyTorch, PIL, Xvfb and Mesa, Fashion-MNIST. A skip in those groups
hides a missing oracle, so it is a failure. Tests labelled gpu may skip (no GPU on the machine).
Set FORMWORK_ALLOW_SKIPS=1 to accept skips (a machine set up by other means); the skips are
listed either way. Exit 0 fine, 1 a forbidden skip, 2 bad arguments or files.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

REQUIRED = {"unit", "python", "torch", "gui", "screenshot"}


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    build, junit = argv[1], argv[2]
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"check_skips: cannot read {junit}: {e}", file=sys.stderr)
        return 2
    skipped = {}
    for case in root.iter("testcase"):
        node = case.find("skipped")
        if case.get("status") in ("notrun", "disabled") or node is not None:
            out = case.findtext("system-out") or ""
            why = next((l for l in out.splitlines() if l.startswith("SKIP")), (node.get("message") if node is not None else "") or "")
            skipped[case.get("name")] = why.strip()
    if not skipped:
        print("check_skips: no test skipped")
        return 0
    listing = subprocess.run(["ctest", "--test-dir", build, "--show-only=json-v1"],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        print(f"check_skips: ctest --show-only failed: {listing.stderr.strip()}", file=sys.stderr)
        return 2
    labels = {}
    for t in json.loads(listing.stdout).get("tests", []):
        for prop in t.get("properties", []):
            if prop.get("name") == "LABELS":
                labels[t["name"]] = set(prop.get("value") or [])
    bad = []
    for name, why in sorted(skipped.items()):
        groups = labels.get(name, set())
        forbidden = bool(groups & REQUIRED) and "gpu" not in groups
        print(f"check_skips: {'FORBIDDEN ' if forbidden else ''}skip: {name} [{', '.join(sorted(groups)) or 'no label'}]"
              f"{': ' + why if why else ''}")
        if forbidden:
            bad.append(name)
    if bad and os.environ.get("FORMWORK_ALLOW_SKIPS") != "1":
        print(f"check_skips: {len(bad)} test(s) skipped although the set-up installed their oracles; "
              "a skip here hides a missing check (FORMWORK_ALLOW_SKIPS=1 accepts them)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
