"""``EntityPaths``: 6-DoF paths of a few entities (3DTrajMaster-style), with their prompts.

Conventions
-----------
* ``poses`` float64 ``(E, T, 4, 4)``: **object-to-world** transforms acting on column vectors, in the same
  right-handed world as :class:`~trajkit.CameraPath`. Object axes follow the OpenCV-style convention:
  x right, y down, z forward (the direction the entity faces). ``poses[e, t, :3, 3]`` is the entity's
  pivot in world units (metres when ``camera.metric`` or the source says so).
* ``prompts``: one text per entity, in the same order as ``poses``.
* ``fps``: frames per second; ``T ≥ 1``, ``E ≥ 1``. How many entities a model accepts (3 for
  3DTrajMaster) is the backend's concern, not the type's.
* ``camera``: an optional :class:`~trajkit.CameraPath` viewing the entities; it has 1 frame (static)
  or T frames at the same fps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import _validate as v
from .camera import CameraPath, check_poses, interpolate_poses, invert_rigid
from .errors import ValidationError
from .timing import fps_keeping_duration, time_positions


@dataclass(frozen=True, eq=False)
class EntityPaths:
    """E entities over T frames; see the module docstring for conventions."""

    poses: np.ndarray
    prompts: Sequence[str]
    fps: float
    camera: CameraPath | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = "EntityPaths"
        poses = v.as_array(self.poses, "poses", np.float64, where)
        v.check_shape(poses, "poses", (None, None, 4, 4), where, "(E, T, 4, 4)")
        if poses.shape[0] < 1 or poses.shape[1] < 1:
            raise ValidationError("poses", "at least 1 entity and 1 frame", f"shape {poses.shape}", where=where)
        check_poses(poses, "poses", where)
        prompts = tuple(self.prompts)
        if len(prompts) != poses.shape[0] or not all(isinstance(p, str) for p in prompts):
            raise ValidationError("prompts", f"{poses.shape[0]} strings (one per entity)",
                                  f"{len(prompts)} items", where=where)
        fps = v.check_fps(self.fps, where)
        if self.camera is not None:
            if not isinstance(self.camera, CameraPath):
                raise ValidationError("camera", "a CameraPath or None", type(self.camera).__name__, where=where)
            n = self.camera.num_frames
            if n not in (1, poses.shape[1]):
                raise ValidationError("camera", f"1 or {poses.shape[1]} frames", f"{n} frames", where=where)
            if n > 1 and abs(self.camera.fps - fps) > 1e-9 * fps:
                raise ValidationError("camera.fps", f"{fps:g} (the entities' fps)", f"{self.camera.fps:g}",
                                      where=where)
        object.__setattr__(self, "poses", v.frozen(poses))
        object.__setattr__(self, "prompts", prompts)
        object.__setattr__(self, "fps", fps)
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def num_entities(self) -> int:
        """E, the number of entities."""
        return int(self.poses.shape[0])

    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.poses.shape[1])

    @property
    def positions(self) -> np.ndarray:
        """Entity pivots in world coordinates ``(E, T, 3)``."""
        return self.poses[:, :, :3, 3]

    @property
    def duration(self) -> float:
        """Seconds between the first and the last frame."""
        return (self.num_frames - 1) / self.fps

    def replace(self, **changes: Any) -> EntityPaths:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def allclose(self, other: EntityPaths, atol: float = 1e-6) -> bool:
        """Same shape, prompts and fps, poses within ``atol`` (cameras compared too)."""
        same_cam = (self.camera is None) == (other.camera is None)
        if same_cam and self.camera is not None and other.camera is not None:
            same_cam = self.camera.allclose(other.camera, atol=atol)
        return (
            self.poses.shape == other.poses.shape
            and tuple(self.prompts) == tuple(other.prompts)
            and abs(self.fps - other.fps) <= 1e-9 * max(self.fps, 1.0)
            and bool(np.allclose(self.poses, other.poses, atol=atol, rtol=0))
            and same_cam
        )

    def __repr__(self) -> str:
        cam = "none" if self.camera is None else f"{self.camera.num_frames} frames"
        return (f"EntityPaths(entities={self.num_entities}, frames={self.num_frames}, fps={self.fps:g}, "
                f"camera={cam})")

    def select(self, indices: Sequence[int]) -> EntityPaths:
        """Keep the given entities, in the given order."""
        idx = list(indices)
        if not idx:
            raise ValidationError("indices", "a non-empty selection", "[]", where="EntityPaths.select")
        return self.replace(poses=self.poses[idx], prompts=[self.prompts[i] for i in idx])

    def with_camera(self, camera: CameraPath | None) -> EntityPaths:
        """The same entities seen by another camera."""
        return self.replace(camera=camera)

    def resample(self, frames: int, fps: float | None = None) -> EntityPaths:
        """Resample by time (slerp + lerp), the camera too; see :meth:`CameraPath.resample`."""
        if frames < 1:
            raise ValidationError("frames", "a positive frame count", str(frames), where="EntityPaths.resample")
        out_fps = fps if fps is not None else fps_keeping_duration(frames, self.num_frames, self.fps)
        pos = time_positions(frames, out_fps, self.num_frames, self.fps)
        camera = self.camera
        if camera is not None:
            camera = camera.replace(fps=out_fps) if camera.num_frames == 1 else camera.resample(frames, out_fps)
        return self.replace(poses=interpolate_poses(self.poses, pos), fps=out_fps, camera=camera)

    def viewing_camera(self, camera: CameraPath | None = None, where: str = "EntityPaths") -> CameraPath:
        """``camera``, or the attached one; checked to be static or as long as the entity paths."""
        cam = camera if camera is not None else self.camera
        if cam is None:
            raise ValidationError("camera", "a CameraPath to view the entities from (none is attached)", "None",
                                  where=where)
        if cam.num_frames not in (1, self.num_frames):
            raise ValidationError("camera", f"1 or {self.num_frames} frames", f"{cam.num_frames} frames", where=where)
        return cam

    def in_camera(self, camera: CameraPath | None = None) -> np.ndarray:
        """Object-to-camera poses ``(E, T, 4, 4)`` (OpenCV camera axes) for ``camera`` or ``self.camera``."""
        cam = self.viewing_camera(camera, where="EntityPaths.in_camera")
        return invert_rigid(cam.c2w)[None] @ self.poses
