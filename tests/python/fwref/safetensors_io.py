"""A small, pure-numpy reader/writer of the safetensors format (no ``safetensors`` package).

File layout: 8 bytes little-endian u64 ``N``; ``N`` bytes of UTF-8 JSON header (padded with spaces
to a multiple of 8); the byte buffer. The header maps each tensor name to
``{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}`` (offsets relative to the start of
the buffer) plus an optional ``"__metadata__": {str: str}``. Data are little-endian, C order; the
buffer must be covered exactly, without holes or overlaps.

``load_safetensors`` returns numpy arrays; F16 stays float16 (``as_float32=True`` converts every
floating tensor to float32) and BF16, which numpy lacks, is always widened to float32 exactly.
``save_safetensors`` writes F32 by default for float32 input and can store floats as F16 or BF16
(round to nearest even) to produce test fixtures.
"""
from __future__ import annotations

import json
import struct
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

__all__ = ["load_safetensors", "save_safetensors", "state_dict_numpy", "load_into",
           "float32_to_bf16_bits", "bf16_bits_to_float32"]

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"), "BF16": np.dtype("<u2"),
}
_NAME_OF = {np.dtype(v).newbyteorder("<") if v.itemsize > 1 else v: k
            for k, v in _DTYPES.items() if k != "BF16"}
_MAX_HEADER = 100 * 1024 * 1024


def float32_to_bf16_bits(a: np.ndarray) -> np.ndarray:
    """float32 → bfloat16 bit patterns (uint16), round to nearest even; NaN stays NaN."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(a), np.uint16(0x7FC0), rounded).astype(np.uint16)


def bf16_bits_to_float32(b: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) → float32 (exact)."""
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def _to_numpy(v) -> np.ndarray:
    if hasattr(v, "detach"):  # torch tensor, without importing torch here
        v = v.detach().cpu().numpy()
    return np.asarray(v)


def save_safetensors(path: str, tensors: Mapping[str, object], dtype: Optional[str] = None,
                     metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes ``tensors`` (name → numpy array or torch tensor) to ``path``.

    ``dtype``: None keeps each array's own dtype (float32 → F32, int64 → I64, ...); "F32", "F16"
    or "BF16" converts every floating array to that type (integers are kept). Tensors are stored
    in name order.
    """
    header: Dict[str, object] = OrderedDict()
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved")
        a = _to_numpy(tensors[name])
        if dtype is not None and a.dtype.kind == "f":
            if dtype == "BF16":
                raw, tag = float32_to_bf16_bits(a.astype(np.float32)), "BF16"
            elif dtype in ("F32", "F16", "F64"):
                raw, tag = a.astype(_DTYPES[dtype]), dtype
            else:
                raise ValueError(f"unsupported dtype {dtype!r}")
        else:
            key = a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype
            if key not in _NAME_OF:
                raise ValueError(f"{name}: dtype {a.dtype} has no safetensors equivalent")
            tag = _NAME_OF[key]
            raw = a.astype(_DTYPES[tag])
        data = np.ascontiguousarray(raw).tobytes()
        header[name] = {"dtype": tag, "shape": [int(s) for s in a.shape],
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load_safetensors(path: str, as_float32: bool = False, with_metadata: bool = False):
    """Reads ``path`` → OrderedDict name → numpy array (in buffer order).

    Raises ValueError naming the file and tensor on any malformed header or size mismatch.
    With ``with_metadata`` returns ``(tensors, metadata_dict)``.
    """
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > _MAX_HEADER or 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} does not fit the file ({len(blob)} bytes)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    buf = memoryview(blob)[8 + n:]
    entries = []
    for name, info in header.items():
        try:
            tag, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: tensor {name!r}: malformed header entry {info!r}") from None
        if tag not in _DTYPES:
            raise ValueError(f"{path}: tensor {name!r}: unsupported dtype {tag!r}")
        count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
        if any((not isinstance(s, int)) or s < 0 for s in shape):
            raise ValueError(f"{path}: tensor {name!r}: bad shape {shape}")
        if not (0 <= begin <= end <= len(buf)):
            raise ValueError(f"{path}: tensor {name!r}: data_offsets [{begin}, {end}] outside the "
                             f"{len(buf)}-byte buffer")
        if end - begin != count * _DTYPES[tag].itemsize:
            raise ValueError(f"{path}: tensor {name!r}: {end - begin} bytes for {tag} {shape}")
        entries.append((begin, end, name, tag, shape))
    entries.sort()
    pos = 0
    for begin, end, name, _, _ in entries:
        if begin != pos:
            raise ValueError(f"{path}: tensor {name!r}: buffer has a hole or overlap at byte {pos}")
        pos = end
    if pos != len(buf):
        raise ValueError(f"{path}: {len(buf) - pos} trailing bytes not covered by any tensor")
    out: "OrderedDict[str, np.ndarray]" = OrderedDict()
    for begin, end, name, tag, shape in entries:
        a = np.frombuffer(buf[begin:end], dtype=_DTYPES[tag]).reshape(shape)
        if tag == "BF16":
            a = bf16_bits_to_float32(a)
        elif as_float32 and a.dtype.kind == "f":
            a = a.astype(np.float32)
        else:
            a = a.astype(a.dtype.newbyteorder("="), copy=True)
        out[name] = a
    return (out, metadata) if with_metadata else out


def state_dict_numpy(model) -> "OrderedDict[str, np.ndarray]":
    """The model's state_dict as float32 numpy arrays (C order), names unchanged."""
    return OrderedDict((k, np.ascontiguousarray(v.detach().cpu().float().numpy()))
                       for k, v in model.state_dict().items())


def load_into(model, tensors: Mapping[str, np.ndarray], strict: bool = True) -> Tuple[list, list, list]:
    """Copies ``tensors`` into ``model``; returns (missing, unexpected, misshaped) name lists and,
    when ``strict``, raises ValueError listing them if any is non-empty."""
    import torch
    sd = model.state_dict()
    missing = [k for k in sd if k not in tensors]
    unexpected = [k for k in tensors if k not in sd]
    misshaped = [f"{k}: file {list(np.shape(tensors[k]))} vs model {list(sd[k].shape)}"
                 for k in sd if k in tensors and tuple(np.shape(tensors[k])) != tuple(sd[k].shape)]
    if strict and (missing or unexpected or misshaped):
        raise ValueError(f"state mismatch: missing {missing}, unexpected {unexpected}, "
                         f"mis-shaped {misshaped}")
    with torch.no_grad():
        for k, v in sd.items():
            if k in tensors and tuple(np.shape(tensors[k])) == tuple(v.shape):
                v.copy_(torch.from_numpy(np.asarray(tensors[k], dtype=np.float32)))
    return missing, unexpected, misshaped
