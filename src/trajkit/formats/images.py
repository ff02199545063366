"""Images and depth maps as inputs: the canvas size of an image (header only), its pixels, a depth map, and the
example files bundled with trajkit."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import TrajkitError

EXAMPLE_PREFIX = "example:"


def bundled_example(name: str) -> Path:
    """The bundled example file ``name`` (``tracks``, ``camera`` …), as ``example:NAME`` refers to it."""
    from importlib import resources

    root = resources.files("trajkit") / "examples"
    names = sorted(p.name.split(".")[0] for p in root.iterdir() if p.name.endswith(".json"))
    if name not in names:
        raise TrajkitError(f"no bundled example {name!r}; available: {', '.join(EXAMPLE_PREFIX + n for n in names)}")
    return Path(str(root / f"{name}.json"))


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """An image file as ``(H, W, 3)`` uint8 RGB (alpha dropped, as ATI does)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise TrajkitError(f"{path} is not a readable image ({exc})") from exc


def load_depth(path: str | os.PathLike[str]) -> np.ndarray:
    """A depth map saved with ``np.save`` (never unpickled)."""
    from ._io import NUMPY_READ_ERRORS

    try:
        return np.load(path, allow_pickle=False)
    except NUMPY_READ_ERRORS as exc:
        raise TrajkitError(f"{path}: not a readable .npy depth map ({exc})") from exc


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(W, H)`` of an image file, reading only its header (no pixel decode, no EXIF rotation).

    ATI uses PIL's size without EXIF orientation handling; so does this.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    try:
        with Image.open(p) as im:
            return int(im.size[0]), int(im.size[1])
    except FileNotFoundError as exc:
        raise TrajkitError(f"{p}: image not found") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise TrajkitError(f"{p}: not a readable image ({exc})") from exc
