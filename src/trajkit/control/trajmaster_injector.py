"""3DTrajMaster's 3D-motion grounded object injector on diffusers' ``CogVideoXTransformer3DModel``
(``shared/specs/trajmaster.md`` §4–5), added through attention processors and block pre-hooks — no fork.

Modules (added to the blocks in :func:`add_injectors`, default every second block 0, 2, …, named as in the released
checkpoints, :data:`INJECTOR_KEYS`): ``attn_injector`` (a CogVideoX ``Attention``, initialised as a copy of the
block's ``attn1``), ``pose_fuse_layer`` (``Linear(12, d)``) and ``attn_null_feature`` (a zero ``d``-vector).

Forward, for a block with an injector and hidden state ``x`` after the ``attn1`` residual, ``(B, f·V, d)``:

1. ``(x̂, ĉ, g, ·) = norm1(x, c_empty, temb)`` — the block's own modulation, applied to the empty-prompt context too;
2. entity tokens ``T[b, i, j, t] = pose_fuse_layer(poses)[b, i, t] + E[b, i, j]`` ``(B, n, K, f, d)``, padded with
   the null vector to ``N = 3`` entities;
3. attention over ``[ĉ | x̂ (f·V, frame-major) | entity tokens (f·N·K, frame-major, entity-major per frame)]`` — the
   "grouped" order G — with CogVideoX's 3D RoPE on the video rows only;
4. ``x ← x + g ⊙ out[video rows]``.

3DTrajMaster builds the sequence interleaved per frame (``[V video | N·K entity]`` for each frame) and regroups only
queries and keys into G, leaving the values interleaved, so every key after frame 0 is paired with another token's
value. The released weights were trained that way: ``mode="legacy_kv"`` (default) reproduces it by gathering the
values into the interleaved order; ``mode="aligned"`` pairs every key with its own value. Layout is derived from the
shapes (any resolution and frame count), never from 3DTrajMaster's literal 19 726.

How it is wired: the block's ``attn1`` processor is replaced by :class:`InjectorProcessor`, which runs the original
processor and adds the injector output to the attention output it returns (the block then computes
``x + g ⊙ (attn + inj)``, equal to the two residual adds up to rounding); a forward pre-hook on the block hands the
processor the block's input and timestep embedding. :class:`EntityInjection` installs and removes both, so
switching the injector off (annealed sampling) restores the stock processors.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import torch
from torch import nn
from torch.nn import functional

from ..core.errors import TrajkitError
from .trajmaster import ENTITY_TOKENS, MAX_ENTITIES

Mode = Literal["legacy_kv", "aligned"]
#: CogVideoX's rotary table ``(cos, sin)``, each ``(f·V, head_dim)``.
Rotary = tuple[torch.Tensor, torch.Tensor]
MODES: tuple[str, ...] = get_args(Mode)
#: Module names on a block, as in 3DTrajMaster's checkpoints.
INJECTOR_KEYS = ("attn_injector", "pose_fuse_layer", "attn_null_feature")
#: Tensors per injector block (§5.1): q/k/v/out weights and biases, q/k LayerNorm weight and bias, pose Linear, null.
INJECTOR_TENSOR_SUFFIXES = tuple(
    [f"attn_injector.{p}.{w}" for p in ("to_q", "to_k", "to_v", "to_out.0") for w in ("weight", "bias")]
    + [f"attn_injector.{p}.{w}" for p in ("norm_q", "norm_k") for w in ("weight", "bias")]
    + ["pose_fuse_layer.weight", "pose_fuse_layer.bias", "attn_null_feature"])
POSE_DIM = 12


def default_injector_blocks(num_layers: int, interval: int = 2) -> tuple[int, ...]:
    """Blocks 0, interval, 2·interval, … (3DTrajMaster: 0, 2, …, 40 of 42)."""
    return tuple(range(0, num_layers, interval))


def injector_blocks(transformer: nn.Module) -> tuple[int, ...]:
    """Indices of the blocks of ``transformer`` that carry an injector."""
    return tuple(i for i, block in enumerate(transformer.transformer_blocks) if hasattr(block, "attn_injector"))


def _has_adapters(module: nn.Module) -> bool:
    return any(hasattr(m, "lora_A") for m in module.modules())


def add_injectors(transformer: nn.Module, blocks: Iterable[int] | None = None, *,
                  init: Literal["attn1", "meta"] = "attn1") -> tuple[int, ...]:
    """Add an injector to each of ``blocks`` (default every second block) and return the blocks that have one.

    ``init="attn1"``: ``attn_injector`` copies the block's ``attn1`` (3DTrajMaster's stage-2 initialisation; do it
    before loading a LoRA, which would otherwise be copied too), ``pose_fuse_layer`` gets PyTorch's default init and
    ``attn_null_feature`` zeros. ``init="meta"``: empty tensors on the meta device, to be filled by
    :func:`load_injector_state_dict`. The block list is recorded in the transformer's config (``trajkit``), so a
    ``save_pretrained`` folder says where its injectors are.
    """
    from diffusers.models.attention_processor import CogVideoXAttnProcessor2_0

    layers = transformer.transformer_blocks
    chosen = default_injector_blocks(len(layers)) if blocks is None else tuple(sorted(set(int(b) for b in blocks)))
    bad = [b for b in chosen if not 0 <= b < len(layers)]
    if bad:
        raise TrajkitError(f"injector blocks {bad} do not exist; the transformer has blocks 0..{len(layers) - 1}")
    for i in chosen:
        block = layers[i]
        if hasattr(block, "attn_injector"):
            continue
        attn1 = block.attn1
        dim = attn1.to_q.weight.shape[1]
        weight = attn1.to_q.weight
        if init == "attn1":
            if _has_adapters(attn1):
                raise TrajkitError(f"block {i}: attn1 carries LoRA layers; add the injectors before loading a LoRA "
                                   "(3DTrajMaster copies the base attention)")
            attn = copy.deepcopy(attn1)
            attn.set_processor(CogVideoXAttnProcessor2_0())
            pose = nn.Linear(POSE_DIM, dim, device=weight.device, dtype=weight.dtype)
            null = nn.Parameter(torch.zeros(dim, device=weight.device, dtype=weight.dtype))
        elif init == "meta":
            attn = _meta_copy(attn1)
            with torch.device("meta"):
                pose = nn.Linear(POSE_DIM, dim, dtype=weight.dtype)
                null = nn.Parameter(torch.empty(dim, dtype=weight.dtype))
            attn.set_processor(CogVideoXAttnProcessor2_0())
        else:
            raise TrajkitError(f"injector init {init!r}: expected 'attn1' or 'meta'")
        block.add_module("attn_injector", attn)
        block.add_module("pose_fuse_layer", pose)
        block.register_parameter("attn_null_feature", null)
    have = injector_blocks(transformer)
    if hasattr(transformer, "register_to_config"):
        transformer.register_to_config(trajkit={"injector_blocks": list(have), "max_entities": MAX_ENTITIES,
                                                "entity_tokens": ENTITY_TOKENS})
    return have


def _meta_copy(attn1: nn.Module) -> nn.Module:
    """A copy of ``attn1``'s structure with meta tensors (no memory), without touching ``attn1``."""
    memo = {id(p): nn.Parameter(torch.empty_like(p, device="meta"), requires_grad=p.requires_grad)
            for p in attn1.parameters()}
    memo.update({id(b): torch.empty_like(b, device="meta") for b in attn1.buffers()})
    return copy.deepcopy(attn1, memo)


def injector_state_dict(transformer: nn.Module) -> dict[str, torch.Tensor]:
    """The injector tensors only, under 3DTrajMaster's key names (``transformer_blocks.{i}.attn_injector.…``)."""
    state = transformer.state_dict()
    out = {}
    for i in injector_blocks(transformer):
        for suffix in INJECTOR_TENSOR_SUFFIXES:
            out[f"transformer_blocks.{i}.{suffix}"] = state[f"transformer_blocks.{i}.{suffix}"]
    return out


def split_injector_keys(keys: Iterable[str]) -> tuple[dict[int, set[str]], list[str]]:
    """Group checkpoint keys that belong to injectors by block: ``({block: {suffix, …}}, other keys)``."""
    blocks: dict[int, set[str]] = {}
    other = []
    for key in keys:
        parts = key.split(".", 2)
        if len(parts) == 3 and parts[0] == "transformer_blocks" and parts[1].isdigit() \
                and parts[2].split(".", 1)[0] in INJECTOR_KEYS:
            blocks.setdefault(int(parts[1]), set()).add(parts[2])
        else:
            other.append(key)
    return blocks, other


def load_injector_state_dict(transformer: nn.Module, state: Mapping[str, torch.Tensor], *,
                             where: str = "injector weights") -> tuple[int, ...]:
    """Add injectors on the blocks ``state`` names and load them strictly; other keys are refused.

    Errors name every missing, unexpected or wrong-shaped key. Returns the injector blocks.
    """
    blocks, other = split_injector_keys(state)
    if other:
        raise TrajkitError(f"{where}: {len(other)} keys are not injector tensors, e.g. {sorted(other)[:4]}")
    if not blocks:
        raise TrajkitError(f"{where}: no injector tensors (keys like transformer_blocks.0.attn_injector.to_q.weight)")
    expected = set(INJECTOR_TENSOR_SUFFIXES)
    missing = [f"transformer_blocks.{b}.{s}" for b in sorted(blocks) for s in sorted(expected - blocks[b])]
    unexpected = [f"transformer_blocks.{b}.{s}" for b in sorted(blocks) for s in sorted(blocks[b] - expected)]
    if missing or unexpected:
        raise TrajkitError(f"{where}: missing keys {missing[:6]}{' …' if len(missing) > 6 else ''}; "
                           f"unexpected keys {unexpected[:6]}{' …' if len(unexpected) > 6 else ''}")
    n = len(transformer.transformer_blocks)
    outside = [b for b in blocks if b >= n]
    if outside:
        raise TrajkitError(f"{where}: injectors for blocks {sorted(outside)} but the transformer has {n} blocks")
    existing = set(injector_blocks(transformer))
    add_injectors(transformer, blocks.keys(), init="meta")
    for b in sorted(blocks):
        block = transformer.transformer_blocks[b]
        own = {k: v for k, v in block.state_dict(keep_vars=True).items() if k.split(".", 1)[0] in INJECTOR_KEYS}
        sub = {s: state[f"transformer_blocks.{b}.{s}"] for s in INJECTOR_TENSOR_SUFFIXES}
        wrong = [f"transformer_blocks.{b}.{s} {tuple(sub[s].shape)} (expected {tuple(own[s].shape)})"
                 for s in INJECTOR_TENSOR_SUFFIXES if tuple(sub[s].shape) != tuple(own[s].shape)]
        if wrong:
            raise TrajkitError(f"{where}: wrong shapes: {wrong[:4]}")
        reference = block.attn1.to_q.weight
        sub = {s: t.to(device=reference.device, dtype=reference.dtype) for s, t in sub.items()}
        _load_into(block, sub, assign=b not in existing)
    return injector_blocks(transformer)


def _load_into(block: nn.Module, sub: dict[str, torch.Tensor], assign: bool) -> None:
    """Load one block's (complete, shape-checked) injector tensors; ``assign`` replaces meta placeholders."""
    for name in ("attn_injector", "pose_fuse_layer"):
        part = {k[len(name) + 1:]: v for k, v in sub.items() if k.startswith(name + ".")}
        getattr(block, name).load_state_dict(part, strict=True, assign=assign)
    null = sub["attn_null_feature"]
    if assign:
        block.attn_null_feature = nn.Parameter(null.clone(), requires_grad=block.attn_null_feature.requires_grad)
    else:
        with torch.no_grad():
            block.attn_null_feature.copy_(null)


@dataclass(frozen=True, eq=False)
class EntityConditioning:
    """What the injectors read, as tensors (batch 1 is broadcast over the CFG batch).

    ``poses``: ``(B, n, f, 12)`` 3DTrajMaster pose vectors (:func:`trajkit.control.trajmaster.pose_embeds`), one per
    entity and latent frame. ``tokens``: ``(B, n, K, d)`` entity prompt tokens (``text_proj`` of T5, padding zeroed,
    first 50). ``context``: ``(B, C, d)`` the projected empty prompt (226 tokens).
    """

    poses: torch.Tensor
    tokens: torch.Tensor
    context: torch.Tensor

    def __post_init__(self) -> None:
        p, t, c = self.poses, self.tokens, self.context
        if p.ndim != 4 or p.shape[-1] != POSE_DIM:
            raise TrajkitError(f"entity poses: expected (B, entities, latent frames, 12), found {tuple(p.shape)}")
        if t.ndim != 4:
            raise TrajkitError(f"entity tokens: expected (B, entities, tokens, dim), found {tuple(t.shape)}")
        if c.ndim != 3 or c.shape[-1] != t.shape[-1]:
            raise TrajkitError(f"empty context: expected (B, tokens, {t.shape[-1]}), found {tuple(c.shape)}")
        n = p.shape[1]
        if not 1 <= n <= MAX_ENTITIES:
            raise TrajkitError(f"3DTrajMaster conditions on 1–{MAX_ENTITIES} entities; found {n} entity paths")
        if t.shape[1] != n:
            raise TrajkitError(f"{n} entity paths but {t.shape[1]} entity prompts; give one prompt per path")
        if not bool(torch.isfinite(p).all()):
            raise TrajkitError("entity poses hold NaN or infinite values")

    @property
    def latent_frames(self) -> int:
        """f."""
        return int(self.poses.shape[2])


def _batch(x: torch.Tensor, batch: int, what: str) -> torch.Tensor:
    if x.shape[0] == batch:
        return x
    if x.shape[0] == 1:
        return x.expand(batch, *x.shape[1:])
    raise TrajkitError(f"{what}: batch {x.shape[0]} cannot be broadcast to the model batch {batch}")


def grouped_to_interleaved(context: int, frames: int, video_per_frame: int, entity_per_frame: int,
                           device: Any = None) -> torch.Tensor:
    """For each position of 3DTrajMaster's interleaved sequence, its position in the grouped order G.

    Interleaved: ``[ctx | frame 0 video, frame 0 entities | frame 1 video, …]``; grouped: ``[ctx | all video |
    all entities]`` (both frame-major). Shape ``(context + frames·(video + entity),)``, int64.
    """
    t = torch.arange(frames, device=device)[:, None]
    video = context + t * video_per_frame + torch.arange(video_per_frame, device=device)[None]
    entity = context + frames * video_per_frame + t * entity_per_frame + torch.arange(entity_per_frame,
                                                                                        device=device)[None]
    return torch.cat([torch.arange(context, device=device), torch.cat([video, entity], dim=1).reshape(-1)])


def entity_token_sequence(block: nn.Module, cond: EntityConditioning, batch: int) -> torch.Tensor:
    """The ``(B, f·N·K, d)`` entity tokens of one block: pose + prompt tokens, null-padded to N entities,
    frame-major and entity-major within each frame."""
    fuse = block.pose_fuse_layer
    poses = _batch(cond.poses, batch, "entity poses").to(fuse.weight.dtype)
    tokens = _batch(cond.tokens, batch, "entity tokens").to(fuse.weight.dtype)
    n, f, k = poses.shape[1], poses.shape[2], tokens.shape[2]
    fused = fuse(poses)[:, :, None] + tokens[:, :, :, None]  # (B, n, K, f, d)
    if n < MAX_ENTITIES:
        null = block.attn_null_feature.to(fused.dtype).expand(batch, MAX_ENTITIES - n, k, f, -1)
        fused = torch.cat([fused, null], dim=1)
    return fused.permute(0, 3, 1, 2, 4).reshape(batch, f * MAX_ENTITIES * k, -1)


def injector_forward(block: nn.Module, hidden_states: torch.Tensor, temb: torch.Tensor, cond: EntityConditioning,
                     image_rotary_emb: Rotary | None, mode: Mode = "legacy_kv",
                     video_frames: int | None = None) -> torch.Tensor:
    """The injector's output for the video rows ``(B, f·V, d)``, **before** the block's gate.

    ``hidden_states``: the video hidden state after the ``attn1`` residual ``(B, f·V, d)``; ``temb``: the block's
    timestep embedding; ``image_rotary_emb``: the ``(cos, sin)`` table the pipeline built for ``attn1``;
    ``video_frames``: the latent frame count of the transformer input, when known (checked against the poses).
    """
    from diffusers.models.embeddings import apply_rotary_emb

    if mode not in MODES:
        raise TrajkitError(f"injector mode {mode!r}: expected one of {MODES}")
    batch, length, _ = hidden_states.shape
    f = cond.latent_frames
    if video_frames is not None and video_frames != f:
        raise TrajkitError(f"entity poses have {f} latent frames but the video has {video_frames}; the pose frame "
                           "count must equal the latent frame count ((frames − 1) / 4 + 1)")
    if length % f:
        raise TrajkitError(f"entity poses have {f} latent frames but the video has {length} tokens, not a multiple; "
                           "the pose frame count must equal the latent frame count")
    per_frame = length // f
    if image_rotary_emb is not None and image_rotary_emb[0].shape[0] != length:
        raise TrajkitError(f"entity poses have {f} latent frames; the video's rotary table covers "
                           f"{image_rotary_emb[0].shape[0]} tokens, not {length}")
    context = _batch(cond.context, batch, "empty context").to(hidden_states.dtype)
    norm_x, norm_ctx, _gate, _ = block.norm1(hidden_states, context, temb)
    entities = entity_token_sequence(block, cond, batch).to(hidden_states.dtype)
    attn = block.attn_injector
    c = norm_ctx.shape[1]
    grouped = torch.cat([norm_ctx, norm_x, entities], dim=1)
    heads = attn.heads
    # Only the video rows' outputs are kept, so only they need queries (row-wise projection and norm).
    query = attn.to_q(norm_x).unflatten(-1, (heads, -1)).transpose(1, 2)
    key = attn.to_k(grouped).unflatten(-1, (heads, -1)).transpose(1, 2)
    value = attn.to_v(grouped).unflatten(-1, (heads, -1)).transpose(1, 2)
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    if image_rotary_emb is not None:
        query = apply_rotary_emb(query, image_rotary_emb)
        key = torch.cat([key[:, :, :c], apply_rotary_emb(key[:, :, c:c + length], image_rotary_emb),
                         key[:, :, c + length:]], dim=2)
    if mode == "legacy_kv":
        order = grouped_to_interleaved(c, f, per_frame, entities.shape[1] // f, device=value.device)
        value = value[:, :, order]
    out = functional.scaled_dot_product_attention(query, key, value)
    out = out.transpose(1, 2).flatten(2)
    return attn.to_out[1](attn.to_out[0](out))


class InjectorProcessor:
    """``attn1`` processor of a block with an injector: the block's own processor, plus the injector output.

    Returns ``(attn + inj, attn_text)``, so the block's ``x + g ⊙ ·`` applies the shared gate to both. Reads the
    block input from :class:`EntityInjection`'s pre-hook; without conditioning it is the original processor.
    """

    def __init__(self, injection: EntityInjection, block: nn.Module, original: Any) -> None:
        self.injection = injection
        self.block = weakref.ref(block)
        self.original = original
        self.inputs: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, attn: nn.Module, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor,
                 attention_mask: torch.Tensor | None = None,
                 image_rotary_emb: Rotary | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        video, text = self.original(attn, hidden_states, encoder_hidden_states, attention_mask=attention_mask,
                                    image_rotary_emb=image_rotary_emb)
        inputs, self.inputs = self.inputs, None
        cond = self.injection.conditioning
        block = self.block()
        if cond is None or inputs is None or block is None:
            return video, text
        x, temb = inputs
        norm1 = block.norm1
        gate = norm1.linear(norm1.silu(temb)).chunk(6, dim=1)[2][:, None, :]
        after = x + gate * video
        self.injection.calls += 1
        out = injector_forward(block, after, temb, cond, image_rotary_emb, self.injection.mode,
                               self.injection.video_frames)
        return video + out, text


class EntityInjection:
    """Installs the injectors of ``transformer`` (blocks from :func:`injector_blocks`) while enabled.

    ``with EntityInjection(transformer, conditioning):`` — inside, every forward pass of the transformer runs the
    injectors with ``conditioning``; :meth:`disable` restores the stock processors (the model is then exactly the
    base model), :meth:`enable` puts them back. ``calls`` counts injector forwards.
    """

    def __init__(self, transformer: nn.Module, conditioning: EntityConditioning | None = None,
                 mode: Mode = "legacy_kv") -> None:
        if mode not in MODES:
            raise TrajkitError(f"injector mode {mode!r}: expected one of {MODES}")
        self.transformer = transformer
        self.blocks = injector_blocks(transformer)
        if not self.blocks:
            raise TrajkitError("this transformer has no injectors (load 3DTrajMaster's injector weights, or "
                               "add_injectors for training)")
        self.conditioning = conditioning
        self.mode = mode
        self.calls = 0
        self.video_frames: int | None = None
        self._installed: list[tuple[nn.Module, Any, Any]] = []
        self._top_hook: Any = None

    def enable(self) -> None:
        """Install the injector processors and pre-hooks (idempotent)."""
        if self._installed:
            return
        for i in self.blocks:
            block = self.transformer.transformer_blocks[i]
            original = block.attn1.processor
            processor = InjectorProcessor(self, block, original)
            block.attn1.set_processor(processor)
            handle = block.register_forward_pre_hook(_capture_inputs(processor), with_kwargs=True)
            self._installed.append((block, original, handle))
        self._top_hook = self.transformer.register_forward_pre_hook(self._record_frames, with_kwargs=True)

    def _record_frames(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        hidden = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        p_t = getattr(module.config, "patch_size_t", None)
        self.video_frames = hidden.shape[1] if p_t is None else (hidden.shape[1] + p_t - 1) // p_t

    def disable(self) -> None:
        """Restore the blocks' own processors (idempotent)."""
        for block, original, handle in self._installed:
            handle.remove()
            block.attn1.set_processor(original)
        self._installed = []
        if self._top_hook is not None:
            self._top_hook.remove()
            self._top_hook = None

    def __enter__(self) -> EntityInjection:
        self.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disable()


def _capture_inputs(processor: InjectorProcessor) -> Any:
    def hook(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        hidden = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        temb = kwargs["temb"] if "temb" in kwargs else args[2]
        processor.inputs = (hidden, temb)

    return hook


def rotary_table(transformer: nn.Module, frames: int, height: int, width: int, device: Any = None) -> Rotary:
    """CogVideoX's 3D RoPE table for ``frames`` latent frames of ``height × width`` latent pixels, built as
    ``CogVideoXPipeline`` builds it (1.0 models: crop region of the base grid; 1.5 models: sliced)."""
    from diffusers.models.embeddings import get_3d_rotary_pos_embed
    from diffusers.pipelines.cogvideo.pipeline_cogvideox import get_resize_crop_region_for_grid

    config = transformer.config
    p, p_t = config.patch_size, config.patch_size_t
    grid = (height // p, width // p)
    base_w, base_h = config.sample_width // p, config.sample_height // p
    if p_t is None:
        crops = get_resize_crop_region_for_grid(grid, base_w, base_h)
        return get_3d_rotary_pos_embed(embed_dim=config.attention_head_dim, crops_coords=crops, grid_size=grid,
                                       temporal_size=frames, device=device)
    return get_3d_rotary_pos_embed(embed_dim=config.attention_head_dim, crops_coords=None, grid_size=grid,
                                   temporal_size=(frames + p_t - 1) // p_t, grid_type="slice",
                                   max_size=(base_h, base_w), device=device)


def iter_injector_parameters(transformer: nn.Module) -> Iterator[nn.Parameter]:
    """The trainable parameters of 3DTrajMaster's stage 2: every injector tensor."""
    for i in injector_blocks(transformer):
        block = transformer.transformer_blocks[i]
        yield from block.attn_injector.parameters()
        yield from block.pose_fuse_layer.parameters()
        yield block.attn_null_feature
