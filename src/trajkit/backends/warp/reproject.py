"""A camera path + the first frame's depth → where every first-frame pixel is seen in frame t.

Each pixel centre (array coords ``(x, y)``, canvas ``(x + ½, y + ½)``) is lifted to 3D through the first camera
at its depth (camera-space z, the depth-map convention of :mod:`trajkit.bridge.camera_to_tracks`) and projected
through the camera of frame t. This is the exact motion of a static scene; splatted with a z-buffer
(:mod:`.splat`) it is a re-rendering of the first frame's point cloud, with disocclusions left as holes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...core.camera import CameraPath
from ...core.errors import ValidationError

NEAR = 1e-3


def depth_on_canvas(depth: np.ndarray, size: tuple[int, int], where: str = "preview") -> np.ndarray:
    """``depth`` checked (2-D, finite, positive, the canvas's aspect) and brought to ``size`` (nearest: a
    depth edge must not invent in-between surfaces) as float32 ``(H, W)``."""
    import cv2

    d = np.asarray(depth)
    if d.ndim == 3 and d.shape[-1] == 1:
        d = d[..., 0]
    if d.ndim != 2 or d.size == 0 or not np.issubdtype(d.dtype, np.number):
        raise ValidationError("depth", "a 2-D map of camera-space depths", f"shape {d.shape} {d.dtype}", where=where)
    d = d.astype(np.float32)
    if not np.isfinite(d).all() or (d <= 0).any():
        bad = int((~np.isfinite(d)).sum() + (d <= 0).sum())
        raise ValidationError("depth", "finite, positive depths everywhere", f"{bad} non-finite or non-positive "
                              "values", where=where)
    w, h = size
    if abs(d.shape[1] / d.shape[0] - w / h) > 0.02 * w / h:
        raise ValidationError("depth", f"a map with the canvas's aspect ({w}×{h})",
                              f"{d.shape[1]}×{d.shape[0]}", where=where)
    if d.shape != (h, w):
        d = cv2.resize(d, (w, h), interpolation=cv2.INTER_NEAREST)
    return d


def pixel_rays(K: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(H, W, 3)`` camera-space directions (z = 1) through every pixel centre of the canvas."""
    w, h = size
    xs, ys = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    Kinv = np.linalg.inv(K)
    return np.stack([xs, ys, np.ones_like(xs)], axis=-1) @ Kinv.T


def lift(camera: CameraPath, points: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """World points ``(..., 3)`` of canvas pixels ``points (..., 2)`` at camera-space ``depth (...)`` in frame 0."""
    homo = np.concatenate([points, np.ones(points.shape[:-1] + (1,))], axis=-1)
    cam = (homo @ np.linalg.inv(camera.Ks[0]).T) * depth[..., None]
    return cam @ camera.c2w[0, :3, :3].T + camera.c2w[0, :3, 3]


def project(camera: CameraPath, t: int, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canvas positions ``(..., 2)`` and camera-space z ``(...)`` of world points in frame ``t``."""
    w2c = camera.w2c[t]
    cam = world @ w2c[:3, :3].T.astype(world.dtype) + w2c[:3, 3].astype(world.dtype)
    z = cam[..., 2]
    safe = np.where(z > NEAR, z, 1.0)
    pix = cam @ camera.Ks[t].T.astype(world.dtype)
    return pix[..., :2] / safe[..., None], z


class Reprojection:
    """The forward map of a static scene: first-frame pixels with ``depth`` seen through ``camera``."""

    def __init__(self, camera: CameraPath, depth: np.ndarray) -> None:
        w, h = camera.size
        if depth.shape != (h, w):
            raise ValidationError("depth", f"a {w}×{h} map", f"{depth.shape[1]}×{depth.shape[0]}",
                                  where="Reprojection")
        self.camera = camera
        cam = pixel_rays(camera.Ks[0], camera.size) * depth[..., None]
        world = (cam @ camera.c2w[0, :3, :3].T + camera.c2w[0, :3, 3]).astype(np.float32)
        self.xyz = tuple(np.ascontiguousarray(world[..., k]) for k in range(3))

    def forward(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(tx, ty, z)`` ``(H, W)`` float32 at frame t: target array coords, camera-space z (+inf behind)."""
        w2c = self.camera.w2c[t]
        K = self.camera.Ks[t]
        # K·[R|t] in one 3×4 matrix: pixel-homogeneous coordinates straight from world points.
        P = (K @ w2c[:3]).astype(np.float32)
        X, Y, Z = self.xyz
        # Plain multiply-adds (no BLAS call: its threads would fight the frame workers for the cores).
        hx = P[0, 0] * X + P[0, 1] * Y + P[0, 2] * Z + P[0, 3]
        hy = P[1, 0] * X + P[1, 1] * Y + P[1, 2] * Z + P[1, 3]
        hz = P[2, 0] * X + P[2, 1] * Y + P[2, 2] * Z + P[2, 3]
        r = w2c[2].astype(np.float32)
        z = r[0] * X + r[1] * Y + r[2] * Z + r[3]
        ok = z > NEAR
        inv = np.where(ok, 1.0 / np.where(ok, hz, 1.0), 0.0).astype(np.float32)
        tx = hx * inv - np.float32(0.5)
        ty = hy * inv - np.float32(0.5)
        return tx, ty, np.where(ok, z, np.inf).astype(np.float32)

    def back(self, t: int) -> Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """The exact look-back of frame t: output pixels ``(x, y)`` (array coords) at camera-t depth ``z`` → the
        first-frame pixel (array coords) that sees the same point: ``K₀ (R (z K_t⁻¹ p) + c)`` dehomogenised, with
        ``(R, c)`` camera t → camera 0."""
        rel = self.camera.w2c[0] @ self.camera.c2w[t]
        M = (self.camera.Ks[0] @ rel[:3, :3] @ np.linalg.inv(self.camera.Ks[t])).astype(np.float32)
        c = (self.camera.Ks[0] @ rel[:3, 3]).astype(np.float32)

        def look(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            u, v = x + np.float32(0.5), y + np.float32(0.5)
            hx = z * (M[0, 0] * u + M[0, 1] * v + M[0, 2]) + c[0]
            hy = z * (M[1, 0] * u + M[1, 1] * v + M[1, 2]) + c[1]
            hz = z * (M[2, 0] * u + M[2, 1] * v + M[2, 2]) + c[2]
            hz = np.where(np.abs(hz) > 1e-6, hz, np.float32(1e-6))
            return hx / hz - np.float32(0.5), hy / hz - np.float32(0.5)

        return look
