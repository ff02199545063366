"""CLaTr's trajectory features ``[T, 9]`` and their inverse (``shared/specs/gendop.md`` §8.2).

Input poses are camera-to-world matrices in **OpenGL** camera axes (x right, y up, looking along −z), as stored in
GenDoP's ``*_transforms_*.json`` files, at whatever scale they come in: CLaTr sees no scale normalisation and no
standardisation (GenDoP's YAML says ``standardize: true`` but the code path is commented out).

Per frame ``i`` of the poses made relative to the first (``P_0⁻¹ P_i``, in float64, then cast to float32):

- ``rot6d`` = the first two **columns** of ``R_i``: ``[R00, R10, R20, R01, R11, R21]``;
- velocity ``t_i − t_{i−1}`` (float32), with frame 0 holding ``t_0`` (zero up to rounding).

The inverse orthonormalises the two columns (``x = c0/‖c0‖``, ``z = x × c1`` normalised, ``y = z × x``; norms
clamped at 1e-8) and integrates the velocities with a cumulative sum, giving relative poses ``(T, 4, 4)``.
"""

from __future__ import annotations

import numpy as np

from ...core.camera import CameraPath
from ...core.conventions import opencv_to_opengl
from ...core.errors import ValidationError

#: Numbers per frame: rot6d (6) + velocity (3).
FEATURES = 9
#: Frames per trajectory in GenDoP's data and in the released CLaTr checkpoints.
FRAMES = 120
_EPS = 1e-8


def _poses(c2w: np.ndarray, where: str) -> np.ndarray:
    P = np.asarray(c2w)
    if P.ndim < 3 or P.shape[-2:] != (4, 4) or P.shape[-3] < 1:
        raise ValidationError("c2w", "camera-to-world matrices (..., T, 4, 4)", str(P.shape), where=where)
    if not np.isfinite(P).all():
        raise ValidationError("c2w", "finite values", "NaN or inf", where=where)
    return P.astype(np.float64)


def relative_to_first(c2w_gl: np.ndarray) -> np.ndarray:
    """``P_0⁻¹ P_i`` of poses ``(..., T, 4, 4)``, computed in float64 and returned as float32 (CLaTr's input)."""
    P = _poses(c2w_gl, "CLaTr features")
    return (np.linalg.inv(P[..., :1, :, :]) @ P).astype(np.float32)


def trajectory_features(c2w_gl: np.ndarray) -> np.ndarray:
    """CLaTr features ``(..., T, 9)`` float32 of OpenGL camera-to-world poses ``(..., T, 4, 4)`` (raw scale)."""
    rel = relative_to_first(c2w_gl)
    rot6d = np.concatenate([rel[..., :3, 0], rel[..., :3, 1]], axis=-1)
    t = rel[..., :3, 3]
    velocity = np.concatenate([t[..., :1, :], t[..., 1:, :] - t[..., :-1, :]], axis=-2)
    return np.concatenate([rot6d, velocity], axis=-1).astype(np.float32)


def camera_features(camera: CameraPath) -> np.ndarray:
    """CLaTr features ``(T, 9)`` of a trajkit camera path (OpenCV axes are turned into GenDoP's OpenGL ones)."""
    return trajectory_features(opencv_to_opengl(np.asarray(camera.c2w)))


def _normalise(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.sqrt((v * v).sum(axis=-1, keepdims=True)), np.float32(_EPS))


def rot6d_to_matrix(rot6d: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` float32 from 6D columns ``(..., 6)`` (Gram–Schmidt as in §8.2)."""
    r = np.asarray(rot6d, dtype=np.float32)
    x = _normalise(r[..., 0:3])
    z = _normalise(np.cross(x, r[..., 3:6]))
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def features_to_matrices(features: np.ndarray) -> np.ndarray:
    """Relative OpenGL camera-to-world poses ``(..., T, 4, 4)`` float32 of CLaTr features ``(..., T, 9)``."""
    f = np.asarray(features, dtype=np.float32)
    if f.ndim < 2 or f.shape[-1] != FEATURES:
        raise ValidationError("features", f"CLaTr features (..., T, {FEATURES})", str(f.shape),
                              where="CLaTr features")
    out = np.zeros((*f.shape[:-1], 4, 4), dtype=np.float32)
    out[..., :3, :3] = rot6d_to_matrix(f[..., :6])
    out[..., :3, 3] = np.cumsum(f[..., 6:], axis=-2, dtype=np.float32)
    out[..., 3, 3] = 1.0
    return out
