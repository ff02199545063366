"""What the diffusers backends (``wan-ati``, ``cogvideox-3dtrajmaster``) share: the base/weights/memory options, their
validation into :class:`TrajkitError` naming the option, the device and dtype they resolve to, and placing a
pipeline on the device with the chosen offloading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError

from ..core.errors import TrajkitError, describe_model_error

#: Help for the options every diffusers backend takes.
MEMORY_OPTION_HELP: dict[str, str] = {
    "download": "allow fetching a missing base from the Hugging Face Hub (default false)",
    "dtype": "auto (bf16 on GPU, fp32 on CPU), bf16, fp16 or fp32",
    "device": "auto, cuda, cuda:1, cpu, mps …",
    "offload": "none, model, group or sequential (CPU offloading; needs an accelerator)",
    "vae_tiling": "decode/encode the VAE in tiles (less memory)",
}


class BackendOptions(BaseModel):
    """Options shared by the diffusers backends; subclasses add their own and set ``base``'s default."""

    model_config = ConfigDict(extra="forbid")

    base: str
    download: bool = False
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    device: str = "auto"
    offload: Literal["none", "model", "group", "sequential"] = "none"
    vae_tiling: bool = False

    @classmethod
    def parse(cls, options: dict[str, Any]) -> Any:
        """Validate, raising a :class:`TrajkitError` that names the option."""
        try:
            return cls.model_validate(options)
        except PydanticError as exc:
            raise TrajkitError(describe_model_error(exc).replace("field '", "field 'options.", 1)) from exc


def resolve_device_dtype(opts: BackendOptions) -> tuple[str, Any]:
    """The device and compute dtype the options ask for (``auto``: CUDA/bf16 if present, else CPU/fp32)."""
    import torch

    device = opts.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.device(device)
    except RuntimeError as exc:
        raise TrajkitError(f"field 'options.device': {device!r} is not a torch device") from exc
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TrajkitError(f"field 'options.device': {device!r} asked for, but this torch build sees no CUDA GPU")
    names = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    dtype = names.get(opts.dtype) or (torch.bfloat16 if device != "cpu" else torch.float32)
    if opts.offload != "none" and device == "cpu":
        raise TrajkitError(f"field 'options.offload': {opts.offload!r} offloading moves weights between CPU memory "
                           "and an accelerator; on the CPU use offload: none")
    return device, dtype


def place_pipeline(pipe: Any, opts: BackendOptions, device: str) -> Any:
    """Put ``pipe`` on ``device`` per the memory options (``model``: one component on the GPU at a time; ``group``:
    transformer blocks streamed from CPU memory; ``sequential``: every layer streamed) and silence its progress bar
    (trajkit reports progress itself)."""
    import torch

    if opts.vae_tiling:
        pipe.vae.enable_tiling()
    if opts.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif opts.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    elif opts.offload == "group":
        pipe.enable_group_offload(onload_device=torch.device(device), offload_device=torch.device("cpu"),
                                  offload_type="block_level", num_blocks_per_group=1,
                                  use_stream=device.startswith("cuda"))
    else:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def cached_pipeline(cache: dict[str, Any], opts: BackendOptions, fields: set[str],
                    load: Callable[[Any], Any]) -> Any:
    """The pipeline ``load(opts)`` builds, reused while the loading ``fields`` of the options stay the same; one
    pipeline at a time (the models are tens of GB)."""
    key = repr(opts.model_dump(include=fields))
    if key not in cache:
        cache.clear()
        cache[key] = load(opts)
    return cache[key]


def check_video_shape(frames: int, size: tuple[int, int], model: str, default: str) -> None:
    """Both video models render ``4k + 1`` frames (the causal VAE's grouping) at multiples of 16 pixels."""
    if (frames - 1) % 4 or frames < 5:
        raise TrajkitError(f"field 'frames': {model} renders 4k + 1 frames, not {frames} (default {default})")
    w, h = size
    if w % 16 or h % 16:
        raise TrajkitError(f"field 'size': {model} needs multiples of 16 pixels, not {w}×{h} (default {default})")
