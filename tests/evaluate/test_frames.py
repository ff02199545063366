"""PSNR and SSIM against their definitions (closed forms and a direct, loop-by-loop SSIM of Wang et al. 2004)."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit import TrajkitError
from trajkit.evaluate.frames import compare_videos, psnr, ssim


def direct_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM written out from the paper: an 11×11 Gaussian window (σ = 1.5, normalised) at every position where it
    fits, K1 = 0.01, K2 = 0.03, L = 255, on BT.601 luma; the mean of the SSIM map."""
    def luma(img: np.ndarray) -> np.ndarray:
        return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114

    x, y = luma(a.astype(np.float64)), luma(b.astype(np.float64))
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    win = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for i in range(x.shape[0] - 10):
        for j in range(x.shape[1] - 10):
            px, py = x[i:i + 11, j:j + 11], y[i:i + 11, j:j + 11]
            mx, my = (win * px).sum(), (win * py).sum()
            vx, vy = (win * (px - mx) ** 2).sum(), (win * (py - my) ** 2).sum()
            cxy = (win * (px - mx) * (py - my)).sum()
            values.append(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2)))
    return float(np.mean(values))


def test_psnr_closed_form() -> None:
    a = np.full((8, 8, 3), 100, np.uint8)
    assert psnr(a, a + 5) == pytest.approx(10 * np.log10(255**2 / 25))
    assert psnr(a, a) == float("inf")


def test_ssim_matches_the_definition() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (24, 30, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, b) == pytest.approx(direct_ssim(a, b), abs=1e-6)
    assert ssim(a, b) < 0.98  # noise is seen (a busy random image keeps most of its structure)


def test_compare_videos_and_bad_input() -> None:
    rng = np.random.default_rng(1)
    video = rng.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    same = compare_videos(video, video)
    assert same["psnr_mean"] == 100.0 and same["ssim_mean"] == pytest.approx(1.0)
    shifted = compare_videos(video, np.roll(video, 3, axis=2))
    assert shifted["psnr_mean"] < 15 and shifted["ssim_mean"] < 0.5
    with pytest.raises(TrajkitError, match="shape"):
        compare_videos(video, video[:2])
    with pytest.raises(TrajkitError, match="uint8"):
        psnr(video.astype(np.float32), video.astype(np.float32))
