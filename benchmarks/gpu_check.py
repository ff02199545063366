"""Every GPU-only figure of issue 18 in one run: one command, a fixed time budget, JSON written as it goes.

Sections (each independent: an error is printed with its traceback and the next section runs; a section is
skipped, with the reason printed, when its estimated time no longer fits ``--budget-s``; GPU memory is freed and
the peak counter reset between sections; the JSON at ``--json`` is rewritten after every figure):

1. ``wan_step`` — Wan2.1-I2V-14B (random weights, bf16, 480×832×81 = 32 760 tokens): one denoising step (2
   forwards, CFG) without and with ATI's patch (``wan-ati``'s own pre-hook; N = 500 tracks), the patch's share of
   a step (target < 1 %), peak GPU memory (``benchmarks/wan_step.py``).
2. ``cogvideox`` — CogVideoX-5B (diffusers' real config, random weights, bf16, 49 frames 480×720) + 3DTrajMaster's
   injectors: one step (1 forward at batch 2) without / with the injectors (``legacy_kv``, ``aligned``), peak
   memory; then annealing measured both ways — 3DTrajMaster's (a deep copy of the transformer, injectors attached,
   kept resident for the plain steps) and trajkit's (one transformer, processors and a r = 32 LoRA adapter switched
   by the backend's ``AnnealedSampling``): resident parameter bytes and peak GPU memory of each, the difference
   next to the counted 12.73 GB (``benchmarks/trajmaster_injector.py``).
3. ``director`` — the director at GenDoP's text-model size (1024 × 12, prefix 77, 300 tokens), bf16, greedy:
   trajectories/s at batch 1 and 32, with and without the key/value cache (``benchmarks/director_sampling.py``).
4. ``wan_precision`` — one Wan forward (same random weights, N(0, 0.02) linear weights, norms 1, biases 0) in bf16
   against float32 (TF32 off), relative error ``‖y − y₃₂‖ / ‖y₃₂‖`` of the output of the model truncated to 10, 20
   and 40 blocks, and of the residual stream after every block (hooks, one 40-block forward):

   (a) diffusers' default bf16: parameters cast as ``from_pretrained(torch_dtype=bfloat16)`` stores them (its
       ``_keep_in_fp32_modules`` — rope, time_embedder, scale_shift_table, norm1/2/3 — stay float32; the rule is
       checked against a real ``save_pretrained`` / ``from_pretrained`` round trip of a tiny model), bf16 inputs as
       the pipeline passes them. Reading ``transformer_wan.py`` (diffusers 0.42.1): ``temb =
       time_embedder(t).type_as(encoder_hidden_states)`` rounds the time embedding to bf16, ``time_proj`` runs in
       bf16, and every residual add ends in ``.type_as(hidden_states)`` (bf16), so the stream is rounded to bf16
       three times per block; ``proj_out`` runs in bf16.
   (b) as ATI's original code runs (``wan/modules/model.py`` + ``image2video.py`` of bytedance/ATI: float32
       weights, the sampling loop under ``autocast(bfloat16)``, time embedding, time projection, modulation adds and
       the head under ``autocast(float32)``): the stock ``WanTransformer3DModel`` keeps its float32 weights and runs
       under ``torch.autocast(dtype=bfloat16)`` — linear layers, attention and the patch-embedding convolution in
       bf16 — with hooks, no forked class: a forward hook turns the patch embedding's bf16 output into float32 (ATI
       rounds it once too, and its first residual add makes the stream float32), so diffusers' ``.type_as`` keeps
       the residual stream float32; forward pre/post hooks disable autocast inside ``time_embedder``,
       ``time_proj`` and ``proj_out``, and float32 inputs make ``temb`` float32. The dtypes actually seen (block
       output, ``time_proj`` output, ``proj_out`` output) are recorded for every variant.

   Run at 480×832 with ``--precision-frames`` (default 21: 9 360 tokens) to keep the float32 forwards short; the
   14B float32 model (≈ 66 GB) is then cast in place to the bf16 layout for (a), so one copy is resident.
5. ``wan_offload`` — peak GPU memory and time of the Wan step with diffusers' block-level group offloading (warm-up
   + one step), then accelerate's sequential offload (one forward, no warm-up) if time is left. Run last: slowest.

Estimated real-size times on one H200 (≈ 790 TFLOP/s bf16 peak; the estimates assume 450 TFLOP/s sustained
bf16 and 40 TFLOP/s float32 without TF32). A Wan 14B forward at 32 760 tokens is ≈ 1.7 PFLOP (0.8 linear + 0.9
self-attention), ≈ 3.7 s: ``wan_step`` ≈ 45 s, ``cogvideox`` ≈ 40 s, ``director`` ≈ 25 s, ``wan_precision``
≈ 36 s (float32 forwards of 10 + 20 + 40 blocks at 9 360 tokens ≈ 0.5 PFLOP), ``wan_offload`` ≈ 45 s (group) + 33 s
(sequential); about 4½ min with imports, under the default budget of 450 s. The first H200 run (2026-12-04, all
sections but ``wan_precision``, which then had a hook bug) took 211 s in all: a step ran at 530 TFLOP/s, group
offloading's setup (moving and pinning 33 GB) took 44 s. A watchdog ends the process (JSON kept) 60 s after the
budget whatever is running. The JSON is strict (NaN written as null).

    python3 benchmarks/gpu_check.py --json out/gpu_check.json           # the GPU run (real sizes)
    python3 benchmarks/gpu_check.py --smoke --json /tmp/gpu_check.json  # tiny models on the CPU, every section
    python3 benchmarks/gpu_check.py --sections wan_precision director   # a subset

Needs torch, diffusers, accelerate, peft, pydantic (the backends' option models) and trajkit importable (installed,
or ``PYTHONPATH=src``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

START = time.monotonic()
SECTIONS = ("wan_step", "cogvideox", "director", "wan_precision", "wan_offload")
#: Sustained rates assumed by the time estimates (H200: 790 TFLOP/s bf16 peak, 67 TFLOP/s float32 peak).
BF16_FLOPS, FP32_FLOPS = 450e12, 40e12
WATCHDOG_GRACE_S = 60.0
GIB = 2**30
#: Wan2.1-I2V-14B's shape, for the time estimates when the config itself cannot be imported.
WAN_14B_SHAPE = {"num_attention_heads": 40, "attention_head_dim": 128, "ffn_dim": 13824, "num_layers": 40}


def say(*parts: object) -> None:
    """Print at once (the GPU run's log is read as it comes)."""
    print(*parts, flush=True)


# ----------------------------------------------------------------------------------------------- settings


@dataclass
class Settings:
    """Sizes of every section; :func:`real_settings` and :func:`smoke_settings` fill them."""

    smoke: bool
    device: str
    dtype: torch.dtype
    wan: dict[str, Any] | None
    wan_size: tuple[int, int]
    wan_frames: int
    tracks: list[int]
    steps: int
    repeat: int
    cog: dict[str, Any]
    cog_size: tuple[int, int]
    cog_frames: int
    director: Any
    director_tokens: int
    director_batches: list[int]
    precision: dict[str, Any] | None
    precision_size: tuple[int, int]
    precision_frames: int
    precision_depths: list[int]
    offloads: list[str] = field(default_factory=lambda: ["group", "sequential"])


def _optional(what: str, make: Callable[[], Any]) -> Any:
    """``make()``, or ``None`` (traceback printed) when it fails: the sections that need it then fail on their
    own and the others still run."""
    try:
        return make()
    except Exception:
        say(f"could not prepare {what}:\n{traceback.format_exc()}")
        return None


def _wan_config(layers: int, **narrow: int) -> dict[str, Any] | None:
    return _optional("the Wan config", lambda: __import__("wan_step").wan_config(layers, **narrow))


def _director_config(**narrow: int) -> Any:
    def make() -> Any:
        from director_sampling import director_config

        return replace(director_config("gendop"), **narrow)

    return _optional("the director config", make)


def real_settings(args: argparse.Namespace) -> Settings:
    """The issue's sizes: Wan2.1-I2V-14B at 480×832×81, CogVideoX-5B at 480×720×49, GenDoP's director."""
    import trajmaster_injector

    director = _director_config()
    return Settings(smoke=False, device=args.device, dtype=torch.bfloat16, wan=_wan_config(40),
                    wan_size=(832, 480), wan_frames=81, tracks=args.tracks, steps=40, repeat=args.repeat,
                    cog=trajmaster_injector.COGVIDEOX_5B, cog_size=(720, 480), cog_frames=49, director=director,
                    director_tokens=director.tokenizer().length if director else 300, director_batches=[1, 32],
                    precision=_wan_config(40), precision_size=(832, 480),
                    precision_frames=args.precision_frames, precision_depths=[10, 20, 40])


def smoke_settings(args: argparse.Namespace) -> Settings:
    """Tiny models on the CPU (float32 timings; bf16 only where the precision check needs it)."""
    import trajmaster_injector

    return Settings(smoke=True, device=args.device, dtype=torch.float32, wan=_wan_config(1, heads=2, ffn=512),
                    wan_size=(64, 64), wan_frames=9, tracks=[8], steps=40, repeat=1,
                    cog=trajmaster_injector.CPU_SIZED, cog_size=(64, 64), cog_frames=9,
                    director=_director_config(hidden=64, heads=2, ffn=128, layers=1), director_tokens=14,
                    director_batches=[1, 4], precision=_wan_config(2, heads=2, ffn=512), precision_size=(64, 64),
                    precision_frames=9, precision_depths=[1, 2])


# ----------------------------------------------------------------------------------------------- estimates


def wan_tokens(size: tuple[int, int], frames: int) -> int:
    """Transformer tokens of a Wan video: latent frames × (H/16) × (W/16)."""
    w, h = size
    return ((frames - 1) // 4 + 1) * (h // 16) * (w // 16)


def wan_forward_flops(config: dict[str, Any], tokens: int, context: int = 512 + 257) -> float:
    """FLOPs of one Wan transformer forward: projections, FFN, self- and cross-attention."""
    d = config["num_attention_heads"] * config["attention_head_dim"]
    ffn = config["ffn_dim"]
    per_block = (2 * tokens * (6 * d * d + 2 * d * ffn)  # self q/k/v/o, cross q/o, FFN
                 + 2 * context * 4 * d * d  # cross k/v of the text and image tokens
                 + 4 * tokens * tokens * d + 4 * tokens * context * d)  # attention scores and values
    return config["num_layers"] * per_block


def estimates(s: Settings) -> dict[str, float]:
    """Seconds each section is expected to take (generous for the CPU smoke run)."""
    if s.smoke:
        return {"wan_step": 30, "cogvideox": 30, "director": 20, "wan_precision": 30, "wan_offload": 40,
                "wan_offload.sequential": 20}
    wan = s.wan or WAN_14B_SHAPE
    forward = wan_forward_flops(wan, wan_tokens(s.wan_size, s.wan_frames)) / BF16_FLOPS
    depth_sum = sum(s.precision_depths) / (s.precision or wan)["num_layers"]
    fp32 = wan_forward_flops(s.precision or wan, wan_tokens(s.precision_size, s.precision_frames)) / FP32_FLOPS
    return {"wan_step": 15 + 4 * forward * (1 + len(s.tracks)),
            "cogvideox": 40.0, "director": 25.0,
            "wan_precision": 20 + depth_sum * fp32 * 1.2,
            "wan_offload": 25 + 4 * forward * 1.3,  # group; sequential is decided inside the section
            "wan_offload.sequential": 25 + forward + 33e9 / 8e9}


# ----------------------------------------------------------------------------------------------- plumbing


class Report:
    """The JSON report, rewritten atomically after every change (thread-safe: the watchdog writes too)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"sections": {}}
        self.lock = threading.Lock()

    def section(self, name: str) -> dict[str, Any]:
        return self.data["sections"].setdefault(name, {})

    def put(self, name: str, key: str, value: Any) -> None:
        self.section(name)[key] = value
        self.write()

    def write(self) -> None:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(_finite(self.data), indent=1, default=_jsonable, allow_nan=False))
            os.replace(tmp, self.path)


def _finite(value: Any) -> Any:
    """``value`` with NaN / infinite floats as ``None`` (strict JSON; the CPU has no peak GPU memory)."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.dtype | torch.device):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


class SectionTimeoutError(Exception):
    """A section ran past its time limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`SectionTimeoutError` in the main thread after ``seconds`` (at the next Python instruction)."""
    def expire(signum: int, frame: Any) -> None:
        raise SectionTimeoutError(f"section ran past its {seconds:.0f} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1.0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def start_watchdog(report: Report, after_s: float) -> None:
    """End the process ``after_s`` seconds from the start, whatever runs (the JSON says so)."""
    def fire() -> None:
        say(f"WATCHDOG: {after_s:.0f} s since the start; writing the JSON and exiting")
        report.data["watchdog"] = f"process ended by the watchdog after {after_s:.0f} s"
        if report.lock.acquire(timeout=10):
            report.lock.release()
            report.write()
        os._exit(3)

    timer = threading.Timer(max(after_s - (time.monotonic() - START), 1.0), fire)
    timer.daemon = True
    timer.start()


def free_memory(device: str) -> float:
    """Collect garbage, empty the CUDA cache and reset the peak counter; the GiB still allocated."""
    gc.collect()
    if not device.startswith("cuda"):
        return 0.0
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return torch.cuda.memory_allocated() / GIB


def machine_info(device: str) -> dict[str, Any]:
    """GPU name, driver, versions."""
    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "torch_cuda": torch.version.cuda, "cpu_threads": torch.get_num_threads(),
                            "device": device}
    try:
        import diffusers

        info["diffusers"] = diffusers.__version__
    except Exception as exc:  # reported, not fatal: the sections say what they miss
        info["diffusers"] = f"not importable: {exc}"
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=torch.cuda.get_device_name(device), gpu_memory_gib=props.total_memory / GIB,
                    multiprocessors=props.multi_processor_count, cudnn=torch.backends.cudnn.version(),
                    driver=driver_version())
    return info


def driver_version() -> str:
    """The NVIDIA driver version (NVML, else nvidia-smi), or why it is unknown."""
    try:
        import pynvml

        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception:
        pass
    try:
        import subprocess

        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=15, check=True)
        return out.stdout.strip().splitlines()[0]
    except Exception as exc:
        return f"unknown ({exc})"


# ----------------------------------------------------------------------------------------------- section 1


def wan_step_section(s: Settings, put: Callable[[str, Any], None], deadline: float) -> None:
    """One Wan step without and with ATI's patch, and the patch's share of a step."""
    import wan_step

    w, h = s.wan_size
    tokens = wan_tokens(s.wan_size, s.wan_frames)
    flops = wan_forward_flops(s.wan, tokens)
    put("setup", {"blocks": s.wan["num_layers"], "size": f"{w}x{h}", "frames": s.wan_frames, "tokens": tokens,
                  "dtype": s.dtype, "forward_flops": flops})
    say(f"Wan2.1-I2V-14B ({s.wan['num_layers']} blocks, random weights), {w}×{h}×{s.wan_frames} = {tokens} tokens, "
        f"{s.dtype}, ≈ {flops / 1e15:.2f} PFLOP per forward")
    built = time.perf_counter()
    model = wan_step.random_transformer(s.wan["num_layers"], s.dtype, s.device, config=s.wan)
    x = wan_step.inputs(s.wan_frames, h, w, s.dtype, s.device)
    resident = torch.cuda.memory_allocated() / GIB if s.device.startswith("cuda") else float("nan")
    say(f"  built in {time.perf_counter() - built:.1f} s, {resident:.1f} GiB resident")
    step = wan_step.measure_step(model, x, s.device, s.repeat)
    step["tflops"] = 2 * flops / step["seconds"] / 1e12
    put("step", step)
    say(f"  one step (2 forwards) without patch: {step['seconds']:.3f} s ({step['tflops']:.0f} TFLOP/s), peak "
        f"{step['peak_gib']:.1f} GiB")
    patches = []
    for n in s.tracks:
        patches.append(wan_step.measure_patch(model, x, n, s.wan_frames, s.steps, s.device, s.repeat,
                                              step["seconds"]))
        put("patch", patches)
        say(wan_step.patch_line(patches[-1], s.steps))
    worst = max(p["direct_share_pct"] for p in patches)
    put("patch_share_below_1pct", worst < 1.0)
    say(f"  patch share of a step: {worst:.3f} % (target < 1 %: {'met' if worst < 1.0 else 'NOT met'})")


# ----------------------------------------------------------------------------------------------- section 2


def cogvideox_section(s: Settings, put: Callable[[str, Any], None], deadline: float) -> None:
    """CogVideoX-5B + injectors: step cost with/without injectors, annealing memory both ways."""
    import trajmaster_injector as tm

    from trajkit.control.trajmaster_injector import EntityInjection, injector_blocks

    w, h = s.cog_size
    model = tm.random_transformer(s.cog, s.dtype, s.device)
    blocks = injector_blocks(model)
    kwargs, cond, tokens = tm.step_inputs(model, s.cog_size, s.cog_frames, s.dtype, s.device)
    put("setup", {"blocks": s.cog["num_layers"], "injector_blocks": len(blocks), "size": f"{w}x{h}",
                  "frames": s.cog_frames, "video_tokens": tokens, "dtype": s.dtype, "batch": 2, "entities": 2})
    say(f"CogVideoX ({s.cog['num_layers']} blocks, injectors on {len(blocks)}), {w}×{h}×{s.cog_frames}, "
        f"{tokens} video tokens, {s.dtype}, batch 2 (CFG), 2 entities")
    rows: dict[str, dict[str, float]] = {}
    with torch.inference_mode():
        rows["base"] = dict(zip(("seconds", "peak_gib"), tm.timed(lambda: model(**kwargs), 2, s.device),
                                strict=True))
        put("step", rows)
        say(f"  base step {rows['base']['seconds']:.3f} s, peak {rows['base']['peak_gib']:.1f} GiB")
        for mode in ("legacy_kv", "aligned"):
            with EntityInjection(model, cond, mode=mode):
                seconds, peak = tm.timed(lambda: model(**kwargs), 2, s.device)
            rows[mode] = {"seconds": seconds, "peak_gib": peak, "x_base": seconds / rows["base"]["seconds"]}
            put("step", rows)
            say(f"  injector {mode}: {seconds:.3f} s = {rows[mode]['x_base']:.2f}× base, peak {peak:.1f} GiB")
    annealing = tm.annealing_memory(model, kwargs, cond, s.device, s.cog_frames)
    base_params, injector_params = tm.full_size_counts()
    annealing["counted_copy_bytes_bf16_full_size"] = 2 * (base_params + injector_params)
    put("annealing", annealing)
    for line in tm.annealing_lines(annealing):
        say("  " + line)
    say(f"  counted at full size: the copy is {annealing['counted_copy_bytes_bf16_full_size'] / 1e9:.2f} GB in bf16 "
        f"(measured here: {annealing['saved_param_bytes'] / 1e9:.2f} GB of parameters, "
        f"{annealing['saved_peak_gib'] * GIB / 1e9:.2f} GB of peak memory)")


# ----------------------------------------------------------------------------------------------- section 3


def director_section(s: Settings, put: Callable[[str, Any], None], deadline: float) -> None:
    """GenDoP-size director: trajectories/s at batch 1 and 32, cache on and off."""
    from director_sampling import measure

    from trajkit.director.model import Director

    c = s.director
    torch.manual_seed(0)
    model = Director(c).to(s.device, s.dtype).eval()
    put("setup", {"hidden": c.hidden, "layers": c.layers, "prefix": c.text_tokens, "tokens": s.director_tokens,
                  "dtype": s.dtype, "batches": s.director_batches})
    say(f"director: hidden {c.hidden}, {c.layers} layers, prefix {c.text_tokens}, {s.director_tokens} tokens per "
        f"path, {s.dtype}, greedy")
    results = measure(model, s.director_batches, s.director_tokens, repeat=2)
    base = results[min(results)]["cache_on_paths_per_s"]
    for r in results.values():
        r["vs_batch1_cache_on"] = r["cache_on_paths_per_s"] / base
    put("results", {str(b): r for b, r in results.items()})
    for batch, r in results.items():
        say(f"  batch {batch:3d}: cache on {r['cache_on_paths_per_s']:9.2f} paths/s ({r['vs_batch1_cache_on']:.1f}× "
            f"batch 1), cache off {r['cache_off_paths_per_s']:9.2f} paths/s, identical tokens "
            f"{r['identical_tokens']}")


# ----------------------------------------------------------------------------------------------- section 4


@contextmanager
def strict_fp32() -> Iterator[dict[str, Any]]:
    """float32 matmuls and convolutions without TF32 (restored after)."""
    matmul = torch.get_float32_matmul_precision()
    conv = torch.backends.cudnn.allow_tf32
    torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield {"matmul_precision": "highest", "cudnn_allow_tf32": False}
    finally:
        torch.set_float32_matmul_precision(matmul)
        torch.backends.cudnn.allow_tf32 = conv


@contextmanager
def truncated(model: torch.nn.Module, depth: int) -> Iterator[None]:
    """The model with its first ``depth`` blocks only (the stock forward loops over ``model.blocks``)."""
    blocks = model.blocks
    model.blocks = torch.nn.ModuleList(list(blocks)[:depth])
    try:
        yield
    finally:
        model.blocks = blocks


def _autocast_off(device_type: str) -> tuple[Callable[..., None], Callable[..., None]]:
    """A (pre-hook, hook) pair that runs a module's forward with autocast disabled (float32 weights → float32)."""
    active: list[Any] = []

    def enter(module: torch.nn.Module, args: tuple[Any, ...]) -> None:
        ctx = torch.autocast(device_type, enabled=False)
        ctx.__enter__()
        active.append(ctx)

    def leave(module: torch.nn.Module, args: tuple[Any, ...], output: Any) -> None:
        active.pop().__exit__(None, None, None)

    return enter, leave


@contextmanager
def ati_autocast(model: torch.nn.Module, device_type: str) -> Iterator[None]:
    """Run the stock float32 ``WanTransformer3DModel`` as ATI runs Wan: ``torch.autocast(bfloat16)`` for the matmuls,
    float32 residual stream (patch-embedding output upcast by a hook), time embedding, time projection and head
    outside autocast (hooks). See the module docstring, (b)."""
    handles = [model.patch_embedding.register_forward_hook(lambda module, args, out: out.float())]
    embedder = model.condition_embedder
    for module in (embedder.time_embedder, embedder.time_proj, model.proj_out):
        enter, leave = _autocast_off(device_type)
        handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
    try:
        with torch.autocast(device_type, dtype=torch.bfloat16):
            yield
    finally:
        for handle in handles:
            handle.remove()


def _rel(y: torch.Tensor, ref: torch.Tensor) -> float:
    """‖y − ref‖ / ‖ref‖ in float32."""
    diff = y.float() - ref
    return float(torch.linalg.vector_norm(diff) / torch.linalg.vector_norm(ref))


def run_variant(model: torch.nn.Module, x: dict[str, torch.Tensor], depths: list[int],
                reference: dict[str, Any] | None = None) -> dict[str, Any]:
    """Outputs at every depth; at the deepest, the residual stream after each block (kept for the reference,
    compared for a variant) and the dtypes seen. With ``reference``, relative errors instead of tensors."""
    out: dict[str, Any] = {"output_rel_err": {}, "block_rel_err": [], "block_rms": [], "dtypes": {}}
    kept_outputs: dict[int, torch.Tensor] = {}
    kept_blocks: list[torch.Tensor] = []
    deepest = max(depths)

    def on_block(module: torch.nn.Module, args: tuple[Any, ...], y: torch.Tensor) -> None:
        out["dtypes"].setdefault("block_output", str(y.dtype))
        i = len(out["block_rms"])
        out["block_rms"].append(float(y.float().pow(2).mean().sqrt()))
        if reference is None:
            kept_blocks.append(y.float().clone())
        else:
            out["block_rel_err"].append(_rel(y, reference["blocks"][i]))

    def dtype_of(key: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, args: tuple[Any, ...], y: torch.Tensor) -> None:
            out["dtypes"].setdefault(key, str(y.dtype))  # a hook must return None: a value would replace y

        return hook

    with torch.no_grad():
        for depth in depths:
            handles = []
            if depth == deepest:
                handles = [b.register_forward_hook(on_block) for b in list(model.blocks)[:depth]]
                handles += [model.condition_embedder.time_proj.register_forward_hook(dtype_of("time_proj_output")),
                            model.proj_out.register_forward_hook(dtype_of("proj_out_output"))]
            try:
                with truncated(model, depth):
                    y = model(**x, return_dict=False)[0]
            finally:
                for handle in handles:
                    handle.remove()
            if reference is None:
                kept_outputs[depth] = y.float()
            else:
                out["output_rel_err"][str(depth)] = _rel(y, reference["outputs"][depth])
    if reference is None:
        out.update(outputs=kept_outputs, blocks=kept_blocks)
    return out


def from_pretrained_layout() -> dict[str, Any]:
    """Check :func:`wan_step.cast_like_from_pretrained` against a real ``save_pretrained`` → ``from_pretrained(
    torch_dtype=bfloat16)`` round trip of a tiny Wan model (CPU, seconds)."""
    import re
    import tempfile

    import wan_step
    from diffusers import WanTransformer3DModel

    tiny = wan_step.random_transformer(1, torch.float32, "cpu", config=wan_step.wan_config(1, heads=1, ffn=64))
    with tempfile.TemporaryDirectory() as folder:
        tiny.save_pretrained(folder)
        loaded = WanTransformer3DModel.from_pretrained(folder, torch_dtype=torch.bfloat16)
    ours = dict(wan_step.cast_like_from_pretrained(tiny, torch.bfloat16).named_parameters())
    theirs = dict(loaded.named_parameters())
    mismatches = [n for n, p in theirs.items() if ours[n].dtype != p.dtype]
    buffers = {n: str(b.dtype) for n, b in loaded.named_buffers()}
    kept = sorted({re.sub(r"\.\d+\.", ".N.", n) for n, p in theirs.items() if p.dtype == torch.float32})
    return {"matches": not mismatches, "mismatches": mismatches, "kept_fp32": kept, "buffers": buffers}


def precision_section(s: Settings, put: Callable[[str, Any], None], deadline: float) -> None:
    """bf16 vs float32 on the same random weights: diffusers' default (a) and ATI's autocast (b)."""
    import wan_step

    layout = from_pretrained_layout()
    put("from_pretrained_layout", layout)
    say(f"  cast rule = from_pretrained(torch_dtype=bf16): {layout['matches']}; kept in float32: "
        f"{', '.join(layout['kept_fp32'])}")
    w, h = s.precision_size
    layers = s.precision["num_layers"]
    depths = sorted({d for d in s.precision_depths if 1 <= d <= layers})
    tokens = wan_tokens(s.precision_size, s.precision_frames)
    put("setup", {"blocks": layers, "size": f"{w}x{h}", "frames": s.precision_frames, "tokens": tokens,
                  "depths": depths, "init": "linear/conv/table weights N(0, 0.02), biases 0, norm scales 1"})
    say(f"Wan bf16 vs float32: {layers} blocks, {w}×{h}×{s.precision_frames} = {tokens} tokens, depths {depths}")
    model = wan_step.random_transformer(layers, torch.float32, s.device, config=s.precision)
    x32 = wan_step.inputs(s.precision_frames, h, w, torch.float32, s.device)
    device_type = torch.device(s.device).type
    with strict_fp32() as flags:
        put("fp32_flags", flags)
        started = time.perf_counter()
        reference = run_variant(model, x32, depths)
        wan_step.sync(s.device)
        put("fp32_seconds", time.perf_counter() - started)
        put("fp32_block_rms", reference["block_rms"])
        say(f"  float32 reference: {time.perf_counter() - started:.1f} s; residual-stream RMS after blocks 1 / "
            f"{layers}: {reference['block_rms'][0]:.3g} / {reference['block_rms'][-1]:.3g}")
        with ati_autocast(model, device_type):
            ati = run_variant(model, x32, depths, reference)
        _report_variant(put, "b_ati_autocast", ati, depths)
        wan_step.cast_like_from_pretrained(model, torch.bfloat16)
        xb = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in x32.items()}
        default = run_variant(model, xb, depths, reference)
        _report_variant(put, "a_diffusers_bf16", default, depths)
    verdict = {name: r["output_rel_err"][str(depths[-1])] / r["output_rel_err"][str(depths[0])]
               for name, r in (("a_diffusers_bf16", default), ("b_ati_autocast", ati))}
    put("growth_deepest_over_shallowest", verdict)
    for name, ratio in verdict.items():
        say(f"  {name}: error at {depths[-1]} blocks / at {depths[0]} blocks = {ratio:.2f} "
            f"({'grows' if ratio > 1.5 else 'does not grow much'} with depth)")


def _report_variant(put: Callable[[str, Any], None], name: str, r: dict[str, Any], depths: list[int]) -> None:
    """Record and print one precision variant."""
    put(name, {k: r[k] for k in ("output_rel_err", "block_rel_err", "dtypes")})
    errors = ", ".join(f"{d} blocks {r['output_rel_err'][str(d)]:.2e}" for d in depths)
    blocks = r["block_rel_err"]
    marks = sorted({0, len(blocks) // 4, len(blocks) // 2, len(blocks) - 1})
    stream = ", ".join(f"after block {i + 1}: {blocks[i]:.2e}" for i in marks)
    say(f"  {name}: output rel. error {errors}; residual stream {stream}; dtypes {r['dtypes']}")


# ----------------------------------------------------------------------------------------------- section 5


def offload_section(s: Settings, put: Callable[[str, Any], None], deadline: float) -> None:
    """Peak memory and time of the Wan step under group offloading, then sequential offloading if time is left."""
    import wan_step

    w, h = s.wan_size
    need = estimates(s)["wan_offload.sequential"]
    for mode in s.offloads:
        left = deadline - time.monotonic()
        if mode == "sequential" and left < need:
            put(mode, {"skipped": f"needs ≈ {need:.0f} s, {left:.0f} s left"})
            say(f"  offload={mode}: skipped (needs ≈ {need:.0f} s, {left:.0f} s left)")
            continue
        started = time.perf_counter()
        model = wan_step.random_transformer(s.wan["num_layers"], s.dtype, s.device, config=s.wan)
        model = wan_step.place(model, mode, s.device)
        x = wan_step.inputs(s.wan_frames, h, w, s.dtype, s.device)
        setup = time.perf_counter() - started
        if mode == "sequential":  # every layer streamed: one forward, no warm-up
            r = wan_step.measure_step(model, x, s.device, 1, forwards=1, warmup=False)
        else:
            r = wan_step.measure_step(model, x, s.device, s.repeat)
        r["setup_s"] = setup
        put(mode, r)
        say(f"  offload={mode}: {r['forwards']} forward(s) {r['seconds']:.3f} s, peak GPU memory "
            f"{r['peak_gib']:.2f} GiB (setup {setup:.1f} s)")
        del model, x
        free_memory(s.device)


RUNNERS: dict[str, Callable[[Settings, Callable[[str, Any], None], float], None]] = {
    "wan_step": wan_step_section, "cogvideox": cogvideox_section, "director": director_section,
    "wan_precision": precision_section, "wan_offload": offload_section,
}


# ----------------------------------------------------------------------------------------------- main


def run_section(name: str, s: Settings, report: Report, deadline: float, estimate: float, optional: float = 0.0
                ) -> None:
    """Run one section within the budget (``optional``: seconds of parts it may add if time is left); errors and
    timeouts are printed and recorded, never raised."""
    left = deadline - time.monotonic()
    say(f"\n=== {name} (estimated {estimate:.0f} s, {left:.0f} s of budget left) ===")
    report.put(name, "estimate_s", estimate)
    if left < estimate:
        report.put(name, "status", f"skipped: needs ≈ {estimate:.0f} s, {left:.0f} s left")
        say(f"skipped: needs ≈ {estimate:.0f} s, {left:.0f} s left")
        return
    started = time.monotonic()
    status = "ok"
    try:
        with time_limit(min(left, max(2 * estimate, estimate + 60) + optional)):
            RUNNERS[name](s, lambda key, value: report.put(name, key, value), deadline)
    except Exception:
        status = "failed"
        text = traceback.format_exc()
        say(text)
        report.put(name, "error", text)
    finally:
        report.put(name, "seconds", time.monotonic() - started)
        report.put(name, "status", status)
        report.put(name, "allocated_after_gib", free_memory(s.device))
    say(f"--- {name}: {status} in {time.monotonic() - started:.1f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=Path("gpu_check.json"), help="where the figures go")
    parser.add_argument("--budget-s", type=float, default=450.0, help="total seconds for the whole run")
    parser.add_argument("--smoke", action="store_true", help="tiny models on the CPU: every section, quickly")
    parser.add_argument("--device", default=None, help="default: cuda if present (the CPU with --smoke)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--tracks", type=int, nargs="+", default=[500], help="ATI track counts (section 1)")
    parser.add_argument("--precision-frames", type=int, default=21, help="video frames of section 4 (4k + 1)")
    parser.add_argument("--repeat", type=int, default=1, help="timed repeats after the warm-up (sections 1, 5)")
    args = parser.parse_args(argv)
    if args.device is None:
        args.device = "cpu" if args.smoke or not torch.cuda.is_available() else "cuda"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message="Mismatch dtype between input and weight")  # rms_norm, section 4 (b)
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark modules
    if not args.smoke and not args.device.startswith("cuda"):
        say("the real sizes need a CUDA GPU (a 14B model); use --smoke on the CPU")
        return 2
    report = Report(args.json)
    start_watchdog(report, args.budget_s + WATCHDOG_GRACE_S)
    deadline = START + args.budget_s
    report.data["machine"] = info = machine_info(args.device)
    report.data["args"] = {k: str(v) for k, v in vars(args).items()}
    report.write()
    say("gpu_check: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    settings = (smoke_settings if args.smoke else real_settings)(args)
    plan = estimates(settings)
    report.data["estimates_s"] = plan
    say("plan (estimated s): " + ", ".join(f"{k} {v:.0f}" for k, v in plan.items()) +
        f"; budget {args.budget_s:.0f} s")
    for name in args.sections:
        run_section(name, settings, report, deadline, plan[name], plan.get(name + ".sequential", 0.0))
    report.data["total_s"] = time.monotonic() - START
    report.write()
    statuses = {name: report.section(name).get("status") for name in args.sections}
    say(f"\ngpu_check done in {report.data['total_s']:.0f} s: {statuses}; JSON at {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
