"""3DTrajMaster's text inputs (``shared/specs/trajmaster.md`` §3): entity tokens, the empty context, the global prompt.

* **Entity tokens** ``(1, n, 50, d)``: each entity prompt through the pipeline's own T5 (padded to 226 tokens, no
  attention mask), then the transformer's frozen ``patch_embed.text_proj``; positions after ``</s>`` are set to
  exactly 0 *after* the projection (bias included); the first 50 tokens are kept. Longer prompts lose tokens (and
  their ``</s>``) silently in the original; here a warning names the prompt and its token count.
* **Empty context** ``(1, 226, d)``: ``""`` encoded the same way, all 226 tokens kept unmasked.
* **Global prompt**: ``"<e1> is moving in the <loc>"`` / ``"<e1> and <e2>[ and <e3>] are moving in the <loc>"``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch

from ..core.errors import TrajkitError
from .trajmaster import ENTITY_TOKENS

T5_TOKENS = 226
#: 3DTrajMaster's README advice: 15–24 words, at most 42 tokens.
ADVISED_TOKENS = 42
logger = logging.getLogger(__name__)


def global_prompt(entity_prompts: Sequence[str], location: str) -> str:
    """3DTrajMaster's scene prompt for 1–3 entities in ``location``."""
    names = [p.strip().rstrip(".") for p in entity_prompts]
    if not names or not location.strip():
        raise TrajkitError("the scene prompt needs at least one entity prompt and a location "
                           "(options.location, e.g. 'desert'), or give the job a prompt")
    if len(names) == 1:
        return f"{names[0]} is moving in the {location.strip()}"
    return f"{' and '.join(names)} are moving in the {location.strip()}"


def _t5(tokenizer: Any, text_encoder: Any, prompts: list[str], max_length: int, device: Any) -> tuple[torch.Tensor,
                                                                                                    torch.Tensor]:
    ids = tokenizer(prompts, padding="max_length", max_length=max_length, truncation=True, add_special_tokens=True,
                    return_tensors="pt")
    with torch.no_grad():
        hidden = text_encoder(ids.input_ids.to(device))[0]
    return hidden, ids.attention_mask.to(device)


def token_counts(tokenizer: Any, prompts: Sequence[str]) -> list[int]:
    """T5 tokens of each prompt, ``</s>`` included."""
    return [len(tokenizer(p, add_special_tokens=True).input_ids) for p in prompts]


def encode_entity_prompts(tokenizer: Any, text_encoder: Any, text_proj: torch.nn.Module, prompts: Sequence[str], *,
                          device: Any = None, keep: int = ENTITY_TOKENS,
                          max_length: int = T5_TOKENS) -> tuple[torch.Tensor, list[int]]:
    """``(tokens (1, n, keep, d), token counts)`` for the entity prompts, as 3DTrajMaster builds them."""
    prompts = list(prompts)
    if not prompts or any(not isinstance(p, str) or not p.strip() for p in prompts):
        raise TrajkitError("every entity needs a non-empty prompt (entities.prompts in a job)")
    counts = token_counts(tokenizer, prompts)
    for i, count in enumerate(counts):
        if count > keep:
            logger.warning("entity prompt %d has %d T5 tokens; 3DTrajMaster reads the first %d (its end token is "
                           "lost): %r", i, count, keep, prompts[i])
        elif count > ADVISED_TOKENS:
            logger.warning("entity prompt %d has %d T5 tokens; 3DTrajMaster advises at most %d", i, count,
                           ADVISED_TOKENS)
    device = device if device is not None else text_proj.weight.device
    hidden, mask = _t5(tokenizer, text_encoder, prompts, max_length, device)
    with torch.no_grad():
        projected = text_proj(hidden.to(text_proj.weight.dtype))
    projected = projected.masked_fill(mask[..., None] < 1, 0.0)
    return projected[:, :keep][None], counts


def encode_empty_context(tokenizer: Any, text_encoder: Any, text_proj: torch.nn.Module, *, device: Any = None,
                         max_length: int = T5_TOKENS) -> torch.Tensor:
    """The projected empty prompt ``(1, max_length, d)``, every token kept (no masking)."""
    device = device if device is not None else text_proj.weight.device
    hidden, _ = _t5(tokenizer, text_encoder, [""], max_length, device)
    with torch.no_grad():
        return text_proj(hidden.to(text_proj.weight.dtype))
