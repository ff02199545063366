"""Camera path (+ depth) → point tracks: how a camera move drives a track-conditioned model such as ATI.

Points are chosen on the **first frame's image** (a grid or user pixels), lifted to 3D with a depth map
of that frame (camera-space z, the convention of MonST3R / DataDoP ``*_depth.npy``), and projected into
every frame of the path. Without a depth map a documented stand-in scene is used:

* ``fallback="plane"``: a fronto-parallel plane at ``distance`` in front of the first camera;
* ``fallback="ground"``: a ground plane ``height`` below the first camera (its +y, which points down)
  meeting a back wall at ``distance``; pixels above the horizon hit the wall.

A tracked point is **visible** at frame t when it is in front of the camera (z > ``near``), inside the
canvas, and — when a depth map is given — not hidden behind the scene: the depth map's points are
splatted into a coarse z-buffer of frame t, and a point is hidden when the whole neighbourhood of its pixel
holds surfaces nearer than it by more than ``occlusion_tolerance`` (relative).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..core.camera import CameraPath
from ..core.errors import ValidationError
from ..core.tracks import Tracks

Fallback = Literal["plane", "ground"]


def grid_points(size: tuple[int, int], grid: int | tuple[int, int] = 8, margin: float = 0.05) -> np.ndarray:
    """``(gx·gy, 2)`` pixel positions of a regular grid (cell centres) inside the canvas, row by row."""
    gx, gy = (grid, grid) if isinstance(grid, int) else grid
    if gx < 1 or gy < 1:
        raise ValidationError("grid", "at least 1×1 points", str(grid), where="grid_points")
    w, h = size
    xs = np.linspace(margin * w, (1 - margin) * w, gx) if gx > 1 else np.array([w / 2])
    ys = np.linspace(margin * h, (1 - margin) * h, gy) if gy > 1 else np.array([h / 2])
    X, Y = np.meshgrid(xs, ys)
    return np.stack([X.ravel(), Y.ravel()], axis=-1)


def sample_depth(depth: np.ndarray, points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear depth at canvas pixels ``points (P, 2)``; the map may have another resolution than ``size``.

    Pixel centres are at half-integers (pixel ``i`` covers ``[i, i+1)``), on both the canvas and the map.
    """
    hd, wd = depth.shape
    x = points[:, 0] * wd / size[0] - 0.5
    y = points[:, 1] * hd / size[1] - 0.5
    x0 = np.clip(np.floor(x).astype(int), 0, wd - 1)
    y0 = np.clip(np.floor(y).astype(int), 0, hd - 1)
    x1, y1 = np.minimum(x0 + 1, wd - 1), np.minimum(y0 + 1, hd - 1)
    fx, fy = np.clip(x - x0, 0, 1), np.clip(y - y0, 0, 1)
    top = depth[y0, x0] * (1 - fx) + depth[y0, x1] * fx
    bottom = depth[y1, x0] * (1 - fx) + depth[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _rays(K: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Camera-space directions with z = 1 through pixels ``(P, 2)``."""
    homo = np.concatenate([points, np.ones((len(points), 1))], axis=1)
    return homo @ np.linalg.inv(K).T


def fallback_depth(K: np.ndarray, points: np.ndarray, fallback: Fallback, distance: float,
                   height: float) -> np.ndarray:
    """Camera-space z of the stand-in scene at pixels ``points`` (see the module docstring)."""
    if not distance > 0:
        raise ValidationError("distance", "a positive distance", repr(distance), where="camera_to_tracks")
    rays = _rays(K, points)
    z = np.full(len(points), float(distance))
    if fallback == "ground":
        if not height > 0:
            raise ValidationError("height", "a positive camera height", repr(height), where="camera_to_tracks")
        down = rays[:, 1] > 1e-12
        z_ground = np.where(down, height / np.where(down, rays[:, 1], 1.0), np.inf)
        z = np.minimum(z, z_ground)
    elif fallback != "plane":
        raise ValidationError("fallback", "'plane' or 'ground'", repr(fallback), where="camera_to_tracks")
    return z


def default_distance(camera: CameraPath) -> float:
    """The stand-in scene's distance when none is given: 3 m for metric paths, else 3× the camera's largest
    travel from its first position (1 for a camera that does not move)."""
    travel = float(np.linalg.norm(camera.centers - camera.centers[0], axis=1).max())
    return 3.0 if camera.metric else max(3.0 * travel, 1.0) if travel > 0 else 1.0


def _zbuffer_visible(camera: CameraPath, scene: np.ndarray, uv: np.ndarray, depth: np.ndarray,
                     tolerance: float, cell: int = 4) -> np.ndarray:
    """Whether each tracked point is unoccluded: a coarse z-buffer of ``scene`` points per frame.

    A point counts as hidden only when every z-buffer cell in its 3×3 neighbourhood holds a surface nearer
    than its own depth by more than ``tolerance`` (relative), so points right beside a depth edge (or on it,
    as every point is in frame 0) stay visible while points well behind a foreground surface do not.
    """
    w, h = camera.size
    gw, gh = max(1, w // cell), max(1, h // cell)
    s_uv, s_z = camera.project(scene)
    visible = np.ones(depth.shape, dtype=bool)
    for t in range(camera.num_frames):
        u, v, z = s_uv[t, :, 0], s_uv[t, :, 1], s_z[t]
        ok = camera.in_view(s_uv[t], z, 1e-6)
        buf = np.full(gh * gw, np.inf)
        np.minimum.at(buf, (v[ok] * gh / h).astype(int) * gw + (u[ok] * gw / w).astype(int), z[ok])
        padded = np.pad(buf.reshape(gh, gw), 1, constant_values=np.inf)
        farthest = np.max([padded[dy:dy + gh, dx:dx + gw] for dy in range(3) for dx in range(3)], axis=0)
        px = np.clip((uv[t, :, 0] * gw / w).astype(int), 0, gw - 1)
        py = np.clip((uv[t, :, 1] * gh / h).astype(int), 0, gh - 1)
        visible[t] = depth[t] * (1 - tolerance) <= farthest[py, px]
    return visible


def camera_to_tracks(
    camera: CameraPath,
    *,
    depth: np.ndarray | None = None,
    points: np.ndarray | None = None,
    grid: int | tuple[int, int] = 8,
    fallback: Fallback = "plane",
    distance: float | None = None,
    height: float = 1.5,
    near: float = 1e-3,
    occlusion_tolerance: float = 0.05,
) -> Tracks:
    """Tracks that follow scene points as ``camera`` moves (see the module docstring).

    ``points``: ``(N, 2)`` pixels on the first frame's canvas (``camera.size``); default a ``grid``.
    ``depth``: ``(H, W)`` camera-space z of the first frame, any resolution with the canvas's aspect.
    ``distance``: wall/plane distance for the fallback (default 3 m for metric paths, otherwise 3× the
    largest camera travel, or 1). Returns ``Tracks`` on ``camera.size`` at ``camera.fps``.
    """
    size = camera.size
    pts = grid_points(size, grid) if points is None else np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0 or not np.isfinite(pts).all():
        raise ValidationError("points", "one or more finite pixel positions", f"{len(pts)} points",
                              where="camera_to_tracks")
    K0 = camera.Ks[0]
    if depth is not None:
        depth = np.asarray(depth, dtype=np.float64)
        if depth.ndim == 3 and depth.shape[-1] == 1:
            depth = depth[..., 0]
        if depth.ndim != 2 or not np.isfinite(depth).all() or (depth <= 0).any():
            raise ValidationError("depth", "a 2D map of finite, positive depths", f"shape {depth.shape}",
                                  where="camera_to_tracks")
        z = sample_depth(depth, pts, size)
    else:
        if distance is None:
            distance = default_distance(camera)
        z = fallback_depth(K0, pts, fallback, distance, height)
    cam_pts = _rays(K0, pts) * z[:, None]
    world = cam_pts @ camera.c2w[0, :3, :3].T + camera.c2w[0, :3, 3]
    uv, zt = camera.project(world)
    visible = camera.in_view(uv, zt, near)
    if depth is not None and camera.num_frames > 1:
        step = max(1, int(np.ceil(max(depth.shape) / 160)))
        sub = grid_points_from_depth(depth, size, step)
        scene_z = sample_depth(depth, sub, size)
        scene = (_rays(K0, sub) * scene_z[:, None]) @ camera.c2w[0, :3, :3].T + camera.c2w[0, :3, 3]
        visible &= _zbuffer_visible(camera, scene, uv, zt, occlusion_tolerance)
    xy = np.where(np.isfinite(uv), uv, 0.0)
    xy = np.clip(xy, -1e6, 1e6)  # points behind the camera project anywhere; keep the numbers finite
    return Tracks(xy=xy, visible=visible, size=size, fps=camera.fps,
                  meta={"bridge": "camera_to_tracks", "depth": "map" if depth is not None else fallback})


def grid_points_from_depth(depth: np.ndarray, size: tuple[int, int], step: int) -> np.ndarray:
    """Canvas pixel positions of every ``step``-th depth-map pixel centre."""
    hd, wd = depth.shape
    ys, xs = np.mgrid[0:hd:step, 0:wd:step]
    return np.stack([(xs.ravel() + 0.5) * size[0] / wd, (ys.ravel() + 0.5) * size[1] / hd], axis=-1)
