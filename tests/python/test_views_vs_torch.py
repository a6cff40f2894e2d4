#!/usr/bin/python3
"""`formwork gradcam --method gradcam++|hirescam|layercam`, `gradcam --metrics`, `attention --rollout` and `mixing`
against PyTorch (CONTRACT.md "Views"), on e2e_common's perturbed `weights init` weights
(caformer_mini64 at 1x64x64; poolformer_s12, randformer_s12, identityformer_s12 and
vit_tiny_patch16_224 at 3x64x64; 10 classes).

  * Grad-CAM++: pytorch-grad-cam's GradCAMPlusPlus written out in torch (float64 copy of the fwref
    model, A and G by autograd): a = g^2 / (2 g^2 + sum_hw(A) g^3 + 1e-6), a = 0 where g = 0,
    w = sum_hw relu(g) a, cam = relu(sum_c w A); NCHW and token layers; normalised error <= 1e-4;
    and it must differ from plain Grad-CAM (so a --method that is ignored fails). HiResCAM
    relu(sum_c G*A) and LayerCAM relu(sum_c relu(G)*A) the same way (caformer_mini64 NCHW and token
    layers and the stem); HiResCAM equals Grad-CAM at the last stage (its gradient is the same at
    every cell before the global pool), and is zero up to rounding where the output reaches the
    logits only through a LayerNorm (caformer_mini64 stages.1, ViT blocks.10: scale invariance
    makes sum_c G*A = 0 at every position, but for the norm's eps).
  * rollout: from fwref.views.attention_probs of every attention module, in numpy float64:
    R = prod rownorm(0.5 mean_heads + 0.5 I); the whole network and --layers (one block); rows
    sum to 1; normalised error <= 1e-4; R differs from the identity.
  * mixing: M[b,i,j] = ||J_ij||_F from torch.autograd.functional.jacobian of the fwref mixer module
    alone (float64 copy) at the input it sees in the fwref network (a forward pre-hook) — full
    [B,N,N] maps for an attention (caformer_mini64 stages.2, 16 tokens; ViT blocks.0.attn, 17 tokens
    with the class token 0), a sepconv (caformer_mini64 stages.1, 64 tokens), a pooling
    (poolformer_s12), a random-mixing (randformer_s12) and an identity (identityformer_s12) mixer
    (stages.2: 4x4), and `--query I` rows (sepconv stages.0, 256 tokens; attention) against the
    same Jacobian rows / C_out VJPs in torch; normalised error <= 1e-4; identity == sqrt(C)·I.
  * --metrics on one image (caformer_mini64 stages.2, Grad-CAM and Grad-CAM++; the class of
    --class and the default top-1): the cam from `--out` upsampled by F.interpolate(bilinear,
    align_corners=False), ranked by a stable descending sort, the 33 deletion / insertion inputs
    built in numpy and run through the fwref model in float64: the curves (abs <= 1e-4), the AUCs,
    the peak; the pointing game: a box holding the peak hits, the box one pixel beside it misses,
    and hits again with --tolerance 1.
Exit 0 pass, 1 fail, 77 skip (FORMWORK_BIN unset, or no torch).
"""
import copy
import json
import os
import sys

import fwtest

torch = fwtest.skip_unless_torch()
import numpy as np  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import e2e_common as E  # noqa: E402
from fwref import views  # noqa: E402

TOL = 1e-4
SEED = 5


def ref_cam_pp(model, x, layer, k, method="gradcam++"):
    """Grad-CAM++ [B,h,w] in float64 (pytorch-grad-cam's GradCAMPlusPlus on the raw activations);
    method "hirescam": pytorch-grad-cam's HiResCAM, relu(sum_c G*A); "layercam": its LayerCAM,
    relu(sum_c relu(G)*A)."""
    m = copy.deepcopy(model).double().eval()
    store = {}
    h = views.get_module(m, layer).register_forward_hook(lambda mod, a, o: store.__setitem__("A", o))
    try:
        logits = m(torch.from_numpy(x).double())
        score = logits[:, k].sum()
        (G,) = torch.autograd.grad(score, store["A"])
    finally:
        h.remove()
    hw = (x.shape[2], x.shape[3])
    A4, G4 = views._to_grid(store["A"].detach(), hw), views._to_grid(G.detach(), hw)
    if method == "hirescam":
        return torch.clamp((G4 * A4).sum(1), min=0).numpy()
    if method == "layercam":
        return torch.clamp((torch.clamp(G4, min=0) * A4).sum(1), min=0).numpy()
    g2 = G4 ** 2
    g3 = g2 * G4
    aij = g2 / (2 * g2 + A4.sum(dim=(2, 3), keepdim=True) * g3 + 1e-6)
    aij = torch.where(G4 != 0, aij, torch.zeros_like(aij))
    w = (torch.clamp(G4, min=0) * aij).sum(dim=(2, 3))
    return torch.clamp((w[:, :, None, None] * A4).sum(1), min=0).numpy()


def mixer_input(model, x, layer):
    """The input the fwref module ``layer`` receives in the forward of ``x``."""
    store = {}
    h = views.get_module(model, layer).register_forward_pre_hook(lambda mod, a: store.__setitem__("x", a[0].detach().clone()))
    try:
        with torch.no_grad():
            model(torch.from_numpy(x))
    finally:
        h.remove()
    return store["x"]


def as_tokens(t):
    """[C,H,W] -> [N, C] (n = h*W + w); [N, C] unchanged."""
    return t.reshape(t.shape[0], -1).T if t.dim() == 3 else t


def ref_mixing(model, x, layer, query=None):
    """M [B,N,N] (or [B,N]) of module ``layer`` by torch.autograd.functional.jacobian (float64)."""
    mod = copy.deepcopy(views.get_module(model, layer)).double().eval()
    xin = mixer_input(model, x, layer).double()
    out = []
    for b in range(xin.shape[0]):
        xb = xin[b:b + 1]
        if query is None:
            try:
                J = torch.autograd.functional.jacobian(lambda t: mod(t), xb, vectorize=True)
            except RuntimeError:
                J = torch.autograd.functional.jacobian(lambda t: mod(t), xb)
            J = J[0]                                  # out dims..., 1, in dims...
            ins = xb.shape[1:]
            outs = J.shape[:J.dim() - len(ins) - 1]
            J = J.reshape(*outs, *ins)
            if len(ins) == 3:                          # [C,H,W] -> [C, N, C', N]
                C, Ci = outs[0], ins[0]
                J = J.reshape(C, -1, Ci, ins[1] * ins[2]).permute(1, 0, 3, 2)  # [N, C, N, C']
            else:                                      # [N, C, N, C']
                J = J.permute(0, 1, 2, 3)
            out.append(torch.sqrt((J ** 2).sum(dim=(1, 3))).numpy())
        else:
            t = xb.clone().requires_grad_(True)
            y = as_tokens(mod(t)[0])                   # [N, C_out]
            acc = 0
            for c in range(y.shape[1]):
                (g,) = torch.autograd.grad(y[query, c], t, retain_graph=True)
                acc = acc + as_tokens(g[0]) ** 2
            out.append(torch.sqrt(acc.sum(1)).numpy())
    return np.stack(out)


def ref_rollout(model, x, layers):
    Rs = None
    for layer in layers:
        P = views.attention_probs(model, x, layer).astype(np.float64).mean(1)  # [B,N,N]
        N = P.shape[-1]
        A = 0.5 * P + 0.5 * np.eye(N)
        A /= A.sum(-1, keepdims=True)
        Rs = A if Rs is None else A @ Rs
    return Rs


def bilinear_axis(n_in, n_out):
    """torch's upsample_bilinear2d (align_corners=False) taps and float32 weights for one axis."""
    f32 = np.float32
    scale = f32(n_in) / f32(n_out)
    i0s, i1s, w0s, w1s = [], [], [], []
    for o in range(n_out):
        src = max(f32(float(scale) * (o + 0.5) - 0.5), f32(0))
        i0 = min(int(src), n_in - 1)
        lam = f32(min(max(src - f32(i0), f32(0)), f32(1)))
        i0s.append(i0)
        i1s.append(i0 + 1 if i0 < n_in - 1 else i0)
        w0s.append(float(f32(1) - lam))
        w1s.append(float(lam))
    return np.array(i0s), np.array(i1s), np.array(w0s), np.array(w1s)


def ref_saliency(cam, H, W):
    """The saliency as views/faithfulness.h defines it: torch's taps and weights, blended in
    float64 (a border pixel whose taps coincide is that tap), rounded to float32 once."""
    c = cam.astype(np.float64)
    yi0, yi1, yw0, yw1 = bilinear_axis(c.shape[0], H)
    xi0, xi1, xw0, xw1 = bilinear_axis(c.shape[1], W)

    def blend(a, b, i0, i1, w0, w1):
        return np.where(i0 == i1, a, a * w0 + b * w1)

    t0 = blend(c[yi0][:, xi0], c[yi0][:, xi1], xi0[None], xi1[None], xw0[None], xw1[None])
    t1 = blend(c[yi1][:, xi0], c[yi1][:, xi1], xi0[None], xi1[None], xw0[None], xw1[None])
    return blend(t0, t1, yi0[:, None], yi1[:, None], yw0[:, None], yw1[:, None]).astype(np.float32)


def ref_curves(check, label, model, x, cam, k):
    """Deletion / insertion curves (33 points) of cam [h,w] for input x [1,C,H,W], float64 model."""
    H, W = x.shape[2:]
    S = ref_saliency(cam, H, W)
    St = F.interpolate(torch.from_numpy(cam)[None, None].float(), size=(H, W), mode="bilinear",
                       align_corners=False)[0, 0].numpy()
    check.close(f"{label}: saliency == F.interpolate (to float rounding)", S, St,
                atol=2e-6 * float(np.abs(St).max()), rtol=0)
    order = np.argsort(-S.reshape(-1), kind="stable")
    batch_d, batch_i = [], []
    flat = x.reshape(x.shape[1], -1)
    for step in range(33):
        m = step * H * W // 32
        d = flat.copy()
        d[:, order[:m]] = 0
        i = np.zeros_like(flat)
        i[:, order[:m]] = flat[:, order[:m]]
        batch_d.append(d.reshape(x.shape[1:]))
        batch_i.append(i.reshape(x.shape[1:]))
    m64 = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        pd = torch.softmax(m64(torch.from_numpy(np.stack(batch_d)).double()), -1)[:, k].numpy()
        pi = torch.softmax(m64(torch.from_numpy(np.stack(batch_i)).double()), -1)[:, k].numpy()
    auc = lambda p: float(np.sum((p[:-1] + p[1:]) / 64))  # noqa: E731
    peak = int(np.argmax(S.reshape(-1)))
    return pd, pi, auc(pd), auc(pi), (peak % W, peak // W), S


def main():
    fwtest.formwork_bin()
    check = fwtest.Checker("views vs torch")
    with fwtest.temp_dir("fwtest-views-torch-") as d:
        models = {}

        def setup(arch, batch):
            if arch not in models:
                wpath, tensors = E.perturbed_weights(arch, SEED, d)
                models[arch] = (wpath, E.ref_model(arch, tensors))
            wpath, model = models[arch]
            x = E.random_input(21, batch=batch, size=E.input_size(arch))
            xpath = fwtest.save_npy(os.path.join(d, f"{arch}-x{batch}.npy"), x)
            return model, x, ["--weights", wpath, "--input", xpath, *E.size_opts(arch)]

        # ---- Grad-CAM++ ----
        CAF = "caformer_mini64"
        cases = [(m, CAF, "stages.2", 3, 4) for m in ("gradcam++", "hirescam", "layercam")]
        cases += [(m, CAF, "stages.2.blocks.0", 7, 4) for m in ("gradcam++", "hirescam", "layercam")]
        cases += [("gradcam++", CAF, "stages.1", 4, 8), ("layercam", CAF, "stages.1", 4, 8),
                  ("hirescam", CAF, "stem", None, 16), ("layercam", CAF, "stem", None, 16)]
        cases += [("gradcam++", "poolformer_s12", "stages.2", 2, 4)]
        # A layer whose output reaches the logits only through a LayerNorm (caformer_mini64's
        # stages.1 -> stages.2.downsample.norm; ViT blocks.10's patch tokens -> blocks.11.norm1):
        # the loss is invariant to scaling each position's activation (but for the norm's eps), so
        # sum_c G*A = 0 there and HiResCAM is zero up to that (a "map" of it ranks only the eps term).
        zero_cases = [(CAF, "stages.1", 4, 8), (E.VIT, "blocks.10", 7, 4)]
        for arch, layer, k, hw in zero_cases:
            model, x, common = setup(arch, 2)
            label = f"{arch} hirescam {layer} class {k}"
            out = os.path.join(d, "camz.npy")
            r = E.run(check, f"{label}: runs", ["gradcam", arch, *common, "--layer", layer, "--class", k,
                                                "--method", "hirescam", "--out", out])
            if not r:
                continue
            check.ok(f"{label}: the command says the map cancels", "formwork: note: HiResCAM" in r.stderr
                     and "LayerNorm" in r.stderr, r.stderr.strip())
            got = E.load_output(check, label, out, (2, hw, hw))
            if got is None:
                continue
            plain = views.gradcam(model, x, layer, k, dtype=torch.float64)
            ref = ref_cam_pp(model, x, layer, k, "hirescam")
            scale = float(np.abs(plain).max())
            check.ok(f"{label}: Grad-CAM there is non-trivial", scale > 1e-6, f"max {scale:.3g}")
            check.ok(f"{label}: zero up to rounding (scale invariance before a LayerNorm)",
                     float(np.abs(got).max()) <= 1e-4 * scale and float(np.abs(ref).max()) <= 1e-6 * scale,
                     f"max {float(np.abs(got).max()):.3g} (float64 reference {float(np.abs(ref).max()):.3g}) "
                     f"vs Grad-CAM's {scale:.3g}")
        for method, arch, layer, k, hw in cases:
            model, x, common = setup(arch, 2)
            if k is None:  # the first class whose reference map is non-trivial
                k = next((kk for kk in range(E.NUM_CLASSES)
                          if float(np.mean(ref_cam_pp(model, x, layer, kk, method) > 0)) > 0.05), 0)
            label = f"{arch} {method} {layer} class {k}"
            out = os.path.join(d, "campp.npy")
            r = E.run(check, f"{label}: runs", ["gradcam", arch, *common, "--layer", layer, "--class", k,
                                                "--method", method, "--out", out])
            if not r:
                continue
            got = E.load_output(check, label, out, (2, hw, hw))
            if got is None:
                continue
            if method == "hirescam":
                check.ok(f"{label}: no cancellation note", "formwork: note" not in (r.stderr or ""),
                         (r.stderr or "").strip())
            want = ref_cam_pp(model, x, layer, k, method)
            plain = views.gradcam(model, x, layer, k, dtype=torch.float64)
            scale = float(np.abs(want).max())
            check.ok(f"{label}: reference non-trivial", scale > 1e-6 and float(np.mean(want > 0)) > 0.05,
                     f"max {scale:.3g}")
            check.close(f"{label}: vs torch (pytorch-grad-cam's definition)", got, want, atol=TOL * scale, rtol=0)
            diff = E.normalised_error(plain / max(np.abs(plain).max(), 1e-12), want / scale)
            if method == "hirescam" and layer == "stages.2":
                # The last stage feeds the global pool: its gradient is the same at every cell, so
                # HiResCAM equals Grad-CAM exactly there (Draelos & Carin's observation).
                check.ok(f"{label}: equals plain Grad-CAM before the global pool", diff < 1e-4,
                         f"normalised difference {diff:.3g}")
            else:
                check.ok(f"{label}: differs from plain Grad-CAM", diff > 1e-2, f"normalised difference {diff:.3g}")

        # ---- attention rollout ----
        for arch, sub, layers in [(CAF, None, ["stages.2.blocks.0.token_mixer", "stages.2.blocks.1.token_mixer"]),
                                  (CAF, "stages.2.blocks.1", ["stages.2.blocks.1.token_mixer"]),
                                  (E.VIT, None, [f"blocks.{i}.attn" for i in range(12)])]:
            model, x, common = setup(arch, 2)
            label = f"{arch} rollout {sub or 'all'}"
            out = os.path.join(d, "roll.npy")
            extra = ["--layers", sub] if sub else []
            if not E.run(check, f"{label}: runs", ["attention", arch, *common, "--rollout", *extra, "--out", out]):
                continue
            want = ref_rollout(model, x, layers)
            got = E.load_output(check, label, out, want.shape)
            if got is None:
                continue
            check.ok(f"{label}: rows sum to 1", float(np.abs(got.astype(np.float64).sum(-1) - 1).max()) <= 1e-5)
            check.ok(f"{label}: reference is not the identity",
                     float(np.abs(want - np.eye(want.shape[-1])).max()) > 0.05)
            check.close(f"{label}: vs torch", got, want, atol=TOL * float(np.abs(want).max()), rtol=0)

        # ---- mixing maps ----
        full = [(CAF, "stages.2.blocks.0.token_mixer", 2, 16), (E.VIT, "blocks.0.attn", 1, 17),
                (CAF, "stages.1.blocks.0.token_mixer", 1, 64),
                ("poolformer_s12", "stages.2.blocks.0.token_mixer", 1, 16),
                ("randformer_s12", "stages.2.blocks.1.token_mixer", 1, 16),
                ("identityformer_s12", "stages.2.blocks.0.token_mixer", 1, 16)]
        query = [(CAF, "stages.0.blocks.0.token_mixer", 1, 256, 37), (CAF, "stages.2.blocks.1.token_mixer", 2, 16, 5),
                 (E.VIT, "blocks.3.attn", 1, 17, 0)]
        for arch, layer, batch, n, *q in full + query:
            model, x, common = setup(arch, batch)
            qi = q[0] if q else None
            label = f"{arch} mixing {layer}" + (f" --query {qi}" if q else "")
            out = os.path.join(d, "mix.npy")
            if not E.run(check, f"{label}: runs", ["mixing", arch, *common, "--layer", layer, "--out", out,
                                                   *(["--query", qi] if q else [])]):
                continue
            got = E.load_output(check, label, out, (batch, n) if q else (batch, n, n))
            if got is None:
                continue
            want = ref_mixing(model, x, layer, qi)
            check.close(f"{label}: vs torch jacobian", got, want, atol=TOL * float(np.abs(want).max()), rtol=0)
            if arch == "identityformer_s12":
                c = mixer_input(model, x, layer).shape[1]
                check.close(f"{label}: identity == sqrt(C) I", got[0], np.sqrt(c) * np.eye(n), atol=1e-5, rtol=0)
            elif not q:
                off = want[0] * (1 - np.eye(n))
                check.ok(f"{label}: reference mixes tokens", float(off.max()) > 1e-3 * float(want.max()),
                         f"max off-diagonal {float(off.max()):.3g}")

        # ---- faithfulness, one image ----
        model, x, common = setup(CAF, 1)
        with torch.no_grad():
            top1 = int(np.argmax(model(torch.from_numpy(x)).numpy()[0]))
        for method, k in [("gradcam", 3), ("gradcam", None), ("gradcam++", 6)]:
            label = f"{CAF} --metrics {method} class {k if k is not None else 'top-1'}"
            out = os.path.join(d, "mcam.npy")
            cls = ["--class", k] if k is not None else []
            j = E.run_json(check, f"{label}: runs", ["gradcam", CAF, *common, "--layer", "stages.2", *cls,
                                                     "--method", method, "--metrics", "--json", "--out", out])
            if j is None:
                continue
            kk = k if k is not None else top1
            check.equal(f"{label}: class", j.get("class"), kk)
            check.ok(f"{label}: no pointing_hit without a box", "pointing_hit" not in j, str(list(j)))
            cam = fwtest.load_npy(out)[0]
            pd, pi, ad, ai, peak, S = ref_curves(check, label, model, x, cam, kk)
            check.close(f"{label}: deletion curve", np.array(j["deletion"]), pd, atol=TOL, rtol=0)
            check.close(f"{label}: insertion curve", np.array(j["insertion"]), pi, atol=TOL, rtol=0)
            check.close(f"{label}: deletion_auc", j["deletion_auc"], ad, atol=TOL, rtol=0)
            check.close(f"{label}: insertion_auc", j["insertion_auc"], ai, atol=TOL, rtol=0)
            check.ok(f"{label}: curves vary", float(np.ptp(pd)) > 1e-3 and float(np.ptp(pi)) > 1e-3)
            check.equal(f"{label}: peak", j.get("peak"), list(peak))
            # pointing game around the peak
            px, py = peak
            inside = [max(px - 3, 0), max(py - 3, 0), px + 1, py + 1]
            beside = [px + 1, max(py - 3, 0), min(px + 6, 64), py + 1] if px < 63 else [px - 5, max(py - 3, 0), px, py + 1]
            for box, tol, want_hit in [(inside, None, True), (beside, None, False), (beside, 1, True)]:
                args = ["gradcam", CAF, *common, "--layer", "stages.2", *cls, "--method", method, "--metrics",
                        "--json", "--box", ",".join(map(str, box))] + (["--tolerance", str(tol)] if tol else [])
                jb = E.run_json(check, f"{label}: box {box} tol {tol}: runs", args)
                if jb is not None:
                    check.equal(f"{label}: box {box} tolerance {tol}: pointing_hit", jb.get("pointing_hit"), want_hit)
                    check.close(f"{label}: box does not change deletion_auc", jb["deletion_auc"], j["deletion_auc"],
                                atol=0, rtol=0)
    return check.finish()


if __name__ == "__main__":
    sys.exit(main())
