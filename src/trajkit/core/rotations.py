"""Batched rotation utilities (numpy, kornia / PyTorch3D style).

Conventions, shared by every function here:

* Rotation matrices act on **column vectors**: ``v' = R @ v``. Shapes ``(..., 3, 3)``.
* Quaternions are **real part first**: ``(w, x, y, z)``, shape ``(..., 4)``. Functions that return
  quaternions return unit quaternions with ``w >= 0`` (one of the two equivalent signs).
* Axis-angle vectors: ``(..., 3)``, direction = axis, norm = angle in radians (right-hand rule).
* 6D rotations (Zhou et al. 2019): the **first two columns** of ``R`` concatenated,
  ``[R00, R10, R20, R01, R11, R21]``, shape ``(..., 6)``. (PyTorch3D stores the first two *rows*;
  GenDoP / CLaTr use columns, as here.)

All functions accept any leading batch shape and compute in float64 unless the input is float32.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "axis_angle_to_matrix",
    "is_rotation_matrix",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rotation_6d",
    "orthonormalise",
    "quaternion_slerp",
    "quaternion_to_matrix",
    "rotation_6d_to_matrix",
    "rotation_angle",
]


def _float(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit (or non-zero) quaternions ``(..., 4)`` w-first → rotation matrices ``(..., 3, 3)``.

    Non-unit quaternions are normalised first, so any non-zero ``q`` gives a proper rotation.
    """
    q = _float(q)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    q = q / np.where(norm == 0, 1, norm)
    w, x, y, z = np.moveaxis(q, -1, 0)
    out = np.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )  # fmt: skip
    return out.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quaternion(R: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` → unit quaternions ``(..., 4)``, w-first, ``w >= 0``.

    Uses the numerically stable branch on the largest of ``(w, x, y, z)`` (Shepperd's method).
    """
    R = _float(R)
    m = R
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # 4·q_i² for each component; pick the largest to divide by.
    four_sq = np.stack(
        [1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], axis=-1
    )
    best = np.argmax(four_sq, axis=-1)
    root = np.sqrt(np.maximum(np.take_along_axis(four_sq, best[..., None], -1)[..., 0], 1e-300))
    d21, d02, d10 = m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]
    s21, s02, s10 = m[..., 2, 1] + m[..., 1, 2], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 0] + m[..., 0, 1]
    candidates = np.stack(
        [
            np.stack([root * root, d21, d02, d10], -1),
            np.stack([d21, root * root, s10, s02], -1),
            np.stack([d02, s10, root * root, s21], -1),
            np.stack([d10, s02, s21, root * root], -1),
        ],
        axis=-2,
    ) / (2 * root[..., None, None])
    q = np.take_along_axis(candidates, best[..., None, None], -2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def axis_angle_to_matrix(v: np.ndarray) -> np.ndarray:
    """Axis-angle vectors ``(..., 3)`` (radians) → rotation matrices ``(..., 3, 3)`` (Rodrigues)."""
    v = _float(v)
    theta = np.linalg.norm(v, axis=-1)[..., None, None]
    small = theta < 1e-12
    axis = v / np.where(small[..., 0], 1.0, theta[..., 0])
    kx, ky, kz = np.moveaxis(axis, -1, 0)
    zero = np.zeros_like(kx)
    K = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(v.shape[:-1] + (3, 3))
    eye = np.broadcast_to(np.eye(3, dtype=v.dtype), K.shape)
    R = eye + np.sin(theta) * K + (1 - np.cos(theta)) * (K @ K)
    return np.where(small, eye, R)


def matrix_to_axis_angle(R: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` → axis-angle ``(..., 3)`` with angle in ``[0, π]``.

    Goes through the quaternion, which stays accurate near 0 and π.
    """
    q = matrix_to_quaternion(R)
    w = np.clip(q[..., 0], -1.0, 1.0)
    xyz = q[..., 1:]
    s = np.linalg.norm(xyz, axis=-1)
    angle = 2 * np.arctan2(s, w)
    scale = np.where(s < 1e-12, 2.0, angle / np.where(s < 1e-12, 1.0, s))
    return xyz * scale[..., None]


def matrix_to_rotation_6d(R: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` → 6D ``(..., 6)``: first two columns, column-major."""
    R = _float(R)
    return np.concatenate([R[..., :, 0], R[..., :, 1]], axis=-1)


def rotation_6d_to_matrix(d6: np.ndarray) -> np.ndarray:
    """6D ``(..., 6)`` → rotation matrices ``(..., 3, 3)`` by Gram–Schmidt on the two columns."""
    d6 = _float(d6)
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = a1 / np.maximum(np.linalg.norm(a1, axis=-1, keepdims=True), 1e-8)
    a2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = a2 / np.maximum(np.linalg.norm(a2, axis=-1, keepdims=True), 1e-8)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)


def quaternion_slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Spherical linear interpolation between unit quaternions (w-first), shortest arc.

    ``q0``, ``q1``: ``(..., 4)``; ``t``: scalar or broadcastable to ``(...)``. Falls back to normalised
    linear interpolation when the quaternions are almost parallel.
    """
    q0 = _float(q0)
    q1 = _float(q1)
    t = np.asarray(t, dtype=q0.dtype)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6
    safe = np.where(near, 1.0, sin_theta)
    w0 = np.where(near, 1 - t, np.sin((1 - t) * theta) / safe)
    w1 = np.where(near, t, np.sin(t * theta) / safe)
    q = w0 * q0 + w1 * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def orthonormalise(R: np.ndarray) -> np.ndarray:
    """Nearest proper rotation (SVD projection) of each ``(..., 3, 3)`` matrix."""
    R = _float(R)
    U, _, Vt = np.linalg.svd(R)
    D = np.ones(R.shape[:-1], dtype=R.dtype)
    D[..., -1] = np.sign(np.linalg.det(U @ Vt))
    return (U * D[..., None, :]) @ Vt


def is_rotation_matrix(R: np.ndarray, atol: float = 1e-4) -> np.ndarray:
    """Boolean ``(...)``: ``RᵀR ≈ I`` within ``atol`` and ``det R > 0``."""
    R = _float(R)
    err = np.abs(np.swapaxes(R, -1, -2) @ R - np.eye(3)).max(axis=(-1, -2))
    return (err <= atol) & (np.linalg.det(R) > 0)


def rotation_angle(R: np.ndarray) -> np.ndarray:
    """Rotation angle in radians ``(...)`` of each matrix, robust near 0 and π."""
    return np.linalg.norm(matrix_to_axis_angle(R), axis=-1)
