"""3DTrajMaster's object injector: its cost per denoising step, and the memory annealing without a copy saves.

Per step (``CogVideoXPipeline`` with guidance: one transformer forward at batch 2), on a random-weight
CogVideoX-shaped transformer, the same process and inputs:

* **base**: the stock transformer (what runs after annealing, and what plain CogVideoX costs);
* **injector legacy_kv / aligned**: trajkit's processors installed (21 of 42 blocks on CogVideoX-5B, every second
  block here), 2 entities, 13 latent frames — ratio to the base step.

Memory: 3DTrajMaster anneals by keeping a deep copy of the whole transformer resident (taken with the injectors
attached, before the LoRA); trajkit switches processors and the adapter on one transformer. The script runs two
denoising forwards (one annealed: injector + LoRA, one plain) both ways on the benchmark model — the original's
way with the copy really made, trajkit's way through the backend's own :class:`AnnealedSampling` with a r = 32
domain LoRA adapter — and reports the resident parameter bytes and, on a GPU, the peak memory of each
(:func:`annealing_memory`). It also counts the full-size CogVideoX-5B + injector parameters on the meta device
(no memory) to give the bf16 figure.

    python benchmarks/trajmaster_injector.py                          # CPU-sized model, 240×352 and 480×720, 49 frames
    python benchmarks/trajmaster_injector.py --preset full --device cuda --dtype bf16   # CogVideoX-5B size, GPU

Weights are random (no download): timing and memory do not depend on values.
"""

from __future__ import annotations

import argparse
import copy
import platform
import time
from typing import Any

import torch

#: diffusers' config of THUDM/CogVideoX-5b's transformer.
COGVIDEOX_5B = dict(num_attention_heads=48, attention_head_dim=64, in_channels=16, out_channels=16, time_embed_dim=512,
                    text_embed_dim=4096, num_layers=42, sample_width=90, sample_height=60, sample_frames=49,
                    patch_size=2, temporal_compression_ratio=4, max_text_seq_length=226, flip_sin_to_cos=True,
                    freq_shift=0, use_rotary_positional_embeddings=True, attention_bias=True,
                    spatial_interpolation_scale=1.875, temporal_interpolation_scale=1.0)
#: A CPU-sized model with the same structure: 2 heads of 64, 4 blocks (injectors on 0 and 2), 226 text tokens.
CPU_SIZED = {**COGVIDEOX_5B, "num_attention_heads": 2, "time_embed_dim": 64, "text_embed_dim": 128, "num_layers": 4}
PRESETS = {"cpu": CPU_SIZED, "full": COGVIDEOX_5B}
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def random_transformer(config: dict, dtype: torch.dtype, device: str):
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    from trajkit.control.trajmaster_injector import add_injectors

    with init_empty_weights():
        model = CogVideoXTransformer3DModel.from_config(config)
        add_injectors(model, init="meta")
    buffers = {name: buf.clone() for name, buf in model.named_buffers()}
    model = model.to_empty(device=device)
    g = torch.Generator(device).manual_seed(0)
    with torch.no_grad():
        for name, buf in model.named_buffers():
            buf.copy_(buffers[name])
        for name, p in model.named_parameters():
            if p.ndim == 1:
                p.copy_(torch.ones_like(p) if "norm" in name and name.endswith("weight") else torch.zeros_like(p))
            else:
                p.normal_(0.0, 0.02, generator=g)
    return model.to(dtype).eval().requires_grad_(False)


def full_size_counts() -> tuple[int, int]:
    """(CogVideoX-5B parameters, injector parameters) counted on the meta device."""
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    from trajkit.control.trajmaster_injector import add_injectors, iter_injector_parameters

    with init_empty_weights():
        model = CogVideoXTransformer3DModel.from_config(COGVIDEOX_5B)
        base = sum(p.numel() for p in model.parameters())
        add_injectors(model, init="meta")
        injector = sum(p.numel() for p in iter_injector_parameters(model))
    return base, injector


def step_inputs(model, size: tuple[int, int], frames: int, dtype, device: str, entities: int = 2):
    from trajkit.control.trajmaster_injector import EntityConditioning, rotary_table

    w, h = size
    f = (frames - 1) // 4 + 1
    cfg = model.config
    g = torch.Generator(device).manual_seed(1)
    latents = torch.randn(2, f, cfg.in_channels, h // 8, w // 8, generator=g, device=device, dtype=dtype)
    text = torch.randn(2, cfg.max_text_seq_length, cfg.text_embed_dim, generator=g, device=device, dtype=dtype)
    dim = cfg.num_attention_heads * cfg.attention_head_dim
    cond = EntityConditioning(torch.randn(1, entities, f, 12, generator=g, device=device, dtype=dtype),
                              torch.randn(1, entities, 50, dim, generator=g, device=device, dtype=dtype),
                              torch.randn(1, 226, dim, generator=g, device=device, dtype=dtype))
    rotary = rotary_table(model, f, h // 8, w // 8, device=device)
    kwargs = dict(hidden_states=latents, encoder_hidden_states=text, timestep=torch.tensor([500, 500], device=device),
                  image_rotary_emb=rotary, return_dict=False)
    return kwargs, cond, f * (h // 16) * (w // 16)


def size_of(text: str) -> tuple[int, int]:
    """``"WxH"`` → ``(W, H)``."""
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def timed(fn, repeat: int, device: str) -> tuple[float, float]:
    """(best seconds, peak GPU GiB or nan)."""
    best, peak = float("inf"), float("nan")
    for _ in range(repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() / 2**30
        best = min(best, time.perf_counter() - start)
    return best, peak


def resident_bytes(*models: torch.nn.Module) -> int:
    """Bytes of the distinct parameter and buffer storages of ``models`` (shared storage counted once)."""
    seen: dict[int, int] = {}
    for model in models:
        for t in [*model.parameters(), *model.buffers()]:
            storage = t.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


def add_domain_lora(model: torch.nn.Module, rank: int = 32) -> None:
    """3DTrajMaster's domain LoRA shape as an (unfused) peft adapter, named as the backend names it: r = α = 32 on
    ``attn1`` q/k/v/out of every block (never on the injectors' own attention)."""
    from peft import LoraConfig

    from trajkit.backends.cogvideox_trajmaster import ADAPTER

    targets = ["attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0"]
    model.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=True, target_modules=targets),
                      adapter_name=ADAPTER)


class PipelineStub:
    """What :class:`~trajkit.backends.cogvideox_trajmaster.AnnealedSampling` uses of a ``CogVideoXPipeline``."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        self.transformer = transformer
        self.guidance_scale = 6.0
        self._guidance_scale = 6.0

    def set_adapters(self, names: list[str], weights: list[float]) -> None:
        self.transformer.set_adapters(names, weights)


def _memory(device: str) -> tuple[float, float]:
    """(allocated GiB, peak GiB since the last reset) on CUDA, else NaNs."""
    if not device.startswith("cuda"):
        return float("nan"), float("nan")
    torch.cuda.synchronize()
    return torch.cuda.memory_allocated() / 2**30, torch.cuda.max_memory_allocated() / 2**30


def _reset(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def original_annealing(model, kwargs: dict[str, Any], cond, device: str) -> dict[str, Any]:
    """3DTrajMaster's way: a deep copy of the transformer (injectors attached, no LoRA) kept resident; the annealed
    step runs the model with its injectors (and, in the original, the LoRA fused in: no extra memory, so not done
    here), the plain step runs the copy."""
    from trajkit.control.trajmaster_injector import EntityInjection

    _reset(device)
    twin = copy.deepcopy(model)
    resident = resident_bytes(model, twin)
    with torch.inference_mode():
        with EntityInjection(model, cond):
            model(**kwargs)
        twin(**kwargs)
    allocated, peak = _memory(device)
    del twin
    return {"resident_param_bytes": resident, "allocated_gib": allocated, "peak_gib": peak}


def trajkit_annealing(model, kwargs: dict[str, Any], cond, device: str, frames: int) -> dict[str, Any]:
    """trajkit's way: one transformer with an unfused LoRA adapter, switched by the backend's
    :class:`AnnealedSampling` (step 0 with injector + LoRA, step 1 plain)."""
    from trajkit.backends.base import no_progress
    from trajkit.backends.cogvideox_trajmaster import AnnealedSampling, TrajMasterOptions, has_adapter
    from trajkit.control.trajmaster_injector import EntityInjection

    pipe = PipelineStub(model)
    if not has_adapter(pipe):
        add_domain_lora(model)
    _reset(device)
    resident = resident_bytes(model)
    sampler = AnnealedSampling(pipe, EntityInjection(model, cond), TrajMasterOptions(injector_steps=1, steps=2),
                               no_progress, frames)
    sampler.start()
    with torch.inference_mode():
        for step, t in enumerate((999, 979)):
            model(**kwargs)
            sampler.on_step_end(pipe, step, t, {})
    sampler.finish()
    allocated, peak = _memory(device)
    return {"resident_param_bytes": resident, "allocated_gib": allocated, "peak_gib": peak, "steps": sampler.log}


def annealing_memory(model, kwargs: dict[str, Any], cond, device: str, frames: int) -> dict[str, Any]:
    """Both ways on the same model and inputs; ``saved_*``: the original's figure minus trajkit's."""
    theirs = original_annealing(model, kwargs, cond, device)
    ours = trajkit_annealing(model, kwargs, cond, device, frames)
    return {"original": theirs, "trajkit": ours,
            "saved_param_bytes": theirs["resident_param_bytes"] - ours["resident_param_bytes"],
            "saved_peak_gib": theirs["peak_gib"] - ours["peak_gib"]}


def annealing_lines(result: dict[str, Any]) -> list[str]:
    """Human-readable lines for :func:`annealing_memory`'s result."""
    theirs, ours = result["original"], result["trajkit"]
    steps = ", ".join(f"step {r['step']}: {r['injector_calls']} injector calls, LoRA {'on' if r['lora'] else 'off'}"
                      for r in ours["steps"])
    return [f"annealing, 3DTrajMaster's way (resident copy): parameters {theirs['resident_param_bytes'] / 1e9:.3f} "
            f"GB, peak GPU memory {theirs['peak_gib']:.2f} GiB",
            f"annealing, trajkit's way (one transformer + LoRA adapter): parameters "
            f"{ours['resident_param_bytes'] / 1e9:.3f} GB, peak GPU memory {ours['peak_gib']:.2f} GiB ({steps})",
            f"annealing, saved: {result['saved_param_bytes'] / 1e9:.3f} GB of parameters, "
            f"{result['saved_peak_gib']:.2f} GiB of peak GPU memory"]


def main() -> None:
    from trajkit.control.trajmaster_injector import EntityInjection, injector_blocks

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--sizes", nargs="+", default=["352x240", "720x480"], help="WxH video sizes")
    parser.add_argument("--frames", type=int, default=49)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="fp32")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()
    dtype = DTYPES[args.dtype]
    config = PRESETS[args.preset]
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch "
          f"{torch.__version__}, device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))
    model = random_transformer(config, dtype, args.device)
    blocks = injector_blocks(model)
    print(f"model: {args.preset} ({config['num_layers']} blocks, width "
          f"{config['num_attention_heads'] * config['attention_head_dim']}, injectors on {len(blocks)} blocks), "
          f"{args.dtype}, {args.frames} frames, batch 2 (CFG), 2 entities")
    print("| size | video tokens | base s/step | legacy_kv s/step | × base | aligned s/step | × base "
          "| peak GiB base/inj |")
    print("|---|---|---|---|---|---|---|---|")
    for text in args.sizes:
        w, h = size_of(text)
        kwargs, cond, tokens = step_inputs(model, (w, h), args.frames, dtype, args.device)
        with torch.inference_mode():
            model(**kwargs)  # warm-up
            base, base_peak = timed(lambda kw=kwargs: model(**kw), args.repeat, args.device)
            rows = {}
            for mode in ("legacy_kv", "aligned"):
                with EntityInjection(model, cond, mode=mode):
                    rows[mode] = timed(lambda kw=kwargs: model(**kw), args.repeat, args.device)
        legacy, legacy_peak = rows["legacy_kv"]
        aligned, _ = rows["aligned"]
        print(f"| {w}×{h} | {tokens} | {base:.3f} | {legacy:.3f} | {legacy / base:.2f} | {aligned:.3f} | "
              f"{aligned / base:.2f} | {base_peak:.1f}/{legacy_peak:.1f} |")
    # That trajkit makes no copy is also tested by tests/backends/test_cogvideox_trajmaster.py (live transformers
    # and parameter storages counted at every step); here both ways run and are measured.
    kwargs, cond, _ = step_inputs(model, size_of(args.sizes[0]), args.frames, dtype, args.device)
    for line in annealing_lines(annealing_memory(model, kwargs, cond, args.device, args.frames)):
        print(line)
    base_params, injector_params = full_size_counts()
    total = base_params + injector_params
    print(f"annealing, CogVideoX-5B + injectors ({base_params / 1e9:.3f} B + {injector_params / 1e6:.1f} M "
          f"parameters): the copy trajkit does not make is {total * 2 / 1e9:.2f} GB in bf16")


if __name__ == "__main__":
    main()
