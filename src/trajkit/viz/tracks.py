"""Tracks drawn on images and videos.

* :func:`draw_tracks` — ATI's still style: each track a polyline whose colour runs green → red over time,
  a dot at its start and an arrowhead at its end; line widths and marker sizes scale with the image
  (not fixed pixels), so a 4K photo and a 480p frame look alike.
* :func:`overlay_tracks` — ATI's video style: fading trails of the last ``retain`` positions, newest
  largest and most opaque, one colour per track. Rendered by stamping precomputed discs for all trail
  points of a frame at once (numpy), not one ``cv2.circle`` call per point per frame.

Images are ``(H, W, 3)`` uint8 RGB; tracks must be on the image's canvas.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import ValidationError
from ..core.tracks import Tracks

#: Distinct track colours (RGB), cycled.
PALETTE = np.array([
    [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
    [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255], [170, 110, 40],
], dtype=np.float64)


def scale_for(size: tuple[int, int]) -> float:
    """Drawing scale: 1.0 for a 480-pixel short side."""
    return min(size) / 480.0


def draw_tracks(image: np.ndarray, tracks: Tracks, *, width: float | None = None, dim: float = 0.25) -> np.ndarray:
    """Tracks on a still image (ATI style). ``dim`` darkens the image so the tracks read clearly."""
    import cv2

    w, h = tracks.check_image(image, where="viz")
    s = scale_for((w, h))
    thick = max(1, round((width if width is not None else 3.0) * s))
    out = (np.asarray(image, dtype=np.float64) * (1 - dim)).astype(np.uint8)
    shift = 4  # sub-pixel drawing precision (1/16 px)
    T = tracks.num_frames
    for n in range(tracks.num_tracks):
        pts = tracks.xy[:, n].astype(np.float64)
        vis = tracks.visible[:, n]
        for t in range(T - 1):
            if vis[t] and vis[t + 1]:
                f = t / max(T - 2, 1)
                colour = (255 * f, 255 * (1 - f), 0)  # green → red
                a = tuple(int(v) for v in np.round(pts[t] * (1 << shift)))
                b = tuple(int(v) for v in np.round(pts[t + 1] * (1 << shift)))
                cv2.line(out, a, b, colour, thick, cv2.LINE_AA, shift)
        idx = np.nonzero(vis)[0]
        if idx.size == 0:
            continue
        start = tuple(int(v) for v in np.round(pts[idx[0]] * (1 << shift)))
        cv2.circle(out, start, max(2, round(5 * s)) << shift, (0, 255, 0), -1, cv2.LINE_AA, shift)
        if idx.size > 1:
            back = idx[max(0, len(idx) - 1 - max(2, T // 20))]
            tail, tip = pts[back], pts[idx[-1]]
            if np.linalg.norm(tip - tail) > 1e-6:
                cv2.arrowedLine(out, tuple(int(v) for v in np.round(tail)), tuple(int(v) for v in np.round(tip)),
                                (255, 0, 0), thick, cv2.LINE_AA, 0, tipLength=min(1.0, 12 * s /
                                                                               max(np.linalg.norm(tip - tail), 1)))
    return out


def _disc_offsets(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(r, r, indexing="ij")
    keep = dx * dx + dy * dy <= radius * radius
    return np.stack([dy[keep], dx[keep]], axis=-1)


def overlay_tracks(frames: np.ndarray, tracks: Tracks, *, retain: int = 12, min_radius: float = 1.0,
                   max_radius: float = 6.0) -> np.ndarray:
    """Fading trails of the tracks over video ``frames (T, H, W, 3)`` uint8 (same T as the tracks).

    Radii scale with the image (given for a 480-pixel short side). Returns new frames.
    """
    video = np.asarray(frames)
    if video.ndim != 4 or video.shape[0] != tracks.num_frames:
        raise ValidationError("frames", f"({tracks.num_frames}, H, W, 3)", str(video.shape), where="overlay_tracks")
    w, h = tracks.check_image(video[0], where="viz")
    s = scale_for((w, h))
    radii = np.round(np.linspace(min_radius, max_radius, retain) * s).astype(int).clip(1)  # oldest → newest
    alphas = np.linspace(0.25, 1.0, retain)
    discs = {int(r): _disc_offsets(int(r)) for r in np.unique(radii)}
    colours = PALETTE[np.arange(tracks.num_tracks) % len(PALETTE)]
    xy = np.round(tracks.xy).astype(np.int64)
    out = video.copy()
    for t in range(tracks.num_frames):
        ages = np.arange(max(0, t - retain + 1), t + 1)  # oldest first
        idx_all, prio_all, col_all, alpha_all = [], [], [], []
        for k, src in enumerate(ages):
            slot = retain - len(ages) + k
            live = np.nonzero(tracks.visible[src] & tracks.visible[t])[0]
            if live.size == 0:
                continue
            off = discs[int(radii[slot])]
            py = xy[src, live, 1][:, None] + off[None, :, 0]
            px = xy[src, live, 0][:, None] + off[None, :, 1]
            ok = (py >= 0) & (py < h) & (px >= 0) & (px < w)
            idx_all.append((py * w + px)[ok])
            prio_all.append(np.full(ok.sum(), slot))
            col_all.append(np.repeat(colours[live], off.shape[0], axis=0)[ok.ravel()])
            alpha_all.append(np.full(ok.sum(), alphas[slot]))
        if not idx_all:
            continue
        idx = np.concatenate(idx_all)
        prio = np.concatenate(prio_all)
        best = np.full(h * w, -1)
        np.maximum.at(best, idx, prio)  # the newest stamp wins each pixel
        win = best[idx] == prio
        idx, col, alpha = idx[win], np.concatenate(col_all)[win], np.concatenate(alpha_all)[win]
        flat = out[t].reshape(-1, 3).astype(np.float64)
        flat[idx] = flat[idx] * (1 - alpha[:, None]) + col * alpha[:, None]
        out[t] = np.clip(flat, 0, 255).astype(np.uint8).reshape(h, w, 3)
    return out
