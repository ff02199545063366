"""CLaTr: GenDoP's contrastive text–trajectory VAE (TEMOS/TMR style; ``shared/specs/gendop.md`` §8.3, §4.4).

Three modules whose attribute names give exactly the key layout of the released Lightning checkpoints
(``traj_encoder.*``, ``text_encoder.*``, ``traj_decoder.*``):

- :class:`SequenceEncoder` (one for trajectories, one for text): ``projection`` Linear F→D; two learned
  ``tokens`` (μ, log σ²) prepended; sinusoidal positions over all tokens (not stored); ``seqTransEncoder`` =
  post-LN ``nn.TransformerEncoder`` (GELU, ``heads``, FF ``ff``) with a key-padding mask; outputs 0 and 1 are μ
  and log σ², each ``(B, D)``.
- :class:`TrajectoryDecoder`: zero queries plus positions per frame cross-attend (``seqTransDecoder``) to the
  latent as a one-element memory; ``final_layer`` Linear D→9; padded frames are zeroed.

Shapes: trajectory features ``(B, T, 9)`` (see :mod:`.features`), text features ``(B, L, 512)`` (CLIP ViT-B/32
tokens, :mod:`.text`), masks ``(B, T)`` / ``(B, L)`` bool with True = valid, latents ``(B, D)``.
Sampling ``z = μ + fact·ε·exp(½ log σ²)`` draws ε with ``normal_`` from the given generator, in the order the
caller asks (GenDoP's extraction draws text, reference, prediction per batch); ``sample_mean`` returns μ.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ...core.errors import ValidationError

#: Length of the sinusoidal position table of the original (positions beyond it are refused).
MAX_POSITIONS = 5000


@dataclass(frozen=True)
class CLaTrConfig:
    """Sizes of a CLaTr. Defaults are the released model's (≈15.9 M parameters)."""

    traj_features: int = 9
    text_features: int = 512
    latent: int = 256
    ff: int = 1024
    layers: int = 6
    heads: int = 4
    dropout: float = 0.1

    def to_json(self) -> dict:
        return asdict(self)


def sinusoidal_positions(length: int, width: int, device: torch.device | None = None) -> torch.Tensor:
    """``(length, width)`` float32 table: ``sin(p·ω_j)`` at even, ``cos(p·ω_j)`` at odd columns,
    ``ω_j = exp(−2j·ln(10000)/width)`` (computed in float32 as the original does)."""
    if length > MAX_POSITIONS:
        raise ValidationError("sequence length", f"at most {MAX_POSITIONS} positions", str(length), where="CLaTr")
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    omega = torch.exp(torch.arange(0, width, 2, dtype=torch.float32, device=device)
                      * (-math.log(10000.0) / width))
    table = torch.zeros(length, width, device=device)
    table[:, 0::2] = torch.sin(position * omega)
    table[:, 1::2] = torch.cos(position * omega)
    return table


class SequenceEncoder(nn.Module):
    """Features ``(B, T, F)`` + mask ``(B, T)`` → ``(μ, log σ²)``, each ``(B, D)``."""

    def __init__(self, features: int, config: CLaTrConfig) -> None:
        super().__init__()
        d = config.latent
        self.projection = nn.Linear(features, d)
        self.tokens = nn.Parameter(torch.randn(2, d))
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerEncoderLayer(d, config.heads, config.ff, config.dropout, activation="gelu",
                                           batch_first=True)
        self.seqTransEncoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.projection(x)
        b = x.shape[0]
        seq = torch.cat([self.tokens[None].expand(b, -1, -1), x], dim=1)
        valid = torch.cat([torch.ones(b, 2, dtype=torch.bool, device=x.device), mask.to(torch.bool)], dim=1)
        seq = self.dropout(seq + sinusoidal_positions(seq.shape[1], seq.shape[2], x.device))
        out = self.seqTransEncoder(seq, src_key_padding_mask=~valid)
        return out[:, 0], out[:, 1]


class TrajectoryDecoder(nn.Module):
    """Latent ``(B, D)`` + frame mask ``(B, T)`` → features ``(B, T, F)`` (zero on padded frames)."""

    def __init__(self, features: int, config: CLaTrConfig) -> None:
        super().__init__()
        d = config.latent
        self.dropout = nn.Dropout(config.dropout)
        layer = nn.TransformerDecoderLayer(d, config.heads, config.ff, config.dropout, activation="gelu",
                                           batch_first=True)
        self.seqTransDecoder = nn.TransformerDecoder(layer, config.layers)
        self.final_layer = nn.Linear(d, features)

    def forward(self, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.to(torch.bool)
        b, frames = mask.shape
        queries = self.dropout(sinusoidal_positions(frames, z.shape[1], z.device).expand(b, -1, -1))
        out = self.seqTransDecoder(tgt=queries, memory=z[:, None], tgt_key_padding_mask=~mask)
        out = self.final_layer(out)
        return out.masked_fill(~mask[..., None], 0.0)


class CLaTr(nn.Module):
    """Trajectory encoder, text encoder and trajectory decoder sharing one latent space."""

    def __init__(self, config: CLaTrConfig | None = None) -> None:
        super().__init__()
        self.config = config or CLaTrConfig()
        self.traj_encoder = SequenceEncoder(self.config.traj_features, self.config)
        self.text_encoder = SequenceEncoder(self.config.text_features, self.config)
        self.traj_decoder = TrajectoryDecoder(self.config.traj_features, self.config)

    @staticmethod
    def _full_mask(x: torch.Tensor) -> torch.Tensor:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)

    def encode_trajectory(self, features: torch.Tensor,
                          mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, log σ²)`` of trajectory features ``(B, T, 9)`` (mask defaults to all frames)."""
        return self.traj_encoder(features, self._full_mask(features) if mask is None else mask)

    def encode_text(self, seq: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, log σ²)`` of per-token text features ``(B, L, 512)`` with their mask ``(B, L)``."""
        return self.text_encoder(seq, mask)

    def decode(self, z: torch.Tensor, mask: torch.Tensor | int) -> torch.Tensor:
        """Trajectory features ``(B, T, 9)`` of latents ``(B, D)``; ``mask`` ``(B, T)`` or a frame count."""
        if isinstance(mask, int):
            mask = torch.ones(z.shape[0], mask, dtype=torch.bool, device=z.device)
        return self.traj_decoder(z, mask)

    @staticmethod
    def sample(mu: torch.Tensor, logvar: torch.Tensor, *, sample_mean: bool = False,
               generator: torch.Generator | None = None, fact: float = 1.0) -> torch.Tensor:
        """``μ`` (``sample_mean``) or ``μ + fact·ε·σ`` with ε ~ N(0, I) drawn from ``generator``."""
        if sample_mean:
            return mu
        std = logvar.exp().pow(0.5)
        eps = torch.empty_like(std).normal_(generator=generator)
        return mu + fact * eps * std
