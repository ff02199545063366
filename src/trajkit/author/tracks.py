"""Track shapes by construction: paths with a speed profile, circle zoom, static anchors, and edits (pan
layer, translate, duplicate, edit with falloff, start/end frames). Everything returns :class:`~trajkit.Tracks`.

Conventions are the core type's: pixels of a ``size = (W, H)`` canvas, origin top-left, y down. Timing
is explicit — ``frames`` at ``fps`` (Wan's 81 @ 16 by default) — and motion along a path follows a speed
profile (see :func:`trajkit.author.camera.ease`), never the speed at which it was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.errors import ValidationError
from ..core.tracks import Tracks
from .camera import Easing, ease

DEFAULT_FRAMES = 81
DEFAULT_FPS = 16.0
DEFAULT_SIZE = (832, 480)
#: ATI editor's edit falloff: a Gaussian over point indices with a 10-frame FWHM.
EDIT_SIGMA = 5.0 / np.sqrt(2.0 * np.log(2.0))


def _points(points: Sequence[Sequence[float]] | np.ndarray, what: str) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0 or not np.isfinite(pts).all():
        raise ValidationError(what, "finite (x, y) pixel pairs", f"shape {pts.shape}", where="author.tracks")
    return pts


def catmull_rom(points: np.ndarray, samples_per_segment: int = 64, closed: bool = False) -> np.ndarray:
    """Dense samples ``(M, 2)`` of a centripetal Catmull-Rom spline through ``points`` (passes through each)."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) == 1:
        return pts.copy()
    ext = np.concatenate([pts[-1:], pts, pts[:2]]) if closed else \
        np.concatenate([2 * pts[:1] - pts[1:2], pts, 2 * pts[-1:] - pts[-2:-1]])
    segments = len(pts) if closed else len(pts) - 1
    out = []
    u = np.linspace(0, 1, samples_per_segment, endpoint=False)[:, None]
    for i in range(segments):
        p0, p1, p2, p3 = ext[i], ext[i + 1], ext[i + 2], ext[i + 3]
        d = [max(np.linalg.norm(b - a) ** 0.5, 1e-9) for a, b in ((p0, p1), (p1, p2), (p2, p3))]
        t0, t1 = 0.0, d[0]
        t2, t3 = t1 + d[1], t1 + d[1] + d[2]
        t = t1 + u * (t2 - t1)
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    out.append(pts[:1] if closed else pts[-1:])
    return np.concatenate(out)


def path_track(points: Sequence[Sequence[float]] | np.ndarray, frames: int = DEFAULT_FRAMES,
               fps: float = DEFAULT_FPS, size: tuple[int, int] = DEFAULT_SIZE, speed: Easing = "linear",
               closed: bool = False, start: int = 0, end: int | None = None) -> Tracks:
    """One track along a smooth curve through control ``points`` (pixels), timed by a speed profile.

    The curve is a centripetal Catmull-Rom spline; the point moves along it by arc length, so
    ``speed="linear"`` is constant speed whatever the spacing of the control points. ``start``/``end``
    (frame indices, end exclusive) confine the motion; the track is invisible outside them and holds
    its first/last position there.
    """
    pts = _points(points, "points")
    end = frames if end is None else end
    if not 0 <= start < end <= frames:
        raise ValidationError("start/end", f"0 ≤ start < end ≤ {frames}", f"{start}, {end}", where="path_track")
    curve = catmull_rom(pts, closed=closed)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
    n = end - start
    progress = ease(np.linspace(0, 1, n) if n > 1 else np.zeros(1), speed)
    target = progress * arc[-1]
    moving = np.stack([np.interp(target, arc, curve[:, 0]), np.interp(target, arc, curve[:, 1])], axis=-1)
    xy = np.empty((frames, 1, 2))
    xy[:start, 0] = moving[0]
    xy[start:end, 0] = moving
    xy[end:, 0] = moving[-1]
    visible = np.zeros((frames, 1), bool)
    visible[start:end] = True
    return Tracks(xy=xy, visible=visible, size=size, fps=fps, meta={"author": "path"})


def static_points(points: Sequence[Sequence[float]] | np.ndarray, frames: int = DEFAULT_FRAMES,
                  fps: float = DEFAULT_FPS, size: tuple[int, int] = DEFAULT_SIZE) -> Tracks:
    """Anchors that never move (ATI: they hold the background still)."""
    pts = _points(points, "points")
    xy = np.broadcast_to(pts[None], (frames, len(pts), 2))
    return Tracks(xy=xy, visible=np.ones((frames, len(pts)), bool), size=size, fps=fps, meta={"author": "static"})


def circle_zoom(center: Sequence[float], radius_start: float, radius_end: float, count: int = 4,
                frames: int = DEFAULT_FRAMES, fps: float = DEFAULT_FPS, size: tuple[int, int] = DEFAULT_SIZE,
                angle: float = 0.0, speed: Easing = "linear") -> Tracks:
    """ATI's circular camera control: ``count`` points on a circle whose radius goes from start to end.

    A growing radius reads as a zoom in, a shrinking one as a zoom out. ``angle`` (degrees) rotates the
    first point from +x (image right), the others are evenly spaced.
    """
    c = _points([center], "center")[0]
    if count < 1 or radius_start < 0 or radius_end < 0:
        raise ValidationError("circle", "count ≥ 1 and radii ≥ 0", f"{count}, {radius_start}, {radius_end}",
                              where="circle_zoom")
    r = radius_start + (radius_end - radius_start) * ease(np.linspace(0, 1, frames), speed)
    theta = np.radians(angle) + 2 * np.pi * np.arange(count) / count
    xy = c + r[:, None, None] * np.stack([np.cos(theta), np.sin(theta)], axis=-1)[None]
    return Tracks(xy=xy, visible=np.ones((frames, count), bool), size=size, fps=fps, meta={"author": "circle"})


def _indices(tracks: Tracks, indices: Sequence[int] | None) -> np.ndarray:
    idx = np.arange(tracks.num_tracks) if indices is None else np.asarray(list(indices), dtype=np.int64)
    if idx.size == 0 or (idx < 0).any() or (idx >= tracks.num_tracks).any():
        raise ValidationError("indices", f"track numbers in 0..{tracks.num_tracks - 1}", str(list(idx)),
                              where="author.tracks")
    return idx


def add_pan(tracks: Tracks, dx: float, dy: float, indices: Sequence[int] | None = None,
            speed: Easing = "linear") -> Tracks:
    """Add a global pan layer: the selected tracks drift by ``(dx, dy)`` pixels over the clip.

    With ``speed="linear"`` this is ATI's editor pan (``p[k] += k·(dx, dy)/(T − 1)``); static anchors
    become linear pans. +x is right, +y is down.
    """
    idx = _indices(tracks, indices)
    p = ease(np.linspace(0, 1, tracks.num_frames), speed)
    xy = tracks.xy.astype(np.float64)
    xy[:, idx] += p[:, None, None] * np.array([dx, dy])
    return tracks.replace(xy=xy)


def translate(tracks: Tracks, dx: float, dy: float, indices: Sequence[int] | None = None) -> Tracks:
    """Shift the selected tracks by ``(dx, dy)`` pixels at every frame."""
    idx = _indices(tracks, indices)
    xy = tracks.xy.astype(np.float64)
    xy[:, idx] += np.array([dx, dy])
    return tracks.replace(xy=xy)


def duplicate(tracks: Tracks, index: int, to: Sequence[float]) -> Tracks:
    """Append a copy of track ``index`` translated so that its first visible point lands at ``to``."""
    i = int(_indices(tracks, [index])[0])
    vis = tracks.visible[:, i]
    first = int(np.argmax(vis)) if vis.any() else 0
    offset = _points([to], "to")[0] - tracks.xy[first, i]
    copy = tracks.select([i])
    return Tracks.concatenate([tracks, translate(copy, *offset)])


def edit_with_falloff(tracks: Tracks, index: int, frame: int, delta: Sequence[float],
                      sigma: float = EDIT_SIGMA) -> Tracks:
    """Drag frame ``frame`` of track ``index`` by ``delta`` pixels; neighbours follow with a Gaussian falloff.

    Frame ``k`` moves by ``delta · exp(−½ (k − frame)² / sigma²)`` (ATI editor: FWHM 10 frames).
    """
    i = int(_indices(tracks, [index])[0])
    if not 0 <= frame < tracks.num_frames or not sigma > 0:
        raise ValidationError("frame", f"0..{tracks.num_frames - 1} with sigma > 0", f"{frame}, {sigma}",
                              where="edit_with_falloff")
    k = np.arange(tracks.num_frames)
    with np.errstate(over="ignore"):  # a tiny sigma: (k − frame) / sigma overflows to inf, exp(−inf) = 0
        weight = np.exp(-0.5 * ((k - frame) / sigma) ** 2)  # not / sigma**2, which underflows to 0 → 0/0
    xy = tracks.xy.astype(np.float64)
    xy[:, i] += weight[:, None] * np.asarray(delta, dtype=np.float64)
    return tracks.replace(xy=xy)


def set_span(tracks: Tracks, index: int, start: int, end: int | None = None) -> Tracks:
    """Make track ``index`` visible only in frames ``start:end`` (invisible outside)."""
    i = int(_indices(tracks, [index])[0])
    end = tracks.num_frames if end is None else end
    if not 0 <= start < end <= tracks.num_frames:
        raise ValidationError("start/end", f"0 ≤ start < end ≤ {tracks.num_frames}", f"{start}, {end}",
                              where="set_span")
    vis = tracks.visible.copy()
    vis[:start, i] = False
    vis[end:, i] = False
    return tracks.replace(visible=vis)
