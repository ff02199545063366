"""CogVideoX-5B + 3DTrajMaster weights: the diffusers base, the injector checkpoint and the domain LoRA, offline.

The released files (``shared/specs/trajmaster.md`` §5, Hugging Face ``KwaiVGI/3DTrajMaster``, gated):

* ``injector``: a full diffusers transformer folder (``config.json`` + ``diffusion_pytorch_model*.safetensors``,
  sharded with an index) holding stock CogVideoX-5B weights **plus** 15 injector tensors on each of blocks 0, 2, …,
  40 (``transformer_blocks.{i}.attn_injector.*``, ``.pose_fuse_layer.*``, ``.attn_null_feature``). Its config is the
  stock one; trajkit also reads an optional ``trajkit`` section (``injector_blocks``) and checks it against the keys.
* an injector-only ``.safetensors`` (the injector tensors alone, as :func:`save_injectors` writes), combined with
  the base's own transformer;
* ``lora/pytorch_lora_weights.safetensors``: rank-32 LoRA on ``attn1`` q/k/v/out of all 42 blocks, keys
  ``transformer.transformer_blocks.{i}.attn1.to_q.lora_A.weight`` …

Everything is read with safetensors (pickles are refused) and checked strictly: an error lists the missing,
unexpected or wrong-shaped keys. Nothing is downloaded unless asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import TrajkitError
from . import weights
from .weights import iter_tensors

if TYPE_CHECKING:
    import torch

#: The diffusers-format text-to-video base 3DTrajMaster was trained on.
DEFAULT_BASE = "THUDM/CogVideoX-5b"
#: Where 3DTrajMaster's injector and LoRA are published (gated: accept the terms on the model page first).
TRAJMASTER_REPO = "KwaiVGI/3DTrajMaster"
BASE_COMPONENTS = ("tokenizer", "text_encoder", "vae", "scheduler", "transformer")
LORA_FILE = "pytorch_lora_weights.safetensors"

DOWNLOAD_HELP = (
    "Fetch the weights once, on a machine with network access (huggingface_hub's `hf` command; the 3DTrajMaster\n"
    f"repository is gated: accept its terms at https://huggingface.co/{TRAJMASTER_REPO} and `hf auth login` first):\n"
    f"  hf download {DEFAULT_BASE} --local-dir models/cogvideox-5b\n"
    f"  hf download {TRAJMASTER_REPO} --local-dir models/3dtrajmaster\n"
    "then:\n"
    "  trajkit generate JOB --backend cogvideox-3dtrajmaster --base models/cogvideox-5b "
    "--injector models/3dtrajmaster/injector --lora models/3dtrajmaster/lora"
)


def locate_base(base: str | Path, *, download: bool = False, need_transformer: bool = True) -> Path:
    """The local folder of a diffusers-format CogVideoX text-to-video pipeline (folder or cached repo id)."""
    return weights.locate_pipeline(base, what="CogVideoX", components=BASE_COMPONENTS, help_text=DOWNLOAD_HELP,
                                   download=download, need_transformer=need_transformer)


def injector_files(path: str | Path) -> list[Path]:
    """The safetensors file(s) of an injector checkpoint (a transformer folder, sharded or not, or one file)."""
    return weights.transformer_files(path, DOWNLOAD_HELP)


def lora_file(path: str | Path) -> Path:
    """The LoRA safetensors file: ``path`` itself, or ``path/pytorch_lora_weights.safetensors``."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / LORA_FILE
        if not p.is_file():
            found = sorted(x.name for x in p.parent.glob("*.safetensors"))
            raise TrajkitError(f"LoRA: no {LORA_FILE} in {p.parent}"
                               + (f" (found {', '.join(found)}; name the file)" if found else "")
                               + f"\n{DOWNLOAD_HELP}")
    if not p.is_file():
        raise TrajkitError(f"LoRA: {p} does not exist\n{DOWNLOAD_HELP}")
    if p.suffix != ".safetensors":
        raise TrajkitError(f"LoRA: {p}: expected a .safetensors file (pickles are not loaded: they can run code)")
    return p


def _config_file(folder: Path) -> dict[str, Any] | None:
    for sub in (folder, folder / "transformer"):
        cfg = sub / "config.json"
        if cfg.is_file():
            try:
                config = json.loads(cfg.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise TrajkitError(f"{cfg}: not a readable JSON config ({exc})") from exc
            return _checked_config(config, str(cfg))
    return None


def _checked_config(config: Any, where: str) -> dict[str, Any]:
    """``config`` if it is a JSON object whose optional ``trajkit.injector_blocks`` is a list of block indices."""
    if not isinstance(config, dict):
        raise TrajkitError(f"{where}: expected a JSON object, found {type(config).__name__}")
    section = config.get("trajkit", {})
    blocks = section.get("injector_blocks", []) if isinstance(section, dict) else None
    if not isinstance(blocks, list) or not all(isinstance(b, int) and not isinstance(b, bool) for b in blocks):
        raise TrajkitError(f"{where}: 'trajkit' must be an object whose injector_blocks is a list of block indices, "
                           f"found {section!r:.80}")
    return config


def read_injector_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor],
                                                        dict[str, Any] | None]:
    """``(injector tensors, other tensors, config)`` of an injector checkpoint (config ``None`` for a bare file)."""
    from ..control.trajmaster_injector import split_injector_keys

    files = injector_files(path)
    tensors = dict(iter_tensors(files))
    _, other = split_injector_keys(tensors)
    rest = set(other)
    injector = {k: v for k, v in tensors.items() if k not in rest}
    base = {k: tensors[k] for k in other}
    p = Path(path).expanduser()
    return injector, base, (_config_file(p) if p.is_dir() else _file_metadata_config(files[0]))


def _file_metadata_config(file: Path) -> dict[str, Any] | None:
    """The ``trajkit`` section :func:`save_injectors` writes into a file's safetensors metadata, as a config."""
    from safetensors import safe_open

    with safe_open(str(file), framework="pt") as handle:
        meta = handle.metadata() or {}
    if "trajkit" not in meta:
        return None
    try:
        section = json.loads(meta["trajkit"])
    except ValueError as exc:
        raise TrajkitError(f"{file}: unreadable trajkit metadata ({exc})") from exc
    return _checked_config({"trajkit": section}, f"{file} (metadata)")


def _check_recorded_blocks(config: dict[str, Any] | None, blocks: tuple[int, ...], where: str) -> None:
    recorded = (config or {}).get("trajkit", {}).get("injector_blocks")
    if recorded is not None and sorted(recorded) != sorted(blocks):
        raise TrajkitError(f"{where}: config.json says the injectors sit on blocks {sorted(recorded)}, but the "
                           f"weights hold injectors for blocks {sorted(blocks)}")


def load_trajmaster_transformer(injector: str | Path, base_folder: str | Path | None, dtype: torch.dtype) -> Any:
    """The CogVideoX transformer with 3DTrajMaster's injectors, in ``dtype``.

    ``injector``: a full transformer folder (the released layout: base + injector keys, loaded strictly, nothing
    taken from ``base_folder``) or injector-only safetensors (added to ``base_folder/transformer``).
    """
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    from ..control.trajmaster_injector import load_injector_state_dict

    injector_state, base_state, config = read_injector_checkpoint(injector)
    where = f"injector weights {injector}"
    if not injector_state:
        raise TrajkitError(f"{where}: no injector tensors (keys like transformer_blocks.0.attn_injector.to_q.weight); "
                           "is this a stock CogVideoX transformer?")
    if base_state:
        if config is None:
            raise TrajkitError(f"{where}: holds base transformer weights but no config.json next to them")
        with init_empty_weights():
            model = CogVideoXTransformer3DModel.from_config({k: v for k, v in config.items() if k != "trajkit"})
        weights.assign_strictly(model, base_state, dtype, f"{where}: the base weights do not fit its config.json")
    else:
        if base_folder is None:
            raise TrajkitError(f"{where}: injector-only weights need a base transformer (give the CogVideoX base)")
        try:
            model = CogVideoXTransformer3DModel.from_pretrained(Path(base_folder), subfolder="transformer",
                                                                dtype=dtype, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise TrajkitError(f"base transformer in {base_folder}: could not be loaded ({exc})") from exc
    blocks = load_injector_state_dict(model, injector_state, where=where)
    _check_recorded_blocks(config, blocks, where)
    return model.eval().requires_grad_(False)


def save_injectors(transformer: Any, path: str | Path) -> Path:
    """Write the injector tensors alone (3DTrajMaster's key names) to a ``.safetensors`` file, atomically; the
    blocks are recorded in the file's metadata. Combine with any stock CogVideoX-5B via
    :func:`load_trajmaster_transformer`."""
    from safetensors.torch import save

    from ..control.trajmaster_injector import injector_blocks, injector_state_dict
    from ..formats._io import atomic_write_bytes

    state = {k: v.detach().contiguous().cpu() for k, v in injector_state_dict(transformer).items()}
    if not state:
        raise TrajkitError("this transformer has no injectors to save")
    metadata = {"format": "pt", "trajkit": json.dumps({"injector_blocks": list(injector_blocks(transformer))})}
    return atomic_write_bytes(path, save(state, metadata=metadata))


def read_lora(path: str | Path, transformer: Any | None = None) -> dict[str, torch.Tensor]:
    """3DTrajMaster's LoRA tensors, checked: ``transformer.…attn1.{to_q,to_k,to_v,to_out.0}.lora_{A,B}.weight``
    pairs with matching ranks; given the ``transformer``, on existing blocks and as wide as the layers they adapt.
    Anything else (text-encoder LoRA, other modules) is refused."""
    import re

    file = lora_file(path)
    state = dict(iter_tensors([file]))
    pattern = re.compile(r"^transformer\.transformer_blocks\.(\d+)\.attn1\.(to_q|to_k|to_v|to_out\.0)\."
                         r"lora_(A|B)\.weight$")
    bad = [k for k in state if not pattern.match(k)]
    if bad:
        raise TrajkitError(f"LoRA {file}: {len(bad)} keys are not 3DTrajMaster's attn1 LoRA (e.g. {bad[:3]}); "
                           "expected transformer.transformer_blocks.<i>.attn1.to_q.lora_A.weight …")
    if not state:
        raise TrajkitError(f"LoRA {file}: no tensors")
    modules: dict[str, dict[str, Any]] = {}
    for key, tensor in state.items():
        m = pattern.match(key)
        assert m is not None
        modules.setdefault(key.rsplit(".lora_", 1)[0], {})[m.group(3)] = tensor
        if transformer is not None and int(m.group(1)) >= len(transformer.transformer_blocks):
            raise TrajkitError(f"LoRA {file}: {key} names block {m.group(1)}; the transformer has "
                               f"{len(transformer.transformer_blocks)}")
    for module, pair in modules.items():
        if set(pair) != {"A", "B"}:
            raise TrajkitError(f"LoRA {file}: {module} has lora_{''.join(pair)} only; expected lora_A and lora_B")
        a, b = pair["A"], pair["B"]
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise TrajkitError(f"LoRA {file}: {module}: lora_A {tuple(a.shape)} and lora_B {tuple(b.shape)} do not "
                               "form a low-rank pair")
        if transformer is not None:
            layer = transformer.get_submodule(module.removeprefix("transformer."))
            if (a.shape[1], b.shape[0]) != (layer.in_features, layer.out_features):
                raise TrajkitError(f"LoRA {file}: {module} adapts {a.shape[1]} → {b.shape[0]} features; the "
                                   f"transformer's layer is {layer.in_features} → {layer.out_features} (a LoRA "
                                   "for another model size?)")
    return state
