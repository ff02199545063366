"""Camera estimation from a video: ``(T, H, W, 3)`` uint8 RGB frames → :class:`~trajkit.core.camera.CameraPath`.

Methods:

* ``"colmap"`` — structure from motion with pycolmap (SIFT, sequential matching, global mapping); see :mod:`.sfm`.
* ``"essential"`` — tracked corners, two-view geometry against keyframes and PnP, with pure rotation detected;
  see :mod:`.two_view`. Fast and needs no pycolmap; needs ``K`` (without one it assumes a 60° horizontal field of
  view, or, for a rotation-only video, calibrates the focal length from the rotation itself).
* ``"auto"`` — the essential method first (a second or two): when it finds the camera only rotates (no frame shows
  parallax) SfM cannot triangulate, so its answer stands. Otherwise ``"colmap"``, checked against the essential
  method's tracked corners (:func:`.two_view.track_residual`, the median reprojection error of the tracks
  triangulated through each path): COLMAP's path is kept unless it explains them clearly worse
  (:data:`AUTO_MARGIN`) — which is how a reconstruction caught in a planar scene's wrong twin shows itself (seen
  on the demo: 1.45 px against 0.06 px). The essential answer is used then, and when SfM fails or pycolmap is
  missing; ``meta["fallback_from"]`` says why and ``meta["track_residual_px"]`` gives both scores.

The result (every method): ``c2w`` relative to the first frame (``c2w[0] = I``), OpenCV camera axes (x right,
y down, z forward); ``metric=False``. **Unit of translation:** the path is scaled so that the largest distance of
a camera centre from the first one is 1 (as CamI2V normalises paths before TransErr; GenDoP's normalisation); a
camera that never moves keeps zero translations. ``K`` is the given one (kept fixed), else the estimate (one focal
shared by all frames, square pixels, principal point at the centre). ``meta`` records the method and its figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.camera import CameraPath, intrinsics_matrix
from ..core.errors import TrajkitError
from .video import check_video

METHODS = ("auto", "colmap", "essential")
#: Field of view the essential method assumes when neither ``K`` nor a rotation-only video gives the focal.
DEFAULT_HFOV = 60.0
#: ``auto`` keeps COLMAP's path unless its track residual exceeds ``a × essential's + b`` px.
AUTO_MARGIN = (1.25, 0.05)
HINT = "give a video with visible texture, or pass --method essential / a known K"


def _check_K(K: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    if K is None:
        return None
    arr = np.asarray(K, dtype=np.float64)
    if arr.shape != (3, 3) or not np.isfinite(arr).all():
        raise TrajkitError(f"K: expected a finite 3×3 intrinsics matrix in pixels of the video, got shape {arr.shape}")
    if arr[0, 0] <= 0 or arr[1, 1] <= 0 or np.abs(arr[2] - [0, 0, 1]).max() > 1e-9:
        raise TrajkitError("K: expected positive focal lengths and a last row [0, 0, 1], got "
                           f"fx={arr[0, 0]:g}, fy={arr[1, 1]:g}, last row {arr[2].tolist()}")
    w, h = size
    if not (0 < arr[0, 2] < w and 0 < arr[1, 2] < h):
        raise TrajkitError(f"K: principal point ({arr[0, 2]:g}, {arr[1, 2]:g}) lies outside the {w}×{h} video; "
                           "give K in pixels of the video")
    return arr


def _rotation_focal(video: np.ndarray, size: tuple[int, int]) -> float | None:
    """Focal (px) that best explains the first keyframe segment of a rotation-only clip by ``x_t ~ K R K⁻¹ x_0``."""
    from scipy.optimize import minimize_scalar

    from . import two_view as tv

    prev = tv._gray(video[0])
    pts = tv._detect(prev, np.zeros((0, 2)), tv.MAX_CORNERS)
    if len(pts) < 20:
        return None
    cur, alive = pts.copy(), np.ones(len(pts), bool)
    for frame in video[1:]:
        gray = tv._gray(frame)
        nxt, ok = tv._track(prev, gray, cur)
        if (alive & ok).sum() < max(tv.MIN_TRACKS, tv.KEEP * len(pts)):
            break
        alive &= ok
        cur, prev = np.where(alive[:, None], nxt, cur), gray
    w, h = size

    def residual(log_f: float) -> float:
        f = float(np.exp(log_f))
        return tv.rotation_fit(intrinsics_matrix(f, f, w / 2 - 0.5, h / 2 - 0.5), pts[alive], cur[alive])[1]

    span = np.log(max(w, h))
    best = minimize_scalar(residual, bounds=(span + np.log(0.2), span + np.log(5.0)), method="bounded",
                           options={"xatol": 1e-4})
    return float(np.exp(best.x))


def _essential(video: np.ndarray, K: np.ndarray | None, size: tuple[int, int],
               progress: Callable[[str, int, int], None] | None) -> tuple[np.ndarray, np.ndarray, dict]:
    """The two-view method; without ``K`` the focal is calibrated if the clip only rotates, else assumed."""
    from .two_view import estimate_two_view

    w, h = size
    if K is not None:
        c2w, info = estimate_two_view(video, K, progress)
        return c2w, K, {**info, "focal": "given"}
    T = len(video)
    f = _rotation_focal(video, size)
    if f is not None:
        K_rot = intrinsics_matrix(f, f, w / 2, h / 2)
        c2w, info = estimate_two_view(video, K_rot, progress)
        if info["rotation_only_frames"] == T - 1:
            return c2w, K_rot, {**info, "focal": "calibrated from the rotation"}
    f = 0.5 * w / np.tan(np.radians(DEFAULT_HFOV) / 2)
    K_def = intrinsics_matrix(f, f, w / 2, h / 2)
    c2w, info = estimate_two_view(video, K_def, progress)
    return c2w, K_def, {**info, "focal": f"assumed ({DEFAULT_HFOV:g}° horizontal field of view)"}


def estimate_camera(video: np.ndarray, *, fps: float = 16.0, K: np.ndarray | None = None, method: str = "auto",
                    progress: Callable[[str, int, int], None] | None = None,
                    workdir: str | Path | None = None) -> CameraPath:
    """Estimate the camera path of ``video`` (uint8 ``(T, H, W, 3)`` RGB); see the module docstring.

    ``K`` ``(3, 3)`` in pixels of the video is kept fixed; without it the focal is estimated. ``progress(stage,
    done, total)`` is called with stages ``"features"``, ``"matching"`` (colmap only) and ``"mapping"``.
    ``workdir`` keeps COLMAP's frames and database (default: a temporary folder, removed). Raises
    :class:`TrajkitError` for a bad video or ``K``, and when no camera can be recovered.
    """
    video = check_video(video)
    if method not in METHODS:
        raise TrajkitError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if not (np.isfinite(fps) and fps > 0):
        raise TrajkitError(f"fps: expected a positive frame rate, got {fps!r}")
    T, H, W = video.shape[:3]
    size = (W, H)
    K = _check_K(K, size)
    start = time.perf_counter()
    meta: dict[str, Any] = {"frames": T}
    failures: list[str] = []
    ess = chosen = None
    if method in ("auto", "essential"):
        try:
            ess = _essential(video, K, size, progress)
        except TrajkitError as exc:
            if method == "essential":
                raise TrajkitError(f"no features matched: {exc}; {HINT}") from exc
            failures.append(f"essential: {exc}")
    if method == "auto" and ess is not None and ess[2]["rotation_only_frames"] == T - 1:
        meta["auto"] = "no parallax in any frame (the camera only rotates): SfM cannot triangulate; used essential"
    elif method in ("auto", "colmap"):
        try:
            from .sfm import estimate_sfm

            chosen = estimate_sfm(video, K, workdir, progress)
        except TrajkitError as exc:
            failures.append(f"colmap: {exc}")
            if ess is None:
                raise TrajkitError(f"no features matched / SfM failed: {'; '.join(failures)}; {HINT}") from exc
            meta["fallback_from"] = str(exc)
        if chosen is not None and ess is not None:
            from .two_view import track_residual

            scores = {"colmap": track_residual(chosen[1], chosen[0], ess[2]["tracks"]),
                      "essential": track_residual(ess[1], ess[0], ess[2]["tracks"])}
            meta["track_residual_px"] = {k: round(v, 4) for k, v in scores.items()}
            if scores["colmap"] > AUTO_MARGIN[0] * scores["essential"] + AUTO_MARGIN[1]:
                meta["fallback_from"] = "colmap's path explains the tracked corners clearly worse than essential's"
                chosen = None
    if chosen is not None:
        c2w, K_out, info = chosen
        meta.update(method="colmap", **info)
    else:
        assert ess is not None
        c2w, K_out, info = ess
        meta.update(method="essential", registered_frames=T, focal=info["focal"],
                    rotation_only_frames=info["rotation_only_frames"], scale_breaks=info["scale_breaks"],
                    segments=info["segments"])
    path = CameraPath(c2w=c2w, K=K_out if K is None else K, size=size, fps=fps, metric=False)
    path, _scale = path.relative_to_first().normalise_scale()
    meta.update(unit="largest camera-centre distance from frame 0 = 1" if _moves(path) else "no translation",
                K_estimated=K is None, seconds=round(time.perf_counter() - start, 3))
    if K is None:
        meta["focal_px"] = float(K_out[0, 0])
    return path.replace(meta=meta)


def _moves(path: CameraPath) -> bool:
    return bool(np.linalg.norm(path.centers - path.centers[0], axis=1).max() > 1e-12)
