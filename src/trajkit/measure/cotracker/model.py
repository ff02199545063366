"""The CoTracker3 networks (offline and online share one architecture; they differ in the frame-table length and
in how the predictor feeds them).

Conventions inside the network: frames are ``(B, T, 3, H, W)`` float RGB in ``[0, 255]`` at ``model_resolution``
``(H, W)``; positions are ``(x, y)`` pixels of that resolution with pixel centres at integers (corner-aligned), or
the same divided by ``stride`` (4) — "feature pixels" — inside :meth:`CoTrackerThree.refine`. Visibility and
confidence are logits until the caller applies a sigmoid.

State-dict keys equal the released checkpoints': ``time_emb`` ``(1, window_len, 1110)``, ``fnet.*``,
``updateformer.*`` and ``corr_mlp.*`` (188 tensors, 25.45 M values).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .correlation import build_pyramid, correlation_embedding, query_patches
from .encoder import FeatureEncoder
from .encodings import fourier_features, frame_table, resample_frame_table
from .transformer import FeedForward, UpdateTransformer

#: Token width: visibility (1) + confidence (1) + 4 levels × 256 correlation channels + 84 motion features.
TOKEN_DIM = 1110


class CoTrackerThree(nn.Module):
    """Encoder, correlation embedding and update transformer of CoTracker3.

    ``window_len`` sets the length of the learned frame table (60 for the released offline model, 16 for the
    online one); ``model_resolution`` ``(H, W)`` is the size frames are resized to (released: 384×512), a multiple of
    ``stride``.
    """

    variant = "any"

    def __init__(self, window_len: int, model_resolution: tuple[int, int] = (384, 512)) -> None:
        super().__init__()
        h, w = model_resolution
        if h % 4 or w % 4 or min(h, w) < 16:
            raise ValueError(f"model_resolution must be multiples of 4 and at least 16, got {model_resolution}")
        self.window_len = window_len
        self.model_resolution = (int(h), int(w))
        self.stride = 4
        self.corr_radius = 3
        self.corr_levels = 4
        self.latent_dim = 128
        self.fnet = FeatureEncoder(self.latent_dim, self.stride)
        self.updateformer = UpdateTransformer(in_dim=TOKEN_DIM, dim=384, heads=8, depth=3, virtual_tracks=64)
        self.corr_mlp = FeedForward((2 * self.corr_radius + 1) ** 4, 384, 256)
        self.register_buffer("time_emb", frame_table(window_len, TOKEN_DIM))

    def encode(self, frames: torch.Tensor, chunk: int = 8) -> torch.Tensor:
        """``(B, T, 3, H, W)`` in ``[0, 255]`` → unit-norm features ``(B, T, 128, H/4, W/4)``, ``chunk`` frames at a
        time (frames are encoded independently)."""
        b, t = frames.shape[:2]
        flat = frames.flatten(0, 1)
        parts = []
        for start in range(0, flat.shape[0], chunk):
            feats = self.fnet(2 * (flat[start:start + chunk] / 255.0) - 1.0)
            norm = feats.square().sum(dim=1, keepdim=True).clamp_min(1e-12).sqrt()
            parts.append(feats / norm)
        feats = torch.cat(parts)
        return feats.view(b, t, *feats.shape[1:])

    def pyramid(self, features: torch.Tensor) -> list[torch.Tensor]:
        """Level-0 features ``(B, T, C, h, w)`` → ``corr_levels`` average-pooled levels."""
        return build_pyramid(features, self.corr_levels)

    def patches(self, pyramid: Sequence[torch.Tensor], frames: torch.Tensor, xy: torch.Tensor) -> list[torch.Tensor]:
        """Query patches per level ``(B, N, 7, 7, C)`` at ``frames (B, N)`` (indices into the pyramid's frames) and
        ``xy (B, N, 2)`` model pixels."""
        return query_patches(pyramid, frames, xy / self.stride, self.corr_radius)

    def refine(self, pyramid: Sequence[torch.Tensor], xy: torch.Tensor, patches: Sequence[torch.Tensor],
               vis: torch.Tensor, conf: torch.Tensor, iters: int = 6
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``iters`` transformer updates of tracks over the pyramid's frames.

        ``xy (B, T, N, 2)`` model pixels, ``vis`` / ``conf`` ``(B, T, N)`` logits: the initial estimate. Returns the
        refined ``(xy, vis, conf)`` in the same units. All tracks are updated jointly (they attend to each other
        through the virtual tracks), so the result of one track depends on the others in the call.
        """
        t = xy.shape[1]
        table = resample_frame_table(self.time_emb, t).to(xy.dtype)
        extent = torch.tensor([self.model_resolution[1], self.model_resolution[0]], device=xy.device) / self.stride
        coords = xy / self.stride
        for _ in range(iters):
            corr = correlation_embedding(pyramid, coords, patches, self.corr_radius, self.corr_mlp)
            step = coords[:, :-1] - coords[:, 1:]  # position minus the next one
            to_next = torch.cat([step, torch.zeros_like(coords[:, :1])], dim=1)
            from_prev = torch.cat([torch.zeros_like(coords[:, :1]), -step], dim=1)
            motion = fourier_features(torch.cat([to_next / extent, from_prev / extent], dim=-1))
            tokens = torch.cat([vis[..., None], conf[..., None], corr, motion], dim=-1).permute(0, 2, 1, 3)
            delta = self.updateformer(tokens + table[:, None]).permute(0, 2, 1, 3)  # B T N 4
            coords = coords + delta[..., :2]
            vis = vis + delta[..., 2]
            conf = conf + delta[..., 3]
        return coords * float(self.stride), vis, conf


class CoTrackerThreeOffline(CoTrackerThree):
    """CoTracker3 offline (``scaled_offline.pth``): the whole clip in one pass; frame table of 60."""

    variant = "offline"

    def __init__(self, window_len: int = 60, model_resolution: tuple[int, int] = (384, 512)) -> None:
        super().__init__(window_len, model_resolution)


class CoTrackerThreeOnline(CoTrackerThree):
    """CoTracker3 online (``scaled_online.pth``): windows of 16 frames moved by 8; frame table of 16."""

    variant = "online"

    def __init__(self, window_len: int = 16, model_resolution: tuple[int, int] = (384, 512)) -> None:
        super().__init__(window_len, model_resolution)
