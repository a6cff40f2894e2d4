#!/usr/bin/python3
"""`formwork info ARCH --json` agrees with the PyTorch reference (fwref) for every template.

For each template at its default size (no --input-size / --num-classes: 3x224x224 / 1000 classes
for timm's templates, 1x32x32 / 1x64x64 and 10 classes for Formwork's own formwork_fm32 /
caformer_mini64), and for caformer_s18, randformer_s12, vit_tiny_patch16_224 and formwork_fm32 at
--input-size 3,64,64 --num-classes 10, compares:
  * arch / input / num_classes echoed back;
  * the parameter list, name by name, against the reference state_dict: missing, unexpected,
    duplicated and mis-shaped names are listed; trainable flags (RandFormer's random_matrix is
    not trainable); order differences are reported but not fatal;
  * params, trainable_params and macs totals (exact);
  * nodes: unique names; the sum of node params/MACs equals the totals; each node's params
    equals the size of the parameters named after it; every conv2d / linear / attention /
    random-mixing node named like a reference module has that module's MACs and output shape.
Skips (77) only when FORMWORK_BIN is unset or missing; a binary without `info` FAILS.
"""
import json
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import fwref  # noqa: E402

CASES = [(name, None, None) for name in fwref.TEMPLATES] + [
    ("caformer_s18", (3, 64, 64), 10),
    ("randformer_s12", (3, 64, 64), 10),
    ("vit_tiny_patch16_224", (3, 64, 64), 10),
    ("formwork_fm32", (3, 64, 64), 10),
]


def numel(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def show(names, limit=12):
    names = list(names)
    s = ", ".join(names[:limit])
    return s + (f" ... (+{len(names) - limit} more)" if len(names) > limit else "")


def compare_info(check, label, info, arch, input_size, num_classes):
    """Checks one `info --json` document against fwref.build(arch, num_classes, input_size)."""
    ref = fwref.build(arch, num_classes=num_classes, input_size=input_size, device="meta")
    ref_params = {k: (tuple(p.shape), p.requires_grad) for k, p in ref.named_parameters()}
    ref_order = list(ref.state_dict())
    total, fixed = fwref.count_params(ref)
    per_module = fwref.macs_per_module(ref, input_size)
    ref_macs = sum(v[0] for v in per_module.values())

    check.equal(f"{label}: arch", info.get("arch"), arch)
    check.equal(f"{label}: input", list(info.get("input", [])), list(input_size))
    check.equal(f"{label}: num_classes", info.get("num_classes"), num_classes)

    # -- parameters, one by one --
    plist = info.get("parameters")
    if not isinstance(plist, list):
        check.ok(f"{label}: 'parameters' list present", False, f"got {type(plist).__name__}")
        plist = []
    got = {}
    dups = []
    for p in plist:
        name = p.get("name")
        if name in got:
            dups.append(name)
        got[name] = (tuple(p.get("shape", [])), bool(p.get("trainable", True)))
    missing = [k for k in ref_order if k not in got]
    unexpected = [k for k in got if k not in ref_params]
    misshaped = [f"{k} {list(got[k][0])} (want {list(ref_params[k][0])})"
                 for k in ref_order if k in got and got[k][0] != ref_params[k][0]]
    wrong_trainable = [f"{k} trainable={got[k][1]} (want {ref_params[k][1]})"
                       for k in ref_order if k in got and got[k][1] != ref_params[k][1]]
    check.ok(f"{label}: no missing parameters", not missing,
             f"{len(missing)} missing: {show(missing)}" if missing else f"{len(ref_order)} names")
    check.ok(f"{label}: no unexpected parameters", not unexpected,
             f"{len(unexpected)} unexpected: {show(unexpected)}" if unexpected else "")
    check.ok(f"{label}: no duplicated parameters", not dups, show(dups))
    check.ok(f"{label}: parameter shapes", not misshaped,
             f"{len(misshaped)} mis-shaped: {show(misshaped, 6)}" if misshaped else "")
    check.ok(f"{label}: trainable flags", not wrong_trainable, show(wrong_trainable, 6))
    got_order = [p.get("name") for p in plist if p.get("name") in ref_params]
    want_order = [k for k in ref_order if k in got]
    if got_order != want_order:
        first = next(i for i, (a, b) in enumerate(zip(got_order, want_order)) if a != b)
        print(f"  note  {label}: parameter order differs from state_dict order from #{first} "
              f"({got_order[first]} vs {want_order[first]}); not an error")

    # -- totals --
    check.equal(f"{label}: params", info.get("params"), total)
    check.equal(f"{label}: trainable_params", info.get("trainable_params"), total - fixed)
    check.equal(f"{label}: macs", info.get("macs"), ref_macs)

    # -- nodes --
    nodes = info.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        check.ok(f"{label}: 'nodes' list present", False)
        return
    names = [n.get("name") for n in nodes]
    dup_nodes = sorted({n for n in names if names.count(n) > 1})
    check.ok(f"{label}: node names unique", not dup_nodes, show(dup_nodes))
    # Groups and blocks report their children's totals; the leaves carry the parameters and MACs.
    check.ok(f"{label}: nodes say whether they are leaves", all(isinstance(n.get("leaf"), bool) for n in nodes))
    nodes = [n for n in nodes if n.get("leaf")]
    check.equal(f"{label}: sum of leaf params", sum(int(n.get("params", 0)) for n in nodes), info.get("params"))
    check.equal(f"{label}: sum of leaf macs", sum(int(n.get("macs", 0)) for n in nodes), info.get("macs"))
    own = {}
    for p in plist:
        node, _, _local = p.get("name", "").rpartition(".")
        own[node] = own.get(node, 0) + numel(p.get("shape", []))
    # Top-level parameters (ViT's cls_token, pos_embed: no module path) may sit on one node of
    # any name; every other parameter belongs to the node named by its module path.
    root = own.pop("", 0)
    bad_node_params = [n for n in nodes if int(n.get("params", 0)) != own.get(n.get("name"), 0)]
    if root and len(bad_node_params) == 1 and \
            int(bad_node_params[0].get("params", 0)) == own.get(bad_node_params[0].get("name"), 0) + root:
        print(f"  note  {label}: node {bad_node_params[0].get('name')!r} holds the {root} top-level parameters")
        bad_node_params = []
    bad_node_params = [f"{n['name']} {n.get('params')} (its parameters: {own.get(n['name'], 0)})"
                       for n in bad_node_params]
    check.ok(f"{label}: node params = size of the parameters named after the node",
             not bad_node_params, show(bad_node_params, 6))
    by_name = {n.get("name"): n for n in nodes}
    matched, bad_macs, bad_shape = 0, [], []
    for mod, (m_macs, m_shape) in per_module.items():
        n = by_name.get(mod)
        if n is None:
            continue
        matched += 1
        if int(n.get("macs", -1)) != m_macs:
            bad_macs.append(f"{mod} {n.get('macs')} (want {m_macs})")
        if "output" in n and tuple(n["output"]) != m_shape:
            bad_shape.append(f"{mod} {n['output']} (want {list(m_shape)})")
    convlin = [k for k, m in ref.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    unmatched = [k for k in convlin if k not in by_name]
    check.ok(f"{label}: every conv/linear module is a node", not unmatched,
             f"{len(unmatched)} without a node: {show(unmatched, 6)}" if unmatched else f"{len(convlin)}")
    check.ok(f"{label}: per-node MACs of {matched} matched nodes", not bad_macs, show(bad_macs, 6))
    check.ok(f"{label}: per-node output shapes", not bad_shape, show(bad_shape, 6))


def main():
    fwtest.formwork_bin()  # skip (77) when unset/missing
    check = fwtest.Checker("param names")
    for arch, size, classes in CASES:
        args = ["info", arch, "--json"]
        if size is not None:
            args += ["--input-size", ",".join(map(str, size))]
        if classes is not None:
            args += ["--num-classes", str(classes)]
        label = arch + (f"@{size[1]}x{size[2]}/{classes}" if size else "")
        print(label)
        try:
            res = fwtest.run_formwork(args)
        except fwtest.FormworkError as e:
            check.ok(f"{label}: `formwork {' '.join(args)}` succeeds (info --json is required)", False, str(e))
            continue
        try:
            info = json.loads(res.stdout)
        except json.JSONDecodeError as e:
            check.ok(f"{label}: stdout is one JSON document", False, f"{e}; stdout starts {res.stdout[:120]!r}")
            continue
        default_size, default_classes = fwref.defaults(arch)
        compare_info(check, label, info, arch, size or default_size, classes or default_classes)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
