"""Tracks drawn on images and videos.

* :func:`draw_tracks` — ATI's still style: each track a polyline whose colour runs green → red over time,
  a dot at its start and an arrowhead at its end; line widths and marker sizes scale with the image
  (not fixed pixels), so a 4K photo and a 480p frame look alike.
* :func:`overlay_tracks` — ATI's video style: fading trails of the last ``retain`` positions, newest
  largest and most opaque, one colour per track. Each frame's discs are rasterised in one vectorised pass
  (numpy), not one ``cv2.circle`` call per point per frame.

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


def _disc_offsets(radius: int, row: int) -> np.ndarray:
    """Flat offsets ``dy·row + dx`` of the pixels of a disc of ``radius`` in an image ``row`` pixels wide."""
    r = np.arange(-radius, radius + 1)
    dy, dx = np.meshgrid(r, r, indexing="ij")
    keep = dx * dx + dy * dy <= radius * radius
    return dy[keep] * row + dx[keep]


def overlay_tracks(frames: np.ndarray, tracks: Tracks, *, retain: int = 12, min_radius: float = 1.0,
                   max_radius: float = 6.0) -> np.ndarray:
    """Fading trails of the tracks over video ``frames (T, H, W, 3)`` uint8 (same T as the tracks).

    Frame ``t`` shows, for every track visible at ``t``, a disc at each of its visible positions of frames
    ``t − retain + 1 … t`` (centres rounded to pixels): radius from ``min_radius`` (oldest) to ``max_radius``
    (newest), given for a 480-pixel short side and scaled with the image; opacity 0.25 → 1; colour
    ``PALETTE[n % 12]``. Each pixel takes the newest disc covering it (the higher track index on a tie) and is
    blended once with the frame. Returns new frames.

    All discs of a frame are rasterised in one pass: each disc pixel's flat index in a padded label image
    receives the disc's priority ``slot·N + n`` through ``np.maximum.at``; the winners' blends are looked up in
    a table, touched pixels only.
    """
    video = np.asarray(frames)
    if video.ndim != 4 or video.shape[0] != tracks.num_frames:
        raise ValidationError("frames", f"({tracks.num_frames}, H, W, 3)", str(video.shape), where="overlay_tracks")
    if int(retain) != retain or retain < 1:
        raise ValidationError("retain", "an integer ≥ 1 (trail length in frames)", str(retain), where="overlay_tracks")
    w, h = tracks.check_image(video[0], where="viz")
    s = scale_for((w, h))
    radii = np.round(np.linspace(min_radius, max_radius, retain) * s).astype(int).clip(1)  # oldest → newest
    alphas = np.linspace(0.25, 1.0, retain)
    n_tracks, n_colours = tracks.num_tracks, len(PALETTE)
    # A disc whose centre lies within r_max of the image may reach into it; its pixels then stay within 2·r_max,
    # so a 2·r_max margin around the label image needs no per-pixel bounds checks.
    r_max = int(radii.max())
    pad = 2 * r_max
    row = w + 2 * pad
    x = np.round(np.clip(tracks.xy[..., 0], -pad, w - 1 + pad)).astype(np.int64)
    y = np.round(np.clip(tracks.xy[..., 1], -pad, h - 1 + pad)).astype(np.int64)
    near = (x >= -r_max) & (x <= w - 1 + r_max) & (y >= -r_max) & (y <= h - 1 + r_max)
    centre = (y + pad) * row + (x + pad)  # (T, N) flat index in the padded label image
    drawable = tracks.visible & near
    # Radii never decrease with the slot, so each radius owns a contiguous run of slots [k0, k1).
    groups = [(int(np.searchsorted(radii, r, "left")), int(np.searchsorted(radii, r, "right")), _disc_offsets(r, row))
              for r in np.unique(radii)]
    # Every possible blend, computed once:
    # blend[((slot·12 + colour)·3 + channel)·256 + v] = v·(1 − α_slot) + PALETTE[colour, channel]·α_slot,
    # and the start of each priority's block in it.
    values = np.arange(256, dtype=np.float64)
    table = (values[None, None, None, :] * (1 - alphas)[:, None, None, None]
             + PALETTE[None, :, :, None] * alphas[:, None, None, None])
    blend = np.clip(table, 0, 255).astype(np.uint8).ravel()
    slots, tracks_n = np.divmod(np.arange(retain * n_tracks), n_tracks)
    block = ((slots * n_colours + tracks_n % n_colours) * 768).astype(np.int32)
    channel = np.arange(3, dtype=np.int32) * 256
    # Padded label index → image pixel index (−1 in the margin).
    height = h + 2 * pad
    to_image = np.full((height, row), -1, np.int64)
    to_image[pad:pad + h, pad:pad + w] = np.arange(h * w).reshape(h, w)
    to_image = to_image.ravel()
    label = np.full(height * row, -1, np.int32 if retain * n_tracks < 2**31 else np.int64)
    out = video.copy()  # C-contiguous
    pixels = out.reshape(out.shape[0], h * w, 3)
    pixel = np.dtype((np.void, 3))
    for t in range(tracks.num_frames):
        first = t - retain + 1  # the frame slot 0 shows
        alive = tracks.visible[t]
        for k0, k1, offsets in groups:
            src = np.arange(max(first + k0, 0), min(first + k1, t + 1))
            if src.size == 0:
                continue
            si, ni = np.nonzero(drawable[src] & alive)
            if si.size == 0:
                continue
            priority = ((src[si] - first) * n_tracks + ni).astype(label.dtype)
            idx = centre[src[si], ni][:, None] + offsets[None, :]
            np.maximum.at(label, idx.ravel(), np.repeat(priority, offsets.size))
        touched = np.flatnonzero(label >= 0)
        if touched.size == 0:
            continue
        code = label[touched]
        label[touched] = -1  # clean for the next frame
        flat = to_image[touched]
        inside = flat >= 0
        flat, code = flat[inside], code[inside]
        frame = pixels[t]
        key = np.take(frame, flat, axis=0).astype(np.int32)
        key += block[code][:, None]
        key += channel
        # Written through a 3-byte view: one scatter of whole pixels (much faster than a row scatter).
        frame.view(pixel)[flat, 0] = np.take(blend, key).view(pixel)[:, 0]
    return out
