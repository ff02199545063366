"""Query points for trackers: where and when each track starts.

A query is a row ``(t, x, y)``: a frame index and a position in canvas pixels (origin top-left, pixel ``i`` covers
``[i, i+1)``, so the centre of the top-left pixel is ``(0.5, 0.5)``), as :class:`~trajkit.core.tracks.Tracks` uses.
Queries are ``float64 (N, 3)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.errors import TrajkitError
from ..core.tracks import Tracks


def grid_queries(size: tuple[int, int], grid: tuple[int, int], frame: int = 0) -> np.ndarray:
    """A ``columns × rows`` grid of queries at ``frame``: cell centres of the canvas ``size`` (W, H), row-major."""
    cols, rows = grid
    if cols < 1 or rows < 1:
        raise TrajkitError(f"grid: expected at least 1×1 points, got {cols}×{rows}")
    w, h = size
    xs = (np.arange(cols) + 0.5) * (w / cols)
    ys = (np.arange(rows) + 0.5) * (h / rows)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([np.full(gx.size, float(frame)), gx.ravel(), gy.ravel()], axis=1)


def point_queries(points: Sequence[tuple[float, float]], frame: int = 0) -> np.ndarray:
    """Queries at the given ``(x, y)`` canvas points, all at ``frame``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return np.concatenate([np.full((len(pts), 1), float(frame)), pts], axis=1)


def tracks_queries(tracks: Tracks) -> np.ndarray:
    """One query per track: its first visible frame and position there (tracks never visible are refused)."""
    vis = np.asarray(tracks.visible)
    seen = vis.any(axis=0)
    if not seen.all():
        missing = np.flatnonzero(~seen)
        raise TrajkitError(f"tracks: {len(missing)} track(s) are never visible (e.g. #{int(missing[0])}); "
                           "there is nothing to start tracking them from")
    first = vis.argmax(axis=0)
    xy = np.asarray(tracks.xy, dtype=np.float64)[first, np.arange(tracks.num_tracks)]
    return np.concatenate([first[:, None].astype(np.float64), xy], axis=1)


def check_queries(queries: np.ndarray, frames: int, size: tuple[int, int]) -> np.ndarray:
    """``queries`` as float64 ``(N, 3)`` with whole frame indices in ``[0, frames)`` and points inside the canvas."""
    q = np.asarray(queries, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != 3 or len(q) == 0:
        raise TrajkitError(f"queries: expected rows (t, x, y) of shape (N, 3) with N ≥ 1, got shape {q.shape}")
    if not np.isfinite(q).all():
        raise TrajkitError("queries: NaN or infinite values")
    t = q[:, 0]
    bad_t = (t != np.round(t)) | (t < 0) | (t >= frames)
    if bad_t.any():
        i = int(np.flatnonzero(bad_t)[0])
        raise TrajkitError(f"queries: point #{i} starts at frame {t[i]:g}, but the video has frames 0…{frames - 1}"
                           " (is the video shorter than the tracks?)")
    w, h = size
    out = (q[:, 1] < 0) | (q[:, 1] > w) | (q[:, 2] < 0) | (q[:, 2] > h)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise TrajkitError(f"queries: point #{i} ({q[i, 1]:g}, {q[i, 2]:g}) lies outside the {w}×{h} frame; "
                           "give points in pixels of the video")
    return q
