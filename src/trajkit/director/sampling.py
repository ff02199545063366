"""Batched autoregressive sampling of camera tokens (``shared/specs/gendop.md`` §5).

GenDoP samples one trajectory at a time, lets EOS in only at counts ≡ 1 (mod 10) and keeps 301 tokens of which
the last is dropped. Here a batch of ``B`` sequences is sampled together with a key/value cache, and exactly
``poses · slots`` coordinate tokens are drawn per sequence (the clean rule of §12 #3): no EOS, no PAD/BOS, no
id that does not decode to a bin. Greedy, or top-k with a temperature, seeded by a ``torch.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from ..core.errors import ValidationError
from .model import Director, KVCache
from .tokenizer import BINS, EOS

SamplingMode = Literal["top-k", "greedy"]


@dataclass(frozen=True)
class SamplingOptions:
    """``mode="top-k"`` with ``top_k=10`` and ``temperature=1`` is GenDoP's default; ``greedy`` is argmax."""

    mode: SamplingMode = "top-k"
    top_k: int = 10
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in ("top-k", "greedy"):
            raise ValidationError("mode", "top-k or greedy", str(self.mode), where="sampling")
        if self.top_k < 1:
            raise ValidationError("top_k", "≥ 1", str(self.top_k), where="sampling")
        if not self.temperature > 0:
            raise ValidationError("temperature", "> 0", str(self.temperature), where="sampling")


def coordinate_ids(token_offset: int) -> tuple[int, int]:
    """Inclusive id range a sampler may emit: bins 0..256 shifted by the offset, never PAD/BOS/EOS.

    With offset 0 (GenDoP's released checkpoints) bins 0–2 share ids with PAD/BOS/EOS and stay unreachable,
    exactly as in GenDoP's sampler; ids above 256 would not decode, so they are excluded too.
    """
    low = max(token_offset, EOS + 1)
    return low, BINS + token_offset


def _choose(logits: torch.Tensor, blocked: torch.Tensor, k: int, options: SamplingOptions,
            generator: torch.Generator | None) -> torch.Tensor:
    logits = logits.float().masked_fill(blocked, float("-inf"))
    if options.mode == "greedy":
        return logits.argmax(dim=-1)
    logits = logits / options.temperature
    kth = logits.topk(k, dim=-1).values[:, -1:]
    logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def start_sequence(model: Director, prefix: torch.Tensor) -> torch.Tensor:
    """``[prefix, BOS]`` embedded ``(B, C + 1, D)``: what the first coordinate token is predicted from."""
    bos = model.embed_tokens(model.bos(prefix.shape[0], prefix.device)).to(prefix.dtype)
    return torch.cat([prefix, bos], dim=1)


@torch.no_grad()
def sample_tokens(model: Director, prefix: torch.Tensor, count: int, options: SamplingOptions = SamplingOptions(),
                  generator: torch.Generator | None = None, use_cache: bool = True) -> torch.Tensor:
    """Sample ``count`` coordinate tokens after ``[prefix, BOS]``.

    ``prefix (B, C, D)`` is the projected, normalised condition (:meth:`Director.condition`). Returns ids
    ``(B, count)``. ``use_cache=False`` re-runs the whole sequence every step (the reference the cached path is
    tested against and benchmarked with).
    """
    if count < 1:
        raise ValidationError("count", "≥ 1 token", str(count), where="sample_tokens")
    decoder = model.mesh_decoder
    B, device = prefix.shape[0], prefix.device
    low, high = coordinate_ids(model.config.token_offset)
    blocked = torch.ones(model.config.vocab_size, dtype=torch.bool, device=device)
    blocked[low:high + 1] = False
    k = min(options.top_k, high - low + 1)
    sequence = start_sequence(model, prefix)
    out = torch.empty(B, count, dtype=torch.long, device=device)
    past: KVCache | None = None
    step_input = sequence
    for i in range(count):
        if use_cache:
            logits, past = decoder(step_input, past)
        else:
            logits, _ = decoder(sequence)
        token = _choose(logits[:, -1], blocked, k, options, generator)
        out[:, i] = token
        embedded = model.embed_tokens(token[:, None]).to(prefix.dtype)
        step_input = embedded
        if not use_cache:
            sequence = torch.cat([sequence, embedded], dim=1)
    return out
