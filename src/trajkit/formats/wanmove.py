"""Wan-Move tracks: ``<name>_tracks.npy`` plus ``<name>_visibility.npy``.

* tracks: float32 ``(1, T, N, 2)`` (batch of one; ``(T, N, 2)`` accepted), ``(x, y)`` in pixels of the
  input image (832×480 for Wan-Move's examples; not stored — pass ``size=`` or ``image=``);
* visibility: bool ``(1, T, N)`` in a sibling file whose name replaces ``tracks`` by ``visibility``
  (or pass ``visibility=PATH``). Without it every point is visible.
* Wan-Move generates 81 frames at 16 fps; ``fps`` defaults to 16.

Arrays are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..core.errors import FormatError
from ..core.tracks import Tracks
from ._io import NUMPY_READ_ERRORS, atomic_write_bytes, check_npy_headers, read_bytes
from .images import image_size
from .registry import Format, register

NAME = "wanmove-npy"
DEFAULT_SIZE = (832, 480)
DEFAULT_FPS = 16.0


def visibility_path(tracks_path: Path) -> Path:
    """The sibling visibility file Wan-Move pairs with a tracks file."""
    name = tracks_path.name
    if "tracks" in name:
        head, _, tail = name.rpartition("tracks")
        return tracks_path.with_name(f"{head}visibility{tail}")
    return tracks_path.with_name(f"{tracks_path.stem}_visibility.npy")


def _load_npy(path: Path) -> np.ndarray:
    data = read_bytes(path, NAME)
    check_npy_headers(data, path, NAME)
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except NUMPY_READ_ERRORS as exc:
        raise FormatError(path, NAME, f"not a plain .npy array ({exc})") from exc


def read(path: Path, size: tuple[int, int] | None = None, image: str | Path | None = None,
         fps: float = DEFAULT_FPS, visibility: str | Path | None = None) -> Tracks:
    """Read Wan-Move tracks (and their visibility) into ``Tracks``."""
    if image is not None:
        size = image_size(image)
    arr = _load_npy(path)
    if arr.dtype == bool:
        raise FormatError(path, NAME, "this is a visibility array; load the matching *_tracks.npy instead")
    if arr.ndim == 4:
        if arr.shape[0] != 1:
            raise FormatError(path, NAME, "only a batch of one is supported", expected="(1, T, N, 2)",
                              found=str(arr.shape))
        arr = arr[0]
    if arr.ndim != 3 or arr.shape[-1] != 2 or arr.dtype.kind not in "fiu":
        raise FormatError(path, NAME, "unexpected tracks array", expected="numeric (1, T, N, 2)",
                          found=f"{arr.dtype} {arr.shape}")
    vis_path = Path(visibility) if visibility is not None else visibility_path(path)
    if vis_path.exists() and vis_path != path:
        vis = _load_npy(vis_path)
        if vis.ndim == 3 and vis.shape[0] == 1:
            vis = vis[0]
        if vis.shape != arr.shape[:2]:
            raise FormatError(vis_path, NAME, "visibility does not match the tracks", expected=str(arr.shape[:2]),
                              found=str(vis.shape))
        vis = vis.astype(bool)
        meta = {"source_format": NAME, "visibility_file": vis_path.name}
    else:
        vis = np.ones(arr.shape[:2], dtype=bool)
        meta = {"source_format": NAME, "visibility_file": None}
    if not np.isfinite(arr).all():
        raise FormatError(path, NAME, "tracks hold NaN or infinite values")
    return Tracks(xy=arr.astype(np.float32), visible=vis, size=size or DEFAULT_SIZE, fps=fps, meta=meta)


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def write(tracks: Tracks, path: Path) -> None:
    """Write ``(1, T, N, 2)`` float32 tracks and the sibling ``(1, T, N)`` bool visibility file."""
    vis_path = visibility_path(path)
    atomic_write_bytes(vis_path, _npy_bytes(tracks.visible[None].astype(bool)))
    atomic_write_bytes(path, _npy_bytes(tracks.xy[None].astype(np.float32)))


def sniff(path: Path, head: bytes) -> bool:
    """A ``.npy`` file (NumPy magic)."""
    return head.startswith(b"\x93NUMPY")


FORMAT = register(Format(
    name=NAME,
    title="Wan-Move tracks .npy (+ sibling visibility .npy)",
    kind="tracks",
    extensions=(".npy",),
    sniff=sniff,
    read=read,
    write=write,
    writes=(Tracks,),
    hints=("size", "image", "fps", "visibility"),
    notes="Canvas not stored (default 832×480); 81 frames @ 16 fps in Wan-Move.",
))
