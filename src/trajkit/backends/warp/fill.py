"""Filling what no source pixel reaches: OpenCV inpainting (Navier–Stokes, Bertalmío et al. 2001), coarse for big holes.

Telea's method ("An image inpainting technique based on the fast marching method", J. Graphics Tools 2004)
propagates the colours around a hole inwards. Its cost grows with the hole's area, so large holes are
inpainted on a downscaled copy and only the hole pixels are taken from the upscaled result: a filled region
is a smooth continuation of its surroundings either way, and the known pixels are never touched.
"""

from __future__ import annotations

import numpy as np

#: Holes covering more than this many pixels are inpainted at a coarser scale.
FINE_LIMIT = 6000


def inpaint(image: np.ndarray, holes: np.ndarray, radius: float = 3.0) -> np.ndarray:
    """``image`` with the pixels where ``holes (H, W)`` is set filled from their surroundings.

    Works for uint8 ``(H, W, 3)`` images and float32 ``(H, W)`` maps (depth). Returns a new array; with no
    hole the input is returned as is; with nothing known (every pixel a hole) the result is flat grey.
    """
    import cv2

    count = int(np.count_nonzero(holes))
    if count == 0:
        return image
    if count == holes.size:  # nothing known to fill from: a neutral grey, not a stale picture
        return np.full_like(image, 128 if image.dtype == np.uint8 else 0)
    h, w = holes.shape
    scale = 1
    while count / (scale * scale) > FINE_LIMIT and min(h, w) // (scale * 2) >= 16:
        scale *= 2
    mask = holes.astype(np.uint8)
    if scale == 1:
        return cv2.inpaint(image, mask, radius, cv2.INPAINT_NS)
    small_size = (max(1, w // scale), max(1, h // scale))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    # A coarse pixel is a hole if any of it is: its colour would otherwise mix in what the hole hides.
    small_mask = cv2.resize(cv2.dilate(mask, np.ones((scale, scale), np.uint8)), small_size,
                            interpolation=cv2.INTER_NEAREST)
    if small_mask.all():
        out = image.copy()
        out[holes] = image[~holes].mean(axis=0).astype(image.dtype)
        return out
    filled = cv2.resize(cv2.inpaint(small, small_mask, radius, cv2.INPAINT_NS), (w, h),
                        interpolation=cv2.INTER_LINEAR)
    out = image.copy()
    out[holes] = filled[holes]
    return out
