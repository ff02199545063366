"""Which pixels a track moves, and what is behind them.

* :func:`track_motion` — a position for every track at every frame. Where a track is hidden its stored
  position is not trusted (ATI writes (0, 0) there): gaps between visible frames are interpolated linearly,
  and after its last visible frame a track coasts on with its last velocity, decaying by ``coast`` per frame,
  so a region that leaves the canvas or goes out of sight keeps going instead of snapping back.
* :func:`object_mask` — the first-frame region the moving tracks carry: GrabCut (Rother, Kolmogorov & Blake,
  "GrabCut: interactive foreground extraction using iterated graph cuts", SIGGRAPH 2004; OpenCV's
  implementation) seeded with the tracks — sure foreground right at each moving track, probable foreground
  within ``radius``, probable background out to ``3·radius`` and sure background beyond it and at every static
  track (anchors pin their surroundings). It runs on a copy downscaled to ≤ ``SEGMENT_SIDE`` px; only the
  connected pieces that hold a moving track are kept. When the seed discs already cover most of the canvas the
  tracks describe the whole picture (a pan, a grid): everything is foreground.
* :func:`background_plate` — the first frame with the region removed and inpainted, i.e. what a moved object
  uncovers.
"""

from __future__ import annotations

import numpy as np

SEGMENT_SIDE = 416
WHOLE_PICTURE = 0.8


def track_motion(xy: np.ndarray, visible: np.ndarray, coast: float = 0.9) -> np.ndarray:
    """``(T, N, 2)`` positions with hidden frames filled (see the module docstring); tracks never visible keep
    their stored positions."""
    out = np.asarray(xy, dtype=np.float64).copy()
    frames = np.arange(out.shape[0])
    for n in range(out.shape[1]):
        seen = np.flatnonzero(visible[:, n])
        if len(seen) == 0 or len(seen) == len(frames):
            continue
        first, last = seen[0], seen[-1]
        for c in range(2):
            out[first:last + 1, n, c] = np.interp(frames[first:last + 1], seen, out[seen, n, c])
        out[:first, n] = out[first, n]
        if last + 1 < len(frames):
            recent = seen[-min(len(seen), 4):]
            velocity = ((out[recent[-1], n] - out[recent[0], n]) / max(recent[-1] - recent[0], 1)
                        if len(recent) > 1 else np.zeros(2))
            steps = np.arange(1, len(frames) - last)
            travelled = np.cumsum(coast ** (steps - 1))[:, None] * velocity[None]
            out[last + 1:, n] = out[last, n] + travelled
    return out


def discs(shape: tuple[int, int], centres: np.ndarray, radius: float) -> np.ndarray:
    """``(H, W)`` bool: filled discs of ``radius`` px around ``centres (n, 2)`` (array coords)."""
    import cv2

    mask = np.zeros(shape, np.uint8)
    for x, y in centres:
        if np.isfinite(x) and np.isfinite(y) and abs(x) < 1e6 and abs(y) < 1e6:
            cv2.circle(mask, (round(x), round(y)), max(1, round(radius)), 1, -1)
    return mask.astype(bool)


def object_mask(image: np.ndarray, moving: np.ndarray, anchors: np.ndarray, radius: float,
                iterations: int = 3) -> np.ndarray:
    """``(H, W)`` bool: the pixels the tracks starting at ``moving (n, 2)`` carry (array coords; see above)."""
    import cv2

    h, w = image.shape[:2]
    if len(moving) == 0:
        return np.zeros((h, w), bool)
    scale = min(1.0, SEGMENT_SIDE / max(h, w))
    sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else image
    mov, anc, r = moving * scale, anchors * scale, radius * scale
    probable = discs((sh, sw), mov, r)
    if probable.mean() >= WHOLE_PICTURE:
        return np.ones((h, w), bool)
    mask = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    mask[discs((sh, sw), mov, 3 * r)] = cv2.GC_PR_BGD
    mask[probable] = cv2.GC_PR_FGD
    core = discs((sh, sw), mov, max(1.5, 0.2 * r))
    mask[discs((sh, sw), anc, max(1.5, 0.2 * r)) & ~core] = cv2.GC_BGD
    mask[core] = cv2.GC_FGD
    if (mask == cv2.GC_BGD).any():
        bgd, fgd = np.zeros((1, 65)), np.zeros((1, 65))
        cv2.grabCut(np.ascontiguousarray(small[..., ::-1]), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    # Thin threads (an edge line that matched the object's colours) are not part of a solid object.
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    count, labels = cv2.connectedComponents(fg, connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[core & (fg > 0)])] = True
    keep[0] = False
    fg = keep[labels].astype(np.uint8)
    fg[core] = 1  # the seeds themselves always move
    if scale < 1:
        fg = cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    # Take the anti-aliased rim along: left behind, it would draw the object's outline at its old place.
    fg = cv2.dilate(fg, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    return fg.astype(bool)


def background_plate(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """``image`` with ``region`` inpainted (what the region hides, guessed from around it)."""
    from .fill import inpaint

    return inpaint(image, region)
