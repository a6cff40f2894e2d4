"""MAC counting by the rule of docs TEMPLATES.md, with forward hooks.

Counted per image (batch 1):
  * Conv2d: C_out·H_out·W_out·(C_in/groups)·kh·kw
  * Linear: tokens·in·out, tokens = numel(input) / in
  * attention (MetaAttention, VitAttention): the two matmuls q·kᵀ and attn·v = 2·heads·N²·head_dim
  * RandomMixing: C·N²
Biases, norms, activations, pooling, softmax, scales and adds count 0.

The forward runs with every parameter replaced by a ``meta`` tensor (``functional_call``), so it
costs no arithmetic whatever device the model lives on.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn

from .layers import MetaAttention, RandomMixing, VitAttention

__all__ = ["macs", "macs_per_module"]


def _module_macs(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(m, nn.Conv2d):
        cout, hout, wout = out.shape[1], out.shape[2], out.shape[3]
        kh, kw = m.kernel_size
        return cout * hout * wout * (m.in_channels // m.groups) * kh * kw
    if isinstance(m, nn.Linear):
        tokens = inp.numel() // inp.shape[0] // m.in_features
        return tokens * m.in_features * m.out_features
    if isinstance(m, (MetaAttention, VitAttention)):
        n = inp.shape[1]
        return 2 * m.num_heads * n * n * m.head_dim
    if isinstance(m, RandomMixing):
        c = inp.shape[1]
        n = inp.shape[2] * inp.shape[3]
        return c * n * n
    return 0


_COUNTED = (nn.Conv2d, nn.Linear, MetaAttention, VitAttention, RandomMixing)


def macs_per_module(model: nn.Module, input_size: Sequence[int]) -> Dict[str, Tuple[int, tuple]]:
    """{module name: (MACs per image, output shape without batch)} for every counted module."""
    result: Dict[str, Tuple[int, tuple]] = {}
    handles = []
    for name, m in model.named_modules():
        if isinstance(m, _COUNTED):
            def hook(mod, args, out, name=name):
                result[name] = (_module_macs(mod, args[0], out), tuple(out.shape[1:]))
            handles.append(m.register_forward_hook(hook))
    meta = torch.device("meta")
    params = {k: torch.empty_like(v, device=meta) for k, v in model.named_parameters()}
    params.update({k: torch.empty_like(v, device=meta) for k, v in model.named_buffers()})
    x = torch.empty((1, *[int(v) for v in input_size]), device=meta)
    try:
        with torch.no_grad():
            torch.nn.utils.stateless.functional_call(model, params, (x,))
    finally:
        for h in handles:
            h.remove()
    return result


def macs(model: nn.Module, input_size: Sequence[int]) -> int:
    """Total MACs per image at ``input_size`` = (C, H, W)."""
    return sum(v[0] for v in macs_per_module(model, input_size).values())
