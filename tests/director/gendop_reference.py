"""Independent reference for GenDoP's autoregressive trajectory decoder, for tests.

This module re-computes the published GenDoP architecture (an OPT-style, post-LayerNorm causal
decoder over a prefix of projected condition tokens followed by trajectory tokens) from a plain
state dict with explicit tensor math. It deliberately shares no code with ``trajkit.director`` so
that it can be used to check that implementation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPVisionConfig, CLIPVisionModel

LN_EPS = 1e-5
COND_MODES = ("text", "depth+image+text")
_PREFIX = "mesh_decoder.model."


def gendop_state_dict(
    *,
    hidden: int = 32,
    heads: int = 4,
    layers: int = 2,
    ffn: int = 64,
    vocab: int = 260,
    positions: int = 96,
    cond_mode: str = "text",
    text_width: int = 48,
    image_width: int = 40,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
) -> dict[str, torch.Tensor]:
    """Random weights under GenDoP's checkpoint key names (Linear weights are ``(out, in)``).

    Every tensor, biases and LayerNorm parameters included, is random so that a wrong wiring shows
    up in the logits. ``positions`` must cover condition tokens plus trajectory tokens.
    """
    if cond_mode not in COND_MODES:
        raise ValueError(f"unknown cond_mode {cond_mode!r}; expected one of {COND_MODES}")
    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
    gen = torch.Generator().manual_seed(seed)

    def normal(*shape: int, std: float = 0.2) -> torch.Tensor:
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * std).to(dtype)

    def ln_weight(n: int) -> torch.Tensor:
        return (1.0 + torch.randn(n, generator=gen, dtype=torch.float64) * 0.1).to(dtype)

    state: dict[str, torch.Tensor] = {
        _PREFIX + "embd.weight": normal(vocab, hidden, std=0.5),
        _PREFIX + "embed_positions.weight": normal(positions, hidden, std=0.3),
    }
    for i in range(layers):
        p = f"{_PREFIX}layers.{i}."
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            state[f"{p}self_attn.{name}.weight"] = normal(hidden, hidden)
            state[f"{p}self_attn.{name}.bias"] = normal(hidden, std=0.1)
        state[p + "self_attn_layer_norm.weight"] = ln_weight(hidden)
        state[p + "self_attn_layer_norm.bias"] = normal(hidden, std=0.1)
        state[p + "fc1.weight"] = normal(ffn, hidden)
        state[p + "fc1.bias"] = normal(ffn, std=0.1)
        state[p + "fc2.weight"] = normal(hidden, ffn)
        state[p + "fc2.bias"] = normal(hidden, std=0.1)
        state[p + "final_layer_norm.weight"] = ln_weight(hidden)
        state[p + "final_layer_norm.bias"] = normal(hidden, std=0.1)
    state["mesh_decoder.lm_head.weight"] = normal(vocab, hidden)

    if cond_mode == "text":
        state["proj_cond.weight"] = normal(hidden, text_width)
        state["proj_cond.bias"] = normal(hidden, std=0.1)
    else:
        for kind, width in (("text", text_width), ("image", image_width), ("depth", image_width)):
            state[f"proj_cond_{kind}.weight"] = normal(hidden, width)
            state[f"proj_cond_{kind}.bias"] = normal(hidden, std=0.1)
    state["norm_cond.weight"] = ln_weight(hidden)
    state["norm_cond.bias"] = normal(hidden, std=0.1)
    return state


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x @ weight.T + bias`` with a PyTorch-style ``(out, in)`` weight."""
    y = x @ weight.transpose(0, 1)
    return y if bias is None else y + bias


def _layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = LN_EPS) -> torch.Tensor:
    """LayerNorm over the last axis with the biased variance, written out by hand."""
    mean = x.mean(dim=-1, keepdim=True)
    centered = x - mean
    var = (centered * centered).mean(dim=-1, keepdim=True)
    return centered / torch.sqrt(var + eps) * weight + bias


def _condition_prefix(
    state: Mapping[str, torch.Tensor], cond: torch.Tensor | Mapping[str, torch.Tensor]
) -> torch.Tensor:
    """Project the condition features and apply the shared ``norm_cond`` LayerNorm -> ``(B, C, hidden)``."""
    if "proj_cond.weight" in state:
        if not isinstance(cond, torch.Tensor):
            raise TypeError("text-only checkpoint expects cond as a (B, C, text_width) tensor")
        projected = _linear(cond, state["proj_cond.weight"], state["proj_cond.bias"])
    else:
        if isinstance(cond, torch.Tensor):
            raise TypeError('depth+image+text checkpoint expects cond as a dict {"text", "image", "depth"}')
        parts = [
            _linear(cond[kind], state[f"proj_cond_{kind}.weight"], state[f"proj_cond_{kind}.bias"])
            for kind in ("text", "image", "depth")
        ]
        projected = torch.cat(parts, dim=1)
    return _layer_norm(projected, state["norm_cond.weight"], state["norm_cond.bias"])


def _attention(state: Mapping[str, torch.Tensor], p: str, x: torch.Tensor, heads: int) -> torch.Tensor:
    """Causal multi-head self-attention over the whole sequence, including its out-projection."""
    batch, length, hidden = x.shape
    head_dim = hidden // heads

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(batch, length, heads, head_dim).permute(0, 2, 1, 3)  # (B, H, L, D)

    q = split(_linear(x, state[p + "q_proj.weight"], state[p + "q_proj.bias"]))
    k = split(_linear(x, state[p + "k_proj.weight"], state[p + "k_proj.bias"]))
    v = split(_linear(x, state[p + "v_proj.weight"], state[p + "v_proj.bias"]))

    scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)  # (B, H, L, L)
    allowed = torch.tril(torch.ones(length, length, dtype=torch.bool, device=x.device))
    scores = scores.masked_fill(~allowed, float("-inf"))
    scores = scores - scores.amax(dim=-1, keepdim=True)
    weights = torch.exp(scores)
    weights = weights / weights.sum(dim=-1, keepdim=True)

    merged = (weights @ v).permute(0, 2, 1, 3).reshape(batch, length, hidden)
    return _linear(merged, state[p + "out_proj.weight"], state[p + "out_proj.bias"])


def reference_logits(
    state: Mapping[str, torch.Tensor],
    cond: torch.Tensor | Mapping[str, torch.Tensor],
    ids: torch.Tensor,
    *,
    heads: int,
) -> torch.Tensor:
    """Logits ``(B, C + T, vocab)`` of GenDoP's decoder for condition features and token ids ``(B, T)``.

    ``cond`` is a ``(B, C, text_width)`` tensor for a text-only checkpoint, or a dict with ``"text"``,
    ``"image"`` and ``"depth"`` features (concatenated in that order) for a depth+image+text one.
    Row ``i`` of the output predicts sequence element ``i + 1``.
    """
    prefix = _condition_prefix(state, cond)
    tokens = state[_PREFIX + "embd.weight"][ids]
    x = torch.cat([prefix, tokens.to(prefix.dtype)], dim=1)
    length = x.shape[1]
    pos = state[_PREFIX + "embed_positions.weight"]
    if length > pos.shape[0]:
        raise ValueError(f"sequence of {length} exceeds {pos.shape[0]} position embeddings")
    x = x + pos[:length]

    i = 0
    while f"{_PREFIX}layers.{i}.fc1.weight" in state:
        p = f"{_PREFIX}layers.{i}."
        x = _layer_norm(
            x + _attention(state, p + "self_attn.", x, heads),
            state[p + "self_attn_layer_norm.weight"],
            state[p + "self_attn_layer_norm.bias"],
        )
        h = torch.relu(_linear(x, state[p + "fc1.weight"], state[p + "fc1.bias"]))
        h = _linear(h, state[p + "fc2.weight"], state[p + "fc2.bias"])
        x = _layer_norm(x + h, state[p + "final_layer_norm.weight"], state[p + "final_layer_norm.bias"])
        i += 1
    if i == 0:
        raise ValueError("state dict has no decoder layers")
    return _linear(x, state["mesh_decoder.lm_head.weight"])


def write_gendop_checkpoint(
    path: str | Path,
    state: Mapping[str, torch.Tensor],
    *,
    text_encoder_state: Mapping[str, torch.Tensor] | None = None,
) -> Path:
    """Save ``state`` (plus an optional text encoder under ``text_encoder.``) as a safetensors file.

    Text encoder keys are written in the layout of GenDoP's released checkpoints (transformers 4.x),
    ``text_encoder.text_model.embeddings...``. transformers 5.x ``CLIPTextModel.state_dict()`` keys
    have no ``text_model.`` level, so it is added where missing.
    """
    tensors = {key: value.detach().contiguous() for key, value in state.items()}
    if text_encoder_state is not None:
        for key, value in text_encoder_state.items():
            name = "text_encoder." + (key if key.startswith("text_model.") else "text_model." + key)
            if name in tensors:
                raise ValueError(f"duplicate key {name!r}")
            tensors[name] = value.detach().contiguous()
    path = Path(path)
    save_file(tensors, str(path))
    return path


def tiny_clip_text_encoder(seed: int = 0, *, hidden_size: int = 32) -> CLIPTextModel:
    """A tiny randomly initialised transformers ``CLIPTextModel`` in eval mode.

    Its ``state_dict()`` keys (transformers 5.x) are ``embeddings...``/``encoder...``/``final_layer_norm...``
    without a ``text_model.`` level; bos/eos ids are moved inside the 1000-token vocabulary.
    """
    config = CLIPTextConfig(
        hidden_size=hidden_size,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        vocab_size=1000,
        max_position_embeddings=77,
        hidden_act="gelu",
        pad_token_id=1,
        bos_token_id=998,
        eos_token_id=999,
    )
    torch.manual_seed(seed)
    return CLIPTextModel(config).eval()


def tiny_clip_vision_encoder(seed: int, width: int = 40) -> CLIPVisionModel:
    """A tiny randomly initialised ``CLIPVisionModel`` (28 px, 14 px patches → 5 tokens) in eval mode."""
    torch.manual_seed(seed)
    config = CLIPVisionConfig(hidden_size=width, intermediate_size=44, num_hidden_layers=2, num_attention_heads=4,
                              image_size=28, patch_size=14, hidden_act="gelu")
    return CLIPVisionModel(config).eval()


def write_tiny_clip_tokenizer(folder: Path, size: int = 1000) -> Path:
    """A character-level CLIP tokenizer (no merges) with ``size`` entries, pad ``!`` = 0 like SD-2.1's."""
    import json
    import string

    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + ".,'-")
    vocab = ["!", *chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"]
    vocab += [f"unused{i}" for i in range(size - len(vocab))]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="!").save_pretrained(folder)
    return folder
