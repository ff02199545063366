"""Wan2.1 weights: find a diffusers-format base offline, and load a transformer saved in Wan's original layout.

ATI (``bytedance-research/ATI``) and the community files (``Kijai/WanVideo_comfy``:
``Wan2_1-I2V-ATI-14B_fp16 / _fp8_e4m3fn / _fp8_e5m2.safetensors``) store the DiT with the key names of
Wan's own code (``blocks.0.self_attn.q.weight``, ``head.head.weight``, ``img_emb.proj.1.weight`` …). diffusers'
``WanTransformer3DModel`` names the same tensors differently (``blocks.0.attn1.to_q.weight``, ``proj_out.weight``,
``condition_embedder.image_embedder.ff.net.0.proj.weight`` …) and swaps ``norm2``/``norm3``. Nothing else
differs: shapes and values carry over unchanged, so conversion is a rename (:func:`wan_to_diffusers_key`).

Accepted transformer inputs: a ``.safetensors`` file; a folder holding ``*.safetensors.index.json`` (sharded)
or one ``.safetensors`` file; in Wan's layout, with ComfyUI's ``model.diffusion_model.`` prefix, or already in
diffusers' layout. fp8 tensors (``float8_e4m3fn``/``float8_e5m2``) are upcast to the compute dtype, multiplied
by their ``.scale_weight`` where a "scaled fp8" file carries one. Pickle checkpoints (``.pth``/``.pt``/``.bin``)
are refused: loading them can run arbitrary code.

Nothing is downloaded unless asked: a base given as a Hugging Face repo id is looked up in the local cache
(``HF_HOME`` / ``HF_HUB_CACHE``) and a missing one is reported with the command that fetches it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import TrajkitError
from . import weights
from .weights import iter_tensors

if TYPE_CHECKING:
    import torch

#: The diffusers-format Wan2.1 I2V base ATI was fine-tuned from.
DEFAULT_BASE = "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers"
#: Where ATI's transformer is published (Wan layout, sharded safetensors).
ATI_REPO = "bytedance-research/ATI"
#: Components a Wan I2V pipeline folder needs (``transformer`` may come from a separate file instead).
BASE_COMPONENTS = ("tokenizer", "text_encoder", "image_encoder", "image_processor", "vae", "scheduler", "transformer")

DOWNLOAD_HELP = (
    "Fetch the weights once, on a machine with network access (huggingface_hub's `hf` command):\n"
    f"  hf download {DEFAULT_BASE} --exclude 'transformer/*.safetensors' --local-dir models/wan21-i2v-480p\n"
    f"  hf download {ATI_REPO} --include '*.safetensors' '*.json' --local-dir models/ati\n"
    "(the base's own 14B transformer is not needed next to ATI's), then:\n"
    "  trajkit generate JOB --backend wan-ati --base models/wan21-i2v-480p --transformer models/ati"
)

#: diffusers ``WanTransformer3DModel`` config of Wan2.1-I2V-14B (ATI's architecture, ati.md §1); used when the
#: base folder was fetched without its transformer.
WAN21_I2V_14B_CONFIG: dict[str, Any] = {
    "_class_name": "WanTransformer3DModel", "patch_size": [1, 2, 2], "num_attention_heads": 40,
    "attention_head_dim": 128, "in_channels": 36, "out_channels": 16, "text_dim": 4096, "freq_dim": 256,
    "ffn_dim": 13824, "num_layers": 40, "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6,
    "image_dim": 1280, "added_kv_proj_dim": 5120, "rope_max_seq_len": 1024,
}

_PREFIXES = ("model.diffusion_model.", "diffusion_model.", "module.")
#: Wan module path → diffusers module path, outside the blocks.
_TOP = {
    "patch_embedding": "patch_embedding",
    "text_embedding.0": "condition_embedder.text_embedder.linear_1",
    "text_embedding.2": "condition_embedder.text_embedder.linear_2",
    "time_embedding.0": "condition_embedder.time_embedder.linear_1",
    "time_embedding.2": "condition_embedder.time_embedder.linear_2",
    "time_projection.1": "condition_embedder.time_proj",
    "img_emb.proj.0": "condition_embedder.image_embedder.norm1",
    "img_emb.proj.1": "condition_embedder.image_embedder.ff.net.0.proj",
    "img_emb.proj.3": "condition_embedder.image_embedder.ff.net.2",
    "img_emb.proj.4": "condition_embedder.image_embedder.norm2",
    "head.head": "proj_out",
}
#: Wan module path → diffusers module path, inside ``blocks.<i>``.
_BLOCK = {
    **{f"self_attn.{a}": f"attn1.{b}" for a, b in (("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("o", "to_out.0"),
                                                   ("norm_q", "norm_q"), ("norm_k", "norm_k"))},
    **{f"cross_attn.{a}": f"attn2.{b}" for a, b in (("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("o", "to_out.0"),
                                                    ("norm_q", "norm_q"), ("norm_k", "norm_k"),
                                                    ("k_img", "add_k_proj"), ("v_img", "add_v_proj"),
                                                    ("norm_k_img", "norm_added_k"))},
    "norm3": "norm2",  # Wan's cross-attention norm is its norm3; diffusers calls it norm2
    "ffn.0": "ffn.net.0.proj",
    "ffn.2": "ffn.net.2",
}
#: Bare parameters (no ``.weight``): the adaLN modulation tables.
_PARAMS = {"head.modulation": "scale_shift_table"}
_BLOCK_KEY = re.compile(r"^blocks\.(\d+)\.(.+)$")


def strip_prefix(key: str) -> str:
    """Drop ComfyUI / DataParallel prefixes."""
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def is_diffusers_layout(keys: list[str]) -> bool:
    """Whether a transformer state dict already uses diffusers' names."""
    return any(k.startswith(("condition_embedder.", "proj_out.")) or ".attn1." in k for k in keys)


def wan_to_diffusers_key(key: str) -> str:
    """One Wan-layout parameter name → its diffusers ``WanTransformer3DModel`` name.

    Raises :class:`TrajkitError` for a name that is not part of a Wan2.1 (T2V or I2V) transformer.
    """
    key = strip_prefix(key)
    if key in _PARAMS:
        return _PARAMS[key]
    m = _BLOCK_KEY.match(key)
    if m:
        index, rest = m.groups()
        if rest == "modulation":
            return f"blocks.{index}.scale_shift_table"
        module, _, leaf = rest.rpartition(".")
        if module in _BLOCK and leaf in ("weight", "bias"):
            return f"blocks.{index}.{_BLOCK[module]}.{leaf}"
    else:
        module, _, leaf = key.rpartition(".")
        if module in _TOP and leaf in ("weight", "bias"):
            return f"{_TOP[module]}.{leaf}"
    raise TrajkitError(f"transformer weights: {key!r} is not a parameter of a Wan2.1 transformer "
                       "(expected Wan's original names, e.g. 'blocks.0.self_attn.q.weight', or diffusers' names)")


def transformer_files(path: str | Path) -> list[Path]:
    """The safetensors file(s) of a transformer given as a file or a folder (sharded with an index, or single)."""
    return weights.transformer_files(path, DOWNLOAD_HELP)


def read_transformer_state(path: str | Path, dtype: torch.dtype,
                           keep_fp32: Collection[str] = ()) -> dict[str, torch.Tensor]:
    """The transformer's state dict in diffusers' names, every floating tensor cast to ``dtype`` — except those of
    modules named in ``keep_fp32`` (diffusers' ``_keep_in_fp32_modules``), which become float32 without passing
    through ``dtype``. fp8 tensors are upcast (through float32, times their ``scale_weight`` if present) first.
    """
    import torch

    raw: dict[str, torch.Tensor] = {}
    scales: dict[str, torch.Tensor] = {}
    for name, tensor in iter_tensors(transformer_files(path)):
        name = strip_prefix(name)
        if name.endswith(".scale_weight"):
            scales[name[: -len(".scale_weight")] + ".weight"] = tensor.float()
        elif name.endswith(".scale_input"):  # input scales of scaled-fp8 matmuls; not needed once upcast
            continue
        else:
            raw[name] = tensor
    diffusers_layout = is_diffusers_layout(list(raw))
    state: dict[str, torch.Tensor] = {}
    keep = set(keep_fp32)
    for name, tensor in raw.items():
        key = name if diffusers_layout else wan_to_diffusers_key(name)
        if tensor.is_floating_point():
            if name in scales or tensor.dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
                tensor = tensor.float() * scales[name] if name in scales else tensor.float()
            tensor = tensor.float() if keep.intersection(key.split(".")) else tensor.to(dtype)
        state[key] = tensor
    return state


def load_wan_transformer(path: str | Path, config: dict[str, Any] | str | Path, dtype: torch.dtype) -> Any:
    """A diffusers ``WanTransformer3DModel`` with the weights at ``path`` (any layout above), in ``dtype``.

    ``config`` is the model config (a dict, a ``config.json`` or a folder holding one, e.g. ``BASE/transformer``).
    The model is built on the meta device and the converted tensors are assigned, so the weights are held
    in memory once. Modules diffusers keeps in float32 (``_keep_in_fp32_modules``: norms, modulation tables,
    time embedding) stay float32 whatever ``dtype`` is, as with ``from_pretrained``. Every parameter must be
    present and every tensor used; otherwise the error lists them.
    """
    from accelerate import init_empty_weights
    from diffusers import WanTransformer3DModel

    if not isinstance(config, dict):
        cfg_path = Path(config)
        cfg_path = cfg_path / "config.json" if cfg_path.is_dir() else cfg_path
        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TrajkitError(f"transformer config: cannot read {cfg_path} ({exc})") from exc
    with init_empty_weights():
        model = WanTransformer3DModel.from_config(config)
    keep = getattr(model, "_keep_in_fp32_modules", None) or ()
    weights.assign_strictly(model, read_transformer_state(path, dtype, keep), dtype,
                            f"transformer weights {path} do not fit the Wan config")
    return model.eval().requires_grad_(False)


def locate_base(base: str | Path, *, download: bool = False, need_transformer: bool = True) -> Path:
    """The local folder of a diffusers-format Wan2.1 I2V pipeline (a folder, or a Hugging Face repo id looked up in
    the local cache and fetched only with ``download=True``); errors name each missing component."""
    return weights.locate_pipeline(base, what="Wan2.1 I2V", components=BASE_COMPONENTS, help_text=DOWNLOAD_HELP,
                                   download=download, need_transformer=need_transformer)
