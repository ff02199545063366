"""Camera motion on top of object tracks: "the car drives left while the camera pans right".

Object tracks describe motion as a **static** camera (the path's first camera) would see it. Each
tracked point is given a depth — from the first frame's depth map at the point's first visible position,
or a fronto-parallel plane at ``distance`` — and at every frame its image position is lifted to that depth
through the first camera and re-projected through the moving camera. Static anchors therefore turn into
camera-motion tracks, and moving objects get both motions. Points that leave the frame or go behind the
camera become invisible.
"""

from __future__ import annotations

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import ValidationError
from ..core.tracks import Tracks
from .camera_to_tracks import sample_depth


def add_camera_motion(tracks: Tracks, camera: CameraPath, *, depth: np.ndarray | None = None,
                      distance: float = 3.0, near: float = 1e-3) -> Tracks:
    """Compose ``camera``'s motion onto object ``tracks`` (same frame count; canvas = ``camera.size``).

    Tracks on another canvas are rescaled onto the camera's first. Returns new ``Tracks`` at the
    camera's fps.
    """
    if tracks.num_frames != camera.num_frames:
        raise ValidationError("frames", f"the camera's {camera.num_frames} frames", f"{tracks.num_frames}",
                              where="add_camera_motion")
    if tracks.size is not None and tracks.size != camera.size:
        tracks = tracks.rescale(camera.size)
    elif tracks.size is None:
        raise ValidationError("size", "tracks with a known canvas", "None", where="add_camera_motion")
    vis = tracks.visible
    first = np.argmax(vis, axis=0)  # first visible frame of each track (0 when never visible)
    start_xy = tracks.xy[first, np.arange(tracks.num_tracks)].astype(np.float64)
    if depth is not None:
        z = sample_depth(np.asarray(depth, dtype=np.float64), start_xy, camera.size)
        if not np.isfinite(z).all() or (z <= 0).any():
            raise ValidationError("depth", "finite positive depth at every track", "invalid values",
                                  where="add_camera_motion")
    else:
        if not distance > 0:
            raise ValidationError("distance", "a positive distance", repr(distance), where="add_camera_motion")
        z = np.full(tracks.num_tracks, float(distance))
    K0inv = np.linalg.inv(camera.Ks[0])
    homo = np.concatenate([tracks.xy.astype(np.float64), np.ones(tracks.xy.shape[:2] + (1,))], axis=-1)
    cam0 = (homo @ K0inv.T) * z[None, :, None]  # (T, N, 3) in the first camera's frame
    world = cam0 @ camera.c2w[0, :3, :3].T + camera.c2w[0, :3, 3]
    uv, zt = camera.project(world)
    inside = camera.in_view(uv, zt, near)
    xy = np.clip(np.where(zt[..., None] > near, uv, tracks.xy), -1e6, 1e6)
    return Tracks(xy=xy, visible=vis & inside, size=camera.size, fps=camera.fps,
                  meta={**tracks.meta, "bridge": "add_camera_motion"})
