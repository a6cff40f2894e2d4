#!/usr/bin/python3
"""scripts/check_skips.py, which makes scripts/test.sh (and .ci/run) fail when a test skipped on
a machine its set-up prepared: given ctest's JUnit output, a skipped test of the unit, python,
torch, gui or screenshot groups fails the check (exit 1, naming the test and its reason) unless
FORMWORK_ALLOW_SKIPS=1; no skip passes; a skip in no required group (or labelled gpu) passes.
The labels come from this build's ctest (FORMWORK_BUILD_DIR).

Exit 0 pass, 1 fail, 77 skip (FORMWORK_BUILD_DIR unset).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fwtest  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "check_skips.py")


def junit(cases):
    body = "".join(
        f'<testcase name="{name}" status="{status}">'
        + ('<skipped message="SKIP_RETURN_CODE=77"/>' if status == "notrun" else "")
        + f"<system-out>{out}</system-out></testcase>"
        for name, status, out in cases)
    return f'<?xml version="1.0"?><testsuite tests="{len(cases)}">{body}</testsuite>'


def main():
    build = os.environ.get("FORMWORK_BUILD_DIR")
    if not build or not os.path.isdir(build):
        fwtest.skip("FORMWORK_BUILD_DIR is not set (ctest sets it)")
    check = fwtest.Checker("check_skips")
    with fwtest.temp_dir() as tmp:
        def run(cases, allow=False):
            path = os.path.join(tmp, "junit.xml")
            with open(path, "w") as f:
                f.write(junit(cases))
            env = dict(os.environ)
            env.pop("FORMWORK_ALLOW_SKIPS", None)
            if allow:
                env["FORMWORK_ALLOW_SKIPS"] = "1"
            return subprocess.run([sys.executable, SCRIPT, build, path], capture_output=True, text=True, env=env)

        ran = ("py.test_check_skips", "run", "")
        r = run([ran])
        check.ok("nothing skipped: passes", r.returncode == 0, r.stdout + r.stderr)
        for name, group in [("py.test_executor_vs_torch", "torch"), ("py.test_image_input", "python"),
                            ("Loss.TopKAndAccuracy", "unit")]:
            r = run([ran, (name, "notrun", "SKIP: the oracle is missing")])
            check.ok(f"a skipped {group} test fails the check", r.returncode == 1 and name in r.stdout and
                     "the oracle is missing" in r.stdout and "FORBIDDEN" in r.stdout, r.stdout + r.stderr)
            r = run([ran, (name, "notrun", "SKIP: the oracle is missing")], allow=True)
            check.ok(f"... unless FORMWORK_ALLOW_SKIPS=1 ({group})", r.returncode == 0 and name in r.stdout,
                     r.stdout + r.stderr)
        listing = subprocess.run(["ctest", "--test-dir", build, "-N", "-L", "screenshot"], capture_output=True, text=True)
        shots = [ln.split(":", 1)[1].strip() for ln in listing.stdout.splitlines() if ln.strip().startswith("Test #")]
        if shots:
            r = run([ran, (shots[0], "notrun", "SKIP: xvfb-run not found")])
            check.ok("a skipped screenshot test fails the check", r.returncode == 1 and shots[0] in r.stdout,
                     r.stdout + r.stderr)
        r = run([ran, ("no.such.test.unlabelled", "notrun", "SKIP: whatever")])
        check.ok("a skip outside the required groups is listed but passes", r.returncode == 0 and
                 "no.such.test.unlabelled" in r.stdout and "FORBIDDEN" not in r.stdout, r.stdout + r.stderr)
        bad = os.path.join(tmp, "broken.xml")
        with open(bad, "w") as f:
            f.write("<testsuite")
        r = subprocess.run([sys.executable, SCRIPT, build, bad], capture_output=True, text=True)
        check.ok("unreadable JUnit: exit 2", r.returncode == 2, r.stderr)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
