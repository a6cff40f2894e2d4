"""fwref: PyTorch reference implementations for Formwork's test oracles.

    import fwref
    model = fwref.build("caformer_s18", num_classes=10, input_size=(3, 64, 64))
    total, fixed = fwref.count_params(model)
    n_macs = fwref.macs(model, (3, 64, 64))
    fwref.save_safetensors("w.safetensors", fwref.state_dict_numpy(model))

Only needs torch and numpy (Debian's /usr/bin/python3). No timm, no safetensors package.
"""
from .models import (OWN_TEMPLATES, TEMPLATES, TEMPLATE_SPECS, MetaFormer, VisionTransformer, build,
                     count_params, defaults, init_weights, total_stride)
from .macs import macs, macs_per_module
from .safetensors_io import load_safetensors, save_safetensors, state_dict_numpy, load_into

# Parameters (total, fixed) and MACs at each template's default input and classes: 3x224x224 / 1000
# for timm's (docs TEMPLATES.md); Formwork's own at 1x32x32 / 1x64x64 and 10 classes (README's
# 230,662 / 5.6M and 441,114 / 14.2M, counted here layer by layer by hand).
REFERENCE_SIZES = {
    "poolformer_s12": (11_915_176, 0, 1_812_267_008),
    "poolformer_s24": (21_388_968, 0, 3_392_208_896),
    "poolformer_s36": (30_862_760, 0, 4_972_150_784),
    "poolformer_m36": (56_172_520, 0, 8_758_788_096),
    "poolformer_m48": (73_473_448, 0, 11_533_320_192),
    "poolformerv2_s12": (11_891_712, 0, 1_812_267_008),
    "convformer_s18": (26_774_448, 0, 3_940_984_320),
    "caformer_s18": (26_341_656, 0, 4_106_941_440),
    "identityformer_s12": (11_891_712, 0, 1_812_267_008),
    "randformer_s12": (12_127_010, 235_298, 1_888_484_352),
    "vit_tiny_patch16_224": (5_717_416, 0, 1_253_683_200),
    "formwork_fm32": (230_662, 0, 5_641_152),
    "caformer_mini64": (441_114, 0, 14_198_016),
}

__all__ = ["TEMPLATES", "OWN_TEMPLATES", "TEMPLATE_SPECS", "MetaFormer", "VisionTransformer", "build",
           "count_params", "defaults", "init_weights", "total_stride", "macs", "macs_per_module",
           "load_safetensors", "save_safetensors", "state_dict_numpy", "load_into", "REFERENCE_SIZES"]

from . import proxies, views  # noqa: E402  (reference Grad-CAM / attention, zero-cost proxies)
