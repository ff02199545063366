"""Frame-index rules for resampling controls in time.

Two families:

* **By time** (:func:`time_positions`): output frame ``j`` sits at ``j / fps_out`` seconds, i.e. at the
  fractional source frame ``j · fps_in / fps_out``; positions past the last source frame are clamped
  (the control holds its last value).
* **ATI / WanTrackToVideo nearest rule** (:func:`ati_frame_indices`): maps a whole track of ``n_in``
  frames onto ``n_out`` frames by integer index arithmetic, exactly as ATI (121 → 81:
  ``out[j] = in[floor(3j/2)]``) and ComfyUI's ``WanTrackToVideo`` (any length) do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import ValidationError


def ati_frame_indices(n_out: int, n_in: int = 121) -> np.ndarray:
    """Source frame index of each output frame under the ATI / WanTrackToVideo nearest rule.

    With ``g = gcd(n_in − 1, n_out − 1)``, ``a = (n_in − 1)/g`` and ``b = (n_out − 1)/g``: frame 0 is
    kept and output frame ``j ≥ 1`` takes source frame ``1 + floor((1 + a(j − 1)) / b)``. For
    ``n_in = 121, n_out = 81`` this is ATI's ``floor(3j/2)``; for any ``n_out`` it is ComfyUI's
    ``WanTrackToVideo``. Where that formula runs past the last source frame (``a = 1``, e.g.
    ``n_out = 121`` or ``241``; ComfyUI then returns one frame too few) the time rule
    ``floor(j / b)`` is used instead, which gives the identity for ``n_out = n_in``.
    """
    if n_in < 2 or n_out < 1:
        raise ValidationError("frames", "at least 2 source frames and 1 output frame",
                              f"{n_in} source and {n_out} output frames")
    if n_out == 1:
        return np.zeros(1, dtype=np.int64)
    g = math.gcd(n_in - 1, n_out - 1)
    a, b = (n_in - 1) // g, (n_out - 1) // g
    j = np.arange(1, n_out, dtype=np.int64)
    idx = 1 + (1 + a * (j - 1)) // b
    if idx[-1] > n_in - 1:
        idx = (j * a) // b
    return np.concatenate([[0], idx])


def time_positions(n_out: int, fps_out: float, n_in: int, fps_in: float) -> np.ndarray:
    """Fractional source frame of each output frame when resampling by time, clamped to the source.

    Returns ``(n_out,)`` float64 in ``[0, n_in − 1]``.
    """
    if n_out < 1:
        raise ValidationError("frames", "at least 1 output frame", str(n_out))
    pos = np.arange(n_out, dtype=np.float64) * (fps_in / fps_out)
    return np.clip(pos, 0.0, n_in - 1)


def fps_keeping_duration(n_out: int, n_in: int, fps_in: float) -> float:
    """The output fps at which ``n_out`` frames span the same duration as ``n_in`` frames at ``fps_in``.

    A single-frame source or target has no duration; the source fps is kept.
    """
    if n_in <= 1 or n_out <= 1:
        return fps_in
    return fps_in * (n_out - 1) / (n_in - 1)


def interpolation_weights(positions: np.ndarray, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split fractional positions into ``(lower index, upper index, fraction)`` for linear blending."""
    lo = np.clip(np.floor(positions).astype(np.int64), 0, max(n_in - 1, 0))
    hi = np.minimum(lo + 1, n_in - 1)
    frac = positions - lo
    return lo, hi, frac


def latent_source_frames(video_frames: Sequence[int] | np.ndarray) -> np.ndarray:
    """Source frame of each latent frame ``((N − 1)/4 + 1,)`` int64 for ``N = 4k + 1`` video frames ``F``:
    CogVideoX's causal VAE groups frames 1–4, 5–8, … behind frame 0, and 3DTrajMaster poses latent 0 at ``F₀``
    and latent ``k`` at ``floor((F_{4k−3} + F_{4k}) / 2)``."""
    F = np.asarray(video_frames, dtype=np.int64).reshape(-1)
    if len(F) < 1 or (len(F) - 1) % 4:
        raise ValidationError("frames", "4k + 1 video frames (CogVideoX: 49)", str(len(F)),
                              where="latent_source_frames")
    k = np.arange(1, (len(F) - 1) // 4 + 1)
    return np.concatenate([F[:1], (F[4 * k - 3] + F[4 * k]) // 2])


def video_frame_indices(start: int = 10, num_frames: int = 49, stride: float = 1.75,
                        reverse: bool = False) -> np.ndarray:
    """Source frames ``F`` (``num_frames``,) int64 of 3DTrajMaster's crop: ``floor(linspace(s, s+L−1, n))``.

    ``L = int(n·stride)`` (85 for 49 frames at stride 1.75); ``reverse`` returns ``F`` reversed.
    """
    _check_sampling(start, num_frames, stride)
    length = int(num_frames * stride)
    frames = np.floor(np.linspace(start, start + length - 1, num_frames)).astype(np.int64)
    return frames[::-1].copy() if reverse else frames


def latent_frame_indices(start: int = 10, num_frames: int = 49, stride: float = 1.75,
                         reverse: bool = False) -> np.ndarray:
    """Source frame of each latent pose, int64 ``((num_frames − 1)/4 + 1,)`` (13 by default).

    With ``F`` from :func:`video_frame_indices` (reversed first when ``reverse``), the causal VAE
    grouping gives ``L₀ = F₀`` and ``L_k = floor((F_{4k−3} + F_{4k}) / 2)`` for ``k ≥ 1``. Inference uses
    ``start = 10``: 10, 14, 21, …, 91.
    """
    if num_frames < 1 or (num_frames - 1) % 4:
        raise ValidationError("num_frames", "a frame count 4k+1 (e.g. 49)", str(num_frames),
                              where="latent_frame_indices")
    return latent_source_frames(video_frame_indices(start, num_frames, stride, reverse))


def _check_sampling(start: int, num_frames: int, stride: float) -> None:
    where = "video_frame_indices"
    if int(start) != start or start < 0:
        raise ValidationError("start", "a non-negative integer frame", repr(start), where=where)
    if int(num_frames) != num_frames or num_frames < 1:
        raise ValidationError("num_frames", "a positive integer", repr(num_frames), where=where)
    if not (math.isfinite(stride) and stride > 0):
        raise ValidationError("stride", "a positive number", repr(stride), where=where)
