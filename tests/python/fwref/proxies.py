"""Reference zero-cost proxies, as defined by Abdelfattah et al. 2021, "Zero-Cost Proxies for
Lightweight NAS" (code: SamsungLabs/zero-cost-nas, foresight/pruners/measures/*.py, mirrored in
automl/NASLib naslib/predictors/utils/pruners/measures/) and, for NASWOT, Mellor et al. 2021,
"Neural Architecture Search without Training" (v2; the zero-cost-nas/NASLib ``nwot`` measure).

Common rules
------------
* "Layers" are the Conv2d and Linear modules, every one of them (stem, downsampling, MLPs,
  SepConv point/depthwise convs, attention qkv/proj, the head), and only their ``weight``
  tensors: biases, norm weights, layer/res scales, StarReLU scale/bias, RandFormer's
  random_matrix, ViT's cls_token/pos_embed are never summed. Per-layer values are summed over the
  layers in module order.
* loss = cross-entropy of the logits against the given int64 labels, mean over the batch
  (``F.cross_entropy``, reduction "mean"), for grad_norm and snip.
* The models are evaluated with their eval-mode forward. Our templates contain no BatchNorm and
  no active dropout, so train and eval forwards coincide and the zero-cost-nas distinction
  ``bn=True`` (train-mode BatchNorm) / ``bn=False`` (BatchNorm replaced by identity) has nothing
  to act on. GroupNorm, LayerNorm and LayerNorm2d are left in place, exactly as zero-cost-nas
  leaves every non-BatchNorm layer: they normalise with the per-sample statistics of the current
  input, and their affine parameters take part like any other parameter (made absolute for
  synflow).
* Every function works on a copy of the model (``dtype`` float64 by default) and leaves the
  caller's model, its weights and gradients untouched.

Definitions (W_l: weight of layer l, ⊙: elementwise product, Σ: sum over all elements)
-------------------------------------------------------------------------------------
grad_norm  = Σ_l ‖∂L/∂W_l‖₂   (Frobenius norm of each layer's weight gradient, summed over layers)
snip       = Σ_l Σ |W_l ⊙ ∂L/∂W_l|   (= |∂L/∂mask| at mask = 1 in SNIP's connection-mask form)
synflow    = Σ_l Σ |W_l ⊙ ∂R/∂W_l|, where every parameter (and buffer) of a float64 copy is
             replaced by its absolute value, the input is one all-ones image ``[1, C, H, W]``
             (float64) and R = Σ of the logits of that image. Labels and the data are not used.
synflow_log = ln(synflow), computed stably as logsumexp over all elements of
             ln|W| + ln|∂R/∂W| (elements with a zero factor skipped; -inf if all are zero), so it
             stays finite where synflow itself would overflow.
jacob_cov  = with J[b] = ∂(Σ_j logits[b, j])/∂x[b] flattened (the input gradient of the summed
             outputs, one row per sample), C = corrcoef(J) (B×B Pearson correlation of the rows),
             λ = eigenvalues of C, k = 1e-5:  jacob_cov = -Σ_i ( ln(λ_i + k) + 1/(λ_i + k) ).
             Needs B ≥ 2; NaN when C is undefined (a constant row) — zero-cost-nas returns NaN on
             any failure as well.
naswot     = for every activation function node (GELU, ReLU, StarReLU, SquaredReLU; the ReLU
             inside StarReLU/SquaredReLU is part of that node, not another one), the binary code
             c = [pre-activation input > 0] of every unit, flattened per sample and concatenated
             over all activation nodes into c[b] ∈ {0,1}^U. K = c·cᵀ + (1-c)·(1-c)ᵀ (B×B, K[a,b] =
             number of units on which samples a and b agree), naswot = ln|det K| (the logabsdet
             of ``slogdet``). K is accumulated in float64.
"""
from __future__ import annotations

import copy
import math
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import ACTIVATION_TYPES

__all__ = ["weight_layers", "grad_norm", "snip", "synflow", "synflow_and_log", "jacob_cov",
           "naswot", "naswot_kernel", "activation_modules", "compute_proxies", "PROXIES"]

PROXIES = ("synflow", "synflow_log", "grad_norm", "snip", "naswot", "jacob_cov")


def weight_layers(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """(name, module) of every Conv2d and Linear module, in module order."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def activation_modules(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """(name, module) of every activation node: GELU, ReLU, StarReLU, SquaredReLU modules that are
    not themselves inside another activation module."""
    acts = {n: m for n, m in model.named_modules() if isinstance(m, ACTIVATION_TYPES)}
    out = []
    for n, m in acts.items():
        parent = n.rpartition(".")[0]
        nested = any(parent == a or parent.startswith(a + ".") for a in acts if a != n and a)
        if not nested:
            out.append((n, m))
    return out


def _copy(model: nn.Module, dtype) -> nn.Module:
    m = copy.deepcopy(model)
    if dtype is not None:
        m = m.to(dtype)
    m.eval()
    m.zero_grad(set_to_none=True)
    return m


def _inputs(x, y=None, dtype=torch.float64):
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).to(dtype)
    if y is None:
        return x
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y).long().reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"{y.shape[0]} labels for a batch of {x.shape[0]}")
    return x, y


def _loss_grads(model, x, y):
    loss = F.cross_entropy(model(x), y)
    ws = [m.weight for _, m in weight_layers(model)]
    return ws, torch.autograd.grad(loss, ws, allow_unused=True)


def grad_norm(model: nn.Module, x, y, dtype=torch.float64) -> float:
    """Σ over conv/linear layers of the Frobenius norm of ∂(mean CE loss)/∂W."""
    m = _copy(model, dtype)
    x, y = _inputs(x, y, dtype or torch.float32)
    ws, gs = _loss_grads(m, x, y)
    return float(sum(g.norm() for g in gs if g is not None))


def snip(model: nn.Module, x, y, dtype=torch.float64) -> float:
    """Σ over conv/linear layers of Σ |W ⊙ ∂(mean CE loss)/∂W|."""
    m = _copy(model, dtype)
    x, y = _inputs(x, y, dtype or torch.float32)
    ws, gs = _loss_grads(m, x, y)
    return float(sum((w * g).abs().sum() for w, g in zip(ws, gs) if g is not None))


def synflow_and_log(model: nn.Module, input_size: Sequence[int]) -> Tuple[float, float]:
    """(synflow, synflow_log) for one all-ones image of ``input_size`` = (C, H, W), float64."""
    m = _copy(model, torch.float64)
    with torch.no_grad():
        for t in m.state_dict().values():  # parameters and buffers, by reference
            t.abs_()
    x = torch.ones((1, *[int(v) for v in input_size]), dtype=torch.float64)
    ws = [mod.weight for _, mod in weight_layers(m)]
    R = m(x).sum()
    gs = torch.autograd.grad(R, ws, allow_unused=True)
    total = 0.0
    layer_logs = []
    with torch.no_grad():
        for w, g in zip(ws, gs):
            if g is None:
                continue
            total += float((w * g).abs().sum())
            # ln|w| + ln|g| is -inf where a factor is 0; logsumexp ignores those terms.
            layer_logs.append(torch.logsumexp((w.abs().log() + g.abs().log()).reshape(-1), 0))
    log_total = float(torch.logsumexp(torch.stack(layer_logs), 0)) if layer_logs else -math.inf
    return total, log_total


def synflow(model: nn.Module, input_size: Sequence[int]) -> float:
    """SynFlow: Σ over conv/linear layers of Σ |W ⊙ ∂R/∂W| with |parameters|, all-ones input."""
    return synflow_and_log(model, input_size)[0]


def jacob_cov(model: nn.Module, x, dtype=torch.float64) -> float:
    """-Σ_i (ln(λ_i + 1e-5) + 1/(λ_i + 1e-5)), λ = eigenvalues of corrcoef of the per-sample input
    gradients of the summed logits."""
    m = _copy(model, dtype)
    x = _inputs(x, None, dtype or torch.float32).clone().requires_grad_(True)
    if x.shape[0] < 2:
        raise ValueError("jacob_cov needs a batch of at least 2")
    out = m(x)
    (J,) = torch.autograd.grad(out, x, grad_outputs=torch.ones_like(out))
    J = J.reshape(J.shape[0], -1).detach().cpu().numpy().astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        C = np.corrcoef(J)
    if not np.all(np.isfinite(C)):
        return float("nan")
    v = np.linalg.eigvalsh(C)
    k = 1e-5
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def naswot_kernel(model: nn.Module, x, dtype=torch.float64) -> np.ndarray:
    """K = c·cᵀ + (1-c)·(1-c)ᵀ over the binary codes of all activation nodes' inputs (float64)."""
    m = _copy(model, dtype)
    x = _inputs(x, None, dtype or torch.float32)
    B = x.shape[0]
    K = torch.zeros(B, B, dtype=torch.float64)

    def hook(mod, args, out):
        c = (args[0].detach().reshape(B, -1) > 0).to(torch.float64)
        K.add_(c @ c.t() + (1 - c) @ (1 - c).t())

    hs = [mod.register_forward_hook(hook) for _, mod in activation_modules(m)]
    try:
        with torch.no_grad():
            m(x)
    finally:
        for h in hs:
            h.remove()
    return K.numpy()


def naswot(model: nn.Module, x, dtype=torch.float64) -> float:
    """ln|det K| of the NASWOT kernel (slogdet's logabsdet)."""
    return float(np.linalg.slogdet(naswot_kernel(model, x, dtype))[1])


def compute_proxies(model: nn.Module, x, y, names: Iterable[str] = PROXIES,
                    dtype=torch.float64) -> Dict[str, float]:
    """{name: value} for the requested proxies (see PROXIES); synflow uses x's per-sample shape."""
    names = list(names)
    unknown = [n for n in names if n not in PROXIES]
    if unknown:
        raise ValueError(f"unknown proxies {unknown}; known: {', '.join(PROXIES)}")
    out: Dict[str, float] = {}
    if "synflow" in names or "synflow_log" in names:
        s, sl = synflow_and_log(model, tuple(np.shape(x)[1:]))
        if "synflow" in names:
            out["synflow"] = s
        if "synflow_log" in names:
            out["synflow_log"] = sl
    if "grad_norm" in names:
        out["grad_norm"] = grad_norm(model, x, y, dtype)
    if "snip" in names:
        out["snip"] = snip(model, x, y, dtype)
    if "naswot" in names:
        out["naswot"] = naswot(model, x, dtype)
    if "jacob_cov" in names:
        out["jacob_cov"] = jacob_cov(model, x, dtype)
    return {n: out[n] for n in names}
