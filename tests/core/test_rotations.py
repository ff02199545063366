"""Rotation utilities: round trips, known values, conventions stated in the module docstring."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit.core import rotations as rot


@pytest.fixture
def random_rotations() -> np.ndarray:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(200, 3))
    v[:5] = [[np.pi, 0, 0], [0, np.pi, 0], [0, 0, -np.pi], [1e-9, 0, 0], [0, 0, 0]]  # edge cases: π and ~0
    return rot.axis_angle_to_matrix(v)


def test_known_quaternion_and_matrix() -> None:
    # 90° about +z maps x to y (right-hand rule, column vectors); quaternion (cos 45°, 0, 0, sin 45°), w first.
    R = rot.axis_angle_to_matrix(np.array([0, 0, np.pi / 2]))
    np.testing.assert_allclose(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    q = rot.matrix_to_quaternion(R)
    np.testing.assert_allclose(q, [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)], atol=1e-12)
    np.testing.assert_allclose(rot.quaternion_to_matrix(q), R, atol=1e-12)


def test_round_trips(random_rotations: np.ndarray) -> None:
    R = random_rotations
    assert rot.is_rotation_matrix(R, atol=1e-10).all()
    np.testing.assert_allclose(rot.quaternion_to_matrix(rot.matrix_to_quaternion(R)), R, atol=1e-10)
    np.testing.assert_allclose(rot.axis_angle_to_matrix(rot.matrix_to_axis_angle(R)), R, atol=1e-9)
    np.testing.assert_allclose(rot.rotation_6d_to_matrix(rot.matrix_to_rotation_6d(R)), R, atol=1e-12)
    q = rot.matrix_to_quaternion(R)
    assert (q[..., 0] >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1, atol=1e-12)


def test_rotation_6d_is_first_two_columns() -> None:
    R = rot.axis_angle_to_matrix(np.array([0.3, -0.2, 0.9]))
    d6 = rot.matrix_to_rotation_6d(R)
    np.testing.assert_allclose(d6, [R[0, 0], R[1, 0], R[2, 0], R[0, 1], R[1, 1], R[2, 1]])


def test_angle_near_pi_and_zero() -> None:
    angles = np.array([0.0, 1e-8, 1.0, np.pi - 1e-7, np.pi])
    R = rot.axis_angle_to_matrix(angles[:, None] * np.array([0.0, 0.6, 0.8]))
    np.testing.assert_allclose(rot.rotation_angle(R), angles, atol=1e-6)


def test_slerp_constant_speed() -> None:
    q0 = rot.matrix_to_quaternion(np.eye(3))
    q1 = rot.matrix_to_quaternion(rot.axis_angle_to_matrix(np.array([0, 2.0, 0])))
    for t in (0.0, 0.25, 0.5, 1.0):
        R = rot.quaternion_to_matrix(rot.quaternion_slerp(q0, q1, t))
        assert rot.rotation_angle(R) == pytest.approx(2.0 * t, abs=1e-9)


def test_orthonormalise_and_detection() -> None:
    R = rot.axis_angle_to_matrix(np.array([0.1, 0.2, 0.3]))
    noisy = R + 1e-3
    assert not rot.is_rotation_matrix(noisy, atol=1e-4)
    fixed = rot.orthonormalise(noisy)
    assert rot.is_rotation_matrix(fixed, atol=1e-10)
    assert not rot.is_rotation_matrix(np.diag([1.0, 1.0, -1.0]))  # a reflection is not a rotation
