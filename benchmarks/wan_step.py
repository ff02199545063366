"""One denoising step of a random-weight, full-size Wan2.1-I2V-14B transformer, with and without ATI's patch.

What only a GPU can show (issue 5): the cost of trajkit's conditioning next to a real 14B step, and the peak
memory of each offload option. Weights are random (no download): timing and memory do not depend on values.

A "step" is what ``WanImageToVideoPipeline`` does per step with guidance: two transformer forwards
(conditional, unconditional) at 480×832×81 (latent 21×60×104, 32 760 tokens, 512 text + 257 CLIP tokens).
"with patch" adds what ``wan-ati`` adds: the motion patch once per video (amortised over ``--steps`` and
reported on its own) and, per forward, the channel swap of the backend's own pre-hook
(:class:`trajkit.backends.wan_ati.AtiConditioning`). Because "with − without" of two multi-second steps is
within timing noise, the swap is also timed on its own ("direct" cost).

    python benchmarks/wan_step.py                                  # GPU: bf16, no offload, N = 8 and 500 tracks
    python benchmarks/wan_step.py --offload none group sequential  # peak memory per offload option
    python benchmarks/wan_step.py --device cpu --layers 1 --size 64x64 --frames 9 --dtype fp32   # smoke run

Offload options are applied to the transformer alone (``model`` offload only differs from ``none`` when
other components share the GPU, so it is not listed): ``group`` = diffusers block-level group offloading
(one block on the GPU at a time, CUDA streams), ``sequential`` = accelerate's per-layer CPU offload.

Parameters get the dtypes ``from_pretrained(torch_dtype=...)`` (and trajkit's loader) give them: the modules
diffusers lists in ``_keep_in_fp32_modules`` (norms, modulation tables, time embedder, rope) stay float32, the
rest takes ``--dtype``; buffers (the float64 rotary tables) stay as diffusers builds them. The functions here
are also used by ``benchmarks/gpu_check.py``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import torch

from trajkit.backends.wan_weights import WAN21_I2V_14B_CONFIG
from trajkit.control.ati import motion_patch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
OFFLOADS = ("none", "group", "sequential")


def wan_config(layers: int = 40, heads: int | None = None, ffn: int | None = None) -> dict[str, Any]:
    """Wan2.1-I2V-14B's transformer config, optionally with fewer blocks, heads (of 128) or FFN units."""
    config = {**WAN21_I2V_14B_CONFIG, "num_layers": layers}
    if heads is not None:
        config.update(num_attention_heads=heads, added_kv_proj_dim=heads * config["attention_head_dim"])
    if ffn is not None:
        config["ffn_dim"] = ffn
    return config


def kept_in_fp32(model: torch.nn.Module, name: str) -> bool:
    """Whether ``from_pretrained`` keeps parameter ``name`` in float32 (diffusers' ``_keep_in_fp32_modules``
    rule: one of its dotted components is listed)."""
    keep = getattr(model, "_keep_in_fp32_modules", None) or ()
    return bool(set(keep).intersection(name.split(".")))


def cast_like_from_pretrained(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """Cast each parameter in place as ``from_pretrained(torch_dtype=dtype)`` would store it (buffers untouched);
    works on the meta device too. One parameter at a time, so a GPU model never holds two full copies."""
    for name, p in model.named_parameters():
        target = torch.float32 if kept_in_fp32(model, name) else dtype
        if p.dtype != target:
            p.data = p.data.to(target)
    return model


@torch.no_grad()
def init_random_(model: torch.nn.Module, seed: int = 0) -> None:
    """Realistic-scale random values: linear/conv/table weights N(0, 0.02), biases 0, norm scales 1."""
    device = next(model.parameters()).device
    g = torch.Generator(device).manual_seed(seed)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.zero_()
        elif p.ndim == 1:  # norm scales
            p.fill_(1.0)
        else:
            p.normal_(0.0, 0.02, generator=g)


def random_transformer(layers: int, dtype: torch.dtype, device: str, config: dict[str, Any] | None = None,
                       seed: int = 0):
    """A ``WanTransformer3DModel`` (``config`` or Wan2.1-I2V-14B with ``layers`` blocks) with random weights,
    allocated directly in its final dtypes on ``device`` (no float32 copy on the way)."""
    from accelerate import init_empty_weights
    from diffusers import WanTransformer3DModel

    config = config or wan_config(layers)
    with init_empty_weights():  # parameters on the meta device; buffers (rotary tables) are real
        model = WanTransformer3DModel.from_config(config)
    buffers = {name: buf.clone() for name, buf in model.named_buffers()}
    cast_like_from_pretrained(model, dtype)
    model = model.to_empty(device=device)  # allocates without initialising: buffers are restored below
    with torch.no_grad():
        for name, buf in model.named_buffers():
            buf.copy_(buffers[name])
    init_random_(model, seed)
    return model.eval().requires_grad_(False)


def inputs(frames: int, h: int, w: int, dtype: torch.dtype, device: str) -> dict[str, torch.Tensor]:
    """One forward's inputs at ``frames`` × ``h`` × ``w`` video pixels: 36 latent channels, 512 T5 + 257 CLIP."""
    T = (frames - 1) // 4 + 1
    g = torch.Generator(device).manual_seed(1)
    return {
        "hidden_states": torch.randn(1, 36, T, h // 8, w // 8, generator=g, device=device, dtype=dtype),
        "timestep": torch.tensor([500], device=device),
        "encoder_hidden_states": torch.randn(1, 512, 4096, generator=g, device=device, dtype=dtype),
        "encoder_hidden_states_image": torch.randn(1, 257, 1280, generator=g, device=device, dtype=dtype),
    }


def random_tracks(n: int, frames: int, device: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(n)
    xy = (torch.rand(frames, n, 2, generator=g) * 2 - 1)
    vis = torch.ones(frames, n, 1)
    t = torch.linspace(-1, 1, frames)[:, None, None].expand(frames, n, 1)
    return torch.cat([t, xy, vis], dim=-1).to(device)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str, repeat: int, warmup: bool = True) -> float:
    """Best wall time of ``repeat`` calls (after one warm-up call unless ``warmup`` is false)."""
    if warmup:
        fn()  # kernels, offload hooks
        sync(device)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gib(device: str) -> float:
    return torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else float("nan")


def place(model, offload: str, device: str):
    """Apply an offload option to the transformer (``none``: moved to ``device``)."""
    if offload == "none":
        return model.to(device)
    model = model.to("cpu")
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    if offload == "group":
        model.enable_group_offload(onload_device=torch.device(device), offload_device=torch.device("cpu"),
                                   offload_type="block_level", num_blocks_per_group=1,
                                   use_stream=device.startswith("cuda"))
    elif offload == "sequential":
        from accelerate import cpu_offload

        cpu_offload(model, execution_device=torch.device(device))
    else:
        raise ValueError(f"offload {offload!r}: expected one of {OFFLOADS}")
    return model


def forward_fn(model, x: dict[str, torch.Tensor], forwards: int = 2) -> Callable[[], None]:
    """``forwards`` transformer forwards on ``x`` (2 = one guided step)."""
    def run() -> None:
        with torch.no_grad():
            for _ in range(forwards):
                model(**x, return_dict=False)

    return run


def measure_step(model, x: dict[str, torch.Tensor], device: str, repeat: int, forwards: int = 2,
                 warmup: bool = True) -> dict[str, float]:
    """Seconds of ``forwards`` forwards (best of ``repeat``) and the peak GPU memory (GiB) while they ran."""
    reset_peak(device)
    seconds = timed(forward_fn(model, x, forwards), device, repeat, warmup)
    return {"seconds": seconds, "forwards": forwards, "peak_gib": peak_gib(device)}


def ati_hook(model, patched: torch.Tensor, steps: int):
    """Install ``wan-ati``'s own forward pre-hook (channels 16–35 swapped for ``patched``) on ``model``;
    returns the hook handle and the :class:`AtiConditioning` driving it."""
    from trajkit.backends.wan_ati import AtiConditioning

    cond = AtiConditioning(None, None, steps=steps, temperature=220.0, topk=2)
    cond.patched = patched
    return model.register_forward_pre_hook(cond._pre_hook, with_kwargs=True), cond


def measure_patch(model, x: dict[str, torch.Tensor], n: int, frames: int, steps: int, device: str,
                  repeat: int, plain_step_s: float) -> dict[str, float]:
    """The patch's cost for ``n`` random tracks: the patch once, the pre-hook's swap alone, a full step with the
    hook installed, and the share of a step (direct: 2 swaps + patch/steps; A/B: with − without + patch/steps)."""
    tracks = random_tracks(n, frames, device)
    cond = x["hidden_states"][0, 16:].float()
    patch_s = timed(lambda: motion_patch(tracks, cond), device, repeat)
    patched = motion_patch(tracks, cond).to(x["hidden_states"].dtype)[None]  # batch-first, as the backend's
    handle, ati = ati_hook(model, patched, steps)
    try:
        kwargs = dict(x)
        swap_s = timed(lambda: ati._pre_hook(model, (), kwargs), device, max(repeat, 20))
        with_patch = timed(forward_fn(model, x), device, repeat)
    finally:
        handle.remove()
    direct = 2 * swap_s + patch_s / steps
    ab = with_patch - plain_step_s + patch_s / steps
    return {"tracks": n, "patch_once_s": patch_s, "swap_s": swap_s, "step_with_patch_s": with_patch,
            "direct_cost_s": direct, "direct_share_pct": 100 * direct / plain_step_s,
            "ab_cost_s": ab, "ab_share_pct": 100 * ab / plain_step_s}


def patch_line(r: dict[str, float], steps: int) -> str:
    return (f"  N={r['tracks']:>4}: patch once {r['patch_once_s'] * 1e3:.1f} ms, swap {r['swap_s'] * 1e3:.3f} ms; "
            f"step with patched conditioning {r['step_with_patch_s']:.3f} s; cost per step (2 swaps + "
            f"patch/{steps}) {r['direct_cost_s'] * 1e3:.2f} ms = {r['direct_share_pct']:.3f} % of a step "
            f"(A/B difference: {r['ab_share_pct']:+.2f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=DTYPES, default="bf16")
    parser.add_argument("--layers", type=int, default=40, help="transformer blocks (40 = the real model)")
    parser.add_argument("--size", default="832x480", help="video WIDTHxHEIGHT")
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--tracks", type=int, nargs="+", default=[8, 500])
    parser.add_argument("--steps", type=int, default=40, help="steps the one-off patch is amortised over")
    parser.add_argument("--offload", nargs="+", default=["none"], choices=OFFLOADS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    dtype, device = DTYPES[args.dtype], args.device
    cuda = device.startswith("cuda")
    name = torch.cuda.get_device_name(device) if cuda else "CPU"
    print(f"Wan2.1-I2V-14B transformer ({args.layers} blocks, random weights), {w}×{h}×{args.frames}, {args.dtype}, "
          f"{device} ({name}), torch {torch.__version__}")
    for offload in args.offload:
        model = place(random_transformer(args.layers, dtype, device if offload == "none" else "cpu"), offload,
                      device)
        x = inputs(args.frames, h, w, dtype, device)
        step = measure_step(model, x, device, args.repeat)
        print(f"offload={offload}: one step (2 forwards) {step['seconds']:.3f} s, peak GPU memory "
              f"{step['peak_gib']:.1f} GiB")
        for n in args.tracks:
            print(patch_line(measure_patch(model, x, n, args.frames, args.steps, device, args.repeat,
                                           step["seconds"]), args.steps))
        del model, x
        if cuda:
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
