"""Converters between outside pose conventions and trajkit's.

trajkit's convention (ARCHITECTURE.md): camera-to-world / object-to-world 4×4 matrices acting on column
vectors, in a **right-handed world**, with **OpenCV camera axes** (x right, y down, z forward) and the
same axes for objects. Every other convention is converted here, at the door.

Conventions handled:

* **OpenGL / nerfstudio / Blender** camera axes (x right, y up, z back): the c2w rotation columns 1 and
  2 are negated. The conversion is its own inverse.
* **Unreal Engine** (3DTrajMaster, ReCamMaster): left-handed world with x forward, y right, z up, in
  **centimetres**; ``FMatrix`` is a row-vector matrix (``p_world = p_local · M``, translation in the
  last row); local axes of actors and cameras are (forward, right, up). trajkit maps an Unreal
  coordinate triple ``(X, Y, Z)`` to ``(Y, −Z, X) / 100`` metres, for world points and local axes alike
  (:data:`UE_TO_OPENCV`). The result is an OpenCV-style world: an Unreal camera with the identity
  rotation becomes the identity camera, world ``+y`` points down (gravity) and ``+z`` along Unreal's
  ``+X``. Lengths become metres.
* **3DTrajMaster camera space** (right, up, forward) in metres: OpenCV camera space with y flipped,
  ``F · P · F`` with ``F = diag(1, −1, 1, 1)``. Also its own inverse.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "UE_TO_OPENCV",
    "flip_y",
    "opencv_to_opengl",
    "opencv_to_trajmaster_camera",
    "opencv_to_unreal",
    "opengl_to_opencv",
    "trajmaster_camera_to_opencv",
    "unreal_to_opencv",
]

#: Maps Unreal coordinates ``(X fwd, Y right, Z up)`` to trajkit's ``(x right, y down, z fwd)``.
UE_TO_OPENCV = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])

_GL_FLIP = np.diag([1.0, -1.0, -1.0, 1.0])
_Y_FLIP = np.diag([1.0, -1.0, 1.0, 1.0])


def opengl_to_opencv(c2w: np.ndarray) -> np.ndarray:
    """Camera-to-world ``(..., 4, 4)`` with OpenGL axes → OpenCV axes (negate rotation columns 1, 2)."""
    return np.asarray(c2w, dtype=np.float64) @ _GL_FLIP


def opencv_to_opengl(c2w: np.ndarray) -> np.ndarray:
    """Camera-to-world ``(..., 4, 4)`` with OpenCV axes → OpenGL axes (the same flip)."""
    return np.asarray(c2w, dtype=np.float64) @ _GL_FLIP


def unreal_to_opencv(matrix: np.ndarray, *, offset_cm: np.ndarray | None = None) -> np.ndarray:
    """Unreal row-vector ``FMatrix`` ``(..., 4, 4)`` in cm → trajkit pose ``(..., 4, 4)`` in metres.

    ``offset_cm`` (3,) is an Unreal-space position (cm) subtracted from the translation first, e.g.
    3DTrajMaster's ``CameraTarget``. The returned pose maps trajkit object/camera axes to the trajkit
    world: ``R = P Rᵤ Pᵀ``, ``t = P (tᵤ − offset) / 100`` with ``Rᵤ = M[:3, :3]ᵀ``, ``tᵤ = M[3, :3]``
    and ``P =`` :data:`UE_TO_OPENCV`.
    """
    M = np.asarray(matrix, dtype=np.float64)
    R_ue = np.swapaxes(M[..., :3, :3], -1, -2)
    t_ue = M[..., 3, :3]
    if offset_cm is not None:
        t_ue = t_ue - np.asarray(offset_cm, dtype=np.float64)
    out = np.zeros(M.shape[:-2] + (4, 4))
    out[..., :3, :3] = UE_TO_OPENCV @ R_ue @ UE_TO_OPENCV.T
    out[..., :3, 3] = (t_ue @ UE_TO_OPENCV.T) / 100.0
    out[..., 3, 3] = 1.0
    return out


def opencv_to_unreal(pose: np.ndarray, *, offset_cm: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`unreal_to_opencv`: trajkit pose in metres → Unreal row-vector matrix in cm."""
    pose = np.asarray(pose, dtype=np.float64)
    R_ue = UE_TO_OPENCV.T @ pose[..., :3, :3] @ UE_TO_OPENCV
    t_ue = (pose[..., :3, 3] @ UE_TO_OPENCV) * 100.0
    if offset_cm is not None:
        t_ue = t_ue + np.asarray(offset_cm, dtype=np.float64)
    out = np.zeros(pose.shape[:-2] + (4, 4))
    out[..., :3, :3] = np.swapaxes(R_ue, -1, -2)
    out[..., 3, :3] = t_ue
    out[..., 3, 3] = 1.0
    return out


def flip_y(pose: np.ndarray) -> np.ndarray:
    """``F · pose · F`` with ``F = diag(1, −1, 1, 1)``: flips the y axis of both frames of a pose."""
    return _Y_FLIP @ np.asarray(pose, dtype=np.float64) @ _Y_FLIP


def opencv_to_trajmaster_camera(obj2cam: np.ndarray) -> np.ndarray:
    """Object-to-camera pose in OpenCV camera space → 3DTrajMaster's (right, up, forward) space.

    The object's own axes also go from (right, down, forward) to (right, up, forward).
    """
    return flip_y(obj2cam)


def trajmaster_camera_to_opencv(obj2cam: np.ndarray) -> np.ndarray:
    """3DTrajMaster (right, up, forward) object-to-camera pose → OpenCV camera space."""
    return flip_y(obj2cam)
