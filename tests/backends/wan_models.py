"""Tiny offline Wan2.1 I2V models for tests: the diffusers pipeline (recipe: ecosystem.md §6) and random
transformer weights under Wan's original parameter names."""

from __future__ import annotations

import string

import torch

TINY_TRANSFORMER = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36,
                        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=4, cross_attn_norm=True,
                        qk_norm="rms_norm_across_heads", rope_max_seq_len=1024, image_dim=16, added_kv_proj_dim=24)


def tiny_tokenizer():
    from transformers import T5Tokenizer

    words = ["a", "the", "car", "moves", "left", "right", "camera", "fish", "swims", "koi", "bear", "walks",
             "person", "sea", "waves"]
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)] + [("▁" + w, -3.0) for w in words]
    vocab += [(c, -5.0) for c in string.ascii_letters + string.digits + string.punctuation]
    vocab += [("▁" + c, -6.0) for c in string.ascii_lowercase]
    return T5Tokenizer(vocab=vocab, extra_ids=100)


def build_tiny_wan_pipeline():
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel, UMT5Config, UMT5EncoderModel

    tokenizer = tiny_tokenizer()
    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, feed_forward_proj="gated-gelu", pad_token_id=0, eos_token_id=1,
        decoder_start_token_id=0)).eval()
    torch.manual_seed(0)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=16, projection_dim=16, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=32, patch_size=8)).eval()
    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True]).eval()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(**TINY_TRANSFORMER).eval()
    return WanImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        image_processor=CLIPImageProcessor(crop_size=32, size={"shortest_edge": 32}), image_encoder=image_encoder,
        transformer=transformer, transformer_2=None)



def wan_original_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights under the parameter names and shapes of Wan's own ``WanModel`` (wan/modules/model.py) for
    the tiny I2V config: written from Wan's module structure, independently of trajkit's key table."""
    c = TINY_TRANSFORMER
    dim = c["num_attention_heads"] * c["attention_head_dim"]
    g = torch.Generator().manual_seed(seed)
    shapes: dict[str, tuple[int, ...]] = {
        "patch_embedding.weight": (dim, c["in_channels"], *c["patch_size"]), "patch_embedding.bias": (dim,),
        "text_embedding.0.weight": (dim, c["text_dim"]), "text_embedding.0.bias": (dim,),
        "text_embedding.2.weight": (dim, dim), "text_embedding.2.bias": (dim,),
        "time_embedding.0.weight": (dim, c["freq_dim"]), "time_embedding.0.bias": (dim,),
        "time_embedding.2.weight": (dim, dim), "time_embedding.2.bias": (dim,),
        "time_projection.1.weight": (6 * dim, dim), "time_projection.1.bias": (6 * dim,),
        "head.head.weight": (c["out_channels"] * 4, dim), "head.head.bias": (c["out_channels"] * 4,),
        "head.modulation": (1, 2, dim),
        "img_emb.proj.0.weight": (c["image_dim"],), "img_emb.proj.0.bias": (c["image_dim"],),
        "img_emb.proj.1.weight": (c["image_dim"], c["image_dim"]), "img_emb.proj.1.bias": (c["image_dim"],),
        "img_emb.proj.3.weight": (dim, c["image_dim"]), "img_emb.proj.3.bias": (dim,),
        "img_emb.proj.4.weight": (dim,), "img_emb.proj.4.bias": (dim,),
    }
    for i in range(c["num_layers"]):
        b = f"blocks.{i}."
        shapes[b + "modulation"] = (1, 6, dim)
        for attn in ("self_attn", "cross_attn"):
            for proj in ("q", "k", "v", "o"):
                shapes[f"{b}{attn}.{proj}.weight"] = (dim, dim)
                shapes[f"{b}{attn}.{proj}.bias"] = (dim,)
            shapes[f"{b}{attn}.norm_q.weight"] = (dim,)
            shapes[f"{b}{attn}.norm_k.weight"] = (dim,)
        for proj in ("k_img", "v_img"):
            shapes[f"{b}cross_attn.{proj}.weight"] = (dim, c["added_kv_proj_dim"])
            shapes[f"{b}cross_attn.{proj}.bias"] = (dim,)
        shapes[f"{b}cross_attn.norm_k_img.weight"] = (dim,)
        shapes[f"{b}norm3.weight"] = (dim,)
        shapes[f"{b}norm3.bias"] = (dim,)
        shapes[f"{b}ffn.0.weight"] = (c["ffn_dim"], dim)
        shapes[f"{b}ffn.0.bias"] = (c["ffn_dim"],)
        shapes[f"{b}ffn.2.weight"] = (dim, c["ffn_dim"])
        shapes[f"{b}ffn.2.bias"] = (dim,)
    return {k: torch.randn(s, generator=g) * 0.2 for k, s in shapes.items()}
