"""Generation backends: ``preview`` (CPU animatic, default), ``wan-ati`` (Wan2.1 I2V + ATI); ``cogvideox_trajmaster``
follows. Backend modules import torch/diffusers only when they render."""

from .base import Backend, GeneratedVideo, GenerationRequest, Progress, no_progress
from .preview import PreviewBackend
from .wan_ati import WanAtiBackend

BACKENDS: dict[str, type] = {"preview": PreviewBackend, "wan-ati": WanAtiBackend}


def get_backend(name: str) -> Backend:
    """A backend instance by name."""
    from ..core.errors import ValidationError

    if name not in BACKENDS:
        raise ValidationError("backend", f"one of {sorted(BACKENDS)}", repr(name))
    return BACKENDS[name]()


__all__ = ["BACKENDS", "Backend", "GeneratedVideo", "GenerationRequest", "PreviewBackend", "Progress",
           "WanAtiBackend", "get_backend", "no_progress"]
