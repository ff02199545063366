"""One denoising step of a random-weight, full-size Wan2.1-I2V-14B transformer, with and without ATI's patch.

What only a GPU can show (issue 5): the cost of trajkit's conditioning next to a real 14B step, and the peak
memory of each offload option. Weights are random (no download): timing and memory do not depend on values.

A "step" is what ``WanImageToVideoPipeline`` does per step with guidance: two transformer forwards
(conditional, unconditional) at 480×832×81 (latent 21×60×104, 32 760 tokens, 512 text + 257 CLIP tokens).
"with patch" adds what ``wan-ati`` adds: the motion patch once per video (amortised over ``--steps`` and
reported on its own) and, per forward, the channel swap of the pre-hook.

    python benchmarks/wan_step.py                                  # GPU: bf16, no offload, N = 8 and 500 tracks
    python benchmarks/wan_step.py --offload none group sequential  # peak memory per offload option
    python benchmarks/wan_step.py --device cpu --layers 1 --size 64x64 --frames 9 --dtype fp32   # smoke run

Offload options are applied to the transformer alone (``model`` offload only differs from ``none`` when
other components share the GPU, so it is not listed): ``group`` = diffusers block-level group offloading
(one block on the GPU at a time, CUDA streams), ``sequential`` = accelerate's per-layer CPU offload.
"""

from __future__ import annotations

import argparse
import time

import torch

from trajkit.backends.wan_weights import WAN21_I2V_14B_CONFIG
from trajkit.control.ati import motion_patch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def random_transformer(layers: int, dtype: torch.dtype, device: str):
    from accelerate import init_empty_weights
    from diffusers import WanTransformer3DModel

    config = {**WAN21_I2V_14B_CONFIG, "num_layers": layers}
    with init_empty_weights():  # parameters on the meta device; buffers (rotary tables) are real
        model = WanTransformer3DModel.from_config(config)
    buffers = {name: buf.clone() for name, buf in model.named_buffers()}
    model = model.to_empty(device=device)  # allocates without initialising: buffers are restored below
    with torch.no_grad():
        for name, buf in model.named_buffers():
            buf.copy_(buffers[name])
    model = model.to(dtype)
    g = torch.Generator(device).manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.ndim == 1:  # norm scales
                p.fill_(1.0)
            else:
                p.normal_(0.0, 0.02, generator=g)
    return model.eval().requires_grad_(False)


def inputs(frames: int, h: int, w: int, dtype: torch.dtype, device: str) -> dict[str, torch.Tensor]:
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


def timed(fn, device: str, repeat: int) -> float:
    fn()  # warm-up (kernels, offload hooks)
    sync(device)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=DTYPES, default="bf16")
    parser.add_argument("--layers", type=int, default=40, help="transformer blocks (40 = the real model)")
    parser.add_argument("--size", default="832x480", help="video WIDTHxHEIGHT")
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--tracks", type=int, nargs="+", default=[8, 500])
    parser.add_argument("--steps", type=int, default=40, help="steps the one-off patch is amortised over")
    parser.add_argument("--offload", nargs="+", default=["none"], choices=["none", "group", "sequential"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    dtype, device = DTYPES[args.dtype], args.device
    cuda = device.startswith("cuda")
    name = torch.cuda.get_device_name(device) if cuda else "CPU"
    print(f"Wan2.1-I2V-14B transformer ({args.layers} blocks, random weights), {w}×{h}×{args.frames}, {args.dtype}, "
          f"{device} ({name}), torch {torch.__version__}")
    for offload in args.offload:
        model_device = device if offload == "none" else "cpu"
        model = random_transformer(args.layers, dtype, model_device)
        if offload == "group":
            model.enable_group_offload(onload_device=torch.device(device), offload_device=torch.device("cpu"),
                                       offload_type="block_level", num_blocks_per_group=1, use_stream=cuda)
        elif offload == "sequential":
            from accelerate import cpu_offload

            cpu_offload(model, execution_device=torch.device(device))
        x = inputs(args.frames, h, w, dtype, device)
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

        def step(x: dict[str, torch.Tensor] = x, model=model) -> None:
            with torch.no_grad():
                model(**x, return_dict=False)  # conditional
                model(**x, return_dict=False)  # unconditional

        plain = timed(step, device, args.repeat)
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
        print(f"offload={offload}: one step (2 forwards) {plain:.3f} s, peak GPU memory {peak:.1f} GiB")
        for n in args.tracks:
            tracks = random_tracks(n, args.frames, device)
            cond = x["hidden_states"][0, 16:].float()
            patch_s = timed(lambda tracks=tracks, cond=cond: motion_patch(tracks, cond), device, args.repeat)
            patched = motion_patch(tracks, cond).to(dtype)

            def patched_step(x: dict[str, torch.Tensor] = x, patched=patched, model=model) -> None:
                with torch.no_grad():
                    for _ in range(2):  # the pre-hook's swap, then the forward
                        hidden = torch.cat([x["hidden_states"][:, :16], patched[None]], dim=1)
                        model(**{**x, "hidden_states": hidden}, return_dict=False)

            with_patch = timed(patched_step, device, args.repeat)
            per_step = with_patch - plain + patch_s / args.steps
            print(f"  N={n:>4}: patch once {patch_s * 1e3:.1f} ms; step with patched conditioning {with_patch:.3f} s; "
                  f"cost per step (swap + patch/{args.steps}) {per_step * 1e3:.2f} ms = "
                  f"{100 * per_step / plain:.3f} % of a step")
        del model, x
        if cuda:
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
