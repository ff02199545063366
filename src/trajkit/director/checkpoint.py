"""Director checkpoints: trajkit's own (``config.json`` + ``model.safetensors``) and GenDoP's released
``text_motion`` / ``text_directorial`` / ``text_rgbd`` safetensors (``shared/specs/gendop.md`` §4).

GenDoP's files carry no config: sizes are read from tensor shapes (position table, layer count, FFN width,
encoder shapes), head counts are the preset's (decoder 8, CLIP towers 16) and the token offset defaults to 0,
the scheme the 2025 release was trained with (§2.4). Loading is strict: every key must be used except
transformers' ``position_ids`` buffers and the vision towers' unused ``post_layernorm``. Pickled formats
(``.pt``, ``.bin``, ``.ckpt``) are refused.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import torch

from ..core.errors import TrajkitError
from .model import Director, DirectorConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
#: Keys a GenDoP checkpoint may hold that no trajkit module uses.
IGNORED_KEYS = re.compile(r"(^|\.)position_ids$|\.post_layernorm\.(weight|bias)$")
GENDOP_DECODER_HEADS = 8
META_ABOVE_BYTES = 64 * 2**20


class CheckpointError(TrajkitError, ValueError):
    """A director checkpoint that cannot be used (missing, unreadable, wrong layout or shapes)."""


def check_device(device: str | torch.device) -> torch.device:
    """``device`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) as a :class:`torch.device`, refused with a
    :class:`TrajkitError` when torch cannot parse it or this machine does not have it."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise TrajkitError(f"device {str(device)!r}: expected cpu, cuda, cuda:N or mps") from exc
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (parsed.index or 0) >= count:
            raise TrajkitError(f"device {str(device)!r}: this torch build sees {count} CUDA GPU(s)")
    elif parsed.type == "mps":
        if not torch.backends.mps.is_available():
            raise TrajkitError(f"device {str(device)!r}: MPS is not available on this machine")
    elif parsed.type != "cpu":
        raise TrajkitError(f"device {str(device)!r}: expected cpu, cuda, cuda:N or mps")
    return parsed


def save_director(model: Director, folder: str | Path) -> Path:
    """Write ``folder/config.json`` and ``folder/model.safetensors`` (atomically); returns the folder."""
    from safetensors.torch import save

    from ..formats._io import atomic_write_bytes, atomic_write_text

    folder = Path(folder)
    config_json = json.dumps(model.config.to_json(), indent=2)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": "trajkit-director", "config": config_json}
    atomic_write_bytes(folder / WEIGHTS_NAME, save(state, metadata=metadata))
    atomic_write_text(folder / CONFIG_NAME, config_json + "\n")
    return folder


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            return {k: handle.get_tensor(k) for k in handle.keys()}, handle.metadata() or {}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc


def _locate(path: Path) -> tuple[Path, Path | None]:
    """(weights file, config file or None)."""
    if not path.exists():
        raise CheckpointError(f"director checkpoint {path} does not exist")
    if path.is_dir():
        weights = path / WEIGHTS_NAME
        if not weights.is_file():
            found = sorted(p.name for p in path.glob("*.safetensors"))
            hint = f" (found {', '.join(found)}; pass the file)" if found else ""
            raise CheckpointError(f"{path}: no {WEIGHTS_NAME} in this folder{hint}")
        config = path / CONFIG_NAME
        return weights, config if config.is_file() else None
    if path.suffix in (".pt", ".pth", ".bin", ".ckpt", ".pkl"):
        raise CheckpointError(f"{path}: pickled checkpoints are not loaded (they can run code); convert it to "
                              ".safetensors — GenDoP's releases are already safetensors")
    sibling = path.with_name(CONFIG_NAME)
    return path, sibling if sibling.is_file() and path.name == WEIGHTS_NAME else None


def _count(state: dict, pattern: str) -> int:
    rx = re.compile(pattern)
    return len({m.group(1) for k in state if (m := rx.match(k))})


def _clip_heads(hidden: int) -> int:
    return 16 if hidden in (1024, 1280) else max(1, hidden // 64)


def gendop_config(state: dict[str, torch.Tensor], *, name: str = "", token_offset: int = 0,
                  heads: int = GENDOP_DECODER_HEADS, encoder_heads: int | None = None) -> DirectorConfig:
    """A :class:`DirectorConfig` read off a GenDoP state dict's shapes (§4)."""
    def shape(key: str) -> tuple[int, ...]:
        if key not in state:
            raise CheckpointError(f"{name or 'checkpoint'}: not a GenDoP director checkpoint (no {key})")
        return tuple(state[key].shape)

    vocab, hidden = shape("mesh_decoder.model.embd.weight")
    positions = shape("mesh_decoder.model.embed_positions.weight")[0]
    layers = _count(state, r"mesh_decoder\.model\.layers\.(\d+)\.")
    ffn = shape("mesh_decoder.model.layers.0.fc1.weight")[0]
    if "proj_cond_text.weight" in state:
        cond_mode = "depth+image+text"
    elif "proj_cond.weight" in state:
        cond_mode = "text"
    else:
        raise CheckpointError(f"{name}: no proj_cond / proj_cond_text weights — only GenDoP's text and "
                              "text+RGBD checkpoints are supported")
    prefix = "text_encoder.text_model."
    t_vocab, t_hidden = shape(prefix + "embeddings.token_embedding.weight")
    text_config = dict(vocab_size=t_vocab, hidden_size=t_hidden,
                       intermediate_size=shape(prefix + "encoder.layers.0.mlp.fc1.weight")[0],
                       num_hidden_layers=_count(state, re.escape(prefix) + r"encoder\.layers\.(\d+)\."),
                       num_attention_heads=encoder_heads or _clip_heads(t_hidden),
                       max_position_embeddings=shape(prefix + "embeddings.position_embedding.weight")[0],
                       hidden_act="gelu", projection_dim=512, pad_token_id=0,
                       bos_token_id=min(49406, t_vocab - 2), eos_token_id=min(49407, t_vocab - 1))
    if cond_mode == "text" and shape("proj_cond.weight")[1] != t_hidden:
        raise CheckpointError(f"{name}: proj_cond takes {shape('proj_cond.weight')[1]} features but the text encoder "
                              f"gives {t_hidden} (an image-only checkpoint is not supported)")
    vision_config = None
    if cond_mode == "depth+image+text":
        vprefix = "image_encoder.vision_model."
        v_hidden, _, patch, _ = shape(vprefix + "embeddings.patch_embedding.weight")
        grid = round((shape(vprefix + "embeddings.position_embedding.weight")[0] - 1) ** 0.5)
        vision_config = dict(hidden_size=v_hidden,
                             intermediate_size=shape(vprefix + "encoder.layers.0.mlp.fc1.weight")[0],
                             num_hidden_layers=_count(state, re.escape(vprefix) + r"encoder\.layers\.(\d+)\."),
                             num_attention_heads=encoder_heads or _clip_heads(v_hidden), image_size=grid * patch,
                             patch_size=patch, hidden_act="gelu", projection_dim=1024)
    key = "Concise Interaction" if re.search(r"directorial|rgbd", name) else "Movement"
    return DirectorConfig(hidden=hidden, heads=heads, layers=layers, ffn=ffn, vocab_size=vocab, positions=positions,
                          cond_mode=cond_mode, text_encoder="clip", text_tokens=text_config["max_position_embeddings"],
                          token_offset=token_offset, caption_key=key, text_encoder_config=text_config,
                          vision_encoder_config=vision_config, notes={"source": f"GenDoP checkpoint {name}"})


def _materialise_buffers(model: torch.nn.Module) -> None:
    for name, buffer in list(model.named_buffers()):
        if buffer.is_meta:
            if not name.endswith("position_ids"):
                raise CheckpointError(f"buffer {name} was not in the checkpoint")
            owner = model.get_submodule(name.rsplit(".", 1)[0])
            owner.register_buffer("position_ids", torch.arange(buffer.shape[-1]).expand(buffer.shape), persistent=False)


_TOWERS = (("text_encoder.", "text_model."), ("image_encoder.", "vision_model."), ("depth_encoder.", "vision_model."))


def _canonical(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Encoder keys in GenDoP's spelling (``text_encoder.text_model.…``), whichever transformers wrote them."""
    out = {}
    for key, value in state.items():
        for tower, inner in _TOWERS:
            if key.startswith(tower) and not key.startswith(tower + inner):
                key = tower + inner + key[len(tower):]
        out[key] = value
    return out


def _module_keys(state: dict[str, torch.Tensor], expected: dict) -> dict[str, torch.Tensor]:
    """Map GenDoP's encoder keys onto this transformers version's module names (5.x drops ``text_model.``)."""
    out = {}
    for key, value in state.items():
        if key not in expected:
            for tower, inner in _TOWERS:
                if key.startswith(tower + inner) and tower + key[len(tower + inner):] in expected:
                    key = tower + key[len(tower + inner):]
        out[key] = value
    return out


def _load_strict(model: Director, state: dict[str, torch.Tensor], source: str) -> None:
    expected = model.state_dict()
    state = _module_keys(state, expected)
    for key in expected:  # GenDoP never uses the vision towers' post-LayerNorm; a file may omit it
        if IGNORED_KEYS.search(key) and key not in state:
            state[key] = (torch.ones if key.endswith("weight") else torch.zeros)(expected[key].shape)
    used = {k: v for k, v in state.items() if not (k not in expected and IGNORED_KEYS.search(k))}
    missing = sorted(set(expected) - set(used))
    unexpected = sorted(set(used) - set(expected))
    wrong = [f"{k} {tuple(used[k].shape)} (expected {tuple(expected[k].shape)})"
             for k in sorted(set(used) & set(expected)) if used[k].shape != expected[k].shape]
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
        if keys:
            problems.append(f"{len(keys)} {label}: {', '.join(keys[:4])}{' …' if len(keys) > 4 else ''}")
    if problems:
        raise CheckpointError(f"{source}: does not match the director it describes — " + "; ".join(problems))
    model.load_state_dict(used, strict=True, assign=True)
    _materialise_buffers(model)


def _with_text_encoder(state: dict[str, torch.Tensor], weights: Path, text_encoder: str | Path | None
                       ) -> dict[str, torch.Tensor]:
    """A GenDoP checkpoint that holds only the decoder and projections (text features come from outside) gets the
    weights of the named CLIP text encoder: a transformers ``CLIPTextModel`` folder or its ``.safetensors``."""
    if any(k.startswith("text_encoder.") for k in state) or "mesh_decoder.model.embd.weight" not in state:
        if text_encoder is not None:
            raise CheckpointError(f"{weights}: holds its own text encoder; --text-encoder is for checkpoints without")
        return state
    if text_encoder is None:
        raise CheckpointError(f"{weights}: holds the decoder and projections only — its text features come from a "
                              "CLIP text encoder outside it; name that encoder with --text-encoder DIR (SD-2.1-base's: "
                              "hf download stabilityai/stable-diffusion-2-1-base --include 'text_encoder/*' "
                              "--local-dir sd21, then --text-encoder sd21/text_encoder)")
    source, _ = _locate(Path(text_encoder))
    tower, _ = _read_safetensors(source)
    if not any(k.endswith("embeddings.token_embedding.weight") for k in tower):
        raise CheckpointError(f"{source}: not a CLIP text encoder (no embeddings.token_embedding.weight)")
    return {**state, **_canonical({"text_encoder." + k: v for k, v in tower.items()})}


def load_director(path: str | Path, *, token_offset: int | None = None, heads: int | None = None,
                  encoder_heads: int | None = None, text_encoder: str | Path | None = None,
                  device: torch.device | str = "cpu", dtype: torch.dtype | None = None) -> Director:
    """A director from a trajkit checkpoint (folder or ``model.safetensors`` with its config) or a GenDoP release
    (``text_motion.safetensors`` …), in eval mode. ``token_offset``/``heads``/``encoder_heads`` override what a
    GenDoP file cannot say (defaults 0 / 8 / 16); ``text_encoder`` supplies the CLIP text encoder of a GenDoP file
    that holds only the decoder and projections."""
    path, device = Path(path), check_device(device)
    weights, config_file = _locate(path)
    state, metadata = _read_safetensors(weights)
    state = _canonical(state)
    if config_file is None and metadata.get("format") != "trajkit-director":
        state = _with_text_encoder(state, weights, text_encoder)
    if config_file is not None or metadata.get("format") == "trajkit-director":
        try:
            raw = json.loads(config_file.read_text() if config_file is not None else metadata["config"])
            config = DirectorConfig.from_json(raw)
        except (OSError, json.JSONDecodeError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{config_file or weights}: unreadable director config ({exc})") from exc
        if token_offset is not None and token_offset != config.token_offset:
            raise CheckpointError(f"{weights}: trained with token offset {config.token_offset}, not {token_offset}")
    else:
        config = gendop_config(state, name=weights.name, token_offset=0 if token_offset is None else token_offset,
                               heads=heads or GENDOP_DECODER_HEADS, encoder_heads=encoder_heads)
    head = state.get("mesh_decoder.lm_head.weight")
    if head is not None and head.shape[0] != config.vocab_size:
        raise CheckpointError(f"{weights}: tokenizer mismatch — the output layer has {head.shape[0]} tokens, "
                              f"the camera tokenizer {config.vocab_size}")
    # Large checkpoints are built on the meta device so the weights are held once; a small one is built on the CPU,
    # because initialising on meta goes through torch._refs, whose first use imports torch._dynamo (≈ 1.3 s).
    big = weights.stat().st_size > META_ABOVE_BYTES
    with torch.device("meta") if big else contextlib.nullcontext():
        model = Director(config, encoders=True, init=False)
    _load_strict(model, state, str(weights))
    model.eval()
    return model.to(device=device, dtype=dtype) if dtype is not None else model.to(device)
