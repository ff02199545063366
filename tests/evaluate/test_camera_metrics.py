"""Camera metrics (RotErr, TransErr, CamMC) against closed forms."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trajkit import TrajkitError
from trajkit.author.grammar import parse_moves
from trajkit.core.camera import CameraPath, intrinsics_from_fov
from trajkit.core.rotations import axis_angle_to_matrix
from trajkit.evaluate.camera import (
    camera_metrics,
    camera_motion_consistency,
    rotation_error,
    translation_error,
)

SIZE = (832, 480)


def path_from(R: np.ndarray, centres: np.ndarray, size: tuple[int, int] = SIZE, fps: float = 16.0) -> CameraPath:
    c2w = np.tile(np.eye(4), (len(R), 1, 1))
    c2w[:, :3, :3] = R
    c2w[:, :3, 3] = centres
    return CameraPath(c2w=c2w, K=intrinsics_from_fov(size, 60.0), size=size, fps=fps)


def about(axis: int, degrees: np.ndarray) -> np.ndarray:
    v = np.zeros((len(degrees), 3))
    v[:, axis] = np.radians(degrees)
    return axis_angle_to_matrix(v)


def demo_move() -> CameraPath:
    return parse_moves("dolly in 1.5m over 5s while pan right 8deg over 5s").path(fps=16, size=SIZE, hfov=60)


def test_a_path_against_itself_scores_zero() -> None:
    path = demo_move()
    m = camera_metrics(path, path)
    for key in ("rot_err_deg", "rot_err_deg_max", "trans_err", "cam_mc"):
        assert m[key] == pytest.approx(0.0, abs=1e-6)
    assert m["frames"] == 81
    json.dumps(m)  # JSON-ready: plain floats, bools, ints and strings


def test_known_yaw_per_frame_sums_to_the_known_angle() -> None:
    frames = 21
    base = demo_move().resample(frames)
    extra = 0.3 * np.arange(frames)  # degrees of yaw added at frame j
    R = base.R @ about(1, extra)  # a yaw about the camera's own y axis, on top of the move
    rotated = base.replace(c2w=np.concatenate([np.concatenate([R, base.c2w[:, :3, 3:]], 2),
                                               base.c2w[:, 3:]], 1))
    rot = rotation_error(base, rotated)
    assert np.allclose(rot["per_frame_deg"], extra, atol=1e-6)
    assert rot["sum_deg"] == pytest.approx(extra.sum(), abs=1e-5)
    assert rot["max_deg"] == pytest.approx(extra[-1], abs=1e-6)


def test_relative_to_the_first_frame() -> None:
    """A path seen from another world frame (rotated and moved as a whole) is the same path."""
    path = demo_move().resample(17)
    G = np.eye(4)
    G[:3, :3] = about(2, np.array([35.0]))[0] @ about(0, np.array([-20.0]))[0]
    G[:3, 3] = [3.0, -1.0, 7.0]
    moved = path.replace(c2w=G @ path.c2w)
    assert camera_metrics(path, moved)["rot_err_deg"] == pytest.approx(0.0, abs=1e-6)
    assert camera_metrics(path, moved)["cam_mc"] == pytest.approx(0.0, abs=1e-6)


def test_a_scaled_copy_has_no_translation_error_under_unit_alignment() -> None:
    path = demo_move().resample(33)
    scaled = path.replace(c2w=np.concatenate([np.concatenate([path.R, 0.37 * path.c2w[:, :3, 3:]], 2),
                                              path.c2w[:, 3:]], 1))
    assert translation_error(path, scaled)["sum"] == pytest.approx(0.0, abs=1e-9)
    assert camera_motion_consistency(path, scaled)["sum"] == pytest.approx(0.0, abs=1e-9)
    # Without the alignment the scale shows: Σ‖t − 0.37 t‖ = 0.63 Σ‖t‖.
    raw = translation_error(path, scaled, alignment="none")["sum"]
    assert raw == pytest.approx(0.63 * np.linalg.norm(path.centers - path.centers[0], axis=1).sum(), rel=1e-9)


def test_translation_error_closed_form() -> None:
    """Forward 1 m vs right 1 m, linearly: unit-aligned distances are √2 · j/(T−1)."""
    T = 11
    s = np.linspace(0, 1, T)[:, None]
    eye = np.repeat(np.eye(3)[None], T, 0)
    forward = path_from(eye, s * [0, 0, 1.0])
    right = path_from(eye, s * [1.0, 0, 0])
    trans = translation_error(forward, right)
    assert np.allclose(trans["per_frame"], np.sqrt(2) * s.ravel())
    mc = camera_motion_consistency(forward, right)
    assert np.allclose(mc["per_frame"], np.sqrt(2) * s.ravel())  # rotations equal: only the t column differs


def test_a_pan_is_not_a_tilt() -> None:
    """Pan (yaw) θ_j against tilt (pitch) θ_j: per-frame angle arccos((2cos θ + cos² θ − 1)/2)."""
    T = 17
    theta = np.linspace(0.0, 12.0, T)
    still = np.zeros((T, 3))
    pan = path_from(about(1, theta), still)
    tilt = path_from(about(0, -theta), still)
    c = np.cos(np.radians(theta))
    expected = np.degrees(np.arccos(np.clip((2 * c + c * c - 1) / 2, -1, 1)))
    rot = rotation_error(pan, tilt)
    assert np.allclose(rot["per_frame_deg"], expected, atol=1e-6)
    assert rot["mean_deg"] > 5.0  # large: ~ √2 θ at small angles
    assert rotation_error(pan, pan)["sum_deg"] == pytest.approx(0.0, abs=1e-9)


def test_different_frame_counts_are_resampled_and_sizes_ignored() -> None:
    path = demo_move()  # 81 frames
    coarse = path.resample(21).rescale((416, 240))
    m = camera_metrics(path, coarse)
    assert m["resampled"] is True and m["frames"] == 81
    assert m["rot_err_deg_per_frame"] < 0.05  # slerp between 4-frame-apart keys of a smooth move
    with pytest.raises(TrajkitError, match="1 frame"):
        camera_metrics(path, path.resample(1))
    with pytest.raises(TrajkitError, match="alignment"):
        translation_error(path, path, alignment="sim3")
