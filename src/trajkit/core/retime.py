"""Fitting a control onto a fixed timeline (what fixed-length models and formats expect)."""

from __future__ import annotations

from typing import TypeVar

from .camera import CameraPath
from .entities import EntityPaths
from .tracks import ResampleMethod, Tracks

Control = TypeVar("Control", Tracks, CameraPath, EntityPaths)


def fit_timeline(control: Control, frames: int, fps: float, method: ResampleMethod = "linear") -> Control:
    """Map the control's **whole** motion onto ``frames`` frames played at ``fps``.

    Unlike resampling by time this stretches or compresses time when the durations differ, as ATI and
    ComfyUI's ``WanTrackToVideo`` do (a 121-frame track always spans the 81 generated frames). ``method``
    applies to tracks (``"ati"`` for ATI's index rule).
    """
    if control.num_frames != frames:
        control = control.resample(frames, method=method) if isinstance(control, Tracks) else control.resample(frames)
    return control.replace(fps=fps)
