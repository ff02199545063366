"""``CameraPath``: a pinhole camera moving over time.

Conventions
-----------
* ``c2w`` float64 ``(T, 4, 4)``: camera-to-world, acting on column vectors, **OpenCV camera axes**
  (x right, y down, z forward) in a **right-handed world**. The camera centre is ``c2w[:, :3, 3]``.
* ``K`` float64 ``(3, 3)`` (constant) or ``(T, 3, 3)`` (per frame), in **pixels** of the ``size`` canvas,
  with the principal point in the same corner-origin pixel coordinates as :class:`~trajkit.Tracks`
  (a point on the optical axis projects to ``(cx, cy)``).
* ``size``: ``(W, H)`` in pixels; ``fps``: frames per second; ``metric``: whether world units are metres
  (``False``: unknown scale, as for SfM or normalised paths).
* ``meta``: free-form information carried from a file (timestamps, file names, source URL, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import _validate as v
from .errors import ValidationError
from .rotations import is_rotation_matrix, matrix_to_quaternion, quaternion_slerp, quaternion_to_matrix
from .timing import fps_keeping_duration, interpolation_weights, time_positions

#: Tolerance on RᵀR = I for rotations read from files (text formats carry ~6 significant digits).
ROTATION_ATOL = 1e-3


def intrinsics_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """A pinhole ``K`` from focal lengths and principal point, all in pixels."""
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def intrinsics_from_fov(size: tuple[int, int], hfov_deg: float) -> np.ndarray:
    """Square-pixel ``K`` with the given horizontal field of view and a centred principal point."""
    w, h = size
    f = 0.5 * w / np.tan(np.radians(hfov_deg) / 2)
    return intrinsics_matrix(f, f, w / 2, h / 2)


def invert_rigid(m: np.ndarray) -> np.ndarray:
    """Inverse of rigid 4×4 transforms ``(..., 4, 4)`` (rotation transposed, translation mapped back)."""
    m = np.asarray(m, dtype=np.float64)
    out = np.zeros_like(m)
    Rt = np.swapaxes(m[..., :3, :3], -1, -2)
    out[..., :3, :3] = Rt
    out[..., :3, 3] = -(Rt @ m[..., :3, 3:4])[..., 0]
    out[..., 3, 3] = 1.0
    return out


def check_poses(poses: np.ndarray, field_name: str, where: str) -> None:
    """Validate rigid 4×4 poses: finite, last row ``[0, 0, 0, 1]``, rotation orthonormal with det +1."""
    v.check_finite(poses, field_name, where)
    flat = poses.reshape(-1, 4, 4)
    last = np.abs(flat[:, 3] - np.array([0.0, 0.0, 0.0, 1.0])).max(axis=-1)
    if (last > 1e-6).any():
        k = int(np.argmax(last > 1e-6))
        raise ValidationError(f"{field_name}[{k}]", "last row [0, 0, 0, 1]", str(flat[k, 3].tolist()), where=where)
    ok = is_rotation_matrix(flat[:, :3, :3], atol=ROTATION_ATOL)
    if not ok.all():
        k = int(np.argmin(ok))
        R = flat[k, :3, :3]
        raise ValidationError(
            f"{field_name}[{k}]", "a rotation block with RᵀR = I and det +1",
            f"max |RᵀR − I| = {np.abs(R.T @ R - np.eye(3)).max():.3g}, det = {np.linalg.det(R):.4g}",
            where=where,
        )


def interpolate_poses(poses: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Poses ``(..., T, 4, 4)`` at fractional frame positions ``(M,)`` → ``(..., M, 4, 4)``.

    Rotations are slerped, translations lerped; positions that fall exactly on a frame copy it bit-exactly.
    """
    lead = poses.shape[:-3]
    flat = poses.reshape((-1,) + poses.shape[-3:])  # (B, T, 4, 4)
    lo, hi, frac = interpolation_weights(positions, flat.shape[1])
    q = matrix_to_quaternion(flat[..., :3, :3])
    q_out = quaternion_slerp(q[:, lo], q[:, hi], frac[None])
    f = frac[None, :, None]
    out = np.zeros((flat.shape[0], len(positions), 4, 4))
    out[..., :3, :3] = quaternion_to_matrix(q_out)
    out[..., :3, 3] = flat[:, lo][..., :3, 3] * (1 - f) + flat[:, hi][..., :3, 3] * f
    out[..., 3, 3] = 1.0
    exact = frac < 1e-12
    out[:, exact] = flat[:, lo[exact]]
    return out.reshape(lead + out.shape[1:])


@dataclass(frozen=True, eq=False)
class CameraPath:
    """A camera over T frames; see the module docstring for conventions."""

    c2w: np.ndarray
    K: np.ndarray
    size: tuple[int, int]
    fps: float
    metric: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = "CameraPath"
        c2w = v.as_array(self.c2w, "c2w", np.float64, where)
        if c2w.shape == (4, 4):
            c2w = c2w[None]
        v.check_shape(c2w, "c2w", (None, 4, 4), where, "(T, 4, 4)")
        if c2w.shape[0] < 1:
            raise ValidationError("c2w", "at least one frame", "0 frames", where=where)
        check_poses(c2w, "c2w", where)
        K = v.as_array(self.K, "K", np.float64, where)
        if K.ndim == 3 and K.shape[0] == 1:
            K = K[0]
        if K.ndim == 3:
            v.check_shape(K, "K", (c2w.shape[0], 3, 3), where, f"(3, 3) or ({c2w.shape[0]}, 3, 3)")
        else:
            v.check_shape(K, "K", (3, 3), where, f"(3, 3) or ({c2w.shape[0]}, 3, 3)")
        v.check_finite(K, "K", where)
        Ks = K.reshape(-1, 3, 3)
        if (Ks[:, 0, 0] <= 0).any() or (Ks[:, 1, 1] <= 0).any():
            raise ValidationError("K", "positive focal lengths fx, fy", f"fx={Ks[:, 0, 0].min():g}, "
                                  f"fy={Ks[:, 1, 1].min():g}", where=where)
        if np.abs(Ks[:, 2] - np.array([0.0, 0.0, 1.0])).max() > 1e-9:
            raise ValidationError("K", "last row [0, 0, 1]", str(Ks[0, 2].tolist()), where=where)
        object.__setattr__(self, "c2w", v.frozen(c2w))
        object.__setattr__(self, "K", v.frozen(K))
        object.__setattr__(self, "size", v.check_size(self.size, where))
        object.__setattr__(self, "fps", v.check_fps(self.fps, where))
        object.__setattr__(self, "metric", bool(self.metric))
        object.__setattr__(self, "meta", dict(self.meta))

    # ------------------------------------------------------------------ properties
    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.c2w.shape[0])

    @property
    def Ks(self) -> np.ndarray:
        """Per-frame intrinsics ``(T, 3, 3)`` (a constant ``K`` broadcast)."""
        return np.broadcast_to(self.K, (self.num_frames, 3, 3)) if self.K.ndim == 2 else self.K

    @property
    def R(self) -> np.ndarray:
        """Camera-to-world rotations ``(T, 3, 3)``."""
        return self.c2w[:, :3, :3]

    @property
    def centers(self) -> np.ndarray:
        """Camera centres in world coordinates ``(T, 3)``."""
        return self.c2w[:, :3, 3]

    @property
    def w2c(self) -> np.ndarray:
        """World-to-camera matrices ``(T, 4, 4)``."""
        return invert_rigid(self.c2w)

    @property
    def duration(self) -> float:
        """Seconds between the first and the last frame."""
        return (self.num_frames - 1) / self.fps

    @classmethod
    def static(cls, c2w: np.ndarray, K: np.ndarray, size: tuple[int, int], frames: int = 1, fps: float = 16.0,
               **kw: Any) -> CameraPath:
        """A camera that does not move, repeated over ``frames`` frames."""
        c2w = np.asarray(c2w, dtype=np.float64).reshape(4, 4)
        return cls(c2w=np.repeat(c2w[None], frames, axis=0), K=K, size=size, fps=fps, **kw)

    def replace(self, **changes: Any) -> CameraPath:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def allclose(self, other: CameraPath, atol: float = 1e-6) -> bool:
        """Same frames, canvas and fps; poses and intrinsics within ``atol``."""
        return (
            self.c2w.shape == other.c2w.shape
            and self.size == other.size
            and abs(self.fps - other.fps) <= 1e-9 * max(self.fps, 1.0)
            and bool(np.allclose(self.c2w, other.c2w, atol=atol, rtol=0))
            and bool(np.allclose(self.Ks, other.Ks, atol=atol * max(1.0, float(np.abs(self.Ks).max())), rtol=0))
        )

    def __repr__(self) -> str:
        return (f"CameraPath(frames={self.num_frames}, size={self.size}, fps={self.fps:g}, "
                f"metric={self.metric})")

    # ------------------------------------------------------------------ normalisation
    def relative_to_first(self) -> CameraPath:
        """Express the path in the first camera's frame: ``c2w'[i] = c2w[0]⁻¹ · c2w[i]`` (frame 0 = I)."""
        return self.replace(c2w=invert_rigid(self.c2w[0]) @ self.c2w)

    def normalise_scale(self, extent: float = 1.0) -> tuple[CameraPath, float]:
        """Scale translations about the first centre so that ``max_i ‖c_i − c_0‖ = extent``.

        Returns ``(path, s)`` where ``s`` is the factor the path was divided by (the original extent
        over ``extent``). A path that does not move is returned unchanged with ``s = 1``. The result is
        non-metric. GenDoP's normalisation is ``relative_to_first().normalise_scale()``.
        """
        c = self.centers
        reach = float(np.linalg.norm(c - c[0], axis=-1).max())
        if reach <= 1e-12:
            return self.replace(metric=False), 1.0
        s = reach / extent
        c2w = self.c2w.copy()
        c2w[:, :3, 3] = c[0] + (c - c[0]) / s
        return self.replace(c2w=c2w, metric=False), s

    # ------------------------------------------------------------------ time
    def resample(self, frames: int, fps: float | None = None) -> CameraPath:
        """Resample by time (slerp rotations, lerp centres and per-frame intrinsics).

        Without ``fps`` the duration is kept; with it, frame ``j`` is the camera at ``j / fps`` seconds,
        held at the last pose past the end.
        """
        if frames < 1:
            raise ValidationError("frames", "a positive frame count", str(frames), where="CameraPath.resample")
        out_fps = fps if fps is not None else fps_keeping_duration(frames, self.num_frames, self.fps)
        pos = time_positions(frames, out_fps, self.num_frames, self.fps)
        c2w = interpolate_poses(self.c2w, pos)
        K = self.K
        if K.ndim == 3:
            lo, hi, frac = interpolation_weights(pos, self.num_frames)
            K = K[lo] * (1 - frac[:, None, None]) + K[hi] * frac[:, None, None]
        return self.replace(c2w=c2w, K=K, fps=out_fps)

    # ------------------------------------------------------------------ space
    def rescale(self, size: tuple[int, int]) -> CameraPath:
        """The same camera rendered at another resolution (intrinsics scaled per axis)."""
        new = v.check_size(size, "CameraPath.rescale")
        assert new is not None
        sx, sy = new[0] / self.size[0], new[1] / self.size[1]
        S = np.diag([sx, sy, 1.0])
        return self.replace(K=S @ self.K, size=new)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points ``(P, 3)`` (or per-frame ``(T, P, 3)``) into every frame.

        A one-frame (static) camera projects per-frame points of any length T. Returns ``(uv, depth)``:
        pixel positions ``(T, P, 2)`` and camera-space z ``(T, P)``. Points with ``depth <= 0`` are behind
        the camera; their ``uv`` is meaningless (NaN-free but unbounded).
        """
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim == 2:
            pts = np.broadcast_to(pts, (self.num_frames,) + pts.shape)
        static = self.num_frames == 1
        if pts.ndim != 3 or pts.shape[-1] != 3 or not (static or pts.shape[0] == self.num_frames):
            raise ValidationError("points", f"(P, 3) or ({self.num_frames}, P, 3)", f"shape {np.shape(points)}",
                                  where="CameraPath.project")
        w2c = self.w2c
        cam = pts @ np.swapaxes(w2c[:, :3, :3], -1, -2) + w2c[:, None, :3, 3]
        depth = cam[..., 2]
        safe = np.where(np.abs(depth) < 1e-12, 1e-12, depth)
        pix = cam @ np.swapaxes(self.Ks, -1, -2)
        uv = pix[..., :2] / safe[..., None]
        return uv, depth

    def in_view(self, uv: np.ndarray, depth: np.ndarray, near: float = 1e-3) -> np.ndarray:
        """Bool mask of projected points (from :meth:`project`) in front of the camera and inside the canvas."""
        w, h = self.size
        return (depth > near) & (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
