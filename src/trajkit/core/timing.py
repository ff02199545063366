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
