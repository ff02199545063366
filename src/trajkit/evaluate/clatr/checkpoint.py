"""Loading CLaTr weights safely: GenDoP's Lightning ``epoch99_{motion,directorial}.ckpt`` and ``.safetensors``.

A Lightning ``.ckpt`` is a pickle, and unpickling can run arbitrary code. It is read with
``torch.load(weights_only=True)``: torch's restricted unpickler admits tensors, containers and primitives only,
plus the few data-only globals in :data:`ALLOWED_GLOBALS` (path objects and NumPy scalars and arrays that
Lightning's callback states may hold). Anything else — a ``__reduce__`` that would call a function — is refused
before it runs, with a :class:`CLaTrCheckpointError` naming the refused global.

Only ``state_dict`` is used (Lightning's optimizer states, loops and callbacks are ignored). Its keys must be
exactly the layout of §4.4 (prefixes ``traj_encoder.``, ``text_encoder.``, ``traj_decoder.``); sizes are read
from the tensor shapes, the head count is the released model's 4 unless given (it is not stored). Feature
sizes are checked against what the caller will feed (9 per frame; 512 for CLIP ViT-B/32 text).
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch

from ...core.errors import TrajkitError, state_mismatch
from .features import FEATURES
from .model import CLaTr, CLaTrConfig

#: Text features of CLIP ViT-B/32 (what the released checkpoints were trained on).
CLIP_TEXT_FEATURES = 512
#: Heads of the released model (not recoverable from the weights).
RELEASED_HEADS = 4
PREFIXES = ("traj_encoder.", "text_encoder.", "traj_decoder.")


class CLaTrCheckpointError(TrajkitError, ValueError):
    """A CLaTr checkpoint that cannot be used: missing, unreadable, unsafe, wrong layout or wrong sizes."""


def _allowed_globals() -> list:
    import pathlib

    import numpy as np

    try:  # NumPy ≥ 2 moved these; both build data only (a scalar from bytes, an empty array to fill)
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = {type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_)}
    return [pathlib.PosixPath, pathlib.PurePosixPath, np.dtype, np.ndarray, scalar, _reconstruct, *dtypes]


#: What the allow-list admits beyond torch's own weights-only set (data-only constructors).
ALLOWED_GLOBALS = ("pathlib.PosixPath", "pathlib.PurePosixPath", "NumPy scalars, dtypes and arrays")


def _unpickling_reason(exc: Exception) -> str:
    """The global torch's weights-only unpickler refused (else the first line of its error)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    found = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if found:
        return f"global {found.group(1)} is not allowed"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__


def read_pickle_checkpoint(path: Path) -> Mapping:
    """The top-level object of a torch/Lightning pickle, unpickled with ``weights_only`` and the allow-list."""
    try:
        with torch.serialization.safe_globals(_allowed_globals()):
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CLaTrCheckpointError(
            f"{path}: refused to unpickle — it needs something beyond tensors and plain data "
            f"({_unpickling_reason(exc)}); only weights are read from checkpoints (convert it to .safetensors "
            "where you trust it)") from exc
    except (OSError, RuntimeError, EOFError, ValueError, AttributeError, ImportError, TypeError) as exc:
        raise CLaTrCheckpointError(f"{path}: not a readable torch/Lightning checkpoint ({exc})") from exc
    if not isinstance(obj, Mapping):
        raise CLaTrCheckpointError(f"{path}: expected a Lightning checkpoint (a dict with 'state_dict') or a "
                                   f"state dict, found {type(obj).__name__}")
    return obj


def read_state(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(state dict, metadata) of a ``.ckpt`` / ``.pt`` / ``.pth`` (Lightning or plain) or ``.safetensors``."""
    path = Path(path)
    if not path.is_file():
        raise CLaTrCheckpointError(f"CLaTr checkpoint {path} does not exist (GenDoP's are "
                                   "CLaTr_checkpoints/epoch99_motion.ckpt and epoch99_directorial.ckpt)")
    metadata: dict[str, str] = {}
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                state = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
                metadata = dict(handle.metadata() or {})
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise CLaTrCheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc
        return state, metadata
    obj = read_pickle_checkpoint(path)
    state = obj.get("state_dict", obj)
    if not isinstance(state, Mapping):
        raise CLaTrCheckpointError(f"{path}: 'state_dict' is a {type(state).__name__}, expected a dict of tensors")
    bad = [k for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CLaTrCheckpointError(f"{path}: state dict entries that are not tensors: {', '.join(map(str, bad[:3]))}")
    if "pytorch-lightning_version" in obj:
        metadata["lightning"] = str(obj["pytorch-lightning_version"])
    return dict(state), metadata


def _count_layers(state: Mapping[str, torch.Tensor], prefix: str) -> int:
    found = {int(m.group(1)) for k in state if (m := re.match(re.escape(prefix) + r"(\d+)\.", k))}
    return max(found) + 1 if found else 0


def config_from_state(state: Mapping[str, torch.Tensor], *, heads: int = RELEASED_HEADS,
                      source: str = "CLaTr checkpoint") -> CLaTrConfig:
    """Sizes of the CLaTr a state dict holds (head count given: it is not stored)."""
    def shape(key: str) -> tuple[int, ...]:
        if key not in state:
            other = sorted(k for k in state if not k.startswith(PREFIXES))
            hint = f" (found keys such as {', '.join(other[:3])})" if other else ""
            raise CLaTrCheckpointError(f"{source}: no {key}; expected CLaTr's layout with prefixes "
                                       f"{', '.join(PREFIXES)}{hint}")
        return tuple(state[key].shape)

    latent, traj_features = shape("traj_encoder.projection.weight")
    text_latent, text_features = shape("text_encoder.projection.weight")
    if text_latent != latent:
        raise CLaTrCheckpointError(f"{source}: text and trajectory encoders have latents {text_latent} and {latent}")
    ff = shape("traj_encoder.seqTransEncoder.layers.0.linear1.weight")[0]
    counts = {p: _count_layers(state, f"{p}.{s}.layers.")
              for p, s in (("traj_encoder", "seqTransEncoder"), ("text_encoder", "seqTransEncoder"),
                           ("traj_decoder", "seqTransDecoder"))}
    if len(set(counts.values())) != 1:
        raise CLaTrCheckpointError(f"{source}: layer counts differ between modules ({counts}); trajkit's CLaTr "
                                   "uses one count for all three")
    if latent % heads:
        raise CLaTrCheckpointError(f"{source}: {heads} heads do not divide the latent width {latent}")
    return CLaTrConfig(traj_features=traj_features, text_features=text_features, latent=latent, ff=ff,
                       layers=counts["traj_encoder"], heads=heads)


def _check_features(config: CLaTrConfig, traj_features: int | None, text_features: int | None,
                    source: str) -> None:
    if traj_features is not None and config.traj_features != traj_features:
        raise CLaTrCheckpointError(
            f"{source}: this CLaTr encodes trajectories of {config.traj_features} numbers per frame; trajkit's "
            f"CLaTr features have {traj_features} (rot6d + velocity, gendop.md §8.2) — it is a CLaTr for "
            "another feature type (the original E.T. CLaTr with other features, or a human-motion TMR)")
    if text_features is not None and config.text_features != text_features:
        raise CLaTrCheckpointError(
            f"{source}: this CLaTr reads text features of width {config.text_features}, but the text encoder "
            f"gives {text_features} (CLIP ViT-B/32: 512) — pair it with the text encoder it was trained with")


def load_state_strict(model: CLaTr, state: Mapping[str, torch.Tensor], source: str) -> None:
    """Fill ``model`` from ``state``; every key must be used and every shape must match."""
    expected = model.state_dict()
    problem = state_mismatch(expected, state)
    if problem:
        raise CLaTrCheckpointError(f"{source}: does not fit CLaTr's layout (gendop.md §4.4): {problem}")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)


def load_clatr(path: str | Path, *, heads: int = RELEASED_HEADS, traj_features: int | None = FEATURES,
               text_features: int | None = CLIP_TEXT_FEATURES, device: str | torch.device = "cpu") -> CLaTr:
    """A CLaTr in eval mode from a checkpoint (``.ckpt`` Lightning / plain torch, or ``.safetensors``).

    ``traj_features`` / ``text_features`` are the widths the caller will feed (``None`` accepts any); a
    trajkit ``.safetensors`` carries its config (head count included) in its metadata.
    """
    path = Path(path)
    state, metadata = read_state(path)
    source = str(path)
    if "clatr_config" in metadata:
        try:
            config = CLaTrConfig(**json.loads(metadata["clatr_config"]))
        except (TypeError, ValueError) as exc:
            raise CLaTrCheckpointError(f"{source}: unreadable clatr_config metadata ({exc})") from exc
        config_from_state(state, heads=config.heads, source=source)  # layout check with the stored heads
    else:
        config = config_from_state(state, heads=heads, source=source)
    _check_features(config, traj_features, text_features, source)
    from ...director.checkpoint import check_device

    target = check_device(device)
    model = CLaTr(config)
    load_state_strict(model, state, source)
    return model.to(target).eval()


def save_clatr(model: CLaTr, path: str | Path) -> Path:
    """Write ``model`` as ``.safetensors`` with its config in the metadata (atomically); returns the path."""
    from safetensors.torch import save

    from ...formats._io import atomic_write_bytes

    path = Path(path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": "trajkit-clatr", "clatr_config": json.dumps(model.config.to_json())}
    atomic_write_bytes(path, save(state, metadata=metadata))
    return path
