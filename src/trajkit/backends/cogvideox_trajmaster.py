"""``cogvideox-3dtrajmaster``: CogVideoX-5B text-to-video with 3DTrajMaster's object injector and domain LoRA.

diffusers' ``CogVideoXPipeline`` renders; trajkit adds (``shared/specs/trajmaster.md`` §3–6):

* the injector (:mod:`trajkit.control.trajmaster_injector`) on the blocks the checkpoint names, fed with the entity
  pose vectors (:func:`trajkit.control.trajmaster.pose_embeds`, bf16 as the original), the entity prompts through
  the pipeline's own T5 and ``text_proj`` (first 50 tokens, padding zeroed) and the projected empty prompt — one
  conditioning shared by the unconditional and conditional halves of classifier-free guidance;
* the domain LoRA as an unfused peft adapter on ``attn1`` at ``lora_scale`` (0.6);
* **annealed sampling with one transformer**: the first ``injector_steps`` steps (3DTrajMaster's
  ``--annealed_sample_step A`` ↔ ``injector_steps = A + 1``; its README uses A = 20) run with the injector processors
  installed and the adapter enabled; then the stock processors are put back and the adapter disabled, so the
  remaining steps run plain CogVideoX-5B. The original keeps a second 5.6 B transformer resident for that;
* DPM-Solver (``CogVideoXDPMScheduler``, trailing spacing), 50 steps, guidance 6 with CogVideoX's dynamic-CFG curve
  evaluated at the timestep value (``cfg_schedule: legacy``, as 3DTrajMaster via diffusers), or at the step
  progress (``progress``), or constant.

Entities: 1–3, one prompt each, seen from their camera (the rig camera of a 360°-Motion file, 12 by default); the
scene prompt is the job's prompt or 3DTrajMaster's ``"<e1> and <e2> are moving in the <location>"``. 49 frames at
720×480 by default (any 4k + 1 frames and multiples of 16 px work; the released weights were trained at 49×480×720)
exported at 8 fps as the original (the motion then plays 2.2× slower than the 360°-Motion render; 17.1 fps is real
time).
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from ..core.errors import TrajkitError
from .base import GeneratedVideo, GenerationRequest, Progress, no_progress
from .cogvideox_weights import DEFAULT_BASE, DOWNLOAD_HELP
from .diffusers_options import (
    MEMORY_OPTION_HELP,
    BackendOptions,
    cached_pipeline,
    check_video_shape,
    place_pipeline,
    resolve_device_dtype,
)

ADAPTER = "trajmaster"
#: What a job gets when it does not say (CogVideoX-5B's native clip, 3DTrajMaster's export rate).
JOB_DEFAULTS: dict[str, Any] = {"frames": 49, "fps": 8.0, "size": (720, 480)}


class TrajMasterOptions(BackendOptions):
    """Options of the ``cogvideox-3dtrajmaster`` backend (job ``options:`` or ``trajkit generate`` flags)."""

    base: str = DEFAULT_BASE
    injector: str | None = None
    lora: str | None = None
    lora_scale: float = Field(0.6, ge=0, le=4)
    injector_steps: int = Field(21, ge=0, le=1000)
    steps: int = Field(50, ge=1, le=1000)
    guidance: float = Field(6.0, ge=0, le=50)
    cfg_schedule: Literal["legacy", "progress", "constant"] = "legacy"
    mode: Literal["legacy_kv", "aligned"] = "legacy_kv"
    location: str | None = None
    negative_prompt: str = ""
    vae_slicing: bool = False


OPTION_HELP: dict[str, str] = {
    "base": f"diffusers-format CogVideoX-5B folder or Hugging Face repo id (default {DEFAULT_BASE}, from the cache)",
    "injector": "3DTrajMaster's injector: its transformer folder (base + injector keys) or injector-only .safetensors",
    "lora": "the domain LoRA: pytorch_lora_weights.safetensors or its folder (none: no LoRA)",
    "lora_scale": "LoRA weight while the injector runs (default 0.6; higher: more accurate motion, lower quality)",
    "injector_steps": "steps run with injector + LoRA, then plain CogVideoX (default 21 = 3DTrajMaster's A = 20)",
    "steps": "denoising steps (default 50)",
    "guidance": "classifier-free guidance scale (default 6)",
    "cfg_schedule": "legacy (CogVideoX's dynamic CFG at the timestep value, as 3DTrajMaster), progress, constant",
    "mode": "injector attention: legacy_kv (as the released weights were trained) or aligned",
    "location": "scene location for the prompt '<entities> are moving in the <location>' (e.g. desert)",
    "negative_prompt": "negative prompt (default empty, as 3DTrajMaster)",
    **MEMORY_OPTION_HELP,
    "vae_slicing": "decode the VAE one video at a time (less memory)",
}


def dynamic_guidance(scale: float, steps: int, at: float) -> float:
    """CogVideoX's dynamic CFG: ``1 + scale·(1 − cos(π·((steps − at)/steps)^5))/2``. diffusers (and so 3DTrajMaster)
    evaluates it at the timestep value ``at = t`` (999 … 19 — the curve then jumps around in [1, 1 + scale]);
    ``progress`` evaluates it at the step index."""
    return 1 + scale * (1 - math.cos(math.pi * ((steps - at) / steps) ** 5.0)) / 2


def load_pipeline(opts: TrajMasterOptions) -> Any:
    """``CogVideoXPipeline`` with 3DTrajMaster's transformer, scheduler and (unfused) LoRA, placed per the options."""
    from diffusers import CogVideoXDPMScheduler, CogVideoXPipeline

    from .cogvideox_weights import load_trajmaster_transformer, locate_base, read_lora

    device, dtype = resolve_device_dtype(opts)
    if opts.injector is None:
        raise TrajkitError(f"field 'options.injector': 3DTrajMaster's injector weights are needed\n{DOWNLOAD_HELP}")
    folder = locate_base(opts.base, download=opts.download, need_transformer=False)
    transformer = load_trajmaster_transformer(opts.injector, folder, dtype)
    try:
        pipe = CogVideoXPipeline.from_pretrained(folder, transformer=transformer, dtype=dtype,
                                                 local_files_only=True)
    except (OSError, ValueError) as exc:
        raise TrajkitError(f"base model at {folder}: could not be loaded ({exc})") from exc
    pipe.scheduler = CogVideoXDPMScheduler.from_config(pipe.scheduler.config, timestep_spacing="trailing")
    if opts.lora is not None:
        state = read_lora(opts.lora, transformer)
        try:
            pipe.load_lora_weights(state, adapter_name=ADAPTER)
        except (ImportError, ValueError) as exc:
            raise TrajkitError(f"LoRA {opts.lora}: could not be loaded ({exc}); it needs peft (pip install peft)") \
                from exc
        touched = [n for n, m in transformer.named_modules() if "attn_injector" in n and hasattr(m, "lora_A")]
        if touched:  # pragma: no cover - diffusers targets the exact attn1 paths
            raise TrajkitError(f"LoRA {opts.lora}: adapters landed on injector modules {touched[:3]}")
    if opts.vae_slicing:
        pipe.vae.enable_slicing()
    return place_pipeline(pipe, opts, device)


def has_adapter(pipe: Any) -> bool:
    """Whether the pipeline's transformer carries the domain LoRA."""
    return ADAPTER in (getattr(pipe.transformer, "peft_config", None) or {})


def set_lora(pipe: Any, scale: float | None) -> None:
    """Enable the domain LoRA at ``scale``, or disable it (``None``); no-op without one."""
    if not has_adapter(pipe):
        return
    if scale is None:
        pipe.transformer.disable_adapters()
    else:
        pipe.transformer.enable_adapters()
        pipe.set_adapters([ADAPTER], [scale])


def lora_enabled(pipe: Any) -> bool:
    """Whether the domain LoRA currently acts on the transformer."""
    if not has_adapter(pipe):
        return False
    layer = next((m for m in pipe.transformer.modules() if hasattr(m, "lora_A")), None)
    return layer is not None and not layer.disable_adapters


def entity_conditioning(pipe: Any, request: GenerationRequest, opts: TrajMasterOptions) -> tuple[Any, list[int]]:
    """The request's entities as an :class:`~trajkit.control.trajmaster_injector.EntityConditioning` on the
    pipeline's device, and the T5 token count of each entity prompt."""
    from ..control.trajmaster import pose_embeds
    from ..control.trajmaster_injector import EntityConditioning
    from ..control.trajmaster_text import encode_empty_context, encode_entity_prompts

    entities = request.entities
    assert entities is not None
    device = pipe._execution_device
    text_proj = pipe.transformer.patch_embed.text_proj
    poses = pose_embeds(entities, _viewing_camera(request), device=device)
    latent = (request.frames - 1) // pipe.vae_scale_factor_temporal + 1
    if poses.shape[2] != latent:
        raise TrajkitError(f"entity poses have {poses.shape[2]} latent frames but {request.frames} video frames make "
                           f"{latent}")
    tokens, counts = encode_entity_prompts(pipe.tokenizer, pipe.text_encoder, text_proj, entities.prompts,
                                           device=device)
    context = encode_empty_context(pipe.tokenizer, pipe.text_encoder, text_proj, device=device)
    return EntityConditioning(poses, tokens, context), counts


def _viewing_camera(request: GenerationRequest) -> Any:
    """The entities' own camera (a 360°-Motion file brings its rig camera), else the request's."""
    entities = request.entities
    assert entities is not None
    return entities.viewing_camera(entities.camera or request.camera, where="field 'entities'")


class AnnealedSampling:
    """Runs the first ``injector_steps`` denoising steps with injector + LoRA, the rest with the plain base model,
    by switching processors and the adapter on the one transformer. ``log`` gets one record per step."""

    def __init__(self, pipe: Any, injection: Any, opts: TrajMasterOptions, progress: Progress, frames: int) -> None:
        self.pipe = pipe
        self.injection = injection
        self.opts = opts
        self.progress = progress
        self.frames = frames
        self.log: list[dict[str, Any]] = []
        self._calls = 0
        self._lora_at_start = False

    def start(self) -> None:
        on = self.opts.injector_steps > 0
        if on:
            self.injection.enable()
        set_lora(self.pipe, self.opts.lora_scale if on else None)
        self._lora_at_start = lora_enabled(self.pipe)

    def on_step_end(self, pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        calls = self.injection.calls - self._calls
        self._calls = self.injection.calls
        self.log.append({"step": step, "timestep": int(timestep), "injector_calls": calls,
                         "lora": self._lora_at_start, "guidance": float(pipe.guidance_scale)})
        if step + 1 == self.opts.injector_steps:
            self.injection.disable()
            set_lora(pipe, None)
        self._lora_at_start = lora_enabled(pipe)
        if self.opts.cfg_schedule == "progress":
            pipe._guidance_scale = dynamic_guidance(self.opts.guidance, self.opts.steps, step + 1)
        self.progress(round(self.frames * (step + 1) / self.opts.steps), self.frames)
        return kwargs

    def finish(self) -> None:
        """Leave the pipeline as loaded: stock processors, adapter enabled at its scale (for the next job)."""
        self.injection.disable()
        set_lora(self.pipe, self.opts.lora_scale)


class CogVideoXTrajMasterBackend:
    """The ``cogvideox-3dtrajmaster`` backend (see the module docstring). Pipelines are cached between jobs."""

    name = "cogvideox-3dtrajmaster"
    options: ClassVar[dict[str, str]] = OPTION_HELP
    job_defaults: ClassVar[dict[str, Any]] = JOB_DEFAULTS
    #: 99-frame 360°-Motion clips are cut (and their model poses taken) as 3DTrajMaster does at inference.
    crops_dataset_clips: ClassVar[bool] = True
    _cache: ClassVar[dict[str, Any]] = {}

    @classmethod
    def check_request(cls, request: GenerationRequest) -> TrajMasterOptions:
        """Reject a request 3DTrajMaster cannot render, or whose weights are not on disk, before loading models."""
        from ..control.trajmaster import MAX_ENTITIES
        from .cogvideox_weights import injector_files, locate_base, lora_file

        opts = TrajMasterOptions.parse(dict(request.options))
        ents = request.entities
        if ents is None:
            raise TrajkitError("field 'entities': cogvideox-3dtrajmaster moves 1–3 entities along 6-DoF paths; "
                               "give entity paths (a 360°-Motion file, a template or a native file)")
        if not 1 <= ents.num_entities <= MAX_ENTITIES:
            raise TrajkitError(f"field 'entities': 3DTrajMaster moves 1–{MAX_ENTITIES} entities; these paths have "
                               f"{ents.num_entities}")
        empty = [i for i, p in enumerate(ents.prompts) if not p.strip() or re.fullmatch(r"entity \d+", p.strip())]
        if empty:
            raise TrajkitError(f"field 'entities.prompts': entities {empty} have no description (give "
                               "entities.prompts, one per entity, e.g. from 3DTrajMaster's entity_zoo.txt)")
        _viewing_camera(request)
        if not request.prompt.strip() and not (opts.location or "").strip():
            raise TrajkitError("field 'options.location': give the scene location (e.g. desert) or a job prompt")
        check_video_shape(request.frames, request.size, "CogVideoX", "49 frames at 720×480")
        if opts.injector_steps > opts.steps:
            opts = opts.model_copy(update={"injector_steps": opts.steps})
        resolve_device_dtype(opts)
        if opts.injector is None:
            raise TrajkitError(f"field 'options.injector': 3DTrajMaster's injector weights are needed\n"
                               f"{DOWNLOAD_HELP}")
        injector_files(opts.injector)
        if opts.lora is not None:
            lora_file(opts.lora)
        locate_base(opts.base, download=opts.download, need_transformer=False)
        return opts

    def pipeline(self, options: dict[str, Any] | TrajMasterOptions) -> Any:
        """The (cached) pipeline for these options."""
        opts = options if isinstance(options, TrajMasterOptions) else TrajMasterOptions.parse(options)
        fields = {"base", "injector", "lora", "dtype", "device", "offload", "vae_tiling", "vae_slicing"}
        return cached_pipeline(self._cache, opts, fields, load_pipeline)

    def generate(self, request: GenerationRequest, progress: Progress = no_progress) -> GeneratedVideo:
        import torch

        from ..control.trajmaster_injector import EntityInjection
        from ..control.trajmaster_text import global_prompt

        opts = self.check_request(request)
        pipe = self.pipeline(opts)
        ents = request.entities
        assert ents is not None
        cond, counts = entity_conditioning(pipe, request, opts)
        prompt = request.prompt.strip() or global_prompt(ents.prompts, opts.location or "")
        injection = EntityInjection(pipe.transformer, cond, mode=opts.mode)
        sampler = AnnealedSampling(pipe, injection, opts, progress, request.frames)
        w, h = request.size
        first = dynamic_guidance(opts.guidance, opts.steps, 0) if opts.cfg_schedule == "progress" else opts.guidance
        kwargs = dict(prompt=prompt, negative_prompt=opts.negative_prompt, height=h, width=w,
                      num_frames=request.frames, num_inference_steps=opts.steps, guidance_scale=first,
                      use_dynamic_cfg=opts.cfg_schedule == "legacy", output_type="np",
                      max_sequence_length=pipe.transformer.config.max_text_seq_length,
                      generator=torch.Generator("cpu").manual_seed(request.seed),
                      callback_on_step_end=sampler.on_step_end)
        try:
            sampler.start()
            with torch.inference_mode():
                video = pipe(**kwargs).frames[0]
        finally:
            sampler.finish()
        frames = (np.clip(video, 0.0, 1.0) * 255).round().astype(np.uint8)
        info = {"backend": self.name, "base": opts.base, "injector": opts.injector, "lora": opts.lora,
                "lora_scale": opts.lora_scale if opts.lora else None, "prompt": prompt,
                "entity_prompts": list(ents.prompts), "entity_tokens": counts, "steps": opts.steps,
                "injector_steps": opts.injector_steps, "guidance": opts.guidance, "cfg_schedule": opts.cfg_schedule,
                "mode": opts.mode, "step_log": sampler.log}
        return GeneratedVideo(frames=frames, fps=request.fps, info=info)
