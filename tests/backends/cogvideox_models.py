"""Tiny offline CogVideoX text-to-video pipeline (recipe: ecosystem.md §6.3) and 3DTrajMaster files written in the
released layouts: an injector transformer folder (base + injector keys, trajmaster.md §5.2) and a LoRA file with
``transformer.transformer_blocks.{i}.attn1.{to_q,to_k,to_v,to_out.0}.lora_{A,B}.weight`` keys (§5.3)."""

from __future__ import annotations

from pathlib import Path

import torch
from wan_models import tiny_tokenizer

SIZE = (32, 32)  # W, H
FRAMES = 9
TRANSFORMER = dict(num_attention_heads=2, attention_head_dim=16, in_channels=4, out_channels=4, time_embed_dim=8,
                   text_embed_dim=32, num_layers=4, sample_width=SIZE[0] // 8, sample_height=SIZE[1] // 8,
                   sample_frames=FRAMES, patch_size=2, temporal_compression_ratio=4, max_text_seq_length=16,
                   use_rotary_positional_embeddings=True, attention_bias=True)
LORA_RANK = 4


def build_tiny_cogvideox_pipeline():
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    tokenizer = tiny_tokenizer()
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                           num_heads=4, relative_attention_num_buckets=8, pad_token_id=0,
                                           eos_token_id=1, decoder_start_token_id=0)).eval()
    torch.manual_seed(0)
    vae = AutoencoderKLCogVideoX(in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
                                 up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                 latent_channels=4, layers_per_block=1, norm_num_groups=2,
                                 temporal_compression_ratio=4).eval()
    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(**TRANSFORMER).eval()
    return CogVideoXPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                             scheduler=CogVideoXDDIMScheduler())


def write_injector_folder(base: Path, out: Path, seed: int = 1) -> Path:
    """The base's transformer plus injectors on blocks 0, 2 (random values), saved with ``save_pretrained`` as
    3DTrajMaster's training hook does."""
    from diffusers import CogVideoXTransformer3DModel

    from trajkit.control.trajmaster_injector import add_injectors

    transformer = CogVideoXTransformer3DModel.from_pretrained(base, subfolder="transformer")
    add_injectors(transformer)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for block in transformer.transformer_blocks[::2]:
            for p in [*block.attn_injector.parameters(), *block.pose_fuse_layer.parameters(),
                      block.attn_null_feature]:
                p.add_(0.3 * torch.randn(p.shape, generator=g))
    transformer.save_pretrained(out, safe_serialization=True)
    return out


def lora_state(num_layers: int = 4, dim: int = 32, rank: int = LORA_RANK, seed: int = 2) -> dict[str, torch.Tensor]:
    """Random LoRA tensors under 3DTrajMaster's key names (B non-zero, so the adapter changes the output)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for i in range(num_layers):
        for proj in ("to_q", "to_k", "to_v", "to_out.0"):
            key = f"transformer.transformer_blocks.{i}.attn1.{proj}"
            state[f"{key}.lora_A.weight"] = 0.3 * torch.randn(rank, dim, generator=g)
            state[f"{key}.lora_B.weight"] = 0.3 * torch.randn(dim, rank, generator=g)
    return state


def write_lora(folder: Path, state: dict[str, torch.Tensor] | None = None) -> Path:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pytorch_lora_weights.safetensors"
    save_file(state if state is not None else lora_state(), str(path))
    return path
