"""ComfyUI / KJNodes track JSON, the de-facto interchange for 2D tracks in ComfyUI workflows.

Layout: one track ``[{"x": .., "y": ..}, ...]`` or a list of tracks ``[[{"x": .., "y": ..}, ...], ...]``;
one point per frame, in pixels of a ``width × height`` canvas that the file does not store (the ComfyUI
node's inputs; 832×480 by default, as in ``WanVideoATITracks`` and ``WanTrackToVideo``). KJNodes'
Spline Editor emits Python-repr strings with single quotes, which are accepted (as ComfyUI does, by
turning ``'`` into ``"``). There is no visibility: tracks of unequal length are padded at the end with
invisible points (ATI's ``pad_pts``), and writing drops such trailing invisible points again.

Timeline: no fps is stored; 121-point tracks are ATI editor tracks (24 fps), others default to Wan's
16 fps. Pass ``fps=`` to override.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import FormatError
from ..core.tracks import Tracks
from ._io import FormatWarning, atomic_write_text, check_json_footprint, dump_json, parse_json, read_text
from .images import image_size
from .registry import Format, register

NAME = "comfyui-json"
DEFAULT_SIZE = (832, 480)
_SNIFF = re.compile(rb"^\s*\[\s*(\[\s*)?\{\s*[\"']x[\"']")


def _points(track: Any, k: int, path: Path) -> np.ndarray:
    if not isinstance(track, list) or not track:
        raise FormatError(path, NAME, f"track {k} is not a non-empty list of points",
                          expected='[{"x": .., "y": ..}, ...]', found=type(track).__name__)
    out = np.empty((len(track), 2), dtype=np.float64)
    for i, pt in enumerate(track):
        if not isinstance(pt, dict) or "x" not in pt or "y" not in pt:
            raise FormatError(path, NAME, f"track {k} point {i} is not an {{x, y}} object", found=repr(pt)[:60])
        for j, key in enumerate(("x", "y")):
            value = pt[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise FormatError(path, NAME, f"track {k} point {i} {key} is not a finite number",
                                  found=repr(value)[:40])
            out[i, j] = value
    return out


def parse_tracks(text: str, path: Path | None = None) -> list[np.ndarray]:
    """Parse ComfyUI track text into a list of ``(T_k, 2)`` point arrays."""
    check_json_footprint(text, path, NAME)  # before a second copy is made for single quotes
    try:
        doc = parse_json(text, path, NAME)
    except FormatError:
        doc = parse_json(text.replace("'", '"'), path, NAME)
    if not isinstance(doc, list) or not doc:
        raise FormatError(path, NAME, "no tracks", expected="a non-empty list of points or of tracks",
                          found=repr(doc)[:40])
    tracks = [doc] if isinstance(doc[0], dict) else doc
    return [_points(t, k, path) for k, t in enumerate(tracks)]  # type: ignore[arg-type]


def tracks_from_points(points: list[np.ndarray], size: tuple[int, int], fps: float | None, **meta: Any) -> Tracks:
    """Pad point lists to a common length (invisible tail, last position held) and build ``Tracks``."""
    T = max(len(p) for p in points)
    xy = np.empty((T, len(points), 2), dtype=np.float64)
    vis = np.zeros((T, len(points)), dtype=bool)
    for n, p in enumerate(points):
        xy[: len(p), n] = p
        xy[len(p):, n] = p[-1]
        vis[: len(p), n] = True
    if fps is None:
        fps = 24.0 if T == 121 else 16.0
    return Tracks(xy=xy, visible=vis, size=size, fps=fps, meta=meta)


def read(path: Path, size: tuple[int, int] | None = None, image: str | Path | None = None,
         fps: float | None = None) -> Tracks:
    """Read ComfyUI track JSON on a ``size`` canvas (default 832×480, or the ``image``'s size)."""
    if image is not None:
        size = image_size(image)
    points = parse_tracks(read_text(path, NAME), path)
    return tracks_from_points(points, size or DEFAULT_SIZE, fps, source_format=NAME)


def to_points(tracks: Tracks, integers: bool = False) -> list[list[dict[str, float]]]:
    """``Tracks`` → ComfyUI point lists (trailing invisible frames dropped per track)."""
    out = []
    hidden_inside = False
    for n in range(tracks.num_tracks):
        vis = tracks.visible[:, n]
        last = int(np.nonzero(vis)[0][-1]) + 1 if vis.any() else 0
        hidden_inside |= bool((~vis[:last]).any())
        pts = tracks.xy[:last, n].astype(np.float64)
        if integers:
            out.append([{"x": round(x), "y": round(y)} for x, y in pts])
        else:
            out.append([{"x": float(x), "y": float(y)} for x, y in pts])
    if hidden_inside:
        warnings.warn("ComfyUI track JSON has no visibility: points hidden before a track's last visible frame "
                      "are written as visible", FormatWarning, stacklevel=3)
    if any(not t for t in out):
        raise FormatError(None, NAME, "a track is never visible and cannot be written", found="an empty track")
    return out


def write(tracks: Tracks, path: Path, integers: bool = False) -> None:
    """Write ``Tracks`` as a list of tracks of ``{x, y}`` (pixels of ``tracks.size``)."""
    atomic_write_text(path, dump_json(to_points(tracks, integers), indent=None))


def sniff(path: Path, head: bytes) -> bool:
    """JSON (or Python-repr) text starting with ``[{"x"`` or ``[[{"x"``."""
    return bool(_SNIFF.match(head.lstrip(b"\xef\xbb\xbf")))


FORMAT = register(Format(
    name=NAME,
    title="ComfyUI / KJNodes track JSON ([{x, y}, ...] per track)",
    kind="tracks",
    extensions=(".json",),
    sniff=sniff,
    read=read,
    write=write,
    writes=(Tracks,),
    hints=("size", "image", "fps"),
    notes="Canvas not stored (default 832×480); no visibility; 121 points = 24 fps, else 16 fps.",
    options={"integers": "round to whole pixels as KJNodes' Spline Editor does"},
))
