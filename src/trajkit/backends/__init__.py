"""Generation backends: ``preview`` (CPU animatic, default), ``wan-ati`` (Wan2.1 I2V + ATI) and
``cogvideox-3dtrajmaster`` (CogVideoX-5B + 3DTrajMaster). Backend modules import torch/diffusers only when they
render."""

from .base import Backend, GeneratedVideo, GenerationRequest, Progress, no_progress
from .cogvideox_trajmaster import CogVideoXTrajMasterBackend
from .preview import PreviewBackend
from .wan_ati import WanAtiBackend

BACKENDS: dict[str, type] = {"preview": PreviewBackend, "wan-ati": WanAtiBackend,
                             "cogvideox-3dtrajmaster": CogVideoXTrajMasterBackend}


def get_backend(name: str) -> Backend:
    """A backend instance by name."""
    from ..core.errors import ValidationError

    if name not in BACKENDS:
        raise ValidationError("backend", f"one of {sorted(BACKENDS)}", repr(name))
    return BACKENDS[name]()


__all__ = ["BACKENDS", "Backend", "CogVideoXTrajMasterBackend", "GeneratedVideo", "GenerationRequest",
           "PreviewBackend", "Progress", "WanAtiBackend", "get_backend", "no_progress"]
