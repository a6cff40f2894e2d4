#!/usr/bin/python3
"""fwref's pure-numpy safetensors reader/writer: byte layout against a hand-built file, F32
round trips (metadata, scalars, empty tensors), F16/BF16 conversion (BF16 round-to-nearest-even),
clear errors on malformed files, and a model state_dict round trip."""
import json
import os
import struct
import sys

import numpy as np

import fwtest
from fwref.safetensors_io import (bf16_bits_to_float32, float32_to_bf16_bits, load_into,
                                  load_safetensors, save_safetensors, state_dict_numpy)

check = fwtest.Checker("safetensors io")
rng = np.random.default_rng(0)

with fwtest.temp_dir() as d:
    # ---- hand-built file (independent of our writer) ----
    a = np.arange(6, dtype="<f4").reshape(2, 3)
    b = np.array([7, -8], dtype="<i8")
    header = {"b": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
              "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
              "__metadata__": {"format": "pt"}}
    hj = json.dumps(header).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    path = os.path.join(d, "hand.safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + a.tobytes() + b.tobytes())
    got, meta = load_safetensors(path, with_metadata=True)
    check.equal("hand-built: names in buffer order", list(got), ["a", "b"])
    check.ok("hand-built: a", np.array_equal(got["a"], a) and got["a"].dtype == np.float32)
    check.ok("hand-built: b", np.array_equal(got["b"], b) and got["b"].dtype == np.int64)
    check.equal("hand-built: metadata", meta, {"format": "pt"})

    # ---- our writer's layout ----
    tensors = {"z.weight": rng.standard_normal((4, 3, 2, 2)).astype(np.float32),
               "a.bias": rng.standard_normal(5).astype(np.float32),
               "scalar": np.float32(3.5), "empty": np.zeros((0, 4), np.float32),
               "labels": np.array([1, 2, 3], np.int64)}
    path = os.path.join(d, "w.safetensors")
    save_safetensors(path, tensors, metadata={"arch": "poolformer_s12"})
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    check.equal("writer: header length multiple of 8", n % 8, 0)
    hdr = json.loads(raw[8:8 + n])
    check.equal("writer: F32 dtype tag", hdr["z.weight"]["dtype"], "F32")
    check.equal("writer: file size", len(raw), 8 + n + sum(t.nbytes for t in map(np.asarray, tensors.values())))
    back, meta = load_safetensors(path, with_metadata=True)
    check.equal("round trip: names", sorted(back), sorted(tensors))
    check.ok("round trip: values", all(np.array_equal(back[k], np.asarray(v)) for k, v in tensors.items()))
    check.ok("round trip: shapes", all(back[k].shape == np.shape(v) for k, v in tensors.items()))
    check.equal("round trip: metadata", meta, {"arch": "poolformer_s12"})

    # ---- F16 / BF16 ----
    x = rng.standard_normal(1000).astype(np.float32) * 10
    save_safetensors(os.path.join(d, "h.safetensors"), {"x": x}, dtype="F16")
    h = load_safetensors(os.path.join(d, "h.safetensors"))
    check.equal("F16: dtype kept", h["x"].dtype, np.dtype(np.float16))
    check.ok("F16: values", np.array_equal(h["x"], x.astype(np.float16)))
    h32 = load_safetensors(os.path.join(d, "h.safetensors"), as_float32=True)
    check.equal("F16: as_float32", h32["x"].dtype, np.dtype(np.float32))
    save_safetensors(os.path.join(d, "bf.safetensors"), {"x": x}, dtype="BF16")
    bf = load_safetensors(os.path.join(d, "bf.safetensors"))
    check.equal("BF16: widened to float32", bf["x"].dtype, np.dtype(np.float32))
    check.close("BF16: within half an ulp (2^-8 relative)", bf["x"], x, 0, 2.0 ** -8)
    special = np.array([1.0, 1.00390625, 1.01171875, -2.5, 0.0, np.inf, 3.0e38], np.float32)
    bits = float32_to_bf16_bits(special)
    check.equal("BF16 bits (round half to even)", [hex(v) for v in bits],
                ["0x3f80", "0x3f80", "0x3f82", "0xc020", "0x0", "0x7f80", "0x7f62"])
    check.ok("BF16 NaN stays NaN", np.isnan(bf16_bits_to_float32(float32_to_bf16_bits(np.float32([np.nan]))))[0])

    # ---- malformed files ----
    def bad(label, data, needle):
        p = os.path.join(d, "bad.safetensors")
        with open(p, "wb") as f:
            f.write(data)
        try:
            load_safetensors(p)
            check.ok(f"malformed: {label}", False, "no error")
        except ValueError as e:
            check.ok(f"malformed: {label}", needle in str(e), str(e)[-70:])

    def mk(hdr, payload):
        hj = json.dumps(hdr).encode()
        return struct.pack("<Q", len(hj)) + hj + payload

    bad("truncated", b"\x01\x02", "too short")
    bad("header past end", struct.pack("<Q", 1000) + b"{}", "does not fit")
    bad("not json", struct.pack("<Q", 3) + b"{x}", "not valid JSON")
    bad("unknown dtype", mk({"t": {"dtype": "Q8", "shape": [1], "data_offsets": [0, 1]}}, b"\0"), "unsupported dtype")
    bad("size mismatch", mk({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8), "bytes for F32")
    bad("hole", mk({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8), "hole")
    bad("trailing bytes", mk({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8), "trailing")
    bad("offsets outside", mk({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b""), "outside")

    # ---- model state dict ----
    torch = fwtest.skip_unless_torch()
    import fwref
    torch.manual_seed(0)
    m = fwref.build("caformer_s18", num_classes=10, input_size=(3, 64, 64))
    p = os.path.join(d, "m.safetensors")
    save_safetensors(p, state_dict_numpy(m))
    m2 = fwref.build("caformer_s18", num_classes=10, input_size=(3, 64, 64))
    load_into(m2, load_safetensors(p))
    xin = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        check.ok("model round trip: identical logits", torch.equal(m(xin), m2(xin)))
    sd = load_safetensors(p)
    sd.pop("head.fc.fc2.bias")
    sd["extra"] = np.zeros(1, np.float32)
    sd["stem.conv.weight"] = np.zeros((1, 1), np.float32)
    missing, unexpected, misshaped = load_into(m2, sd, strict=False)
    check.ok("load_into reports missing/unexpected/mis-shaped",
             missing == ["head.fc.fc2.bias"] and unexpected == ["extra"] and len(misshaped) == 1
             and misshaped[0].startswith("stem.conv.weight"), f"{missing} {unexpected} {misshaped}")

sys.exit(check.finish())
