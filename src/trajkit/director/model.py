"""GenDoP's autoregressive camera decoder and its prefix conditioning (``shared/specs/gendop.md`` §3–4).

Shapes: ``B`` batch, ``C`` condition tokens, ``L`` sequence length, ``D`` hidden size, ``V`` vocabulary (260).

The decoder is OPT-style but *post*-LayerNorm::

    x = LN1(x + Drop(out_proj(Attn(x))))
    x = LN2(x + Drop(fc2(ReLU(fc1(x)))))

with learned absolute positions whose row 0 is the first condition token (no OPT +2 offset), attention that
is causal over the whole sequence *including* the condition prefix, no final LayerNorm and an untied
``lm_head`` without bias. Condition embeddings (text; text + image + depth) are projected to ``D``, joined
and normalised by one shared ``norm_cond`` LayerNorm, then precede the BOS embedding.

Module attribute names follow GenDoP's checkpoints (``mesh_decoder.model.layers.{i}.self_attn.q_proj`` …),
so a released state dict loads by name (:mod:`trajkit.director.checkpoint`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
from torch import nn
from torch.nn import functional

from ..core.errors import ValidationError
from .conditioning import SD21_TEXT_CONFIG, VIT_H14_CONFIG, MiniLMText, clip_text_model, clip_vision_model
from .tokenizer import ALL_SLOTS, BOS, CameraTokenizer

CondMode = Literal["text", "depth+image+text"]
TextEncoderKind = Literal["clip", "minilm", "none"]

@dataclass(frozen=True)
class DirectorConfig:
    """Everything needed to rebuild a director; saved as ``config.json`` next to the weights.

    Defaults are GenDoP's ``ArAE`` preset with a CLIP text prefix (its ``text_motion`` checkpoint).
    """

    hidden: int = 1024
    heads: int = 8
    layers: int = 12
    ffn: int = 4096
    vocab_size: int = 260
    dropout: float = 0.1
    #: rows of the learned position table; GenDoP sizes it ``40960 + C + 10``.
    positions: int = 41047
    cond_mode: CondMode = "text"
    text_encoder: TextEncoderKind = "clip"
    #: condition tokens of the text stream (CLIP pads to 77; MiniLM models choose their own).
    text_tokens: int = 77
    poses: int = 30
    slots: tuple[int, ...] = ALL_SLOTS
    #: token id = bin + offset: 0 for GenDoP's released checkpoints, 3 for its current code and trajkit's own.
    token_offset: int = 3
    #: poses relative to the ``first`` (GenDoP) or to the ``previous`` pose (trajkit's small models).
    relative_to: str = "first"
    #: the caption key a checkpoint was trained on (DataDoP ``Movement`` / ``Concise Interaction``).
    caption_key: str = "Movement"
    #: ``CLIPTextConfig`` / ``CLIPVisionConfig`` fields of GenDoP-style encoders (``None``: SD-2.1 / ViT-H/14).
    text_encoder_config: dict | None = None
    vision_encoder_config: dict | None = None
    notes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("hidden", "heads", "layers", "ffn", "text_tokens"):
            if getattr(self, name) < 1:
                raise ValidationError(name, "≥ 1", str(getattr(self, name)), where="DirectorConfig")
        if self.hidden % self.heads:
            raise ValidationError("hidden", f"a multiple of heads ({self.heads})", str(self.hidden),
                                  where="DirectorConfig")
        if self.positions < self.sequence_length:
            raise ValidationError("positions", f"at least {self.sequence_length} (condition + BOS + tokens + EOS)",
                                  str(self.positions), where="DirectorConfig")
        needed = self.tokenizer().vocab_size  # also validates poses / offset / slots
        if self.vocab_size != needed:
            raise ValidationError("vocab_size", f"{needed} (tokenizer mismatch: PAD/BOS/EOS + 257 bins)",
                                  str(self.vocab_size), where="DirectorConfig")

    @property
    def text_width(self) -> int:
        if self.text_encoder == "clip":
            return (self.text_encoder_config or SD21_TEXT_CONFIG)["hidden_size"]
        return MiniLMText.width if self.text_encoder == "minilm" else self.hidden

    @property
    def image_width(self) -> int:
        return (self.vision_encoder_config or VIT_H14_CONFIG)["hidden_size"]

    @property
    def condition_tokens(self) -> int:
        """``C``: 77 for CLIP text, 77 + 257 + 257 = 591 for text + RGB + depth."""
        extra = 2 * self.vision_tokens if self.cond_mode == "depth+image+text" else 0
        return self.text_tokens + extra

    @property
    def vision_tokens(self) -> int:
        vision = self.vision_encoder_config or VIT_H14_CONFIG
        return (vision["image_size"] // vision["patch_size"]) ** 2 + 1

    @property
    def sequence_length(self) -> int:
        """``C + 1 + poses·slots + 1``: the training sequence (379 for GenDoP's text models)."""
        return self.condition_tokens + 2 + self.poses * len(self.slots)

    def tokenizer(self) -> CameraTokenizer:
        return CameraTokenizer(poses=self.poses, offset=self.token_offset, slots=tuple(self.slots),
                               relative_to=self.relative_to)

    def to_json(self) -> dict:
        data = asdict(self)
        data["slots"] = list(self.slots)
        return data

    @classmethod
    def from_json(cls, data: dict) -> DirectorConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError("config", f"known keys ({', '.join(sorted(known))})", ", ".join(unknown),
                                  where="director config.json")
        values = dict(data)
        if "slots" in values:
            values["slots"] = tuple(values["slots"])
        return cls(**values)


KVCache = list[tuple[torch.Tensor, torch.Tensor]]


class SelfAttention(nn.Module):
    """Multi-head attention with biases, scale ``1/√head_dim``, causal, with an optional key/value cache."""

    def __init__(self, hidden: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(hidden, hidden)
        self.k_proj = nn.Linear(hidden, hidden)
        self.v_proj = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        return x.view(B, L, self.heads, D // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        q, k, v = self._split(self.q_proj(x)), self._split(self.k_proj(x)), self._split(self.v_proj(x))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        new, total = q.shape[2], k.shape[2]
        if new == 1:
            out = functional.scaled_dot_product_attention(q, k, v)  # the newest query sees every cached key
        elif new == total:
            out = functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # several new queries after a cache: causal aligned bottom-right
            mask = torch.ones(new, total, dtype=torch.bool, device=x.device).tril(total - new)
            out = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        B, _, L, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(B, L, -1)), (k, v)


class DecoderLayer(nn.Module):
    """One post-LN block: attention then ReLU FFN, dropout on both residual branches."""

    def __init__(self, hidden: int, heads: int, ffn: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = SelfAttention(hidden, heads)
        self.self_attn_layer_norm = nn.LayerNorm(hidden, eps=1e-5)
        self.fc1 = nn.Linear(hidden, ffn)
        self.fc2 = nn.Linear(ffn, hidden)
        self.final_layer_norm = nn.LayerNorm(hidden, eps=1e-5)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        attended, present = self.self_attn(x, past)
        x = self.self_attn_layer_norm(x + self.dropout(attended))
        x = self.final_layer_norm(x + self.dropout(self.fc2(functional.relu(self.fc1(x)))))
        return x, present


class DecoderStack(nn.Module):
    """Token and position embeddings plus the layers (GenDoP's ``mesh_decoder.model``)."""

    def __init__(self, config: DirectorConfig) -> None:
        super().__init__()
        self.embd = nn.Embedding(config.vocab_size, config.hidden, padding_idx=0)
        self.embed_positions = nn.Embedding(config.positions, config.hidden)
        self.layers = nn.ModuleList(DecoderLayer(config.hidden, config.heads, config.ffn, config.dropout)
                                    for _ in range(config.layers))


class CameraDecoder(nn.Module):
    """GenDoP's ``mesh_decoder``: ``model`` (embeddings + layers) and an untied, bias-free ``lm_head``."""

    def __init__(self, config: DirectorConfig) -> None:
        super().__init__()
        self.model = DecoderStack(config)
        self.lm_head = nn.Linear(config.hidden, config.vocab_size, bias=False)

    def forward(self, inputs_embeds: torch.Tensor, past: KVCache | None = None
                ) -> tuple[torch.Tensor, KVCache]:
        """Logits ``(B, L, V)`` for ``inputs_embeds (B, L, D)`` continuing ``past`` (positions resume after it)."""
        start = 0 if not past else past[0][0].shape[2]
        length = inputs_embeds.shape[1]
        if start + length > self.model.embed_positions.num_embeddings:
            raise ValidationError("sequence", f"at most {self.model.embed_positions.num_embeddings} positions",
                                  str(start + length), where="CameraDecoder")
        positions = torch.arange(start, start + length, device=inputs_embeds.device)
        x = inputs_embeds + self.model.embed_positions(positions)
        present: KVCache = []
        for i, layer in enumerate(self.model.layers):
            x, kv = layer(x, past[i] if past else None)
            present.append(kv)
        return self.lm_head(x), present


class Director(nn.Module):
    """Condition projections + ``mesh_decoder`` (+ GenDoP's fine-tuned CLIP encoders with ``encoders=True``:
    ``text_encoder``, ``image_encoder``, ``depth_encoder``; the frozen MiniLM stays outside the module).

    ``forward(cond, ids)`` is the teacher-forced pass: ``cond (B, C, W)`` stream features (or a dict of them
    for text + image + depth), ``ids (B, T)`` token ids starting with BOS → logits ``(B, C + T, V)``.
    """

    def __init__(self, config: DirectorConfig, encoders: bool = False, init: bool = True) -> None:
        super().__init__()
        self.config = config
        if config.cond_mode == "text":
            self.proj_cond = nn.Linear(config.text_width, config.hidden)
        else:
            self.proj_cond_text = nn.Linear(config.text_width, config.hidden)
            self.proj_cond_image = nn.Linear(config.image_width, config.hidden)
            self.proj_cond_depth = nn.Linear(config.image_width, config.hidden)
        self.norm_cond = nn.LayerNorm(config.hidden, eps=1e-5)
        self.mesh_decoder = CameraDecoder(config)
        if encoders and config.text_encoder == "clip":  # GenDoP fine-tunes these and stores them in its checkpoints
            self.text_encoder = clip_text_model(config.text_encoder_config)
        if encoders and config.cond_mode == "depth+image+text":
            self.image_encoder = clip_vision_model(config.vision_encoder_config)
            self.depth_encoder = clip_vision_model(config.vision_encoder_config)
        if init:  # ``init=False`` when weights are loaded next (on the meta device, where init is slow and moot)
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """GenDoP's initialisation: decoder linears/embeddings N(0, 0.02), biases 0, PAD row 0, ``out_proj``
        N(0, 0.02/√(2·layers)); projections keep PyTorch defaults."""
        std = 0.02
        for name, module in self.mesh_decoder.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                scale = std / math.sqrt(2 * self.config.layers) if name.endswith("out_proj") else std
                nn.init.normal_(module.weight, 0.0, scale)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.mesh_decoder.model.embd.weight[0].zero_()

    def condition(self, cond: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        """Project and normalise the condition streams → ``(B, C, D)``."""
        if self.config.cond_mode == "text":
            if isinstance(cond, dict):
                cond = cond["text"]
            prefix = self.proj_cond(cond)
        else:
            if not isinstance(cond, dict) or set(cond) != {"text", "image", "depth"}:
                raise ValidationError("condition", "text, image and depth features", str(type(cond).__name__),
                                      where="Director (depth+image+text)")
            prefix = torch.cat([self.proj_cond_text(cond["text"]), self.proj_cond_image(cond["image"]),
                                self.proj_cond_depth(cond["depth"])], dim=1)
        return self.norm_cond(prefix)

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        return self.mesh_decoder.model.embd(ids)

    def bos(self, batch: int, device: torch.device) -> torch.Tensor:
        return torch.full((batch, 1), BOS, dtype=torch.long, device=device)

    def forward(self, cond: torch.Tensor | dict[str, torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
        prefix = self.condition(cond)
        logits, _ = self.mesh_decoder(torch.cat([prefix, self.embed_tokens(ids)], dim=1))
        return logits

    def loss(self, cond: torch.Tensor | dict[str, torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
        """GenDoP's training loss for ``ids (B, T)`` = ``[BOS] coords [EOS]`` (see :func:`sequence_loss`)."""
        return sequence_loss(self.forward(cond, ids), ids)


def sequence_loss(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every token after BOS (coordinates and EOS) from the position before it.

    ``logits (B, C + T, V)`` from :meth:`Director.forward`, ``ids (B, T)`` (every sequence has the same length, so
    nothing is padded). The position of BOS predicts the first coordinate; the condition positions predict nothing.
    """
    C = logits.shape[1] - ids.shape[1]
    predicted = logits[:, C:-1]
    return functional.cross_entropy(predicted.reshape(-1, predicted.shape[-1]).float(), ids[:, 1:].reshape(-1))
