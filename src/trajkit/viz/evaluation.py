"""Pictures of an evaluation: requested vs measured tracks on the video, error over time, cameras side by side.

* :func:`compare_tracks_video` — each frame with every requested point (green ring) and where the tracker found it
  (filled dot: white within ``tolerance`` px, red beyond; hollow grey when the tracker says hidden), joined by a line.
* :func:`error_plot` — end-point error over time, one colour per track group (median solid, mean dotted), with
  the δ thresholds as a scale.
* :func:`camera_comparison` — camera centres of the requested and the estimated path in three views (front, top,
  side; OpenGL display axes as :func:`trajkit.viz.plots.camera_three_view`), relative to their first frames, the
  estimate scaled to the request's extent (its own scale is unknown).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.camera import CameraPath, invert_rigid
from ..core.conventions import opencv_to_opengl
from ..core.tracks import Tracks
from ..formats._io import atomic_write_bytes
from .plots import VIEWS, _figure_png
from .tracks import scale_for


def compare_tracks_video(frames: np.ndarray, requested: Tracks, measured: Tracks,
                         tolerance: float = 4.0) -> np.ndarray:
    """Frames ``(T, H, W, 3)`` uint8 with requested (ring) and measured (dot) positions drawn (see module doc)."""
    import cv2

    out = np.array(frames, copy=True)
    h, w = out.shape[1:3]
    s = scale_for((w, h))
    ring, dot, line = max(3, round(5 * s)), max(2, round(3 * s)), max(1, round(s))
    shift = 4  # sub-pixel drawing: coordinates in 1/16 px
    err = np.linalg.norm(measured.xy - requested.xy, axis=-1)
    for t in range(len(out)):
        img = out[t]
        for n in np.flatnonzero(requested.visible[t] | measured.visible[t]):
            p = tuple(int(v) for v in np.round((requested.xy[t, n] - 0.5) * 16))
            q = tuple(int(v) for v in np.round((measured.xy[t, n] - 0.5) * 16))
            if requested.visible[t, n]:
                cv2.circle(img, p, ring << shift, (40, 220, 60), line, cv2.LINE_AA, shift)
            if measured.visible[t, n]:
                good = err[t, n] <= tolerance
                colour = (255, 255, 255) if good else (235, 40, 40)
                if requested.visible[t, n] and not good:
                    cv2.line(img, p, q, colour, line, cv2.LINE_AA, shift)
                cv2.circle(img, q, dot << shift, colour, -1, cv2.LINE_AA, shift)
            else:
                cv2.circle(img, q, dot << shift, (150, 150, 150), line, cv2.LINE_AA, shift)
    return out


def error_plot(series: dict[str, list[float | None]], fps: float, path: str | os.PathLike[str] | None = None,
               thresholds: tuple[float, ...] = (1, 2, 4, 8, 16)) -> bytes:
    """PNG of end-point error (px) per frame for each named series (``None`` = nothing measured that frame)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    top = 1.0
    colours: dict[str, str] = {}
    for name, values in series.items():
        y = np.array([np.nan if v is None else v for v in values], dtype=float)
        group = name.rsplit(" (", 1)[0]
        colour = colours.setdefault(group, f"C{len(colours) % 10}")
        style = ":" if name.endswith("(mean)") else "-"  # a mean beside its median: dotted, same colour
        ax.plot(np.arange(len(y)) / fps, y, style, color=colour, label=name, linewidth=1.4)
        if np.isfinite(y).any():
            top = max(top, float(np.nanmax(y)))
    for d in thresholds:
        if d <= top * 1.05:
            ax.axhline(d, color="#bbb", linewidth=0.6, linestyle=":")
            ax.annotate(f"δ={d:g}", (0, d), fontsize=6, color="#888", xytext=(2, 1), textcoords="offset points")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("end-point error (px)")
    ax.set_ylim(0, top * 1.1)
    ax.grid(alpha=0.2)
    ax.legend(fontsize=7, loc="upper left")
    return _finish(fig, path)


def _finish(fig: object, path: str | os.PathLike[str] | None) -> bytes:
    """PNG bytes of a finished figure (written to ``path`` when given)."""
    fig.tight_layout()  # type: ignore[attr-defined]
    png = _figure_png(fig)  # type: ignore[arg-type]
    if path is not None:
        atomic_write_bytes(Path(path), png)
    return png


def _centres(camera: CameraPath) -> np.ndarray:
    gl = opencv_to_opengl(camera.c2w)
    return (invert_rigid(gl[0]) @ gl)[:, :3, 3]


def camera_comparison(requested: CameraPath, estimated: CameraPath,
                      path: str | os.PathLike[str] | None = None) -> bytes:
    """PNG: requested (blue) and estimated (orange, scaled to the request's extent) camera centres, three views,
    with a short viewing-direction tick every few frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    req, est = _centres(requested), _centres(estimated)
    extent_req = float(np.linalg.norm(req - req[0], axis=1).max())
    extent_est = float(np.linalg.norm(est - est[0], axis=1).max())
    if extent_est > 1e-9:
        est = est * (extent_req / extent_est if extent_req > 1e-9 else 1.0 / extent_est)
    rho = 1.15 * max(float(np.abs(np.concatenate([req, est])).max()), 1e-3)
    fig = plt.figure(figsize=(10.2, 3.6))
    for k, (name, elev, azim) in enumerate(VIEWS):
        ax = fig.add_subplot(1, 3, k + 1, projection="3d")
        for cam, centres, colour, label in ((requested, req, "#1f77b4", "requested"),
                                            (estimated, est, "#ff7f0e", "estimated")):
            ax.plot(centres[:, 0], centres[:, 1], centres[:, 2], color=colour, linewidth=1.6, label=label)
            gl = opencv_to_opengl(cam.c2w)
            rel = invert_rigid(gl[0]) @ gl
            step = max(1, len(rel) // 8)
            for i in range(0, len(rel), step):
                d = -rel[i, :3, 2] * rho * 0.15  # the camera looks down its −z (OpenGL)
                c = centres[i]
                ax.plot([c[0], c[0] + d[0]], [c[1], c[1] + d[1]], [c[2], c[2] + d[2]], color=colour, linewidth=0.8)
        ax.set_xlim(-rho, rho)
        ax.set_ylim(-rho, rho)
        ax.set_zlim(-rho, rho)
        ax.set_box_aspect((1, 1, 1))
        ax.view_init(elev=elev, azim=azim)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=6)
        if k == 0:
            ax.legend(fontsize=7, loc="upper left")
    return _finish(fig, path)
