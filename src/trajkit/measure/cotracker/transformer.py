"""CoTracker3's update transformer: alternating attention over time (per track) and over tracks (per frame).

Input tokens ``(B, N, T, 1110)`` (one per track and frame), output ``(B, N, T, 4)``: the update of ``(dx, dy)`` in
feature pixels and of the visibility and confidence logits. Attention over tracks goes through 64 learned "virtual
tracks": virtual ← points (cross attention), virtual ↔ virtual (self attention), points ← virtual (cross attention),
so its cost is linear in the number of tracks.

Attribute names form the checkpoint keys (``updateformer.time_blocks.0.attn.to_kv.weight``, …). The learned
virtual tokens are called ``virual_tracks`` (sic) in the released checkpoints, and so here.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


class FeedForward(nn.Module):
    """``fc1 → GELU → fc2``; ``tanh_gelu`` selects the tanh approximation (used inside the transformer blocks)."""

    def __init__(self, in_features: int, hidden_features: int, out_features: int | None = None,
                 tanh_gelu: bool = False) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU(approximate="tanh" if tanh_gelu else "none")
        self.fc2 = nn.Linear(hidden_features, out_features or in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class MultiHeadAttention(nn.Module):
    """Softmax attention with ``heads`` heads of width ``dim / heads``; keys and values come from one projection
    (``to_kv``, keys first). Scores are scaled by ``(dim / heads) ** -0.5``."""

    def __init__(self, dim: int, heads: int = 8) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim)
        self.to_kv = nn.Linear(dim, 2 * dim)
        self.to_out = nn.Linear(dim, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        return x.view(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """``x (B, L, C)`` attends to ``context (B, M, C)`` (itself when ``None``) → ``(B, L, C)``."""
        keys, values = self.to_kv(x if context is None else context).chunk(2, dim=-1)
        out = functional.scaled_dot_product_attention(self._split(self.to_q(x)), self._split(keys), self._split(values))
        return self.to_out(out.transpose(1, 2).reshape(x.shape))


class SelfAttentionBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(LN(x))`` then ``x + mlp(LN(x))`` (parameter-free LayerNorms)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = MultiHeadAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = FeedForward(dim, int(dim * mlp_ratio), tanh_gelu=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class CrossAttentionBlock(nn.Module):
    """``x + attn(LN(x), LN_ctx(context))`` then ``x + mlp(LN(x))``; only the context norm has parameters (and
    PyTorch's default epsilon 1e-5)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.norm_context = nn.LayerNorm(dim)
        self.cross_attn = MultiHeadAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = FeedForward(dim, int(dim * mlp_ratio), tanh_gelu=True)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = x + self.cross_attn(self.norm1(x), self.norm_context(context))
        return x + self.mlp(self.norm2(x))


class UpdateTransformer(nn.Module):
    """Tokens ``(B, N, T, in_dim)`` → updates ``(B, N, T, 4)``: ``(dx, dy, visibility, confidence)``.

    ``depth`` rounds of [time attention for every track and virtual track, then track ↔ virtual-track attention in
    every frame]; ``flow_head`` reads ``(dx, dy)`` and ``vis_conf_head`` the two logits from the real tracks' tokens.
    """

    def __init__(self, in_dim: int = 1110, dim: int = 384, heads: int = 8, depth: int = 3, virtual_tracks: int = 64,
                 mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.num_virtual_tracks = virtual_tracks
        self.input_transform = nn.Linear(in_dim, dim)
        self.flow_head = nn.Linear(dim, 2)
        self.vis_conf_head = nn.Linear(dim, 2)
        self.virual_tracks = nn.Parameter(torch.zeros(1, virtual_tracks, 1, dim))
        self.time_blocks = nn.ModuleList(SelfAttentionBlock(dim, heads, mlp_ratio) for _ in range(depth))
        self.space_virtual_blocks = nn.ModuleList(SelfAttentionBlock(dim, heads, mlp_ratio) for _ in range(depth))
        self.space_point2virtual_blocks = nn.ModuleList(
            CrossAttentionBlock(dim, heads, mlp_ratio) for _ in range(depth))
        self.space_virtual2point_blocks = nn.ModuleList(
            CrossAttentionBlock(dim, heads, mlp_ratio) for _ in range(depth))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        b, n, t, _ = tokens.shape
        x = self.input_transform(tokens)
        dim = x.shape[-1]
        x = torch.cat([x, self.virual_tracks.expand(b, -1, t, -1)], dim=1)
        tracks = n + self.num_virtual_tracks
        for time_block, to_virtual, among_virtual, to_points in zip(
                self.time_blocks, self.space_virtual2point_blocks, self.space_virtual_blocks,
                self.space_point2virtual_blocks, strict=True):
            x = time_block(x.reshape(b * tracks, t, dim)).view(b, tracks, t, dim)
            per_frame = x.permute(0, 2, 1, 3).reshape(b * t, tracks, dim)
            points, virtual = per_frame[:, :n], per_frame[:, n:]
            virtual = among_virtual(to_virtual(virtual, points))
            points = to_points(points, virtual)
            x = torch.cat([points, virtual], dim=1).view(b, t, tracks, dim).permute(0, 2, 1, 3)
        points = x[:, :n]
        return torch.cat([self.flow_head(points), self.vis_conf_head(points)], dim=-1)
