"""Generation backends: ``preview`` (CPU animatic, default); ``wan_ati`` and ``cogvideox_trajmaster`` follow."""

from .base import Backend, GeneratedVideo, GenerationRequest, Progress, no_progress
from .preview import PreviewBackend

BACKENDS: dict[str, type] = {"preview": PreviewBackend}


def get_backend(name: str) -> Backend:
    """A backend instance by name."""
    from ..core.errors import ValidationError

    if name not in BACKENDS:
        raise ValidationError("backend", f"one of {sorted(BACKENDS)}", repr(name))
    return BACKENDS[name]()


__all__ = ["BACKENDS", "Backend", "GeneratedVideo", "GenerationRequest", "PreviewBackend", "Progress",
           "get_backend", "no_progress"]
