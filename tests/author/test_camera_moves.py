"""Authored camera moves: exact geometry, composition, easing, and GenDoP's motion-word signs."""

from __future__ import annotations

import numpy as np
import pytest

from trajkit import ValidationError
from trajkit.author import camera as mv
from trajkit.core.conventions import opencv_to_opengl
from trajkit.core.rotations import axis_angle_to_matrix, matrix_to_axis_angle, rotation_angle


def test_pan_ends_at_the_angle_about_the_camera_y_axis() -> None:
    path = mv.pan(30, duration=2).path(fps=16)
    assert path.num_frames == 33
    rel = path.R[0].T @ path.R[-1]
    np.testing.assert_allclose(matrix_to_axis_angle(rel), [0, np.radians(30), 0], atol=1e-12)
    forward = path.R[-1][:, 2]
    assert forward[0] > 0  # turned right: the optical axis points to +x
    np.testing.assert_allclose(path.centers, 0, atol=1e-12)


def test_dolly_moves_one_metre_along_the_optical_axis() -> None:
    start = np.eye(4)
    start[:3, :3] = axis_angle_to_matrix(np.array([0.1, 0.7, -0.2]))  # any start orientation
    start[:3, 3] = (2.0, -1.0, 5.0)
    path = mv.dolly(1.0).path(start=start)
    np.testing.assert_allclose(path.centers[-1] - path.centers[0], start[:3, 2], atol=1e-12)
    np.testing.assert_allclose(path.R, np.broadcast_to(start[:3, :3], path.R.shape), atol=1e-12)


@pytest.mark.parametrize("vertical", [False, True])
def test_orbit_keeps_the_target_centred(vertical: bool) -> None:
    path = mv.orbit(90, distance=4.0, duration=3, vertical=vertical).path(fps=10, size=(832, 480))
    uv, depth = path.project(np.array([[0.0, 0.0, 4.0]]))
    np.testing.assert_allclose(uv[:, 0], np.broadcast_to([416, 240], (path.num_frames, 2)), atol=0.5)
    assert (depth > 0).all()
    np.testing.assert_allclose(np.linalg.norm(path.centers - [0, 0, 4.0], axis=1), 4.0, atol=1e-9)
    assert np.degrees(rotation_angle(path.R[-1])) == pytest.approx(90)
    if not vertical:
        assert path.centers[path.num_frames // 2, 0] > 0  # moves right first


def test_crane_rises_and_keeps_the_point_centred() -> None:
    path = mv.crane(1.5, distance=3.0).path(fps=8)
    np.testing.assert_allclose(path.centers[-1], [0, -1.5, 0], atol=1e-12)  # y is down: up is −y
    uv, _ = path.project(np.array([[0.0, 0.0, 3.0]]))
    np.testing.assert_allclose(uv[:, 0], np.broadcast_to([416, 240], (path.num_frames, 2)), atol=1e-6)


def test_zoom_changes_focal_per_frame_only() -> None:
    path = mv.zoom(2.0, easing="linear").path(fps=4)
    assert path.K.shape == (9, 3, 3)
    assert path.K[-1, 0, 0] == pytest.approx(2 * path.K[0, 0, 0])
    assert path.K[4, 1, 1] == pytest.approx(np.sqrt(2) * path.K[0, 1, 1])
    np.testing.assert_allclose(path.c2w, np.broadcast_to(np.eye(4), path.c2w.shape))


def test_sequence_and_parallel_composition() -> None:
    seq = mv.pan(30).then(mv.dolly(1.0))  # dolly along the panned axis
    p = seq.path()
    np.testing.assert_allclose(p.centers[-1], [np.sin(np.radians(30)), 0, np.cos(np.radians(30))], atol=1e-12)
    assert seq.duration == 4.0 and p.num_frames == 65
    par = mv.dolly(1.0) & mv.pan(30)  # dolly along the original axis while panning
    q = par.path()
    np.testing.assert_allclose(q.centers[-1], [0, 0, 1.0], atol=1e-12)
    assert np.degrees(rotation_angle(q.R[-1])) == pytest.approx(30)
    # The sequence is continuous at the joint.
    assert np.abs(np.diff(p.centers, axis=0)).max() < 0.05


def test_easing_profiles() -> None:
    p = np.linspace(0, 1, 5)
    np.testing.assert_allclose(mv.ease(p, "linear"), p)
    assert mv.ease(np.array([0.5]), "ease-in-out")[0] == pytest.approx(0.5)
    np.testing.assert_allclose(mv.ease(p, [0.0, 1.0]), p**2, atol=1e-12)  # speed ramping up linearly
    np.testing.assert_allclose(mv.ease(p, [1, 1, 1]), p, atol=1e-12)
    with pytest.raises(ValidationError):
        mv.ease(p, "bouncy")
    with pytest.raises(ValidationError):
        mv.ease(p, [0, 0])
    with pytest.raises(ValidationError):
        mv.pan(10, duration=0)


def _gendop_step_motion(path) -> tuple[np.ndarray, np.ndarray]:
    """GenDoP's per-step motion (gendop.md §7.2): V_k = P_k⁻¹ P_{k+1} of OpenGL c2w; v = 30·t, ω = rotvec."""
    P = opencv_to_opengl(path.c2w)
    V = np.linalg.inv(P[:-1]) @ P[1:]
    return 30 * V[:, :3, 3], matrix_to_axis_angle(V[:, :3, :3])


@pytest.mark.parametrize(
    ("move", "axis", "sign", "kind"),
    [
        (mv.truck(1.0), 0, +1, "v"),  # move right: +x
        (mv.truck(-1.0), 0, -1, "v"),  # move left
        (mv.pedestal(1.0), 1, +1, "v"),  # move up: +y (OpenGL)
        (mv.dolly(1.0), 2, -1, "v"),  # move forward: −z (OpenGL)
        (mv.dolly(-1.0), 2, +1, "v"),  # move backward
        (mv.tilt(20), 0, +1, "w"),  # pitch up: +x
        (mv.pan(-20), 1, +1, "w"),  # yaw left: +y
        (mv.pan(20), 1, -1, "w"),  # yaw right
        (mv.roll(-20), 2, +1, "w"),  # roll left: +z
        (mv.roll(20), 2, -1, "w"),  # roll right
    ],
)
def test_signs_match_gendop_motion_words(move: mv.Move, axis: int, sign: int, kind: str) -> None:
    v, w = _gendop_step_motion(move.path(fps=30))
    signal = v if kind == "v" else w
    mid = len(signal) // 2
    assert np.sign(signal[mid, axis]) == sign
    others = np.delete(np.abs(signal[mid]), axis)
    assert (others < 1e-9).all()
