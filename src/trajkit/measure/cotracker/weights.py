"""Finding and loading the released CoTracker3 checkpoints (Hugging Face ``facebook/cotracker3``).

``scaled_offline.pth`` → :class:`~.model.CoTrackerThreeOffline` (frame table of 60), ``scaled_online.pth`` →
:class:`~.model.CoTrackerThreeOnline` (frame table of 16). Both are torch pickles of a bare state dict (a dict under
``"model"``, as training checkpoints keep it, is accepted too); they are read with ``weights_only=True``, so a file
whose pickle would call code is refused. Keys must match exactly: nothing missing, nothing unexpected, same shapes.
Lookup is offline-first: an explicit file, else the Hugging Face cache, else — only with ``download=True`` — the Hub.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ...core.errors import TrajkitError, state_mismatch
from .model import CoTrackerThree, CoTrackerThreeOffline, CoTrackerThreeOnline

HF_REPO = "facebook/cotracker3"
#: variant → released checkpoint file.
VARIANTS = {"offline": "scaled_offline.pth", "online": "scaled_online.pth"}
_NETWORKS = {"offline": CoTrackerThreeOffline, "online": CoTrackerThreeOnline}


def fetch_command(variant: str) -> str:
    """The shell command that puts ``variant``'s checkpoint into the Hugging Face cache."""
    return f"hf download {HF_REPO} {VARIANTS[variant]}"


def checkpoint_file(variant: str, checkpoint: str | Path | None = None, download: bool = False) -> Path:
    """The checkpoint to load: ``checkpoint`` if given (it must be a file), else the cached Hub file (downloaded only
    with ``download=True``). Raises :class:`TrajkitError` with the command that fetches it when it is missing."""
    if variant not in VARIANTS:
        raise TrajkitError(f"cotracker3: unknown variant {variant!r}; choose 'offline' or 'online'")
    if checkpoint is not None:
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise TrajkitError(f"cotracker3 checkpoint: {path} is not a file (fetch it with "
                               f"`{fetch_command(variant)}`)")
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(HF_REPO, VARIANTS[variant], local_files_only=not download))
    except LocalEntryNotFoundError as exc:
        hint = ("the download failed" if download else "downloads are off")
        raise TrajkitError(f"cotracker3 ({variant}): {VARIANTS[variant]} is not in the Hugging Face cache and {hint}; "
                           f"fetch it with `{fetch_command(variant)}` or pass --download") from exc
    except (OSError, ValueError) as exc:
        raise TrajkitError(f"cotracker3 ({variant}): could not fetch {VARIANTS[variant]} from {HF_REPO} ({exc}); "
                           f"try `{fetch_command(variant)}`") from exc


def read_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict stored in ``path`` (bare or under ``"model"``), read without running pickled code."""
    try:
        obj: Any = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrajkitError(f"{path}: not a loadable CoTracker3 checkpoint (read with weights_only=True, which refuses "
                           f"pickles that run code): {first}") from exc
    if isinstance(obj, Mapping) and isinstance(obj.get("model"), Mapping):
        obj = obj["model"]
    if not isinstance(obj, Mapping) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                               for k, v in obj.items()):
        raise TrajkitError(f"{path}: expected a state dict of named tensors (bare or under 'model'), "
                           f"found {type(obj).__name__}")
    return dict(obj)


def load_state_strictly(net: CoTrackerThree, state: Mapping[str, torch.Tensor], what: str) -> None:
    """Copy ``state`` into ``net`` after checking the layout (a :class:`TrajkitError` naming ``what`` otherwise)."""
    problem = state_mismatch(net.state_dict(), state)
    if problem:
        raise TrajkitError(f"{what}: not a CoTracker3 {net.variant} checkpoint: {problem}")
    net.load_state_dict(dict(state), strict=True)


def load_cotracker(variant: str = "offline", *, checkpoint: str | Path | None = None, download: bool = False,
                   device: str = "cpu") -> CoTrackerThree:
    """The released network of ``variant`` in eval mode on ``device`` (see :func:`checkpoint_file`)."""
    path = checkpoint_file(variant, checkpoint, download)
    net = _NETWORKS[variant]()
    load_state_strictly(net, read_state(path), str(path))
    return net.eval().to(device)
