"""Entity paths + camera → point tracks: where each entity (and its footprint) appears in the image.

Each entity contributes ``1 + footprint`` tracks, entity-major: its anchor, then ``footprint`` points on
a circle of ``radius`` metres around it in the entity's own ground plane (its x–z plane; object y points
down), turning with the entity. The anchor is the entity's pivot, or — with ``ground`` given — the pivot
dropped vertically onto the world plane ``y = ground`` (trajkit worlds have +y down). 3DTrajMaster's
360°-Motion pivots float 1.47 m above the ground (cameras at ``y = 0``), so its ground contact is
``ground=0``; without it the pivots project near the top edge of the rig cameras' images.

A point is visible when it is in front of the camera (z > ``near``) and inside the canvas. The camera is
``entities.camera`` unless another is passed; a one-frame camera is static.
"""

from __future__ import annotations

import numpy as np

from ..core.camera import CameraPath
from ..core.entities import EntityPaths
from ..core.errors import ValidationError
from ..core.tracks import Tracks


def entity_points(entities: EntityPaths, footprint: int = 4, radius: float = 0.5,
                  ground: float | None = None) -> np.ndarray:
    """World points ``(T, E·(1 + footprint), 3)`` tracked for each entity (see the module docstring)."""
    if footprint < 0 or not np.isfinite(radius) or radius < 0:
        raise ValidationError("footprint", "a non-negative count and radius", f"{footprint}, {radius}",
                              where="entities_to_tracks")
    anchor = entities.positions.copy()  # (E, T, 3)
    if ground is not None:
        anchor[..., 1] = ground
    angles = 2 * np.pi * np.arange(footprint) / max(footprint, 1)
    local = np.stack([radius * np.cos(angles), np.zeros(footprint), radius * np.sin(angles)], axis=-1)  # (k, 3)
    ring = anchor[:, :, None, :] + np.einsum("etij,kj->etki", entities.poses[..., :3, :3], local)
    pts = np.concatenate([anchor[:, :, None, :], ring], axis=2)  # (E, T, 1+k, 3)
    return np.transpose(pts, (1, 0, 2, 3)).reshape(entities.num_frames, -1, 3)


def entities_to_tracks(entities: EntityPaths, camera: CameraPath | None = None, *, footprint: int = 4,
                       radius: float = 0.5, ground: float | None = None, near: float = 1e-3) -> Tracks:
    """Tracks of every entity's anchor and footprint as seen by ``camera`` (canvas ``camera.size``)."""
    cam = entities.viewing_camera(camera, where="entities_to_tracks")
    uv, depth = cam.project(entity_points(entities, footprint, radius, ground))
    visible = cam.in_view(uv, depth, near)
    xy = np.clip(np.where(depth[..., None] > near, uv, 0.0), -1e6, 1e6)
    return Tracks(xy=xy, visible=visible, size=cam.size, fps=entities.fps,
                  meta={"bridge": "entities_to_tracks", "points_per_entity": 1 + footprint,
                        "prompts": list(entities.prompts)})
