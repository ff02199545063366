"""``wan-ati``: Wan2.1-I2V-14B through diffusers' ``WanImageToVideoPipeline`` with ATI's motion patch.

ATI changes one thing in Wan2.1 I2V (``shared/specs/ati.md`` §5): the 20-channel image conditioning
``y = [mask(4); first-frame latent(16)]`` is rewritten once, before sampling, by
:func:`trajkit.control.ati.motion_patch`. diffusers builds exactly that tensor in
``WanImageToVideoPipeline.prepare_latents`` (its ``condition``: mask = 1 on latent frame 0, Wan's original
layout — ComfyUI's ``concat_mask`` is ``1 − mask``) and feeds ``cat([noise(16), condition(20)])`` to the
transformer for the conditional and the unconditional branch of every step. :class:`AtiConditioning` hooks
both places for one call: it wraps ``prepare_latents`` to patch the float32 condition once, and a transformer
forward pre-hook swaps channels 16–35 for the patched copy on the steps inside the ``(start, end)`` window
(ComfyUI's ``start_percent``/``end_percent``; ATI itself patches every step). Without tracks nothing is
installed, so the pipeline runs untouched.

Defaults follow ATI: 81 frames at 16 fps, 40 steps, flow shift 5.0, guidance 5.0, ATI's negative prompt,
the image resized to Wan's 832×480 pixel budget (bicubic, no crop), tracks normalised by the original
image size, CLIP fed the original image squashed to its input size. Memory options for 24–80 GB GPUs:
``dtype`` (bf16 default on GPUs), ``offload`` (``model``: one component on the GPU at a time; ``group``:
transformer blocks streamed from CPU memory; ``sequential``: every layer streamed, slowest, least memory)
and ``vae_tiling``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, field_validator

from ..core.errors import TrajkitError, ValidationError
from .base import GeneratedVideo, GenerationRequest, Progress, no_progress
from .diffusers_options import (
    MEMORY_OPTION_HELP,
    BackendOptions,
    cached_pipeline,
    check_video_shape,
    place_pipeline,
    resolve_device_dtype,
)
from .wan_weights import DEFAULT_BASE

#: ATI's negative prompt: "camera shake," + Wan's standard negative prompt (ati.md §8).
ATI_NEGATIVE_PROMPT = (
    "镜头晃动，色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，"
    "残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，"
    "背景人很多，倒着走"
)
#: Channels of the transformer input: 16 noisy latent channels, then the 20 conditioning channels.
NOISE_CHANNELS = 16


class WanAtiOptions(BackendOptions):
    """Options of the ``wan-ati`` backend (job ``options:`` or ``trajkit generate`` flags)."""

    base: str = DEFAULT_BASE
    transformer: str | None = None
    steps: int = Field(40, ge=1, le=1000)
    guidance: float = Field(5.0, ge=0, le=50)
    shift: float = Field(5.0, gt=0, le=100)
    negative_prompt: str = ATI_NEGATIVE_PROMPT
    temperature: float = Field(220.0, gt=0, le=1e6)
    topk: int = Field(2, ge=1, le=16)
    window: tuple[float, float] = (0.0, 1.0)

    @field_validator("window")
    @classmethod
    def _window(cls, value: tuple[float, float]) -> tuple[float, float]:
        from ..control.ati import check_window

        try:
            return check_window(value)
        except ValidationError as exc:
            raise ValueError(f"expected {exc.expected}") from exc


OPTION_HELP: dict[str, str] = {
    "base": f"diffusers-format Wan2.1 I2V folder or Hugging Face repo id (default {DEFAULT_BASE}, from the cache)",
    "transformer": "ATI transformer: .safetensors file or folder (Wan or diffusers layout; fp16/bf16/fp8)",
    "steps": "denoising steps (default 40)",
    "guidance": "classifier-free guidance scale (default 5.0; ≤ 1 turns CFG off)",
    "shift": "flow-matching schedule shift (default 5.0)",
    "negative_prompt": "negative prompt (default: ATI's)",
    "temperature": "motion-patch Gaussian temperature (default 220)",
    "topk": "tracks kept per latent pixel (default 2)",
    "window": "[start, end] fractions of the steps that use the tracks (default [0, 1])",
    **MEMORY_OPTION_HELP,
}


class AtiConditioning:
    """Install ATI's motion patch on a diffusers ``WanImageToVideoPipeline`` for the duration of a ``with``.

    ``tracks``: ``(L, N, 4)`` (or a list of them, one per generated video) as made by
    :func:`trajkit.core.ati.ati_track_input`. ``steps`` is the ``num_inference_steps`` of the call; call
    :meth:`step_done` from ``callback_on_step_end`` so the hook knows the step. After the call, ``patched`` holds
    the patched conditioning.
    """

    def __init__(self, pipe: Any, tracks: Any, *, steps: int, window: tuple[float, float] = (0.0, 1.0),
                 temperature: float, topk: int) -> None:
        self.pipe = pipe
        self.tracks = tracks
        self.steps = steps
        self.window = window
        self.temperature = temperature
        self.topk = topk
        self.step = 0
        self.patched: Any = None
        self.patched_calls: list[bool] = []
        self._handle: Any = None

    def _prepare_latents(self, original: Callable[..., Any]) -> Callable[..., Any]:
        from ..control.ati import motion_patch

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            out = original(*args, **kwargs)
            latents, condition = out[0], out[1]
            if len(out) != 2 or condition.shape[1] != 20:
                raise TrajkitError("wan-ati: this pipeline does not build Wan2.1's 20-channel image conditioning "
                                   "(a Wan2.2 / expand_timesteps model?); ATI needs Wan2.1 I2V")
            tracks = self.tracks
            if not isinstance(tracks, list | tuple):
                tracks = [tracks] * condition.shape[0]
            self.patched = motion_patch([t.to(condition.device) for t in tracks], condition.float(),
                                        temperature=self.temperature, topk=self.topk).to(condition.dtype)
            return latents, condition

        return wrapped

    def _pre_hook(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from ..control.ati import window_active

        active = self.patched is not None and window_active(self.step, self.steps, self.window)
        self.patched_calls.append(active)
        if active:
            import torch

            hidden = kwargs["hidden_states"]
            patched = self.patched.to(device=hidden.device, dtype=hidden.dtype)
            kwargs = {**kwargs, "hidden_states": torch.cat([hidden[:, :NOISE_CHANNELS], patched], dim=1)}
        return args, kwargs

    def step_done(self, step: int) -> None:
        """The pipeline finished step ``step`` (0-based)."""
        self.step = step + 1

    def __enter__(self) -> AtiConditioning:
        self.pipe.prepare_latents = self._prepare_latents(type(self.pipe).prepare_latents.__get__(self.pipe))
        self._handle = self.pipe.transformer.register_forward_pre_hook(self._pre_hook, with_kwargs=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.pipe.__dict__.pop("prepare_latents", None)
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


def load_pipeline(opts: WanAtiOptions) -> Any:
    """Build the diffusers pipeline the options describe (base + ATI transformer), placed per the memory options."""
    import torch
    from diffusers import WanImageToVideoPipeline

    from .wan_weights import WAN21_I2V_14B_CONFIG, load_wan_transformer, locate_base

    device, dtype = resolve_device_dtype(opts)
    folder = locate_base(opts.base, download=opts.download, need_transformer=opts.transformer is None)
    extra: dict[str, Any] = {}
    if opts.transformer is not None:
        config_file = folder / "transformer" / "config.json"
        config: Any = config_file if config_file.is_file() else WAN21_I2V_14B_CONFIG
        extra["transformer"] = load_wan_transformer(opts.transformer, config, dtype)
    # Wan's VAE and CLIP stay in float32 (as upstream Wan and diffusers' Wan examples do).
    from diffusers import AutoencoderKLWan
    from transformers import CLIPVisionModel

    try:
        extra["vae"] = AutoencoderKLWan.from_pretrained(folder, subfolder="vae", dtype=torch.float32,
                                                        local_files_only=True)
        extra["image_encoder"] = CLIPVisionModel.from_pretrained(folder, subfolder="image_encoder",
                                                                 dtype=torch.float32, local_files_only=True)
        pipe = WanImageToVideoPipeline.from_pretrained(folder, dtype=dtype, local_files_only=True, **extra)
    except (OSError, ValueError) as exc:
        raise TrajkitError(f"base model at {folder}: could not be loaded ({exc})") from exc
    if pipe.transformer.config.in_channels != 36:
        raise TrajkitError(f"base model at {folder}: the transformer takes {pipe.transformer.config.in_channels} "
                           "input channels; Wan2.1 I2V (and ATI) take 36")
    configure_scheduler(pipe, opts.shift)
    return place_pipeline(pipe, opts, device)


def configure_scheduler(pipe: Any, shift: float) -> None:
    """Set the flow-matching shift on whichever flow scheduler the base ships (UniPC for Wan2.1)."""
    config = dict(pipe.scheduler.config)
    key = "flow_shift" if "flow_shift" in config else "shift"
    pipe.scheduler = type(pipe.scheduler).from_config(config, **{key: shift})


def ati_image_embeds(pipe: Any, image: np.ndarray) -> Any:
    """CLIP features of the original image as Wan/ATI compute them: RGB in ``[-1, 1]`` squashed (bicubic, no
    crop) to the encoder's input size, CLIP-normalised, penultimate hidden state ``(1, tokens, dim)``."""
    import torch
    from torch.nn import functional

    proc = pipe.image_processor
    crop = proc.crop_size
    side = (int(crop["height"]), int(crop["width"])) if not isinstance(crop, int | float) else (int(crop), int(crop))
    encoder = pipe.image_encoder
    device = next((p.device for p in encoder.parameters() if p.device.type != "meta"), torch.device("cpu"))
    x = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1)[None] / 127.5 - 1
    x = functional.interpolate(x, size=side, mode="bicubic", align_corners=False)
    mean = torch.tensor(proc.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(proc.image_std).view(1, 3, 1, 1)
    x = (x * 0.5 + 0.5 - mean) / std
    with torch.no_grad():
        out = encoder(pixel_values=x.to(device, encoder.dtype), output_hidden_states=True)
    return out.hidden_states[-2]


class AtiImageEmbeds:
    """For the duration of a ``with``: the pipeline's CLIP image features are :func:`ati_image_embeds` of
    ``image`` (diffusers would otherwise centre-crop the resized frame; it refuses ``image`` and ``image_embeds``
    together, so its ``encode_image`` is replaced instead)."""

    def __init__(self, pipe: Any, image: np.ndarray) -> None:
        self.pipe = pipe
        self.image = image

    def __enter__(self) -> AtiImageEmbeds:
        embeds = ati_image_embeds(self.pipe, self.image)

        def encode_image(image: Any, device: Any = None) -> Any:
            return embeds.to(device) if device is not None else embeds

        self.pipe.encode_image = encode_image
        return self

    def __exit__(self, *exc: object) -> None:
        self.pipe.__dict__.pop("encode_image", None)


def ati_tracks_tensor(request: GenerationRequest) -> Any:
    """The request's tracks as ATI's ``(frames, N, 4)`` input, normalised by the original image size."""
    import torch

    from ..core.ati import ati_track_input

    tracks = request.tracks
    if tracks is None or tracks.num_tracks == 0:
        return None
    if request.source_image is not None:
        source = (request.source_image.shape[1], request.source_image.shape[0])
        if tracks.size != source:  # ATI normalises by the original image (its aspect-rounding offset included)
            tracks = tracks.rescale(source)
    return torch.from_numpy(ati_track_input(tracks, request.frames))


class WanAtiBackend:
    """The ``wan-ati`` backend (see the module docstring). Pipelines are cached between jobs of a run."""

    name = "wan-ati"
    options: ClassVar[dict[str, str]] = OPTION_HELP
    _cache: ClassVar[dict[str, Any]] = {}

    @classmethod
    def check_request(cls, request: GenerationRequest) -> WanAtiOptions:
        """Reject a request Wan cannot render, or whose weights are not on disk, before any model is loaded."""
        from .wan_weights import locate_base, transformer_files

        opts = WanAtiOptions.parse(dict(request.options))
        if request.image is None:
            raise TrajkitError("field 'image': wan-ati is image-to-video; give a first frame")
        check_video_shape(request.frames, request.size, "Wan", "81 frames, size: auto")
        resolve_device_dtype(opts)
        locate_base(opts.base, download=opts.download, need_transformer=opts.transformer is None)
        if opts.transformer is not None:
            transformer_files(opts.transformer)
        return opts

    def pipeline(self, options: dict[str, Any] | WanAtiOptions) -> Any:
        """The (cached) pipeline for these options."""
        opts = options if isinstance(options, WanAtiOptions) else WanAtiOptions.parse(options)
        fields = {"base", "transformer", "dtype", "device", "offload", "vae_tiling", "shift"}
        return cached_pipeline(self._cache, opts, fields, load_pipeline)

    def generate(self, request: GenerationRequest, progress: Progress = no_progress) -> GeneratedVideo:
        import torch
        from PIL import Image

        opts = self.check_request(request)
        pipe = self.pipeline(opts)
        image = np.asarray(request.image)
        source = request.source_image if request.source_image is not None else image
        w, h = request.size
        tracks = ati_tracks_tensor(request)
        conditioning = AtiConditioning(pipe, tracks, steps=opts.steps, window=opts.window,
                                       temperature=opts.temperature, topk=opts.topk)

        def on_step_end(_pipe: Any, step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            conditioning.step_done(step)
            progress(round(request.frames * (step + 1) / opts.steps), request.frames)
            return kwargs

        kwargs = dict(image=Image.fromarray(image), prompt=request.prompt, negative_prompt=opts.negative_prompt,
                      height=h, width=w, num_frames=request.frames, num_inference_steps=opts.steps,
                      guidance_scale=opts.guidance, max_sequence_length=512, output_type="np",
                      generator=torch.Generator("cpu").manual_seed(request.seed), callback_on_step_end=on_step_end)
        with torch.inference_mode(), AtiImageEmbeds(pipe, source):
            if tracks is None:
                video = pipe(**kwargs).frames[0]
            else:
                with conditioning:
                    video = pipe(**kwargs).frames[0]
        frames = (np.clip(video, 0.0, 1.0) * 255).astype(np.uint8)  # truncation, as ATI's writer
        info = {"backend": self.name, "base": opts.base,
                "transformer": opts.transformer or "the base's own (plain Wan2.1 unless the base holds ATI's weights)",
                "steps": opts.steps, "guidance": opts.guidance, "shift": opts.shift,
                "window": list(opts.window), "temperature": opts.temperature, "topk": opts.topk,
                "tracks": 0 if tracks is None else int(tracks.shape[1]),
                "patched_calls": sum(conditioning.patched_calls), "transformer_calls": len(conditioning.patched_calls)}
        return GeneratedVideo(frames=frames, fps=request.fps, info=info)
