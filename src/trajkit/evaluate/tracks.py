"""Track adherence: how closely a video's measured tracks follow the requested ones.

Conventions (TAP-Vid, Doersch et al. 2022, and its evaluation code ``tapnet/evaluation_datasets.py``):

* ``requested`` plays the ground truth, ``measured`` the prediction; both :class:`Tracks` on the same canvas with the
  same frame count (the measured one is what a tracker saw in the generated video).
* Position errors are counted only where the *requested* point is visible, and never at a track's query frame
  (where the tracker was told the answer): ``query_frames (N,)``, default the first requested-visible frame.
* **EPE** (end-point error): Euclidean distance in canvas pixels; also as % of the canvas diagonal.
* **δ-accuracy** ``<δ^x``: the fraction of evaluated points within δ px, for δ in ``thresholds``
  (TAP-Vid: 1, 2, 4, 8, 16 px on 256×256 video); ``delta_avg`` is their mean. Pass ``resolution=(256, 256)`` to
  rescale both track sets first and get figures comparable with published TAP-Vid numbers.
* **Occlusion accuracy** (OA): the fraction of evaluated frames (all but the query frame) where the measured
  visibility equals the requested visibility.
* **Average Jaccard** (AJ): per threshold, TP / (TP + FN + FP) with TP = visible in both and within δ,
  FN = requested-visible but measured hidden or farther than δ, FP = measured visible but requested hidden, or
  farther than δ; averaged over thresholds.

Per-frame and per-track arrays use ``NaN`` where nothing was evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import TrajkitError
from ..core.tracks import Tracks

THRESHOLDS = (1.0, 2.0, 4.0, 8.0, 16.0)


def _pair(requested: Tracks, measured: Tracks, resolution: tuple[int, int] | None) -> tuple[Tracks, Tracks]:
    if requested.xy.shape != measured.xy.shape:
        raise TrajkitError(f"track metrics: requested tracks are {requested.xy.shape[:2]} (frames, tracks) but the "
                           f"measured ones are {measured.xy.shape[:2]}")
    if requested.size is None or measured.size is None:
        raise TrajkitError("track metrics: both track sets need a canvas size")
    if tuple(requested.size) != tuple(measured.size):
        measured = measured.rescale(requested.size)
    if resolution is not None:
        requested, measured = requested.rescale(resolution), measured.rescale(resolution)
    return requested, measured


def evaluated_mask(requested: Tracks, query_frames: np.ndarray | None = None) -> np.ndarray:
    """``(T, N)`` bool: frames whose position error counts (requested visible, not the query frame)."""
    vis = np.asarray(requested.visible)
    q = vis.argmax(axis=0) if query_frames is None else np.asarray(query_frames, dtype=int)
    mask = vis.copy()
    mask[q, np.arange(vis.shape[1])] = False
    return mask


def endpoint_errors(requested: Tracks, measured: Tracks, resolution: tuple[int, int] | None = None) -> np.ndarray:
    """``(T, N)`` Euclidean distance in pixels between requested and measured positions (every frame)."""
    requested, measured = _pair(requested, measured, resolution)
    return np.linalg.norm(np.asarray(measured.xy, np.float64) - np.asarray(requested.xy, np.float64), axis=-1)


def _masked_mean(values: np.ndarray, mask: np.ndarray, axis: int) -> np.ndarray:
    count = mask.sum(axis=axis)
    total = np.where(mask, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def track_metrics(requested: Tracks, measured: Tracks, *, query_frames: Sequence[int] | np.ndarray | None = None,
                  thresholds: Sequence[float] = THRESHOLDS,
                  resolution: tuple[int, int] | None = None) -> dict[str, Any]:
    """All track-adherence figures (see the module docstring), JSON-serialisable.

    Keys: ``epe_px`` (mean), ``epe_median_px``, ``epe_pct_diagonal``, ``delta`` ({"<1": …}), ``delta_avg``,
    ``occlusion_accuracy``, ``average_jaccard``, ``evaluated_points``, and the arrays ``epe_per_frame`` (T),
    ``epe_per_track`` (N), ``epe_median_per_frame`` (T), ``delta_avg_per_frame`` (T), ``delta_avg_per_track``
    (N), with ``None`` for NaN.
    """
    requested, measured = _pair(requested, measured, resolution)
    err = endpoint_errors(requested, measured)
    mask = evaluated_mask(requested, query_frames)
    if not mask.any():
        raise TrajkitError("track metrics: no requested point is visible after its query frame; nothing to compare")
    w, h = requested.size  # type: ignore[misc]
    diagonal = float(np.hypot(w, h))
    req_vis, mea_vis = np.asarray(requested.visible), np.asarray(measured.visible)
    within = {d: (err < d) for d in thresholds}
    frac = np.mean([within[d] for d in thresholds], axis=0)  # (T, N): mean over thresholds of "within δ"
    q = req_vis.argmax(axis=0) if query_frames is None else np.asarray(query_frames, dtype=int)
    not_query = np.ones_like(req_vis)
    not_query[q, np.arange(req_vis.shape[1])] = False
    jaccard = []
    for d in thresholds:
        tp = (req_vis & mea_vis & within[d] & not_query).sum()
        fn = (req_vis & ~(mea_vis & within[d]) & not_query).sum()
        fp = (mea_vis & (~req_vis | ~within[d]) & not_query).sum()
        jaccard.append(tp / max(tp + fn + fp, 1))
    errs = err[mask]
    return {
        "epe_px": float(errs.mean()),
        "epe_median_px": float(np.median(errs)),
        "epe_pct_diagonal": float(100.0 * errs.mean() / diagonal),
        "delta": {f"<{d:g}": float(within[d][mask].mean()) for d in thresholds},
        "delta_avg": float(frac[mask].mean()),
        "occlusion_accuracy": float((req_vis == mea_vis)[not_query].mean()),
        "average_jaccard": float(np.mean(jaccard)),
        "evaluated_points": int(mask.sum()),
        "resolution": list(resolution or requested.size),  # type: ignore[arg-type]
        "epe_per_frame": _listed(_masked_mean(err, mask, 1)),
        "epe_median_per_frame": _listed(_masked_median(err, mask)),
        "epe_per_track": _listed(_masked_mean(err, mask, 0)),
        "delta_avg_per_frame": _listed(_masked_mean(frac, mask, 1)),
        "delta_avg_per_track": _listed(_masked_mean(frac, mask, 0)),
    }


def _masked_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rows = np.where(mask, values, np.nan)
    out = np.full(len(rows), np.nan)
    seen = mask.any(axis=1)
    out[seen] = np.nanmedian(rows[seen], axis=1)
    return out


def _listed(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 4) for v in values]
