"""Video against a reference video, frame by frame: PSNR and SSIM.

* PSNR: ``10 log10(255² / MSE)`` over all pixels and channels of a frame (uint8 RGB); identical frames give
  ``inf``, which :func:`compare_videos` caps at 100 dB for averaging.
* SSIM: Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error visibility to structural
  similarity", IEEE TIP 2004 — on the luma (BT.601) of each frame, an 11×11 Gaussian window with σ = 1.5,
  ``K1 = 0.01``, ``K2 = 0.03``, ``L = 255``, mean over the valid (fully covered) window positions: the paper's
  settings, as MATLAB's ``ssim`` and scikit-image with ``gaussian_weights=True`` use them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import ValidationError

PSNR_CAP = 100.0


def _check_pair(a: np.ndarray, b: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValidationError("frames", f"two videos of one shape ({a.shape})", str(b.shape), where=where)
    if a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValidationError("frames", "uint8 frames", f"{a.dtype} and {b.dtype}", where=where)
    return a, b


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images of one shape (``inf`` when identical)."""
    a, b = _check_pair(a, b, "psnr")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def _luma(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img.astype(np.float64)
    return img[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two uint8 images (RGB → luma) with the paper's Gaussian window (see the module docstring)."""
    import cv2

    a, b = _check_pair(a, b, "ssim")
    x, y = _luma(a), _luma(b)
    if min(x.shape) < 11:
        raise ValidationError("frames", "images at least 11×11 (the SSIM window)", str(x.shape), where="ssim")
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(m: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(m, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)[5:-5, 5:-5]

    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


def compare_videos(video: np.ndarray, reference: np.ndarray) -> dict[str, Any]:
    """Per-frame and mean PSNR/SSIM of ``video`` against ``reference`` (both ``(T, H, W, 3)`` uint8)."""
    video, reference = _check_pair(video, reference, "compare_videos")
    if video.ndim != 4:
        raise ValidationError("frames", "(T, H, W, 3) videos", str(video.shape), where="compare_videos")
    p = [min(psnr(v, r), PSNR_CAP) for v, r in zip(video, reference, strict=True)]
    s = [ssim(v, r) for v, r in zip(video, reference, strict=True)]
    return {"psnr_mean": float(np.mean(p)), "psnr_min": float(np.min(p)), "ssim_mean": float(np.mean(s)),
            "ssim_min": float(np.min(s)), "psnr": [round(v, 3) for v in p], "ssim": [round(v, 5) for v in s]}
