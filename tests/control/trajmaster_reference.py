"""An independent, literal implementation of 3DTrajMaster's injected CogVideoX forward pass (trajmaster.md §4),
for the equivalence tests: its own block loop (not the diffusers block forward, not trajkit's processors), the
interleaved sequence built per frame as the spec describes, queries/keys regrouped by explicit index lists, values
left interleaved (``legacy_kv``) or regrouped with them (``aligned``)."""

from __future__ import annotations

import torch
from diffusers.models.embeddings import apply_rotary_emb
from torch.nn import functional


def tiny_transformer(num_layers: int = 4, frames: int = 9, height: int = 16, width: int = 16, seed: int = 0):
    """A CogVideoX-1.0-shaped transformer (biases on q/k/v/out as CogVideoX-5B), random weights, eval mode."""
    from diffusers import CogVideoXTransformer3DModel

    torch.manual_seed(seed)
    model = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=4, out_channels=4, time_embed_dim=8,
        text_embed_dim=32, num_layers=num_layers, sample_width=width // 8, sample_height=height // 8,
        sample_frames=frames, patch_size=2, temporal_compression_ratio=4, max_text_seq_length=16,
        use_rotary_positional_embeddings=True, attention_bias=True)
    return model.eval()


def randomise_injectors(model, seed: int = 1, scale: float = 0.3) -> None:
    """Give every injector tensor random values (the copy of attn1 and a zero null vector would hide bugs)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for block in model.transformer_blocks:
            if not hasattr(block, "attn_injector"):
                continue
            for p in [*block.attn_injector.parameters(), *block.pose_fuse_layer.parameters(),
                      block.attn_null_feature]:
                p.add_(scale * torch.randn(p.shape, generator=g))


def reference_injector(block, x, temb, poses, tokens, context, rotary, mode: str, max_entities: int = 3):
    """x ← x + g ⊙ injector(x) for one block, literally as §4.2–4.3 describe it."""
    B, L, d = x.shape
    n, f = poses.shape[1], poses.shape[2]
    K = tokens.shape[2]
    V = L // f
    poses = poses.expand(B, -1, -1, -1)
    tokens = tokens.expand(B, -1, -1, -1)
    context = context.expand(B, -1, -1)
    norm_x, norm_ctx, gate, _ = block.norm1(x, context, temb)
    P = block.pose_fuse_layer(poses)  # (B, n, f, d)
    A = block.attn_null_feature.reshape(1, 1, 1, 1, d).repeat(B, max_entities, K, f, 1)
    for i in range(n):
        for j in range(K):
            for t in range(f):
                A[:, i, j, t] = P[:, i, t] + tokens[:, i, j]
    pieces = []
    for t in range(f):
        pieces.append(norm_x[:, t * V:(t + 1) * V])
        for i in range(max_entities):
            pieces.append(A[:, i, :, t])
    interleaved = torch.cat(pieces, dim=1)  # (B, f·(V + N·K), d)
    C = norm_ctx.shape[1]
    seq = torch.cat([norm_ctx, interleaved], dim=1)
    attn = block.attn_injector
    h = attn.heads
    q = attn.norm_q(attn.to_q(seq).reshape(B, seq.shape[1], h, -1).transpose(1, 2))
    k = attn.norm_k(attn.to_k(seq).reshape(B, seq.shape[1], h, -1).transpose(1, 2))
    v = attn.to_v(seq).reshape(B, seq.shape[1], h, -1).transpose(1, 2)
    per = V + max_entities * K
    video_idx = [C + t * per + s for t in range(f) for s in range(V)]
    entity_idx = [C + t * per + V + s for t in range(f) for s in range(max_entities * K)]
    order = list(range(C)) + video_idx + entity_idx
    qg, kg = q[:, :, order].clone(), k[:, :, order].clone()
    qg[:, :, C:C + L] = apply_rotary_emb(qg[:, :, C:C + L], rotary)
    kg[:, :, C:C + L] = apply_rotary_emb(kg[:, :, C:C + L], rotary)
    vv = v if mode == "legacy_kv" else v[:, :, order]
    out = functional.scaled_dot_product_attention(qg, kg, vv)
    out = out.transpose(1, 2).reshape(B, -1, h * out.shape[-1])[:, C:C + L]
    return x + gate * attn.to_out[0](out)


def reference_forward(model, latents, text, timestep, rotary, conditioning=None, mode: str = "legacy_kv"):
    """The whole transformer, block by block; ``conditioning`` = (poses, tokens, context) or None (base model)."""
    B, F, _, H, W = latents.shape
    emb = model.time_embedding(model.time_proj(timestep).to(latents.dtype), None)
    h = model.patch_embed(text, latents)
    C = text.shape[1]
    enc, x = h[:, :C], h[:, C:]
    for block in model.transformer_blocks:
        nx, nc, g, eg = block.norm1(x, enc, emb)
        a, ae = block.attn1(hidden_states=nx, encoder_hidden_states=nc, image_rotary_emb=rotary)
        x = x + g * a
        enc = enc + eg * ae
        if conditioning is not None and hasattr(block, "attn_injector"):
            x = reference_injector(block, x, emb, *conditioning, rotary, mode)
        nx, nc, gf, egf = block.norm2(x, enc, emb)
        ff = block.ff(torch.cat([nc, nx], dim=1))
        x = x + gf * ff[:, C:]
        enc = enc + egf * ff[:, :C]
    x = model.proj_out(model.norm_out(model.norm_final(x), temb=emb))
    p = model.config.patch_size
    x = x.reshape(B, F, H // p, W // p, -1, p, p).permute(0, 1, 4, 2, 5, 3, 6).flatten(5, 6).flatten(3, 4)
    return x
