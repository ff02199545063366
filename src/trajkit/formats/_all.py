"""Imports every format module so that each registers itself; the order is the sniffing order.

More specific formats come first; the loosest text formats (ComfyUI JSON, RealEstate10K, Tora) last.
"""

import importlib

ORDER = (
    "native",
    "ati_pth",
    "ati_examples",
    "wanmove",
    "transforms_json",
    "gendop_caption",
    "recammaster",
    "trajmaster",
    "gltf",
    "motionctrl",
    "comfyui",
    "re10k",
    "tora",
)

for _name in ORDER:
    importlib.import_module(f"{__package__}.{_name}")
