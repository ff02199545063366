"""Local 4D correlation between a track's query patch and the features around its current position.

Coordinates here are in **feature pixels** of a pyramid level, corner-aligned: ``(0, 0)`` is the centre of the
top-left feature cell and ``(W-1, H-1)`` the centre of the bottom-right one (level ``l`` divides level-0 coordinates
by ``2**l``). Samples outside the map repeat the border.

A neighbourhood of radius ``r`` is a ``(2r+1) × (2r+1)`` grid of offsets ``(d_a, d_b)`` with the **first** grid
index moving ``x`` and the second moving ``y`` (this order is fixed by the trained ``corr_mlp``). For every track
and frame the correlation is the dot product of each of the 49 unit-norm feature vectors around the current
position with each of the 49 around the query (at the query frame): 49 × 49 = 2401 values, flattened
current-major, which ``corr_mlp`` (2401 → 384 → 256, GELU) embeds; the four levels give 4 × 256 channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional


def build_pyramid(features: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``(B, T, C, H, W)`` → ``levels`` maps, each 2×2 average-pooled from the previous one."""
    b, t, c = features.shape[:3]
    pyramid = [features]
    for _ in range(levels - 1):
        pooled = functional.avg_pool2d(pyramid[-1].flatten(0, 1), 2, stride=2)
        pyramid.append(pooled.view(b, t, c, *pooled.shape[-2:]))
    return pyramid


def window_offsets(radius: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``(2r+1, 2r+1, 2)`` offsets ``(dx, dy)``: ``dx`` follows the first index, ``dy`` the second."""
    steps = torch.linspace(-radius, radius, 2 * radius + 1, device=device)
    dx, dy = torch.meshgrid(steps, steps, indexing="ij")
    return torch.stack([dx, dy], dim=-1)


def sample_points(maps: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of ``maps (B, C, H, W)`` at ``xy (B, P, Q, 2)`` (feature pixels, border repeat):
    ``(B, C, P, Q)``."""
    h, w = maps.shape[-2:]
    scale = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=xy.device, dtype=xy.dtype)
    return functional.grid_sample(maps, xy * scale - 1, mode="bilinear", padding_mode="border", align_corners=True)


def query_patches(pyramid: Sequence[torch.Tensor], frames: torch.Tensor, xy: torch.Tensor,
                  radius: int) -> list[torch.Tensor]:
    """The features around each query, per level: ``(B, N, 2r+1, 2r+1, C)``.

    ``frames (B, N)`` are indices into the pyramid's time axis (clamped to it), ``xy (B, N, 2)`` level-0 feature
    pixels at those frames.
    """
    b, n = frames.shape
    grid = window_offsets(radius, xy.device)
    side = grid.shape[0]
    patches = []
    for level, maps in enumerate(pyramid):
        points = (xy / 2**level)[:, :, None, None, :] + grid  # B N side side 2
        patch = maps.new_empty(b, n, side, side, maps.shape[2])
        clamped = frames.clamp(0, maps.shape[1] - 1)
        for i in range(b):
            # One sampling call per distinct query frame: no per-query copy of a feature map.
            for frame in clamped[i].unique().tolist():
                rows = torch.nonzero(clamped[i] == frame)[:, 0]
                sampled = sample_points(maps[i, frame][None], points[i, rows].reshape(1, len(rows), side * side, 2))
                patch[i, rows] = sampled[0].permute(1, 2, 0).reshape(len(rows), side, side, -1)
        patches.append(patch)
    return patches


def correlation_embedding(pyramid: Sequence[torch.Tensor], coords: torch.Tensor, patches: Sequence[torch.Tensor],
                          radius: int, mlp: nn.Module, max_elements: int = 1 << 25) -> torch.Tensor:
    """Embedded local correlations ``(B, T, N, levels · out)`` for tracks at ``coords (B, T, N, 2)`` (level-0 feature
    pixels) against their query ``patches``.

    Tracks are processed in groups so that one sampled neighbourhood tensor stays under ``max_elements`` values;
    every track's embedding depends on that track only, so grouping changes nothing.
    """
    b, t, n, _ = coords.shape
    grid = window_offsets(radius, coords.device)
    side = grid.shape[0]
    channels = pyramid[0].shape[2]
    group = max(1, min(n, max_elements // max(1, b * t * side**4 + b * t * side * side * channels)))
    out = []
    for start in range(0, n, group):
        part = slice(start, start + group)
        levels = []
        for level, maps in enumerate(pyramid):
            points = (coords[:, :, part] / 2**level)[:, :, :, None, None, :] + grid  # B T n side side 2
            m = points.shape[2]
            around = sample_points(maps.flatten(0, 1), points.reshape(b * t, m, side * side, 2))  # BT C m ss
            around = around.view(b, t, channels, m, side * side).permute(0, 1, 3, 4, 2)  # B T m ss C
            query = patches[level][:, part].reshape(b, 1, m, side * side, channels).transpose(-1, -2)
            volume = torch.matmul(around, query)  # B T m ss(current) ss(query)
            levels.append(mlp(volume.reshape(b, t, m, side**4)))
        out.append(torch.cat(levels, dim=-1))
    return torch.cat(out, dim=2)
