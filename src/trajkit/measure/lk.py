"""The ``lk`` tracker: OpenCV pyramidal Lucas–Kanade (Bouguet 2000) with checks that say when a point is lost.

Each step moves every visible point from frame ``t`` to ``t+1`` with LK and back again; a point whose round trip
misses its start by more than ``fb_max`` px (the forward–backward check of Kalal et al. 2010), that leaves the frame,
or whose patch no longer looks like its template (normalised cross-correlation below ``ncc_min``) is marked
hidden. Drift is held off by the template-update rule of Matthews et al. 2004: the chained position is refined by
LK from the point's *anchor* (the frame where it was last confirmed) and the refinement is kept when it passes its
own round trip and lands within ``drift_max`` px of the chained estimate.

Re-detection: a hidden point keeps moving with the median motion of its nearest visible neighbours, and every frame
tries to find its anchor patch again near that prediction (LK from the anchor frame with the prediction as the
starting guess, checked both ways); when it succeeds the point is visible again.

Queries after frame 0 are also tracked backwards to frame 0 on the reversed video. Coordinates follow
:mod:`trajkit.measure.queries`: canvas pixels, the centre of the top-left pixel at ``(0.5, 0.5)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.errors import TrajkitError


@dataclass(frozen=True)
class LKOptions:
    """Settings of the ``lk`` tracker (defaults suit 480p video)."""

    window: int = 21  #: LK window side in pixels (odd)
    levels: int = 3  #: pyramid levels above the full image
    fb_max: float = 1.0  #: forward–backward round-trip error (px) above which a point is lost
    drift_max: float = 2.0  #: largest template correction (px) accepted
    ncc_min: float = 0.4  #: template similarity below which a point counts as hidden
    neighbours: int = 8  #: visible neighbours whose median motion carries a hidden point
    jerk_max: float = 40.0  #: largest change of a point's motion between frames, px (drawn tracks jerk ~30)

    def __post_init__(self) -> None:
        if self.window < 5 or self.window % 2 == 0:
            raise TrajkitError(f"lk: window must be an odd number ≥ 5, got {self.window}")
        if not 0 <= self.levels <= 6:
            raise TrajkitError(f"lk: levels must be 0…6, got {self.levels}")
        if min(self.fb_max, self.drift_max, self.jerk_max) <= 0 or self.neighbours < 1 \
                or not -1 <= self.ncc_min <= 1:
            raise TrajkitError("lk: fb_max, drift_max and jerk_max must be > 0, neighbours ≥ 1, ncc_min in [-1, 1]")


def track_lk(video: np.ndarray, queries: np.ndarray, *, options: LKOptions | None = None,
             progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Track ``queries (N, 3)`` rows ``(t, x, y)`` through ``video (T, H, W, 3)`` uint8.

    Returns ``xy`` float32 ``(T, N, 2)`` in canvas pixels and ``visible`` bool ``(T, N)``. Inputs are assumed
    checked (:func:`trajkit.measure.trackers.track_video` does that).
    """
    import cv2

    opts = options or LKOptions()
    grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in video])
    n_frames = len(grey)
    q = np.asarray(queries, dtype=np.float64)
    start = q[:, 0].astype(int)
    init = (q[:, 1:] - 0.5).astype(np.float32)
    back = start > 0
    steps = (n_frames - 1) + int(start[back].max(initial=0))
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], steps)

    xy, vis = _run(grey, start, init, opts, tick)
    if back.any():
        rev_xy, rev_vis = _run(grey[::-1], (n_frames - 1) - start[back], init[back], opts, tick)
        rev_xy, rev_vis = rev_xy[::-1], rev_vis[::-1]
        cols = np.flatnonzero(back)
        before = np.arange(n_frames)[:, None] < start[back][None, :]
        xy[:, cols] = np.where(before[..., None], rev_xy, xy[:, cols])
        vis[:, cols] = np.where(before, rev_vis, vis[:, cols])
    return (xy + 0.5).astype(np.float32), vis


def _run(grey: np.ndarray, start: np.ndarray, init: np.ndarray, opts: LKOptions,
         tick: Callable[[], None]) -> tuple[np.ndarray, np.ndarray]:
    """Forward pass over ``grey (T, H, W)``: tracks begin at frame ``start`` from ``init`` (array coordinates)."""
    n_frames, h, w = grey.shape
    n = len(start)
    xy = np.zeros((n_frames, n, 2), np.float32)
    vis = np.zeros((n_frames, n), bool)
    state = _State(pos=init.copy(), alive=np.zeros(n, bool), anchor=start.copy(), anchor_pos=init.copy(),
                   velocity=np.zeros_like(init))
    active = np.zeros(n, bool)
    lk = _LK(grey, opts)
    for t in range(n_frames):
        begin = start == t
        state.pos[begin], state.alive[begin], active[begin] = init[begin], True, True
        state.velocity[begin] = 0.0
        if t > 0 and active.any():
            _step(grey, t, state, active & ~begin, lk, opts, (w, h))
            tick()
        xy[t], vis[t] = state.pos, state.alive & active
        xy[t, ~active] = init[~active]
    return xy, vis


@dataclass
class _State:
    """Per point: position (array coordinates), visible now, its template (anchor frame and position there) and
    its last motion (px per frame)."""

    pos: np.ndarray
    alive: np.ndarray
    anchor: np.ndarray
    anchor_pos: np.ndarray
    velocity: np.ndarray


def _step(grey: np.ndarray, t: int, s: _State, moving: np.ndarray, lk: _LK, opts: LKOptions,
          size: tuple[int, int]) -> None:
    """Move the ``moving`` points of ``s`` from frame ``t-1`` to ``t`` in place."""
    lk.keep(t - 1, t, *np.unique(s.anchor[moving]))
    old = s.pos.copy()
    was = s.alive & moving
    seen = np.flatnonzero(was)
    chained = np.zeros(len(s.pos), bool)
    if len(seen):
        # Start from a constant-motion guess and refuse sudden jumps: on repetitive texture (bricks, tiles) LK can
        # land a whole period away and still pass its round trip and the template check.
        # A local search (one pyramid level) around the guess comes first; the full pyramid only where it fails.
        moved, ok = lk.round_trip(t - 1, t, old[seen], guess=old[seen] + s.velocity[seen], levels=1)
        if not ok.all():
            far, ok_far = lk.round_trip(t - 1, t, old[seen[~ok]])
            moved[~ok], ok[~ok] = far, ok_far
        steady = np.linalg.norm(moved - old[seen] - s.velocity[seen], axis=1) <= opts.jerk_max
        s.pos[seen] = moved
        chained[seen] = ok & steady & _inside(moved, size)
    # Drift correction against each point's template (grouped by anchor frame: usually just the query frame).
    # A correction that agrees with the chained position replaces it; otherwise the point stays visible only if
    # its patch still resembles the template, which then moves to this frame (the appearance changed slowly).
    for a in np.unique(s.anchor[chained]):
        idx = np.flatnonzero(chained & (s.anchor == a))
        refined, ok = lk.round_trip(a, t, s.anchor_pos[idx], guess=s.pos[idx])
        close = ok & (np.linalg.norm(refined - s.pos[idx], axis=1) <= opts.drift_max)
        s.pos[idx[close]] = refined[close]
        similar = lk.similarity(a, t, s.anchor_pos[idx], s.pos[idx]) >= opts.ncc_min
        chained[idx[~similar]] = False
    s.alive[moving] = chained[moving]
    found_now = np.flatnonzero(chained & was)
    s.velocity[found_now] = s.pos[found_now] - old[found_now]
    # Hidden points ride on their neighbours' motion, then try to be found again near that prediction.
    hidden = np.flatnonzero(moving & ~chained)
    if len(hidden):
        s.pos[hidden] = old[hidden] + _neighbour_motion(old, s.pos, was & chained, hidden, opts.neighbours)
        for a in np.unique(s.anchor[hidden]):
            idx = hidden[s.anchor[hidden] == a]
            found, ok = lk.round_trip(a, t, s.anchor_pos[idx], guess=s.pos[idx])
            # Found again only near the prediction: repetitive texture (tiles, bricks) matches elsewhere too.
            ok &= _inside(found, size) & (np.linalg.norm(found - s.pos[idx], axis=1) <= opts.window / 2)
            ok[ok] &= lk.similarity(a, t, s.anchor_pos[idx[ok]], found[ok]) >= opts.ncc_min
            s.pos[idx[ok]] = found[ok]
            s.alive[idx[ok]] = True


def _inside(p: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    return (p[:, 0] >= 0) & (p[:, 0] <= w - 1) & (p[:, 1] >= 0) & (p[:, 1] <= h - 1)


def _neighbour_motion(old: np.ndarray, new: np.ndarray, good: np.ndarray, which: np.ndarray, k: int) -> np.ndarray:
    """Median motion ``(len(which), 2)`` of the ``k`` nearest good points to each of ``which`` (zero if none)."""
    good_idx = np.flatnonzero(good)
    if len(good_idx) == 0:
        return np.zeros((len(which), 2), np.float32)
    from scipy.spatial import cKDTree

    k = min(k, len(good_idx))
    _, near = cKDTree(old[good_idx]).query(old[which], k=k)
    near = good_idx[np.asarray(near).reshape(len(which), k)]
    return np.median(new[near] - old[near], axis=1).astype(np.float32)


class _LK:
    """Batched pyramidal LK calls between frames of ``grey (T, H, W)``, with a round-trip check and a patch
    similarity. (OpenCV's Python binding cannot take prebuilt pyramids, so each call builds its two.)"""

    def __init__(self, grey: np.ndarray, opts: LKOptions) -> None:
        import cv2

        self.cv2 = cv2
        self.grey = grey
        self.opts = opts
        self.size = (opts.window, opts.window)
        self.criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
        self.floats: dict[int, np.ndarray] = {}

    def keep(self, *frames: int) -> None:
        """Drop cached float copies of frames not in ``frames``."""
        wanted = {int(f) for f in frames}
        for f in [f for f in self.floats if f not in wanted]:
            del self.floats[f]

    def _flow(self, a: int, b: int, p: np.ndarray, guess: np.ndarray | None,
              levels: int | None) -> tuple[np.ndarray, np.ndarray]:
        cv2 = self.cv2
        p = np.ascontiguousarray(p, np.float32).reshape(-1, 1, 2)
        if len(p) == 0:
            return np.zeros((0, 2), np.float32), np.zeros(0, bool)
        level = self.opts.levels if levels is None else min(levels, self.opts.levels)
        args = {"winSize": self.size, "maxLevel": level, "criteria": self.criteria}
        if guess is None:
            q, st, _ = cv2.calcOpticalFlowPyrLK(self.grey[a], self.grey[b], p, None, **args)
        else:
            g = np.ascontiguousarray(guess, np.float32).reshape(-1, 1, 2)
            q, st, _ = cv2.calcOpticalFlowPyrLK(self.grey[a], self.grey[b], p, g,
                                                flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **args)
        return q.reshape(-1, 2), st.reshape(-1).astype(bool)

    def round_trip(self, a: int, b: int, p: np.ndarray, guess: np.ndarray | None = None,
                   levels: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``p`` (in frame ``a``) found in frame ``b``, and whether the way back lands within
        ``fb_max`` (``levels``: fewer pyramid levels than the options' for a local search)."""
        q, ok1 = self._flow(a, b, p, guess, levels)
        r, ok2 = self._flow(b, a, q, p, levels)
        fb = np.linalg.norm(r - p.reshape(-1, 2), axis=1)
        return q, ok1 & ok2 & np.isfinite(q).all(axis=1) & (fb <= self.opts.fb_max)

    def _float(self, frame: int) -> np.ndarray:
        if frame not in self.floats:
            self.floats[frame] = self.grey[frame].astype(np.float32)
        return self.floats[frame]

    def similarity(self, a: int, b: int, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
        """Normalised cross-correlation of the window-sized patches around ``pa`` in frame ``a`` and ``pb`` in
        frame ``b``."""
        cv2 = self.cv2
        if len(pa) == 0:
            return np.zeros(0)
        half = self.opts.window // 2
        offs = np.arange(-half, half + 1, dtype=np.float32)
        ox, oy = np.meshgrid(offs, offs)

        def patches(frame: int, p: np.ndarray) -> np.ndarray:
            mx = (p[:, 0, None, None] + ox).astype(np.float32).reshape(len(p), -1)
            my = (p[:, 1, None, None] + oy).astype(np.float32).reshape(len(p), -1)
            vals = cv2.remap(self._float(frame), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            return vals - vals.mean(axis=1, keepdims=True)

        u, v = patches(a, pa), patches(b, pb)
        den = np.sqrt((u * u).sum(axis=1) * (v * v).sum(axis=1))
        flat = den < 1e-3 * u.shape[1]  # textureless patches: nothing to compare, do not call them hidden
        return np.where(flat, 1.0, (u * v).sum(axis=1) / np.maximum(den, 1e-12))
