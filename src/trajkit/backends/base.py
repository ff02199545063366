"""The backend protocol: what every generator (CPU preview, Wan + ATI, CogVideoX + 3DTrajMaster) accepts
and returns.

A backend receives one :class:`GenerationRequest` whose controls are already resolved to what it needs
(the job runner bridges and resamples once, explicitly) and returns a :class:`GeneratedVideo`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.tracks import Tracks

#: Called with (frames done, frames total); backends call it as they render.
Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """A progress callback that ignores progress."""


@dataclass(frozen=True, eq=False)
class GenerationRequest:
    """One video to generate.

    ``image``: ``(H, W, 3)`` uint8 RGB first frame (image-to-video backends), already at ``size``;
    ``source_image``: the same image before resizing (ATI feeds it to CLIP and normalises tracks by its size).
    ``tracks``: point tracks on the ``size`` canvas with ``frames`` frames at ``fps``; ``camera`` and
    ``entities`` are passed too when the job had them (a backend that only reads tracks gets them bridged); a
    360°-Motion clip for 3DTrajMaster at 49 frames keeps its 99-frame source timeline, from which the model takes
    the dataset's own latent frames. ``object_tracks``: the tracks among ``tracks`` that move objects (the job's
    own tracks and bridged entities, camera motion composed in), without the grid a camera is bridged to;
    ``depth``: the first frame's camera-space depth when the job has a camera (its depth map, or the stand-in
    scene the camera was bridged with), so renderers can move the background exactly.
    """

    size: tuple[int, int]
    frames: int
    fps: float
    image: np.ndarray | None = None
    source_image: np.ndarray | None = None
    prompt: str = ""
    tracks: Tracks | None = None
    camera: CameraPath | None = None
    entities: EntityPaths | None = None
    object_tracks: Tracks | None = None
    depth: np.ndarray | None = None
    seed: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class GeneratedVideo:
    """Frames ``(T, H, W, 3)`` uint8 RGB at ``fps``, and what the backend reports about the run.

    ``valid (T, H, W)`` bool, when the backend knows it: pixels that show moved first-frame content (the rest was
    filled in); the runner writes it as ``mask.mp4``.
    """

    frames: np.ndarray
    fps: float
    valid: np.ndarray | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """A video generator."""

    name: str

    def generate(self, request: GenerationRequest, progress: Progress = no_progress) -> GeneratedVideo:
        """Render the request."""
        ...
