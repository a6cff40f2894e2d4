"""Reference implementations of Formwork's views: raw Grad-CAM and attention probabilities.

Grad-CAM (as pytorch-grad-cam's ``GradCAM`` computes it, before upsampling and normalisation)
--------------------------------------------------------------------------------------------
For a target module M (named by its module path, e.g. ``stages.3``, ``stages.2.blocks.8``,
``blocks.11``) and class k:

1. Run the model in eval mode on x ``[B, C, H, W]``; A = output of M.
   * NCHW output ``[B, C, h, w]`` is used as is.
   * Token output ``[B, N, C]`` is reshaped to its grid: if N = h·w for the grid of a stage
     (stride 4, 8, 16 or 32 of the input) → ``A[b, c, i, j] = T[b, i·w + j, c]``; if N = h·w + 1
     (ViT: class token first) the first token is dropped first. The same transform is applied to
     the gradient.
2. score = Σ_b logits[b, k_b] (one class for all samples, or one per sample); G = ∂score/∂A.
   Samples do not interact in eval mode, so G[b] is the gradient of sample b's own score.
3. weights ``α[b, c] = mean_{i,j} G[b, c, i, j]``.
4. ``cam[b, i, j] = max(0, Σ_c α[b, c] · A[b, c, i, j])`` → ``[B, h, w]`` at the layer's resolution.

Attention probabilities
-----------------------
For an attention module (CAFormer ``stages.S.blocks.K.token_mixer``, ViT ``blocks.K.attn``):
``softmax(q·kᵀ · head_dim^-0.5, dim=-1)`` as computed in its forward → ``[B, heads, N, N]``
(rows sum to 1; ViT's N includes the class token at index 0).
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from .layers import MetaAttention, VitAttention

__all__ = ["gradcam", "attention_probs", "module_output", "token_grid", "get_module"]


def get_module(model: nn.Module, name: str) -> nn.Module:
    """The submodule at module path ``name``; KeyError listing close names if absent."""
    modules = dict(model.named_modules())
    if name not in modules:
        near = [k for k in modules if k and (k.startswith(name) or name.startswith(k))][:8]
        raise KeyError(f"no module named {name!r}" + (f"; nearby: {', '.join(near)}" if near else ""))
    return modules[name]


def _input_hw(x: torch.Tensor) -> Tuple[int, int]:
    return int(x.shape[-2]), int(x.shape[-1])


def token_grid(n_tokens: int, input_hw: Tuple[int, int]) -> Tuple[int, int, int]:
    """(h, w, prefix) of a token sequence of length ``n_tokens`` for an input of ``input_hw``:
    the grid of stride 4, 8, 16 or 32 whose h·w equals N (prefix 0) or N - 1 (prefix 1: a class
    token in front). Exact matches are preferred."""
    H, W = input_hw
    for prefix in (0, 1):
        for s in (4, 8, 16, 32):
            if H % s == 0 and W % s == 0 and (H // s) * (W // s) == n_tokens - prefix:
                return H // s, W // s, prefix
    raise ValueError(f"{n_tokens} tokens do not form a stride-4/8/16/32 grid of a {H}x{W} input")


def _to_grid(t: torch.Tensor, input_hw) -> torch.Tensor:
    if t.dim() == 4:
        return t
    if t.dim() != 3:
        raise ValueError(f"Grad-CAM needs a [B,C,h,w] or [B,N,C] output, got {list(t.shape)}")
    B, N, C = t.shape
    h, w, prefix = token_grid(N, input_hw)
    return t[:, prefix:, :].reshape(B, h, w, C).permute(0, 3, 1, 2)


def _cast(model: nn.Module, dtype) -> nn.Module:
    if dtype is None or next(model.parameters()).dtype == dtype:
        return model
    return copy.deepcopy(model).to(dtype)


def gradcam(model: nn.Module, x, layer: str, class_idx: Union[int, Sequence[int]],
            dtype: Optional[torch.dtype] = None, return_parts: bool = False):
    """Raw Grad-CAM ``[B, h, w]`` of module ``layer`` for class ``class_idx`` (int, or one per
    sample); see the module docstring. ``dtype=torch.float64`` computes on a double copy.
    With ``return_parts`` returns ``(cam, weights [B, C], activations [B, C, h, w])``."""
    model = _cast(model, dtype)
    was_training = model.training
    model.eval()
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
    x = x.to(next(model.parameters()).dtype)
    target = get_module(model, layer)
    store = {}

    def hook(mod, args, out):
        store["A"] = out

    h = target.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            logits = model(x)
            B = logits.shape[0]
            ks = [int(class_idx)] * B if np.ndim(class_idx) == 0 else [int(k) for k in class_idx]
            if len(ks) != B:
                raise ValueError(f"{len(ks)} classes for a batch of {B}")
            score = logits[torch.arange(B), torch.tensor(ks)].sum()
            if "A" not in store:
                raise RuntimeError(f"module {layer!r} did not run in the forward pass")
            A = store["A"]
            (G,) = torch.autograd.grad(score, A)
    finally:
        h.remove()
        model.train(was_training)
    hw = _input_hw(x)
    A4, G4 = _to_grid(A.detach(), hw), _to_grid(G.detach(), hw)
    weights = G4.mean(dim=(2, 3))                       # [B, C]
    cam = (weights[:, :, None, None] * A4).sum(dim=1)   # [B, h, w]
    cam = torch.clamp(cam, min=0).cpu().numpy()
    if return_parts:
        return cam, weights.cpu().numpy(), A4.cpu().numpy()
    return cam


def attention_probs(model: nn.Module, x, layer: str, dtype: Optional[torch.dtype] = None) -> np.ndarray:
    """Softmax attention probabilities ``[B, heads, N, N]`` of attention module ``layer``."""
    model = _cast(model, dtype)
    target = get_module(model, layer)
    if not isinstance(target, (MetaAttention, VitAttention)):
        kinds = [k for k, m in model.named_modules() if isinstance(m, (MetaAttention, VitAttention))]
        raise ValueError(f"module {layer!r} is a {type(target).__name__}, not attention; attention "
                         f"modules: {', '.join(kinds[:6])}{' ...' if len(kinds) > 6 else ''}")
    store = {}
    target.attn_probs_hook = lambda mod, attn: store.__setitem__("P", attn.detach().clone())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
            model(x.to(next(model.parameters()).dtype))
    finally:
        target.attn_probs_hook = None
        model.train(was_training)
    return store["P"].cpu().numpy()


def module_output(model: nn.Module, x, layer: str, dtype: Optional[torch.dtype] = None) -> np.ndarray:
    """The output of module ``layer`` (eval mode, no grad) as numpy, in the module's own layout."""
    model = _cast(model, dtype)
    store = {}
    h = get_module(model, layer).register_forward_hook(lambda m, a, o: store.__setitem__("y", o.detach()))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
            model(x.to(next(model.parameters()).dtype))
    finally:
        h.remove()
        model.train(was_training)
    return store["y"].cpu().numpy()
