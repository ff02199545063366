"""CLIP ViT-B/32 text features for CLaTr (``shared/specs/gendop.md`` §8.1 step 2), through transformers.

GenDoP runs OpenAI's ``clip`` package: tokens truncated to 77 (start + 75 + end), token + position embeddings,
the causal transformer, ``ln_final``, **no** text projection. transformers' ``CLIPTextModel`` computes the same
``last_hidden_state`` (its ``final_layer_norm`` is ``ln_final``). From it:

- ``seq`` ``(B, 77, W)`` float32: per-token features from the start token through the end-of-text (EOT) token,
  zeros after it; ``mask`` ``(B, 77)`` bool marks those positions (what CLaTr's text encoder reads);
- ``token`` ``(B, W)``: the EOT token's feature (GenDoP uses it only to filter near-duplicate captions).

The EOT position is the first ``eos_token_id`` in the tokens (OpenAI's ``argmax`` of the ids finds the same
token with CLIP's vocabulary, where EOT has the largest id). GenDoP ran the encoder in fp16 on a GPU; this runs
in the encoder's own dtype (float32 on CPU), so features agree to fp16 rounding, not bit for bit.

Weights are found offline first: a local folder (``config.json``, ``model.safetensors``, ``vocab.json``,
``merges.txt`` — e.g. a download of ``openai/clip-vit-base-patch32``) or the Hugging Face cache. Nothing is
downloaded unless ``download=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ...core.errors import TrajkitError

if TYPE_CHECKING:
    from transformers import CLIPTextModel, PreTrainedTokenizerBase

#: The CLIP GenDoP's CLaTr was trained with (its text tower).
CLIP_VIT_B32 = "openai/clip-vit-base-patch32"
#: CLIP's context length.
CONTEXT = 77


class TextEncoderError(TrajkitError, ValueError):
    """The CLIP text encoder cannot be found or used."""


@dataclass(frozen=True)
class TextFeatures:
    """Per-token features ``seq`` ``(B, 77, W)``, their ``mask`` ``(B, 77)`` and EOT features ``token`` ``(B, W)``."""

    seq: torch.Tensor
    mask: torch.Tensor
    token: torch.Tensor

    def __len__(self) -> int:
        return int(self.seq.shape[0])

    def select(self, index: slice | torch.Tensor) -> TextFeatures:
        return TextFeatures(self.seq[index], self.mask[index], self.token[index])


def _eot_positions(ids: torch.Tensor, eos_id: int) -> torch.Tensor:
    is_eos = ids == eos_id
    if not bool(is_eos.any(dim=1).all()):
        raise TextEncoderError("a tokenised prompt has no end-of-text token; the tokenizer is not CLIP's")
    return is_eos.to(torch.int64).argmax(dim=1)  # first EOT of each row


@torch.no_grad()
def encode_clip_text(encoder: CLIPTextModel, tokenizer: PreTrainedTokenizerBase,
                     prompts: list[str]) -> TextFeatures:
    """CLaTr's text features of ``prompts`` (truncated to 77 tokens as GenDoP's ``clip.tokenize`` does)."""
    if not prompts:
        raise TextEncoderError("no prompts to encode")
    for i, text in enumerate(prompts):
        if not isinstance(text, str) or not text.strip():
            raise TextEncoderError(f"prompt {i + 1} is empty")
    device = next(encoder.parameters()).device
    batch = tokenizer(list(prompts), padding="max_length", max_length=CONTEXT, truncation=True,
                      return_tensors="pt")
    ids = batch["input_ids"]
    eot = _eot_positions(ids, tokenizer.eos_token_id)
    hidden = encoder(input_ids=ids.to(device), attention_mask=batch["attention_mask"].to(device)).last_hidden_state
    hidden = hidden.float().cpu()
    mask = torch.arange(ids.shape[1])[None] <= eot[:, None]
    seq = hidden.masked_fill(~mask[..., None], 0.0)
    token = hidden[torch.arange(len(ids)), eot]
    if seq.shape[1] < CONTEXT:  # a tokenizer that stops short of 77: pad like GenDoP's dataset does
        pad = CONTEXT - seq.shape[1]
        seq = torch.nn.functional.pad(seq, (0, 0, 0, pad))
        mask = torch.nn.functional.pad(mask, (0, pad))
    return TextFeatures(seq=seq, mask=mask, token=token)


def _hint(source: str) -> str:
    return (f"the CLIP ViT-B/32 text encoder ({source}) is not on this machine; pass a local folder with "
            "config.json, model.safetensors, vocab.json and merges.txt, or fetch it once with "
            f"`hf download {CLIP_VIT_B32}` (or allow download=True)")


@lru_cache(maxsize=2)
def load_clip_text(source: str = CLIP_VIT_B32, *, download: bool = False,
                   device: str = "cpu") -> tuple[CLIPTextModel, PreTrainedTokenizerBase]:
    """(text encoder in eval mode, tokenizer) from a local folder or the Hugging Face cache (cached per source).

    ``download=True`` lets transformers fetch ``source`` from the Hub if it is not cached.
    """
    from transformers import CLIPTextModel, CLIPTokenizer

    local = Path(source).expanduser()
    if local.exists() and not local.is_dir():
        raise TextEncoderError(f"{source}: expected a folder holding a CLIP text model, found a file")
    name = str(local) if local.is_dir() else source
    offline = local.is_dir() or not download
    try:
        tokenizer = CLIPTokenizer.from_pretrained(name, local_files_only=offline)
        encoder, info = CLIPTextModel.from_pretrained(name, local_files_only=offline, output_loading_info=True)
    except (OSError, ValueError) as exc:
        raise TextEncoderError(_hint(source) + f" ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from exc
    # a full CLIPModel folder (the Hub's layout) brings unused vision weights; missing text weights would leave
    # transformers' random initialisation in place, so they are refused
    missing = sorted(info.get("missing_keys") or []) + sorted(str(k) for k in info.get("mismatched_keys") or [])
    if missing:
        raise TextEncoderError(f"{source}: not a CLIP text model — {len(missing)} text-encoder weights are missing "
                               f"or of another shape (e.g. {', '.join(missing[:3])})")
    return encoder.to(device).eval(), tokenizer


class ClipText:
    """Callable CLIP ViT-B/32 text features: ``ClipText()(prompts) -> TextFeatures``."""

    def __init__(self, source: str = CLIP_VIT_B32, *, download: bool = False, device: str = "cpu") -> None:
        self.encoder, self.tokenizer = load_clip_text(str(source), download=download, device=str(device))

    @property
    def width(self) -> int:
        return int(self.encoder.config.hidden_size)

    def __call__(self, prompts: list[str]) -> TextFeatures:
        return encode_clip_text(self.encoder, self.tokenizer, prompts)
