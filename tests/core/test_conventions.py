"""Convention converters: OpenGL, Unreal, 3DTrajMaster camera space."""

from __future__ import annotations

import numpy as np

from trajkit.core import conventions as cv
from trajkit.core.rotations import axis_angle_to_matrix


def test_opengl_flip_is_an_involution_and_keeps_the_centre() -> None:
    c2w = np.eye(4)
    c2w[:3, :3] = axis_angle_to_matrix(np.array([0.2, -0.4, 0.1]))
    c2w[:3, 3] = (1, 2, 3)
    gl = cv.opencv_to_opengl(c2w)
    np.testing.assert_allclose(cv.opengl_to_opencv(gl), c2w)
    np.testing.assert_allclose(gl[:3, 3], c2w[:3, 3])
    # OpenGL looks along -z: its -z column is OpenCV's +z (forward) column.
    np.testing.assert_allclose(-gl[:3, 2], c2w[:3, 2])


def test_unreal_identity_camera_is_identity_and_units_are_metres() -> None:
    m = np.eye(4)
    m[3, :3] = (100.0, 0.0, 0.0)  # 1 m along Unreal +X (forward)
    pose = cv.unreal_to_opencv(m)
    np.testing.assert_allclose(pose[:3, :3], np.eye(3))
    np.testing.assert_allclose(pose[:3, 3], [0, 0, 1.0])
    up = np.eye(4)
    up[3, :3] = (0, 0, 100.0)  # Unreal up → trajkit −y (y points down)
    np.testing.assert_allclose(cv.unreal_to_opencv(up)[:3, 3], [0, -1.0, 0])


def test_unreal_yaw_becomes_rotation_about_down_axis() -> None:
    # Unreal yaw +90° (about +Z, left-handed: X forward turns to Y right) as a row-vector matrix.
    m = np.eye(4)
    m[0, :3] = (0, 1, 0)  # local X (forward) points along world Y (right)
    m[1, :3] = (-1, 0, 0)  # local Y (right) points along world -X (back)
    pose = cv.unreal_to_opencv(m)
    assert np.linalg.det(pose[:3, :3]) > 0
    np.testing.assert_allclose(pose[:3, 2], [1, 0, 0], atol=1e-12)  # camera forward = world right (+x)
    np.testing.assert_allclose(pose[:3, 1], [0, 1, 0], atol=1e-12)  # down stays down


def test_unreal_round_trip_with_offset() -> None:
    rng = np.random.default_rng(1)
    pose = np.eye(4)
    pose[:3, :3] = axis_angle_to_matrix(rng.normal(size=3))
    pose[:3, 3] = rng.normal(size=3)
    offset = np.array([19000.0, -22700.0, 0.0])
    ue = cv.opencv_to_unreal(pose, offset_cm=offset)
    np.testing.assert_allclose(cv.unreal_to_opencv(ue, offset_cm=offset), pose, atol=1e-9)


def test_trajmaster_camera_flip() -> None:
    pose = np.eye(4)
    pose[:3, 3] = (1.0, -2.0, 7.0)
    tm = cv.opencv_to_trajmaster_camera(pose)
    np.testing.assert_allclose(tm[:3, 3], [1.0, 2.0, 7.0])
    np.testing.assert_allclose(cv.trajmaster_camera_to_opencv(tm), pose)
