"""Finding weights on disk: diffusers pipeline folders (local or in the Hugging Face cache, offline by default) and
transformer checkpoints as safetensors files (single or sharded with an index). Pickle checkpoints are refused:
loading them can run arbitrary code. Model-specific loaders (``wan_weights``, ``cogvideox_weights``) pass their
own download instructions, appended to every "not found" error."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import TrajkitError, state_mismatch

if TYPE_CHECKING:
    import torch


def assign_strictly(model: Any, state: dict[str, torch.Tensor], dtype: torch.dtype, what: str) -> None:
    """Load ``state`` into ``model`` (built on the meta device) by assignment, so the weights are held once: every
    parameter present, every tensor used (else a :class:`TrajkitError` ``"{what}: …"`` listing the mismatch), floats
    in ``dtype`` — except the modules diffusers keeps in float32 (``_keep_in_fp32_modules``: norms, modulation, time
    embedding), which stay float32 as with ``from_pretrained``."""
    problem = state_mismatch(dict(model.state_dict()), state)
    if problem:
        raise TrajkitError(f"{what}: {problem}")
    keep = set(getattr(model, "_keep_in_fp32_modules", None) or ())
    cast = {}
    for k, v in state.items():
        if v.is_floating_point():
            v = v.float() if keep.intersection(k.split(".")) else v.to(dtype)
        cast[k] = v
    model.load_state_dict(cast, strict=True, assign=True)


def _more(help_text: str) -> str:
    return f"\n{help_text}" if help_text else ""


def transformer_files(path: str | Path, help_text: str = "") -> list[Path]:
    """The safetensors file(s) of a transformer given as a file or a folder (sharded with an index, or single)."""
    p = Path(path).expanduser()
    if p.is_file():
        if p.suffix in (".pth", ".pt", ".bin", ".ckpt"):
            raise TrajkitError(f"{p}: pickle checkpoints are not loaded (they can run code); use a .safetensors file")
        if p.suffix != ".safetensors":
            raise TrajkitError(f"{p}: expected a .safetensors file or a folder of them")
        return [p]
    if not p.is_dir():
        raise TrajkitError(f"transformer weights: {p} does not exist{_more(help_text)}")
    for sub in (p, p / "transformer"):
        indexes = sorted(sub.glob("*.safetensors.index.json"))
        if indexes:
            try:
                weight_map = json.loads(indexes[0].read_text(encoding="utf-8"))["weight_map"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise TrajkitError(f"{indexes[0]}: not a safetensors index (no 'weight_map')") from exc
            shards = sorted({sub / name for name in weight_map.values()})
            missing = [s.name for s in shards if not s.is_file()]
            if missing:
                raise TrajkitError(f"{indexes[0]}: shards missing from {sub}: {', '.join(missing)}")
            return shards
        single = sorted(sub.glob("*.safetensors"))
        if len(single) == 1:
            return single
        if len(single) > 1:
            raise TrajkitError(f"{sub}: several .safetensors files and no index; name the file to load: "
                               + ", ".join(s.name for s in single))
    raise TrajkitError(f"transformer weights: no .safetensors files in {p}{_more(help_text)}")


def iter_tensors(files: list[Path]) -> Iterator[tuple[str, torch.Tensor]]:
    """``(name, tensor)`` of every tensor in the files, read lazily (one at a time)."""
    from safetensors import SafetensorError, safe_open

    for f in files:
        try:
            with safe_open(str(f), framework="pt") as handle:
                for name in handle.keys():  # noqa: SIM118 - safe_open handles are not iterable
                    yield name, handle.get_tensor(name)
        except (SafetensorError, OSError) as exc:
            raise TrajkitError(f"{f}: not a readable safetensors file ({exc})") from exc


def _hub_cache_dir() -> str:
    try:
        from huggingface_hub.constants import HF_HUB_CACHE

        return str(HF_HUB_CACHE)
    except ImportError:  # pragma: no cover - huggingface_hub comes with diffusers
        return "~/.cache/huggingface/hub"


def locate_pipeline(base: str | Path, *, what: str, components: tuple[str, ...], help_text: str = "",
                    download: bool = False, need_transformer: bool = True) -> Path:
    """The local folder of a diffusers-format pipeline (``what``, e.g. "Wan2.1 I2V") with ``components``.

    ``base`` is a folder, or a Hugging Face repo id looked up in the local cache (fetched only with
    ``download=True``). Raises a :class:`TrajkitError` naming each missing component and where it looked.
    """
    p = Path(base).expanduser()
    if p.is_dir():
        folder = p
    elif p.exists():
        raise TrajkitError(f"base model: {p} is a file; give the folder of a diffusers-format {what} pipeline")
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", str(base)):
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        try:
            folder = Path(snapshot_download(str(base), local_files_only=not download))
        except LocalEntryNotFoundError as exc:
            raise TrajkitError(f"base model {base!r} is not in the Hugging Face cache ({_hub_cache_dir()}) and "
                               f"downloads are off (pass --download to fetch it){_more(help_text)}") from exc
        except OSError as exc:
            raise TrajkitError(f"base model {base!r}: download failed ({exc}){_more(help_text)}") from exc
    else:
        raise TrajkitError(f"base model: {p} does not exist (give a folder or a Hugging Face repo id)"
                           f"{_more(help_text)}")
    needed = [c for c in components if need_transformer or c != "transformer"]
    missing = [c for c in needed if not (folder / c).is_dir() or not any((folder / c).iterdir())]
    if not (folder / "model_index.json").is_file():
        missing.insert(0, "model_index.json")
    if missing:
        raise TrajkitError(f"base model at {folder} is incomplete: missing {', '.join(missing)} "
                           f"(a diffusers-format {what} pipeline has {', '.join(components)}){_more(help_text)}")
    return folder
