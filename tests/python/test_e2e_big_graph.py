"""#16: parsing and analysis are linear in the graph's size whatever the order of its nodes.

A chain of 10^6 ReLUs (a 92 MB architecture file) listed backwards, output first, is read and
analysed by `formwork info` in seconds; before Kahn's algorithm the analysis was quadratic in
such an order (20,000 nodes: 11 s; 100,000: no end). Groups nested 10^5 deep are refused with one
line (they overflowed the stack). Under scripts/sanitize.sh (FORMWORK_SANITIZED=1) the chain has
10^5 nodes: the same code, several times slower per node.

Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset).
"""
import json
import os
import sys
import time

import fwtest


def chain(n, path):
    nodes = [{"id": 1, "kind": "input", "name": "input",
              "attrs": {"channels": 3, "height": 8, "width": 8}}]
    nodes += [{"id": i, "kind": "relu", "name": f"r{i}", "inputs": [{"node": i - 1, "port": 0}]}
              for i in range(2, n + 2)]
    nodes.append({"id": n + 2, "kind": "output", "name": "output",
                  "inputs": [{"node": n + 1, "port": 0}]})
    nodes.reverse()
    with open(path, "w") as f:
        json.dump({"format": "formwork-graph", "version": 1, "nodes": nodes}, f)


def nested(depth, path):
    """Groups nested `depth` levels (each node names its parent), an identity in the innermost."""
    parts = ['{"id":1,"kind":"input","name":"input","attrs":{"channels":3,"height":4,"width":4}}']
    leaf = depth + 2
    for i in range(depth):
        node, parent = i + 2, 0 if i == 0 else i + 1
        src = '{"node":1,"port":0}' if i == 0 else '{"node":%d,"port":0,"group_input":true}' % parent
        parts.append('{"id":%d,"parent":%d,"kind":"group","name":"g","inputs":[%s],'
                     '"outputs":[{"node":%d,"port":0}]}' % (node, parent, src,
                                                            leaf if i + 1 == depth else node + 1))
    parts.append('{"id":%d,"parent":%d,"kind":"identity","name":"id",'
                 '"inputs":[{"node":%d,"port":0,"group_input":true}]}' % (leaf, depth + 1, depth + 1))
    parts.append('{"id":%d,"kind":"output","name":"output","inputs":[{"node":2,"port":0}]}' % (leaf + 1))
    with open(path, "w") as f:
        f.write('{"format":"formwork-graph","version":1,"nodes":[' + ",".join(parts) + "]}")


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("big graphs")
    n = 100000 if os.environ.get("FORMWORK_SANITIZED") == "1" else 1000000
    with fwtest.temp_dir("fwtest-big-") as d:
        path = os.path.join(d, "chain.json")
        chain(n, path)
        t0 = time.time()
        r = fwtest.run_formwork(["info", path, "--json"], expect_rc=None, timeout=300)
        seconds = time.time() - t0
        check.ok(f"{n} nodes listed backwards: info succeeds", r.returncode == 0, r.stderr.strip()[-300:])
        if r.returncode == 0:
            j = json.loads(r.stdout)
            relus = sum(1 for node in j.get("nodes", []) if node.get("op") == "relu")
            check.equal(f"{n} nodes: every ReLU analysed, with its shape", (relus, j["nodes"][1]["output"]),
                        (n, [3, 8, 8]))
        print(f"  ({n} nodes: {seconds:.1f} s)", flush=True)
        # Not a speed goal: a quadratic analysis of this chain does not finish within the timeout.
        check.ok(f"{n} nodes: analysed within the 300 s timeout", seconds < 300, f"{seconds:.1f} s")

        deep = os.path.join(d, "deep.json")
        nested(100000, deep)
        r = fwtest.run_formwork(["info", deep], expect_rc=None, timeout=120)
        lines = r.stderr.strip().splitlines()
        check.ok("groups nested 10^5 deep: exit 1 with one line", r.returncode == 1 and len(lines) == 1,
                 f"rc {r.returncode}: {lines[-3:]}")
        check.ok("groups nested 10^5 deep: says why", bool(lines) and "nested more than 256 levels" in lines[0],
                 str(lines[:1]))
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
