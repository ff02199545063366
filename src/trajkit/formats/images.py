"""Images and depth maps as inputs: the canvas size of an image (header only), its pixels, a depth map, and the
example files bundled with trajkit."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from ..core.errors import FormatError, TrajkitError, describe_value

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


_SIGNATURES = ((b"\xff\xd8\xff", "a JPEG image"), (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"),
               (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"BM", "a BMP image"),
               (b"RIFF", "a WebP image or other RIFF file"), (b"\x80", "a Python pickle"))


def load_depth(path: str | os.PathLike[str]) -> np.ndarray:
    """A depth map ``(H, W)`` of finite numbers saved with ``np.save`` (size-limited read, never unpickled; an
    ``(H, W, 1)`` array is squeezed). Anything else is a :class:`FormatError` naming the file."""
    from . import _io

    p, fmt = Path(path), "depth map (.npy)"
    try:
        data = _io.read_bytes(p, fmt, _io.MAX_FILE_BYTES)
    except OSError as exc:
        raise FormatError(p, fmt, f"cannot be read ({exc.strerror or exc})") from exc
    if data[:2] == b"PK":  # np.load would open a .npz archive lazily (an NpzFile, not an array)
        raise FormatError(p, fmt, "a .npz archive holds several arrays", expected="one array saved with np.save")
    if not data.startswith(b"\x93NUMPY"):  # np.load takes anything else for a pickle and says so
        kind = next((name for magic, name in _SIGNATURES if data.startswith(magic)), "not a .npy file")
        raise FormatError(p, fmt, f"{kind}, not a NumPy array",
                          expected="an H×W array of depths saved with np.save('depth.npy', depth)")
    _io.check_npy_headers(data, p, fmt)
    try:
        depth = np.load(io.BytesIO(data), allow_pickle=False)
    except _io.NUMPY_READ_ERRORS as exc:
        raise FormatError(p, fmt, f"not a readable .npy file ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if depth.ndim == 3 and depth.shape[-1] == 1:
        depth = depth[..., 0]
    if depth.ndim != 2 or depth.size == 0 or depth.dtype.kind not in "iuf":
        raise FormatError(p, fmt, "not a depth map", expected="a non-empty 2-D (H, W) array of numbers",
                          found=describe_value(depth))
    if not np.isfinite(depth).all():
        raise FormatError(p, fmt, "the depth map holds NaN or infinite values", expected="finite depths")
    return depth


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
