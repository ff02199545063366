"""Fixed encodings of CoTracker3's tokens: the sinusoidal frame-index table and the Fourier features of motion."""

from __future__ import annotations

import math

import torch
from torch.nn import functional


def frame_table(length: int, dim: int) -> torch.Tensor:
    """Sinusoidal encoding of frame indices ``0 … length-1``: ``(1, length, dim)`` float32.

    Channel ``k < dim/2`` is ``sin(t · ω_k)`` and channel ``dim/2 + k`` is ``cos(t · ω_k)`` with
    ``ω_k = 10000^(-k / (dim/2))``, evaluated in float64.
    """
    half = dim // 2
    freqs = 1.0 / 10000 ** (torch.arange(half, dtype=torch.float64) / half)
    angles = torch.arange(length, dtype=torch.float64)[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)[None].float()


def resample_frame_table(table: torch.Tensor, length: int) -> torch.Tensor:
    """``table (1, L, D)`` stretched to ``(1, length, D)`` by linear interpolation with half-pixel centres (the
    offline model sees clips of any length with a table learned for 60 frames); unchanged if ``length == L``."""
    if table.shape[1] == length:
        return table
    return functional.interpolate(table.float().transpose(1, 2), size=length, mode="linear").transpose(1, 2)


def fourier_features(x: torch.Tensor, octaves: int = 10) -> torch.Tensor:
    """``x (..., C)`` → ``(..., C + 2·C·octaves)``: ``x``, then ``sin(2^k x)`` for k = 0…octaves-1 (k-major, C inner),
    then the same with ``cos`` (written as ``sin(· + π/2)``)."""
    scales = 2.0 ** torch.arange(octaves, dtype=x.dtype, device=x.device)
    scaled = (x[..., None, :] * scales[:, None]).flatten(-2)
    return torch.cat([x, torch.sin(torch.cat([scaled, scaled + 0.5 * math.pi], dim=-1))], dim=-1)
